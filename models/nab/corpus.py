"""Reading a NAB corpus from disk: data/<category>/<file>.csv, labels/combined_windows.json, labels/profiles.json."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from models.nab.scorer import CostMatrix, ScoredSeries

WINDOWS_FILE = Path("labels") / "combined_windows.json"
PROFILES_FILE = Path("labels") / "profiles.json"


class NabCorpusError(ValueError):
    """A NAB corpus that cannot be read; the message names the file (and line) and what is wrong."""


@dataclass(frozen=True)
class NabSeries:
    """One data file: its category, file name, records, and labelled windows as row-index ranges."""

    category: str
    file: str
    timestamps: tuple[str, ...]
    ts_ms: tuple[int, ...]
    values: tuple[float, ...]
    windows: tuple[tuple[int, int], ...]

    @property
    def name(self) -> str:
        """The path relative to data/, NAB's key for a series: 'realKnownCause/nyc_taxi.csv'."""
        return f"{self.category}/{self.file}"

    def labels(self) -> list[int]:
        """1 for every record inside a labelled window, else 0."""
        flags = [0] * len(self.values)
        for start, end in self.windows:
            flags[start : end + 1] = [1] * (end - start + 1)
        return flags

    def scored(self, anomaly_scores: list[float]) -> ScoredSeries:
        """This series with a detector's anomaly scores, ready for the scorer."""
        return ScoredSeries(self.name, anomaly_scores, self.windows)


@dataclass(frozen=True)
class NabCorpus:
    """Every series of a corpus (sorted by name) and its scoring profiles."""

    series: tuple[NabSeries, ...]
    profiles: dict[str, CostMatrix]


def timestamp_ms(text: str) -> int:
    """NAB's zone-less 'YYYY-MM-DD HH:MM:SS[.ffffff]' read as UTC, in epoch milliseconds.

    >>> timestamp_ms("2014-02-19 10:50:00.000000"), timestamp_ms("2014-02-19 10:50:00")
    (1392807000000, 1392807000000)
    """
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return round(moment.timestamp() * 1000)


def load_corpus(root: Path) -> NabCorpus:
    """Read and validate a NAB corpus rooted at `root` (the folder holding data/ and labels/)."""
    root = Path(root)
    data_dir = root / "data"
    files = sorted(data_dir.glob("*/*.csv"))
    if not files:
        raise NabCorpusError(f"{data_dir}: no data/<category>/<file>.csv series found")
    windows = _read_json(root / WINDOWS_FILE)
    if not isinstance(windows, dict):
        raise NabCorpusError(f"{root / WINDOWS_FILE}: expected an object of 'category/file.csv': [[start, end], ...]")
    names = {f"{path.parent.name}/{path.name}" for path in files}
    unknown = sorted(set(windows) - names)
    if unknown:
        raise NabCorpusError(f"{root / WINDOWS_FILE}: windows for series not in {data_dir}: {', '.join(unknown)}")
    series = tuple(_read_series(path, windows, root / WINDOWS_FILE) for path in files)
    profiles_path = root / PROFILES_FILE
    try:
        profiles = profiles_from_json(_read_json(profiles_path), source=str(profiles_path))
    except ValueError as error:
        raise NabCorpusError(str(error)) from None
    return NabCorpus(series, profiles)


def profiles_from_json(doc: object, *, source: str = "profiles.json") -> dict[str, CostMatrix]:
    """Cost matrices from NAB's profiles.json layout: {name: {"CostMatrix": {"tpWeight": .., ..}}}."""
    if not isinstance(doc, Mapping) or not doc:
        raise ValueError(f"{source}: expected a non-empty object of profiles")
    profiles = {}
    for name, profile in doc.items():
        matrix = profile.get("CostMatrix") if isinstance(profile, Mapping) else None
        if not isinstance(matrix, Mapping):
            raise ValueError(f"{source}: profile {name!r} has no CostMatrix object")
        weights = []
        for key in ("tpWeight", "fpWeight", "fnWeight"):
            weight = matrix.get(key)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
                raise ValueError(f"{source}: {name}.CostMatrix.{key} must be a number >= 0, got {weight!r}")
            weights.append(float(weight))
        profiles[name] = CostMatrix(*weights)
    return profiles


def _read_json(path: Path) -> object:
    """A JSON document, or a NabCorpusError naming the file."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise NabCorpusError(f"{path}: missing") from None
    except json.JSONDecodeError as error:
        raise NabCorpusError(f"{path}: invalid JSON at line {error.lineno}: {error.msg}") from None


def _read_series(path: Path, all_windows: dict, windows_path: Path) -> NabSeries:
    """One data file and its windows, checked line by line."""
    name = f"{path.parent.name}/{path.name}"
    if name not in all_windows:
        raise NabCorpusError(f"{windows_path}: no entry for series {name}")
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [column.strip() for column in header[:2]] != ["timestamp", "value"]:
            raise NabCorpusError(f"{path}: line 1: expected the header 'timestamp,value', got {header!r}")
        timestamps, stamps, values = [], [], []
        for line, row in enumerate(reader, start=2):
            # No order check: NAB's own files repeat timestamps (clock changes) and step back once.
            stamp, value = _parse_record(path, line, row)
            timestamps.append(row[0])
            stamps.append(stamp)
            values.append(value)
    windows = _window_rows(all_windows[name], stamps, f"{windows_path}: {name}")
    return NabSeries(path.parent.name, path.name, tuple(timestamps), tuple(stamps), tuple(values), windows)


def _parse_record(path: Path, line: int, row: list[str]) -> tuple[int, float]:
    """One CSV record as (epoch ms, finite value)."""
    if len(row) < 2:
        raise NabCorpusError(f"{path}: line {line}: expected 'timestamp,value', got {row!r}")
    try:
        stamp = timestamp_ms(row[0])
    except ValueError:
        raise NabCorpusError(f"{path}: line {line}: timestamp {row[0]!r} is not 'YYYY-MM-DD HH:MM:SS'") from None
    try:
        value = float(row[1])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise NabCorpusError(f"{path}: line {line}: value {row[1]!r} is not a finite number")
    return stamp, value


def _window_rows(raw: object, stamps: list[int], where: str) -> tuple[tuple[int, int], ...]:
    """Window limits (timestamps that must exactly match records, as NAB requires) as row indices."""
    if not isinstance(raw, list):
        raise NabCorpusError(f"{where}: expected a list of [start, end] windows, got {raw!r}")
    row_of: dict[int, int] = {}
    for row, stamp in enumerate(stamps):
        row_of.setdefault(stamp, row)  # the first record with that time, like NAB's list.index
    windows = []
    for limits in raw:
        if not (isinstance(limits, list) and len(limits) == 2 and all(isinstance(t, str) for t in limits)):
            raise NabCorpusError(f"{where}: window {limits!r} is not [start, end] timestamps")
        try:
            rows = tuple(row_of[timestamp_ms(limit)] for limit in limits)
        except (KeyError, ValueError):
            raise NabCorpusError(f"{where}: window {limits!r}: a limit is not the timestamp of a record") from None
        windows.append(rows)
    windows.sort()
    previous_end = -1
    for start, end in windows:
        if not previous_end < start < end:
            raise NabCorpusError(f"{where}: windows overlap or are empty (start must be before end): {raw!r}")
        previous_end = end
    return tuple(windows)
