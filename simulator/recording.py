"""Recording a run to files: its events as JSON lines (or Parquet) and its labels as JSON lines.

JSON lines hold exactly the fields each record carries on the bus (malformed records stay malformed),
in arrival order. Parquet holds typed columns instead, with the defect a malformed record would have.
Same scenario and seed, same bytes.

Read back (`read_recording`), each record is paced by its arrival time: Parquet stores it (`emit_ms`);
JSON lines do not, so the latest event time seen so far stands in for it (a late record then goes at
once, as it did; a record whose `ts` is skewed ahead holds the ones behind it until they catch up).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from detector.events import InvalidEvent, parse_ts
from simulator.faults import DEFECTS, broken_fields
from simulator.generator import SimEvent, generate, labels
from simulator.plan import resolve
from simulator.replay import BadRows, BusRecord, ReplayError
from simulator.schema import Scenario

FORMATS = ("jsonl", "parquet")
PARQUET_BATCH = 65_536  # rows read at once: bounded memory for big recordings


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


def read_recording(path: Path, bad: BadRows | None = None) -> Iterator[BusRecord]:
    """The records of a recording, in arrival order, as they went on the bus (`.parquet`, else JSON lines)."""
    path = Path(path)
    reader = _read_parquet if path.suffix == ".parquet" else _read_jsonl
    return reader(path, bad or BadRows())


def _read_jsonl(path: Path, bad: BadRows) -> Iterator[BusRecord]:
    latest: int | None = None
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
            except ValueError as exc:
                bad.reject(f"{path}:{number}", f"not JSON ({exc.msg})")
                continue
            if not isinstance(fields, dict) or not fields or not all(isinstance(v, str) for v in fields.values()):
                bad.reject(f"{path}:{number}", "a record must be a non-empty JSON object of string fields")
                continue
            try:
                ts_ms = parse_ts(fields["ts"]) if "ts" in fields else None
            except InvalidEvent:
                ts_ms = None  # a malformed record is replayed as it was recorded, paced with its neighbours
            if ts_ms is not None and (latest is None or ts_ms > latest):
                latest = ts_ms
            yield BusRecord(fields, latest)


def _read_parquet(path: Path, bad: BadRows) -> Iterator[BusRecord]:
    import pyarrow.parquet as pq

    columns = ["sensor_id", "ts_ms", "value", "device_id", "site", "unit", "emit_ms", "defect"]
    try:
        table = pq.ParquetFile(path)
        missing = sorted(set(columns) - set(table.schema_arrow.names))
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise ReplayError(f"{path}: not a readable Parquet file ({exc})") from None
    if missing:
        raise ReplayError(f"{path}: not a tocsin recording: no column(s) {', '.join(missing)}")
    for batch in table.iter_batches(batch_size=PARQUET_BATCH, columns=columns):
        for row in batch.to_pylist():
            event = SimEvent(row["sensor_id"], row["ts_ms"], row["value"], row["device_id"], row["site"],
                             row["unit"], row["emit_ms"])
            fields = event.to_fields()
            if row["defect"]:
                fields = broken_fields(fields, DEFECTS.index(row["defect"]) + 1)
            yield BusRecord(fields, row["emit_ms"])
