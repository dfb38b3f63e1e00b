"""What `tocsin replay FILE` can read: a tocsin recording (JSON lines or Parquet) or CSV data (a file or a directory)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from simulator.csv_source import CsvMapping, csv_files, read_csv
from simulator.recording import read_recording
from simulator.replay import BadRows, BusRecord, ReplayError

RECORDING_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet")
COUNT_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """An opened source: its records, the files they come from, and about how many there are."""

    path: Path
    kind: str  # "recording" or "csv"
    files: tuple[Path, ...]
    records: Iterable[BusRecord]
    total: int | None  # rows in the files: the record count, give or take blank or bad rows


def open_source(path: Path, mapping: CsvMapping | None = None, bad: BadRows | None = None) -> Source:
    """The source at `path`, chosen by its suffix (a directory is CSV data); nothing is read yet but sizes."""
    path = Path(path)
    if path.name.endswith(".labels.jsonl"):
        raise ReplayError(f"{path}: this is a labels file; replay the events file beside it")
    if path.is_dir() or path.suffix.lower() == ".csv":
        files = tuple(csv_files(path))
        total = sum(max(0, count_lines(f) - 1) for f in files)
        return Source(path, "csv", files, read_csv(path, mapping or CsvMapping(), bad), total)
    if mapping is not None and mapping != CsvMapping():
        raise ReplayError(f"{path}: column options apply to CSV data only, not to a recording")
    if not path.is_file():
        raise ReplayError(f"{path}: no such file or directory")
    if path.suffix.lower() not in RECORDING_SUFFIXES:
        raise ReplayError(f"{path}: cannot tell what this is: expected a recording ({', '.join(RECORDING_SUFFIXES)}), "
                          "a .csv file or a directory of them")
    total = parquet_rows(path) if path.suffix.lower() == ".parquet" else count_lines(path)
    return Source(path, "recording", (path,), read_recording(path, bad), total)


def count_lines(path: Path) -> int:
    """Lines in a text file (a last line without a newline counts), read in 1 MiB chunks."""
    lines, last = 0, b"\n"
    with path.open("rb") as stream:
        while chunk := stream.read(COUNT_CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def parquet_rows(path: Path) -> int | None:
    """Rows in a Parquet file from its footer, or None when it cannot be read (the reader says why later)."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # pyarrow raises several types for a file that is not Parquet
        return None
