"""A bus gone silent as a whole: nothing from any sensor, judged by the driver on Redis's own clock.

Per-sensor silences are judged at each micro-batch, and a micro-batch needs new entries: when the
whole fleet stops at once (a dead gateway, a stopped publisher, a broken link), no batch runs, nothing
is judged, and when entries come back the pause is forgiven to every sensor. So the driver watches
the newest entry id of the job's streams against Redis's clock, learns the bus's usual pace as a
sensor's is learned (`Arrivals`, with a floor of BUS_MIN_SILENCE_MS), and fires the silence rules
that would watch a sensor named after the streams (those with no `match`, or one it passes) once the
bus has been quiet for longer than usual; the next entry on any of the streams resolves them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from alerts.evaluation import Observation, RuleState, transition
from alerts.rules import RuleSet, SensorInfo
from alerts.silence import spoke, went_silent
from alerts.transition import RESOLVED, AlertTransition
from detector.arrivals import Arrivals
from detector.events import stream_names
from detector.stream_offsets import parse_entry_id

# A whole bus quiet for less than this is a publisher restarting, not an outage worth a page.
BUS_MIN_SILENCE_MS = 60_000


def bus_name(streams: Sequence[str]) -> str:
    """The name the bus's alerts go by: its streams, joined."""
    return ", ".join(streams)


def is_bus(sensor_id: str) -> bool:
    """Whether `sensor_id` names the job's bus for some number of shards (not a sensor).

    >>> is_bus("tocsin:events"), is_bus("tocsin:events:0, tocsin:events:1")
    (True, True)
    >>> is_bus("tocsin:events:1"), is_bus("lab/door")
    (False, False)
    """
    return sensor_id == bus_name(stream_names(sensor_id.count(", ") + 1))


class BusSilence:
    """The silence rules' state for the job's streams taken together, fed the newest entry id now and then.

    >>> from alerts.rules import default_rules
    >>> bus = BusSilence(["tocsin:events"], default_rules())
    >>> for second in range(0, 40):  # something every second, as the driver's polls see it
    ...     assert bus.observe(f"{1_000 * second}-0", 1_000 * second) == []
    >>> bus.observe("39000-0", 98_999)  # nothing for almost a minute: the floor
    []
    >>> [fired] = bus.observe("39000-0", 99_000)
    >>> fired.sensor_id, fired.reason
    ('tocsin:events', 'silent: no reading for 1m; usually a reading every 1s')
    >>> [resolved] = bus.observe("99500-0", 100_000)
    >>> resolved.state, resolved.fired_event_id
    ('resolved', '39000-0')
    """

    def __init__(self, streams: Sequence[str], rules: RuleSet, arrivals: Arrivals | None = None) -> None:
        self.sensor = SensorInfo(sensor_id=bus_name(streams))
        self.rules = tuple(rule for rule in rules.for_sensor(self.sensor) if rule.when.silent_for is not None)
        self._silence_rules = {rule.name: rule for rule in rules.rules if rule.when.silent_for is not None}
        self.arrivals = arrivals or Arrivals()  # an earlier run's, so a bus silent at a restart is still judged
        self.states: dict[str, RuleState] = {}

    def firing(self, rule: str, fired_event_id: str) -> None:
        """Take up an alert an earlier run of the job fired on this bus (from the active-alert hash)."""
        if any(known.name == rule for known in self.rules):
            self.states[rule] = RuleState(firing=True, fired_event_id=fired_event_id)

    def left_behind(self, sensor_id: str, rule: str, fired_event_id: str, now_ms: int) -> AlertTransition | None:
        """The resolve of a silence alert an earlier run fired on the bus under another name (`--shards` changed).

        The bus is watched under its new name from now on, which fires again if it is still silent.
        None when `sensor_id` is this bus or no bus, or the rule is no longer a silence rule.

        >>> from alerts.rules import default_rules
        >>> bus = BusSilence(["tocsin:events:0", "tocsin:events:1"], default_rules())
        >>> bus.left_behind("tocsin:events", "silence", "1000-0", 90_000).reason
        'the job now reads tocsin:events:0, tocsin:events:1'
        >>> bus.left_behind("lab/door", "silence", "1000-0", 90_000) is None
        True
        """
        found = self._silence_rules.get(rule)
        if found is None or sensor_id == self.sensor.sensor_id or not is_bus(sensor_id):
            return None
        obs = Observation(sensor_id, fired_event_id, now_ms, math.nan, math.nan)
        return transition(found, obs, SensorInfo(sensor_id=sensor_id), RESOLVED, fired_event_id=fired_event_id,
                          why=f"the job now reads {self.sensor.sensor_id}")

    def observe(self, newest_id: str | None, now_ms: int) -> list[AlertTransition]:
        """The transitions at `now_ms` (Redis's clock), given the newest entry id on the streams (None: empty)."""
        if not self.rules or newest_id is None:
            return []
        arrivals = self.arrivals
        transitions: list[AlertTransition] = []
        if newest_id != arrivals.last_id:
            arrival_ms = parse_entry_id(newest_id)[0]
            arrivals.note(arrival_ms, newest_id)
            # Resolved by any entry after the one the silence is pinned to, this run's or an earlier run's.
            speaking = [rule for rule in self.rules
                        if (state := self.states.get(rule.name)) and state.firing and state.fired_event_id != newest_id]
            if speaking:
                obs = Observation(self.sensor.sensor_id, newest_id, arrival_ms, math.nan, math.nan)
                transitions += spoke(speaking, self.states, obs, self.sensor)
        usual = arrivals.usual_limit()
        transitions += went_silent(
            self.rules, self.states, self.sensor, silent_ms=arrivals.silence(now_ms),
            usual_ms=None if usual is None else max(usual, BUS_MIN_SILENCE_MS), mean_gap_ms=arrivals.mean_gap,
            last_event_id=arrivals.last_id, last_ts_ms=arrivals.last_ms)
        return transitions
