"""The driver's side of `BusSilence`: Redis's clock and the streams' newest entries in, alerts out."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from alerts.redis_sink import AlertSink
from alerts.rules import RuleSet
from alerts.transition import ACTIVE_HASH, AlertTransition
from detector.bus_silence import BusSilence
from detector.sink import BatchReport
from detector.stream_offsets import parse_entry_id


def newest_ids(client, streams: Sequence[str]) -> list[str | None]:
    """The id of each stream's newest entry (None for an empty or missing stream), in one round trip."""
    pipe = client.pipeline(transaction=False)
    for name in streams:
        pipe.xrevrange(name, count=1)
    return [found[0][0].decode() if found else None for found in pipe.execute()]


class BusWatch:
    """Polled by the driver between micro-batches; writes a silent bus's alerts like the job's own.

    With `judge` False it only follows the streams' newest entries: a run over what is there
    (`availableNow`) is not watching the bus, and a recording hours old is no outage.
    """

    def __init__(self, client, streams: Sequence[str], rules: RuleSet,
                 on_batch: Callable[[BatchReport], None] | None = None, *, judge: bool = True) -> None:
        self.client, self.streams, self.on_batch = client, list(streams), on_batch
        self.silence = BusSilence(self.streams, rules)
        self.judge = judge and bool(self.silence.rules)  # False: only follow the newest entries (for the lag)
        self.sink = AlertSink(client)
        self.newest: dict[str, str | None] = {}  # each stream's newest entry id at the last poll (None: empty)
        if self.judge:
            self._take_up_active()

    def _take_up_active(self) -> None:
        """Alerts an earlier run fired on this bus and did not resolve: this run resolves them."""
        for rule in self.silence.rules:
            raw = self.client.hget(ACTIVE_HASH, f"{rule.name}|{self.silence.sensor.sensor_id}")
            if raw:
                self.silence.firing(rule.name, json.loads(raw)["event_id"])

    def poll(self) -> list[AlertTransition]:
        """Look at the bus now (each stream's newest entry: `newest`); write and report the alerts that fire or resolve.

        Returns the new ones.
        """
        seconds, micros = self.client.time()  # first: an entry added after it is not in the future
        self.newest = dict(zip(self.streams, newest_ids(self.client, self.streams)))
        ids = [entry_id for entry_id in self.newest.values() if entry_id]
        newest = max(ids, key=parse_entry_id) if ids else None
        if not self.judge:
            return []
        transitions = self.silence.observe(newest, seconds * 1_000 + micros // 1_000)
        new = self.sink.write(transitions) if transitions else []
        if new and self.on_batch is not None:
            self.on_batch(BatchReport(batch_id=None, new_alerts=new))
        return new
