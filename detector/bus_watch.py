"""The driver's side of `BusSilence`: Redis's clock and the streams' newest entries in, alerts out."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from alerts.redis_sink import AlertSink
from alerts.rules import RuleSet
from alerts.transition import ACTIVE_HASH, AlertTransition
from detector.arrivals import Arrivals
from detector.bus_silence import BusSilence
from detector.events import stream_names
from detector.sink import BatchReport
from detector.stream_offsets import parse_entry_id

# What the watch has learned of the bus's pace, kept for the next run: a bus silent at a restart is still judged.
ARRIVALS_KEY = "tocsin:bus:arrivals"
# The learned pace is saved at most this often while the bus flows (and when the job stops).
SAVE_EVERY_MS = 5_000


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

    What an earlier run learned of the bus's pace (`ARRIVALS_KEY`) and the alerts it left firing
    (`ACTIVE_HASH`) are taken up, so a restart while the bus is silent does not hide the silence. An
    alert left firing under the bus's name for another number of shards is resolved: it is watched
    under its new name.
    """

    def __init__(self, client, streams: Sequence[str], rules: RuleSet,
                 on_batch: Callable[[BatchReport], None] | None = None, *, judge: bool = True) -> None:
        self.client, self.streams, self.on_batch = client, list(streams), on_batch
        self.silence = BusSilence(self.streams, rules)
        self.judge = judge and bool(self.silence.rules)  # False: only follow the newest entries (for the lag)
        self.sink = AlertSink(client)
        self.newest: dict[str, str | None] = {}  # each stream's newest entry id at the last poll (None: empty)
        self._saved: tuple[str, int] = ("", 0)  # the last id saved with the pace, and when (Redis's clock)
        if self.judge:
            self.silence.arrivals = self._learned()
            self._take_up_active()

    def _learned(self) -> Arrivals:
        """The pace an earlier run saved; a fresh start when there is none or it does not parse."""
        raw = self.client.get(ARRIVALS_KEY)
        try:
            return Arrivals(**json.loads(raw)) if raw else Arrivals()
        except (TypeError, ValueError):
            return Arrivals()

    def save(self, now_ms: int = 0) -> None:
        """Keep what was learned of the bus's pace for the next run."""
        arrivals = self.silence.arrivals
        if self.judge and arrivals.last_id and arrivals.last_id != self._saved[0]:
            self.client.set(ARRIVALS_KEY, json.dumps(asdict(arrivals)))
            self._saved = (arrivals.last_id, now_ms)

    def _take_up_active(self) -> None:
        """Alerts an earlier run fired on the bus and did not resolve: this run resolves them, one way or another."""
        seconds, micros = self.client.time()
        now_ms = seconds * 1_000 + micros // 1_000
        left_behind = []
        prefix = stream_names(1)[0]
        for key, raw in self.client.hscan_iter(ACTIVE_HASH, match=f"*|{prefix}*"):
            rule, _, sensor_id = key.decode().partition("|")
            fired_event_id = json.loads(raw)["event_id"]
            if sensor_id == self.silence.sensor.sensor_id:
                self.silence.firing(rule, fired_event_id)
            elif (resolve := self.silence.left_behind(sensor_id, rule, fired_event_id, now_ms)) is not None:
                left_behind.append(resolve)
        new = self.sink.write(left_behind) if left_behind else []
        if new and self.on_batch is not None:
            self.on_batch(BatchReport(batch_id=None, new_alerts=new))

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
        now_ms = seconds * 1_000 + micros // 1_000
        transitions = self.silence.observe(newest, now_ms)
        if now_ms - self._saved[1] >= SAVE_EVERY_MS:
            self.save(now_ms)
        new = self.sink.write(transitions) if transitions else []
        if new and self.on_batch is not None:
            self.on_batch(BatchReport(batch_id=None, new_alerts=new))
        return new
