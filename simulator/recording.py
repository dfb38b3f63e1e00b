"""Recording a run to files: its events as JSON lines (or Parquet) and its labels as JSON lines.

JSON lines hold exactly the fields each record carries on the bus (malformed records stay malformed),
in arrival order. Parquet holds typed columns instead, with the defect a malformed record would have.
Same scenario and seed, same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from simulator.faults import DEFECTS
from simulator.generator import SimEvent, generate, labels
from simulator.plan import resolve
from simulator.schema import Scenario

FORMATS = ("jsonl", "parquet")


@dataclass(frozen=True, slots=True)
class Recording:
    """Where a recording went and how much it holds."""

    events_path: Path
    labels_path: Path
    events: int
    labels: int


def labels_path_for(events_path: Path) -> Path:
    """The labels file written beside an events file: `run.jsonl` -> `run.labels.jsonl`.

    >>> labels_path_for(Path("out/run.parquet")).as_posix()
    'out/run.labels.jsonl'
    """
    return events_path.with_name(events_path.stem + ".labels.jsonl")


def record(scenario: Scenario, out: Path, fmt: str = "jsonl") -> Recording:
    """Write the scenario's events to `out` and its labels beside it."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    plan = resolve(scenario)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = _write_parquet if fmt == "parquet" else _write_jsonl
    count = writer(generate(plan), out)
    truth = labels(plan)
    labels_path = labels_path_for(out)
    labels_path.write_text("".join(label.to_json() + "\n" for label in truth), encoding="utf-8")
    return Recording(out, labels_path, count, len(truth))


def _write_jsonl(events, out: Path) -> int:
    count = 0
    with out.open("w", encoding="utf-8", newline="\n") as stream:
        for event in events:
            stream.write(json.dumps(event.to_fields(), separators=(",", ":"), ensure_ascii=False) + "\n")
            count += 1
    return count


def _write_parquet(events, out: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: list[SimEvent] = list(events)
    table = pa.table({
        "sensor_id": pa.array([e.sensor_id for e in rows], pa.string()),
        "ts_ms": pa.array([e.ts_ms for e in rows], pa.int64()),
        "value": pa.array([e.value for e in rows], pa.float64()),
        "device_id": pa.array([e.device_id for e in rows], pa.string()),
        "site": pa.array([e.site for e in rows], pa.string()),
        "unit": pa.array([e.unit for e in rows], pa.string()),
        "emit_ms": pa.array([e.emit_ms for e in rows], pa.int64()),
        "defect": pa.array([DEFECTS[e.defect - 1] if e.defect else "" for e in rows], pa.string()),
    })
    pq.write_table(table, out)
    return len(rows)
