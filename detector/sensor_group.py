"""A group of sensors advanced together: the unit of Spark state, and the whole fleet of the local runner.

Spark keeps one `SensorGroup.states` dict per state bucket (crc32 of the sensor id mod the bucket count)
instead of one state per sensor: applyInPandasWithState pays about a millisecond per group and micro-batch
in pandas and Arrow overhead, which for 1,000 sensors cost more than the models themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from alerts.rules import RuleSet
from alerts.silence import shortest_silence
from detector.arrivals import MIN_SILENCE_MS
from detector.registry import REGISTRY_HASH, SensorRegistry
from detector.sensor_state import BatchResult, DeadLetter, RawEntry, SensorState, advance, retire, silences
from detector.stream_entries import CLOCK_STREAM, PAUSE_FIELD
from models.model_config import ModelConfig


def sensor_key(fields: dict[str, str]) -> str:
    """The key a sensor's state lives under, as the job computes it (Spark's trim() strips spaces only)."""
    return (fields.get("sensor_id") or "").strip(" ")


class SensorGroup:
    """Per-sensor states in a dict; the same validation, models and rules as everywhere.

    `model` builds the model of each sensor first seen here; a sensor already in `states` keeps the
    model it has (its state is its model), whatever the config says now.
    """

    def __init__(self, rules: RuleSet, registry: SensorRegistry | None = None, model: ModelConfig | None = None,
                 states: dict[str, SensorState] | None = None) -> None:
        self.rules = rules
        self.registry = registry or SensorRegistry()
        self.model = model or ModelConfig()
        self.states: dict[str, SensorState] = states if states is not None else {}
        self.clock_ms = -1  # how far the batches so far have read (the local runner's; Spark's groups live one batch)
        self.forgave = False  # whether the last batch forgave a pause to some sensor (its state changed)

    def process(self, entries: Iterable[RawEntry]) -> tuple[BatchResult, list[str]]:
        """Advance each sensor over its entries, then judge every sensor's silence on the batch's clock.

        Returns the merged result and the sensors that scored something. The clock is the newest entry
        id's milliseconds, the clock ticks (entries of CLOCK_STREAM, which the Spark source sends every
        state bucket) included: a bucket whose sensors all went quiet still learns that time went on.
        A pause in which nothing arrived at all before the batch (the tick says how long; without one,
        the whole fleet is here and it is the time since the last batch's clock) is forgiven to every
        sensor for which it is long (`Arrivals.pause`): a stopped publisher is not a silent sensor.
        Sensors the registry retired are forgotten first, their firing alerts resolved (`retire`), and
        whatever they still send is dead-lettered.
        """
        by_sensor: dict[str, list[RawEntry]] = defaultdict(list)
        clock_ms, first_ms, pause_ms = -1, None, None
        for entry in entries:
            if entry.id_ms > clock_ms:
                clock_ms = entry.id_ms
            if entry.stream == CLOCK_STREAM:
                pause_ms = int(entry.fields.get(PAUSE_FIELD) or 0)
                continue
            if first_ms is None or entry.id_ms < first_ms:
                first_ms = entry.id_ms
            by_sensor[sensor_key(entry.fields)].append(entry)
        if pause_ms is None:
            pause_ms = first_ms - self.clock_ms if first_ms is not None and self.clock_ms >= 0 else 0
        forgiven = [state.arrivals.pause(pause_ms) for state in self.states.values()] if pause_ms > 0 else []
        self.forgave = any(forgiven)
        self.clock_ms = max(self.clock_ms, clock_ms)
        merged, scored = self._retire(clock_ms), []
        for sensor_id, group in by_sensor.items():
            if sensor_id in self.registry.retired:
                merged.dead_letters += [DeadLetter(e.stream, e.entry_id, e.fields, _retired_reason(sensor_id))
                                        for e in group]
                continue
            result = advance(self._state(sensor_id), group, self.rules, self._info(sensor_id, group[0].fields))
            merged.transitions += result.transitions
            merged.dead_letters += result.dead_letters
            merged.scored += result.scored
            if result.scored:
                scored.append(sensor_id)
        merged.transitions += self._silences(clock_ms)
        return merged, scored

    def _retire(self, clock_ms: int) -> BatchResult:
        """Forget the sensors the registry retired, resolving what fired on them."""
        result = BatchResult()
        if not self.registry.retired:
            return result
        for sensor_id in [sensor_id for sensor_id in self.states if sensor_id in self.registry.retired]:
            result.transitions += retire(self.states.pop(sensor_id), self.rules, clock_ms)
            result.retired.append(sensor_id)
        return result

    def _silences(self, clock_ms: int) -> list:
        shortest = shortest_silence(self.rules.rules, MIN_SILENCE_MS)
        if shortest is None or clock_ms < 0:
            return []
        fired = []
        for state in self.states.values():
            if state.arrivals.silence(clock_ms) >= shortest:  # most sensors, most batches: no rule to look up
                fired += silences(state, self.rules, clock_ms)
        return fired

    def _state(self, sensor_id: str) -> SensorState:
        state = self.states.get(sensor_id)
        if state is None:
            state = self.states[sensor_id] = SensorState(model=self.model.build())
        return state

    def _info(self, sensor_id: str, first: dict[str, str]):
        return self.registry.info(sensor_id, site=first.get("site"), device_id=first.get("device_id"),
                                  unit=first.get("unit"))


def _retired_reason(sensor_id: str) -> str:
    return (f"sensor {sensor_id!r} is retired in the sensor registry ({REGISTRY_HASH}): its readings are not "
            f"scored; `tocsin retire --undo {sensor_id}` takes it back")
