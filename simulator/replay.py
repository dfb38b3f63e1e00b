"""Replaying records to a sink: in source order, paced by event time or as fast as possible, resumable.

A source is any iterable of `BusRecord`s (a recording, a CSV data set, a live generator). `play` hands
them to a sink in batches and commits each batch with the count of records published so far, so a sink
that stores that count atomically with the batch (the Redis sink does, see `Checkpoint`) lets a stopped
replay go on from exactly where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from simulator.pacing import Pacer

if TYPE_CHECKING:
    from simulator.sinks import Sink

BATCH = 1000  # records per commit: large enough to amortise a round trip, small enough to pace smoothly
CHECKPOINT_PREFIX = "tocsin:replay:"


class ReplayError(ValueError):
    """A source or a replay that cannot go on; the message names the file (and line) and what is wrong."""


class BusRecord(NamedTuple):
    """One record as it goes on the bus (string fields) and its event time for pacing (None: unknown)."""

    fields: dict[str, str]
    at_ms: int | None


class BadRows:
    """What to do with a source row that cannot be read: stop with `file:line: reason`, or count and skip it.

    >>> bad = BadRows(skip=True)
    >>> bad.reject("a.csv:3", "column 'value': 'x' is not a number"); bad.count, bad.first
    (1, "a.csv:3: column 'value': 'x' is not a number")
    >>> BadRows(skip=False).reject("a.csv:3", "empty row")
    Traceback (most recent call last):
    ...
    simulator.replay.ReplayError: a.csv:3: empty row
    """

    def __init__(self, skip: bool = False) -> None:
        self.skip = skip
        self.count = 0
        self.first: str | None = None

    def reject(self, where: str, reason: str) -> None:
        """Refuse one row: raise, or count it (and remember the first, for the summary)."""
        message = f"{where}: {reason}"
        if not self.skip:
            raise ReplayError(message)
        self.count += 1
        self.first = self.first or message


@dataclass(frozen=True, slots=True)
class PublishSummary:
    """What a publish or replay did: events sent, to which streams, in how long, and where it stopped."""

    events: int
    streams: tuple[str, ...]
    seconds: float
    labels: int = 0
    start: int = 0  # records already published by an earlier run (resume)
    finished: bool = True  # False when a limit stopped the run before the source ran out
    last_ms: int | None = None  # event time of the last record sent
    retired: tuple[str, ...] = ()  # the run's sensors that stay retired in the registry (their events are dead-lettered)

    @property
    def events_per_s(self) -> float:
        """Publishing rate over the whole run."""
        return self.events / self.seconds if self.seconds > 0 else float("inf")

    @property
    def position(self) -> int:
        """Records of the source published so far, by this run and the ones it resumed."""
        return self.start + self.events


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a replay's progress is kept: a key named by the source and the options that shape its records.

    The value records the files' identity (size, modification time) with the position, so a file that
    changed since is refused rather than resumed at a position that no longer means the same record.

    >>> mark = Checkpoint("tocsin:replay:1a2b", (("run.jsonl", 10, 7),))
    >>> mark.decode(mark.encode(250)), mark.decode(None)
    (250, 0)
    >>> Checkpoint("tocsin:replay:1a2b", (("run.jsonl", 11, 8),)).decode(mark.encode(250))
    Traceback (most recent call last):
    ...
    simulator.replay.ReplayError: run.jsonl changed since its replay stopped at event 250: replay it without --resume to start over
    """

    key: str
    files: tuple[tuple[str, int, int], ...]  # (path, size, mtime_ns) of every source file

    def encode(self, position: int, run: str | None = None) -> str:
        """The stored value for `position` records published (by the publisher `run`, when given)."""
        stored = {"position": position, "files": [list(f) for f in self.files]}
        if run is not None:
            stored["run"] = run
        return json.dumps(stored, separators=(",", ":"))

    @staticmethod
    def run_of(raw: bytes | str | None) -> str | None:
        """The publisher that stored `raw`, if it said.

        >>> mark = Checkpoint("tocsin:replay:1a2b", ())
        >>> [Checkpoint.run_of(raw) for raw in (mark.encode(250, run="9f3e"), mark.encode(250), None)]
        ['9f3e', None, None]
        """
        return None if raw is None else json.loads(raw).get("run")

    def decode(self, raw: bytes | str | None) -> int:
        """The position stored in `raw` (0 when nothing is stored), if it is about the same files."""
        if raw is None:
            return 0
        stored = json.loads(raw)
        if [tuple(f) for f in stored["files"]] != list(self.files):
            names = ", ".join(f[0] for f in self.files)
            raise ReplayError(f"{names} changed since its replay stopped at event {stored['position']}: "
                              "replay it without --resume to start over")
        return int(stored["position"])


def checkpoint_for(source: Path, files: Sequence[Path], options: dict[str, object]) -> Checkpoint:
    """The checkpoint of replaying `source` (made of `files`) with the record-shaping `options`."""
    identity = json.dumps({"source": str(source.resolve()), "options": options}, sort_keys=True, default=str)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    stats = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    return Checkpoint(CHECKPOINT_PREFIX + digest, stats)


def play(records: Iterable[BusRecord], sink: Sink, *, start: int = 0, limit: int | None = None,
         speed: float | None = None, batch: int = BATCH, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep,
         on_commit: Callable[[int, int | None], None] | None = None) -> PublishSummary:
    """Send the records after the first `start` to the open `sink`, at most `limit` of them.

    `speed=None` is as fast as possible; otherwise `speed` x real time by each record's `at_ms`. Every
    commit (each `batch` records, before each wait, and before a bad row's `ReplayError` goes up) tells
    the sink the position reached, and calls `on_commit(records sent by this run, event time of the last)`.
    """
    pacer = Pacer(speed, clock) if speed else None
    pending: list[dict[str, str]] = []
    source = islice(records, start, None)
    started, sent, last_ms, finished = clock(), 0, None, True

    def commit() -> None:
        if pending:
            sink.write(pending)
            pending.clear()
        sink.flush(start + sent)
        if on_commit is not None:
            on_commit(sent, last_ms)

    try:
        for record in source:
            if limit is not None and sent >= limit:
                finished = False
                break
            if pacer is not None and record.at_ms is not None:
                wait = pacer.wait_s(record.at_ms)
                if wait > 0:
                    commit()
                    sleep(wait)
            pending.append(record.fields)
            sent += 1
            last_ms = record.at_ms if record.at_ms is not None else last_ms
            if len(pending) >= batch:
                commit()
    except ReplayError:
        commit()  # the records before a bad row are good: publish them, so a resume goes on right after it
        raise
    commit()
    return PublishSummary(sent, sink.streams, clock() - started, start=start, finished=finished, last_ms=last_ms)
