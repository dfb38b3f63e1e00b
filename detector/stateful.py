"""The Spark side of per-sensor state: pandas rows in, a pickled `SensorGroup` state per bucket in Spark state.

Only this module knows how the sensor logic (detector/sensor_group.py, detector/sensor_state.py) is wired
into `applyInPandasWithState`.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from alerts.rules import RuleSet
from detector.events import OPTIONAL, REQUIRED
from detector.registry import SensorRegistry
from detector.sensor_group import SensorGroup
from detector.sensor_state import BatchResult, RawEntry, SensorState
from detector.stream_entries import CLOCK_STREAM
from models.model_config import ModelConfig

OUTPUT_SCHEMA = "kind string, sensor_id string, payload string"
STATE_SCHEMA = "state binary"
CONTRACT_COLUMNS = REQUIRED + OPTIONAL


@dataclass(frozen=True)
class SensorStep:
    """The function Spark calls once per state bucket and micro-batch; pickled to the Python workers."""

    rules: RuleSet
    registry: SensorRegistry
    model: ModelConfig  # builds the model of each new sensor

    def __call__(self, key: tuple, frames: Iterator[pd.DataFrame], group_state) -> Iterator[pd.DataFrame]:
        states = pickle.loads(group_state.get[0]) if group_state.exists else {}
        group = SensorGroup(self.rules, self.registry, self.model, states)
        entries = [entry for frame in frames for entry in entries_of(frame)]
        result, scored = group.process(entries)
        if (result.transitions or result.retired or group.forgave
                or any(entry.stream != CLOCK_STREAM for entry in entries)):
            # A clock tick alone changes nothing unless a silence fired, a pause was forgiven or a sensor retired.
            group_state.update((pickle.dumps(group.states, protocol=pickle.HIGHEST_PROTOCOL),))
        rows = output_rows(group.states, result, scored)
        yield pd.DataFrame({"kind": [r[0] for r in rows], "sensor_id": [r[1] for r in rows],
                            "payload": [r[2] for r in rows]})


def entries_of(frame: pd.DataFrame) -> Iterator[RawEntry]:
    """Rebuild each entry's original fields from the source's columns (contract fields + `extra`)."""
    # Plain lists and zip: itertuples cost about 1 ms per sensor and micro-batch, more than the models.
    names = [c for c in CONTRACT_COLUMNS if c in frame.columns]
    values = zip(*(frame[c].tolist() for c in names))
    for stream, entry_id, ms, seq, extra, row in zip(frame["stream"].tolist(), frame["id"].tolist(),
                                                     frame["id_ms"].tolist(), frame["id_seq"].tolist(),
                                                     frame["extra"].tolist(), values):
        fields = {name: value for name, value in zip(names, row) if isinstance(value, str)}
        if isinstance(extra, str):
            fields.update(json.loads(extra))
        yield RawEntry(stream=stream, entry_id=entry_id, id_ms=int(ms), id_seq=int(seq), fields=fields)


def output_rows(states: dict[str, SensorState], result: BatchResult,
                scored: list[str]) -> list[tuple[str, str, str]]:
    """Alert transitions, dead letters, retired sensors and the scored sensors' counters, as (kind, sensor, JSON)."""
    rows = [("alert", t.sensor_id, json.dumps(t.to_fields())) for t in result.transitions]
    rows += [("deadletter", d.fields.get("sensor_id", ""), json.dumps(
        {"stream": d.stream, "id": d.entry_id, "fields": d.fields, "reason": d.reason})) for d in result.dead_letters]
    rows += [("retired", sensor_id, "{}") for sensor_id in result.retired]
    for sensor_id in scored:
        state = states[sensor_id]
        stats = {"count": state.count, "duplicates": state.duplicates, "late": state.late,
                 "last_ts": state.last_ts_ms, "likelihood": round(state.last_likelihood, 6),
                 "last_id": f"{state.last_id[0]}-{state.last_id[1]}"}
        rows.append(("stats", sensor_id, json.dumps(stats)))
    return rows
