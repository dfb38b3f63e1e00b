"""Why a sensor's model judged a reading anomalous, in the words an alert carries."""

from __future__ import annotations

# Each is the test of `SensorModel` that gave a reading its likelihood; an alert names the one
# behind its most anomalous reading, so the person paged knows what kind of event to look for.
SHIFT = "shift: the recent readings stay far from the expected level"
SPIKE = "spike: one reading far beyond this sensor's usual deviations"
EXTREME = "new extreme: a reading far outside the range of every earlier one"
UNREST = "unrest: the recent readings stray from the expected level more than usual for this sensor"
STUCK = "stuck: the same reading, repeated far longer than this sensor ever repeated one"
REASONS = (SHIFT, SPIKE, EXTREME, UNREST, STUCK)
# The tests that judge one reading alone: when the readings after it are far off too, it is a shift.
ONE_READING = (SPIKE, EXTREME)

