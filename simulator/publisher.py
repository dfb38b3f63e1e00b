"""Publishing a run to Redis: the sensor registry, the ground-truth labels, then the events, sharded.

Events go to `tocsin:events` (one shard) or `tocsin:events:<i>` with pipelined XADD and approximate
MAXLEN trimming, either as fast as possible or paced at `speed` x real time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import redis

from detector.events import shard_of, stream_names
from detector.registry import REGISTRY_HASH
from simulator.fleet import SensorSpec
from simulator.generator import SimEvent, generate, labels
from simulator.labels import Label
from simulator.pacing import Pacer
from simulator.plan import resolve
from simulator.schema import Scenario

EVENT_PREFIX = "tocsin:events"
LABELS_STREAM = "tocsin:labels"
SENSORS_HASH = REGISTRY_HASH
DEFAULT_MAXLEN = 10_000_000  # per stream; approximate, so trimming stays cheap
PIPELINE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class PublishSummary:
    """What a publish did: events sent, to which streams, in how long."""

    events: int
    streams: tuple[str, ...]
    seconds: float
    labels: int = 0

    @property
    def events_per_s(self) -> float:
        """Publishing rate over the whole run."""
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def write_registry(client: redis.Redis, sensors: Iterable[SensorSpec]) -> int:
    """Write each sensor's registry entry to the `tocsin:sensors` hash; returns how many."""
    mapping = {s.sensor_id: json.dumps(s.registry_entry(), ensure_ascii=False) for s in sensors}
    if mapping:
        client.hset(SENSORS_HASH, mapping=mapping)
    return len(mapping)


def write_labels(client: redis.Redis, truth: Iterable[Label], path: Path | None = None) -> int:
    """Append one `tocsin:labels` entry per label, and write them as JSON lines to `path` if given."""
    truth = list(truth)
    pipe = client.pipeline(transaction=False)
    for label in truth:
        pipe.xadd(LABELS_STREAM, label.to_fields())
    pipe.execute()
    if path is not None:
        Path(path).write_text("".join(label.to_json() + "\n" for label in truth), encoding="utf-8")
    return len(truth)


def publish_events(client: redis.Redis, events: Iterable[SimEvent], *, shards: int = 1,
                   prefix: str = EVENT_PREFIX, maxlen: int = DEFAULT_MAXLEN, speed: float | None = None,
                   clock: Callable[[], float] = time.monotonic,
                   sleep: Callable[[float], None] = time.sleep) -> PublishSummary:
    """XADD every event to its shard's stream; `speed=None` is as fast as possible."""
    names = stream_names(shards, prefix)
    stream_of: dict[str, str] = {}
    pacer = Pacer(speed, clock) if speed else None
    pipe = client.pipeline(transaction=False)
    started, count, queued = clock(), 0, 0
    for event in events:
        if pacer is not None:
            wait = pacer.wait_s(event.emit_ms)
            if wait > 0:
                queued = _flush(pipe, queued)
                sleep(wait)
        stream = stream_of.get(event.sensor_id)
        if stream is None:
            stream = stream_of[event.sensor_id] = names[shard_of(event.sensor_id, shards)]
        pipe.xadd(stream, event.to_fields(), maxlen=maxlen, approximate=True)
        count, queued = count + 1, queued + 1
        if queued >= PIPELINE_BATCH:
            queued = _flush(pipe, queued)
    _flush(pipe, queued)
    return PublishSummary(count, tuple(names), clock() - started)


def publish_scenario(client: redis.Redis, scenario: Scenario, *, shards: int = 1, speed: float | None = None,
                     maxlen: int = DEFAULT_MAXLEN, labels_out: Path | None = None) -> PublishSummary:
    """A whole run: registry first (so the detector can enrich the first event), labels, then events."""
    plan = resolve(scenario)
    write_registry(client, plan.sensors)
    written = write_labels(client, labels(plan), labels_out)
    summary = publish_events(client, generate(plan), shards=shards, maxlen=maxlen, speed=speed)
    return PublishSummary(summary.events, summary.streams, summary.seconds, written)


def _flush(pipe, queued: int) -> int:
    if queued:
        pipe.execute()
    return 0
