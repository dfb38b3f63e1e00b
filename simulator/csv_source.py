"""External CSV data sets as replayable records: a column mapping turns each row into an event.

The mapping names the time column, the value column, and either a sensor id column or one fixed sensor
id. Without either, a file is one sensor named after it: its stem for a single file, `<folder>/<stem>`
for the files of a directory (NAB's `data/realKnownCause/nyc_taxi.csv` is `realKnownCause/nyc_taxi`).

Times are read whatever their format: epoch milliseconds or seconds (told apart by size), or ISO-8601;
an ISO time without a zone is UTC (NAB's `2014-04-01 00:00:00` is). A directory replays all its CSV
files, merged by time. A row whose time or value cannot be read stops the replay with `file:line`,
unless bad rows are skipped (then counted).
"""

from __future__ import annotations

import csv
import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from detector.events import MAX_TS_MS, MIN_TS_MS
from simulator.replay import BadRows, BusRecord, ReplayError

SECONDS_BELOW = 100_000_000_000  # epoch numbers under this are seconds (year 5138), above it milliseconds


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """Which columns hold the time, the value and the sensor id (or the one sensor id of every row)."""

    time_column: str = "timestamp"
    value_column: str = "value"
    sensor_column: str | None = None
    sensor_id: str | None = None

    def __post_init__(self) -> None:
        if self.sensor_column and self.sensor_id:
            raise ReplayError("choose a sensor id column (--sensor-column) or one fixed sensor id (--sensor-id), "
                              "not both")

    def options(self) -> dict[str, str | None]:
        """The mapping as plain values (part of a replay's identity: another mapping, other records)."""
        return {"time": self.time_column, "value": self.value_column, "sensor_column": self.sensor_column,
                "sensor_id": self.sensor_id}


def parse_time(text: str) -> int:
    """Epoch milliseconds from epoch seconds or milliseconds, or ISO-8601 (UTC when it has no zone).

    >>> parse_time("1396310400"), parse_time("1396310400000"), parse_time("1396310400.5")
    (1396310400000, 1396310400000, 1396310400500)
    >>> parse_time("2014-04-01 00:00:00"), parse_time("2014-04-01T02:00:00+02:00")
    (1396310400000, 1396310400000)
    >>> parse_time("soon")
    Traceback (most recent call last):
    ...
    ValueError: 'soon' is neither epoch seconds or milliseconds nor an ISO-8601 time
    """
    raw = text.strip()
    try:
        number = float(raw)
    except ValueError:
        number = None
    if number is not None and math.isfinite(number):
        ts_ms = round(number * 1000) if abs(number) < SECONDS_BELOW else round(number)
    else:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"{text!r} is neither epoch seconds or milliseconds nor an ISO-8601 time") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        ts_ms = round(moment.timestamp() * 1000)
    if not MIN_TS_MS <= ts_ms < MAX_TS_MS:
        raise ValueError(f"{text!r} is outside the years 2000-2100")
    return ts_ms


def csv_files(source: Path) -> list[Path]:
    """The CSV files a source names: itself, or every `*.csv` under a directory, in path order."""
    if source.is_dir():
        files = sorted(source.rglob("*.csv"))
        if not files:
            raise ReplayError(f"{source}: no .csv files in this directory")
        return files
    if not source.is_file():
        raise ReplayError(f"{source}: no such file or directory")
    return [source]


def read_csv(source: Path, mapping: CsvMapping = CsvMapping(), bad: BadRows | None = None) -> Iterator[BusRecord]:
    """The records of a CSV file, or of every CSV file under a directory merged by time.

    Every file's header is checked now, so a wrong column name fails before anything is published.
    """
    bad = bad or BadRows()
    files = csv_files(source)
    columns = [_columns(f, mapping) for f in files]
    if not source.is_dir():
        return _read_file(files[0], columns[0], mapping.sensor_id or source.stem, bad)
    readers = [_read_file(f, at, mapping.sensor_id or f"{f.parent.name}/{f.stem}", bad) for f, at in zip(files, columns)]
    return heapq.merge(*readers, key=lambda record: record.at_ms)


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where the mapped columns are in a file's rows, and their names for messages."""

    time: int
    value: int
    sensor: int | None
    names: CsvMapping


def _columns(path: Path, mapping: CsvMapping) -> _Columns:
    with path.open(encoding="utf-8", newline="") as stream:
        header = next(csv.reader(stream), None)
    if not header:
        raise ReplayError(f"{path}:1: empty file: expected a header naming the time and value columns")
    header = [name.strip() for name in header]
    wanted = [mapping.time_column, mapping.value_column] + ([mapping.sensor_column] if mapping.sensor_column else [])
    missing = [name for name in wanted if name not in header]
    if missing:
        raise ReplayError(f"{path}:1: no column {', '.join(map(repr, missing))} (columns: {', '.join(header)})")
    sensor = header.index(mapping.sensor_column) if mapping.sensor_column else None
    return _Columns(header.index(mapping.time_column), header.index(mapping.value_column), sensor, mapping)


def _read_file(path: Path, at: _Columns, fixed_id: str, bad: BadRows) -> Iterator[BusRecord]:
    with path.open(encoding="utf-8", newline="") as stream:
        rows = csv.reader(stream)
        next(rows, None)
        for row in rows:
            if not row or not any(cell.strip() for cell in row):
                continue
            fields = _fields(row, at, fixed_id)
            if isinstance(fields, str):
                bad.reject(f"{path}:{rows.line_num}", fields)
                continue
            yield BusRecord(fields, int(fields["ts"]))


def _fields(row: list[str], at: _Columns, fixed_id: str) -> dict[str, str] | str:
    """The event fields of one row, or the reason it cannot be read."""
    if len(row) <= max(at.time, at.value, at.sensor or 0):
        return f"{len(row)} column(s), fewer than the header's"
    try:
        ts_ms = parse_time(row[at.time])
    except ValueError as exc:
        return f"column {at.names.time_column!r}: {exc}"
    text = row[at.value].strip()
    try:
        value = float(text)
    except ValueError:
        return f"column {at.names.value_column!r}: {text!r} is not a number"
    if not math.isfinite(value):
        return f"column {at.names.value_column!r}: {text!r} is not finite"
    sensor_id = row[at.sensor].strip() if at.sensor is not None else fixed_id
    if not sensor_id:
        return f"column {at.names.sensor_column!r}: empty sensor id"
    return {"sensor_id": sensor_id, "ts": str(ts_ms), "value": repr(value)}
