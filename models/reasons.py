"""Why a sensor's model judged a reading anomalous, in the words an alert carries."""

from __future__ import annotations

# The tests of `SensorModel` that can give a reading its likelihood. A model keeps the index, so
# its state carries no text; `WORDS` says each for the alert on the reading that fired it, so the
# person paged knows what kind of event to look for.
SHIFT, SPIKE, EXTREME, UNREST, STUCK, DRIFT, SPREAD, LASTING, LEAN = range(9)
WORDS = (
    "shift: the recent readings stay far from the expected level",
    "spike: one reading far beyond this sensor's usual deviations",
    "new extreme: a reading far outside the range of every earlier one",
    "unrest: the recent readings stray from the expected level more than usual for this sensor",
    "stuck: the same reading, repeated far longer than this sensor ever repeated one",
    "drift: the readings have moved slowly far away from this sensor's long-run level",
    "spread: the readings move from one to the next far more, or far less, than usual for this sensor",
    "lasting: the readings have stayed off the expected level far longer than this sensor ever did",
    "lean: the readings have kept to one side of the expected level far more than this sensor ever did",
)


def name(reason: str) -> str:
    """A reason's name: its words before the colon ("drift"); a value rule's condition ("value above 80") whole."""
    return reason.split(":", 1)[0]


# The tests that judge one reading alone: when the readings after it are far off too, it is a shift.
ONE_READING = (SPIKE, EXTREME)
