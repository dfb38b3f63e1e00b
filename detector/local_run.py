"""The detector's per-sensor work in one plain Python process, without Spark.

It runs exactly what the Spark job runs per sensor (`advance`), so it is both the baseline the job's
throughput is compared with (`make bench`) and the reference its restart test compares against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from alerts.rules import RuleSet
from detector.registry import SensorRegistry
from detector.sensor_state import BatchResult, RawEntry, SensorState, advance
from detector.stream_offsets import parse_entry_id
from models import DEFAULT_DETECTOR, SensorModel


def raw_entry(stream: str, entry_id, fields: dict) -> RawEntry:
    """A RawEntry from a redis-py reply, decoding bytes as the Spark source does (bad bytes replaced)."""
    text_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, seq = parse_entry_id(text_id)
    decoded = {_text(k): _text(v) for k, v in fields.items()}
    return RawEntry(stream=stream, entry_id=text_id, id_ms=ms, id_seq=seq, fields=decoded)


def read_all(client, streams: Iterable[str], chunk: int = 10_000) -> Iterator[RawEntry]:
    """Every entry of the streams, stream by stream, in entry-id order."""
    for stream in streams:
        after = "-"
        while True:
            got = client.xrange(stream, min=after, max="+", count=chunk)
            for entry_id, fields in got:
                yield raw_entry(stream, entry_id, fields)
            if len(got) < chunk:
                break
            last = got[-1][0]
            after = "(" + (last.decode() if isinstance(last, bytes) else last)


class LocalDetector:
    """Per-sensor state in a dict instead of Spark state; same validation, models and rules."""

    def __init__(self, rules: RuleSet, registry: SensorRegistry | None = None, model: str = DEFAULT_DETECTOR,
                 model_params: dict | None = None) -> None:
        self.rules = rules
        self.registry = registry or SensorRegistry()
        self.model = model
        self.model_params = dict(model_params or {})
        self.states: dict[str, SensorState] = {}

    def process(self, entries: Iterable[RawEntry]) -> BatchResult:
        """One batch: group by sensor as the job does, advance each sensor, merge the results."""
        by_sensor: dict[str, list[RawEntry]] = defaultdict(list)
        for entry in entries:  # keyed as the job keys them: Spark's trim() strips spaces only
            by_sensor[(entry.fields.get("sensor_id") or "").strip(" ")].append(entry)
        merged = BatchResult()
        for sensor_id, group in by_sensor.items():
            state = self.states.get(sensor_id)
            if state is None:
                state = self.states[sensor_id] = SensorState(
                    model=SensorModel(detector=self.model, params=dict(self.model_params)))
            first = group[0].fields
            info = self.registry.info(sensor_id, site=first.get("site"), device_id=first.get("device_id"),
                                      unit=first.get("unit"))
            result = advance(state, group, self.rules, info)
            merged.transitions += result.transitions
            merged.dead_letters += result.dead_letters
            merged.scored += result.scored
        return merged


def _text(value) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
