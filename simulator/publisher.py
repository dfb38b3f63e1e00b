"""Publishing a run to Redis: the sensor registry, the ground-truth labels, then the events, sharded.

Events go to `tocsin:events` (one shard) or `tocsin:events:<i>` through the Redis sink (pipelined XADD,
approximate MAXLEN trimming), either as fast as possible or paced at `speed` x real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import redis

from detector.registry import REGISTRY_HASH, write_entries
from simulator.fleet import SensorSpec
from simulator.generator import SimEvent, generate, labels
from simulator.labels import Label
from simulator.plan import resolve
from simulator.replay import BusRecord, PublishSummary, play
from simulator.schema import Scenario
from simulator.sinks import DEFAULT_MAXLEN, EVENT_PREFIX, RedisSink

LABELS_STREAM = "tocsin:labels"
SENSORS_HASH = REGISTRY_HASH
__all__ = ["DEFAULT_MAXLEN", "EVENT_PREFIX", "LABELS_STREAM", "SENSORS_HASH", "PublishSummary",
           "publish_events", "publish_scenario", "write_labels", "write_registry"]


def write_registry(client: redis.Redis, sensors: Iterable[SensorSpec]) -> list[str]:
    """Write each sensor's registry entry to the `tocsin:sensors` hash; returns the sensors that stay retired.

    A sensor retired by hand (`tocsin retire`) stays retired: a new run does not bring it back.
    """
    return write_entries(client, {s.sensor_id: s.registry_entry() for s in sensors})


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
                   clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                   on_commit: Callable[[int, int | None], None] | None = None) -> PublishSummary:
    """XADD every event to its shard's stream, paced by arrival time; `speed=None` is as fast as possible."""
    records = (BusRecord(event.to_fields(), event.emit_ms) for event in events)
    with RedisSink(client, shards=shards, prefix=prefix, maxlen=maxlen) as sink:
        return play(records, sink, speed=speed, clock=clock, sleep=sleep, on_commit=on_commit)


def publish_scenario(client: redis.Redis, scenario: Scenario, *, shards: int = 1, speed: float | None = None,
                     maxlen: int = DEFAULT_MAXLEN, labels_out: Path | None = None,
                     on_commit: Callable[[int, int | None], None] | None = None) -> PublishSummary:
    """A whole run: registry first (so the detector can enrich the first event), labels, then events."""
    plan = resolve(scenario)
    retired = write_registry(client, plan.sensors)
    written = write_labels(client, labels(plan), labels_out)
    summary = publish_events(client, generate(plan), shards=shards, maxlen=maxlen, speed=speed, on_commit=on_commit)
    return replace(summary, labels=written, retired=tuple(retired))

