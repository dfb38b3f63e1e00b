"""The job's foreachBatch sink: alert transitions, dead letters and sensor counters into Redis.

Runs on the driver. Every write is idempotent, so a micro-batch replayed after a crash changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from alerts.redis_sink import AlertSink, append_once
from alerts.transition import DEADLETTER_STREAM, AlertTransition

SENSOR_STATS_HASH = "tocsin:sensors:stats"
DETECTOR_HASH = "tocsin:detector"
DEADLETTER_SEEN = "tocsin:deadletter:seen:"


@dataclass
class BatchReport:
    """What one micro-batch delivered, for whoever watches the job (the CLI prints it).

    `batch_id` None: alerts the driver raised between micro-batches (a silent bus, `detector.bus_watch`).
    """

    batch_id: int | None
    new_alerts: list[AlertTransition] = field(default_factory=list)
    new_dead_letters: list[dict] = field(default_factory=list)


class RedisBatchSink:
    """foreachBatch function: collect the (small) stateful output and write it to Redis once."""

    def __init__(self, client, on_batch: Callable[[BatchReport], None] | None = None) -> None:
        self.client = client
        self.alerts = AlertSink(client)
        self.on_batch = on_batch

    def __call__(self, frame, batch_id: int) -> None:
        rows = frame.collect()
        report = self.write(batch_id, [(r.kind, r.sensor_id, r.payload) for r in rows])
        if self.on_batch is not None:
            self.on_batch(report)

    def write(self, batch_id: int, rows: list[tuple[str, str, str]]) -> BatchReport:
        """Write one batch's rows; returns only what is new (a replayed batch reports nothing new)."""
        report = BatchReport(batch_id)
        transitions = [AlertTransition.from_fields(json.loads(p)) for kind, _, p in rows if kind == "alert"]
        transitions.sort(key=lambda t: (t.ts, t.event_id, t.state))
        report.new_alerts = self.alerts.write(transitions) if transitions else []
        report.new_dead_letters = self._dead_letters([json.loads(p) for kind, _, p in rows if kind == "deadletter"])
        stats = {sensor: payload for kind, sensor, payload in rows if kind == "stats"}
        retired = [sensor for kind, sensor, _ in rows if kind == "retired"]
        pipe = self.client.pipeline(transaction=False)
        if stats:
            pipe.hset(SENSOR_STATS_HASH, mapping=stats)
        if retired:  # forgotten by the job: no counters left to show
            pipe.hdel(SENSOR_STATS_HASH, *retired)
        pipe.hset(DETECTOR_HASH, mapping={"last_batch": batch_id, "updated_ms": int(time.time() * 1000)})
        pipe.execute()
        return report

    def _dead_letters(self, letters: list[dict]) -> list[dict]:
        entries = []
        for letter in letters:
            # The original fields verbatim; tocsin's own start with "_" so they cannot collide.
            fields = dict(letter["fields"])
            fields.update(_reason=letter["reason"], _source_stream=letter["stream"], _source_id=letter["id"])
            entries.append((f"{letter['stream']}/{letter['id']}", fields))
        if not entries:
            return []
        added = append_once(self.client, DEADLETTER_STREAM, entries, dedup_prefix=DEADLETTER_SEEN)
        return [letter for letter, is_new in zip(letters, added) if is_new]
