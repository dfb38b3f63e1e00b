"""End-to-end figures for `make bench`: a script that prints, never a timed test.

One run on local[2] with 1,000 sensors:
  1. sustained events/s through the whole job (Redis source -> per-sensor River state -> rules -> Redis sink)
     over a preloaded backlog, as the query's own progress reports it, and wall clock;
  2. the same work in a plain single-process Python loop (XREAD, the same models and rules per sensor via
     detector.local_run.LocalDetector, XADD of alerts through the same sink), for the ratio;
  3. latency from the XADD of an event to the XADD of its alert on tocsin:alerts (both Redis server
     clock: entry ids), at 5,000 events/s offered, with spikes injected so that alerts fire.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from alerts.redis_sink import AlertSink
from alerts.rules import default_rules
from alerts.transition import ALERT_STREAM
from detector.events import shard_of, stream_names
from detector.job import DetectorConfig, start_detector
from detector.local_run import LocalDetector, raw_entry
from detector.redis_server import EmbeddedRedis, connect
from detector.registry import SensorRegistry
from detector.spark import build_session

SENSORS = [f"bench-{i:04d}" for i in range(1000)]
SHARDS = 2


def preload(client, per_sensor: int, start_ms: int, step_ms: int = 1000, seed: int = 1) -> int:
    """XADD a steady noisy backlog, per_sensor readings for each of the 1,000 sensors, time-ordered."""
    rng = np.random.default_rng(seed)
    bases = rng.uniform(10, 100, len(SENSORS))
    streams = stream_names(SHARDS)
    pipe = client.pipeline(transaction=False)
    for k in range(per_sensor):
        noise = rng.normal(0, 1, len(SENSORS))
        for i, sensor in enumerate(SENSORS):
            pipe.xadd(streams[shard_of(sensor, SHARDS)],
                      {"sensor_id": sensor, "ts": str(start_ms + k * step_ms), "value": f"{bases[i] + noise[i]:.4f}"})
        if k % 10 == 9:
            pipe.execute()
    pipe.execute()
    return per_sensor * len(SENSORS)


def plain_loop(client, total: int) -> float:
    """The same per-sensor work in one Python process: XREAD, score+learn+rules, XADD alerts. Events/s."""
    detector, sink = LocalDetector(default_rules(), SensorRegistry()), AlertSink(client)
    positions = {name: "0-0" for name in stream_names(SHARDS)}
    done, started = 0, time.perf_counter()
    while done < total:
        reply = client.xread(positions, count=10_000)
        entries = []
        for name, items in reply:
            stream = name.decode()
            entries += [raw_entry(stream, entry_id, fields) for entry_id, fields in items]
            positions[stream] = items[-1][0].decode()
        result = detector.process(entries)
        if result.transitions:
            sink.write(result.transitions)
        done += len(entries)
    return total / (time.perf_counter() - started)


def run_backlog(spark, url: str, checkpoint: str, total: int) -> tuple[float, float, int]:
    """The job over the backlog (availableNow, 50k per trigger): (events/s in batches, wall events/s, batches)."""
    config = DetectorConfig(redis_url=url, streams=stream_names(SHARDS), checkpoint=checkpoint,
                            trigger="availableNow", max_records_per_trigger=50_000)
    client = connect(url)
    started = time.perf_counter()
    query = start_detector(spark, config, default_rules(), SensorRegistry(), client)
    query.awaitTermination()
    wall = time.perf_counter() - started
    batches = [p for p in query.recentProgress if p["numInputRows"]]
    busy_s = sum(p["durationMs"]["triggerExecution"] for p in batches) / 1000
    return sum(p["numInputRows"] for p in batches) / busy_s, total / wall, len(batches)


def offer_live(client, rate: int, seconds: float, spikes: int, seed: int = 2) -> int:
    """Publish at `rate` events/s for `seconds`, time-stamped now; `spikes` sensors get one big reading."""
    rng, chooser = np.random.default_rng(seed), random.Random(seed)
    bases = np.random.default_rng(1).uniform(10, 100, len(SENSORS))
    total = int(rate * seconds)
    spike_at = set(chooser.sample(range(total // 10, total - total // 10), spikes))
    streams = stream_names(SHARDS)
    pipe, sent, started = client.pipeline(transaction=False), 0, time.perf_counter()
    while sent < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        now_ms = int(time.time() * 1000)
        for n in range(sent, due):
            i = n % len(SENSORS)
            value = bases[i] + rng.normal() + (40.0 if n in spike_at else 0.0)
            pipe.xadd(streams[shard_of(SENSORS[i], SHARDS)],
                      {"sensor_id": SENSORS[i], "ts": str(now_ms), "value": f"{value:.4f}"})
        pipe.execute()
        sent = due
        time.sleep(0.005)
    return sent


def latencies_ms(client) -> list[int]:
    """For every alert transition: alert entry time - causing event's entry time (Redis clock, ms)."""
    out = []
    for alert_id, fields in client.xrange(ALERT_STREAM):
        event_id = fields[b"event_id"].decode()
        out.append(int(alert_id.decode().split("-")[0]) - int(event_id.split("-")[0]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-sensor", type=int, default=300, help="backlog readings per sensor (past warm-up)")
    parser.add_argument("--rate", type=int, default=5000, help="offered events/s for the latency run")
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the latency run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tocsin-bench-"))
    start_ms = int(time.time() * 1000) - args.per_sensor * 1000 - 60_000

    with EmbeddedRedis(work / "plain") as plain_redis:
        client = connect(plain_redis.url)
        total = preload(client, args.per_sensor, start_ms)
        plain_rate = plain_loop(client, total)

    with EmbeddedRedis(work / "spark") as server:
        client = connect(server.url)
        preload(client, args.per_sensor, start_ms)
        spark = build_session("local[2]", app_name="tocsin-bench", log_dir=work / "log")
        checkpoint = str(work / "checkpoint")
        batch_rate, wall_rate, batches = run_backlog(spark, server.url, checkpoint, total)
        client.delete(ALERT_STREAM)

        live = DetectorConfig(redis_url=server.url, streams=stream_names(SHARDS), checkpoint=checkpoint,
                              trigger="0 seconds", max_records_per_trigger=50_000)
        query = start_detector(spark, live, default_rules(), SensorRegistry(), connect(server.url))
        producer = threading.Thread(target=lambda: offer_live(connect(server.url), args.rate, args.seconds, 300))
        producer.start()
        producer.join()
        time.sleep(5)  # let the last micro-batches land
        query.stop()
        lat = np.array(latencies_ms(client))
        live_batches = [p for p in query.recentProgress if p["numInputRows"]]
        spark.stop()

    print(f"tocsin end-to-end bench: local[2], {len(SENSORS)} sensors, {SHARDS} shards, default model and rules")
    print(f"  sustained, Spark job:      {batch_rate:>9,.0f} events/s in micro-batches "
          f"({wall_rate:,.0f} events/s wall incl. query start; {total:,} events, {batches} batches of <= 50k)")
    print(f"  same work, plain loop:     {plain_rate:>9,.0f} events/s (one Python process; ratio Spark/plain "
          f"{batch_rate / plain_rate:.2f})")
    if len(lat):
        print(f"  latency at {args.rate:,} events/s offered: XADD event -> XADD alert, {len(lat)} alert transitions: "
              f"p50 {np.percentile(lat, 50):.0f} ms, p99 {np.percentile(lat, 99):.0f} ms, max {lat.max():.0f} ms")
    else:
        print("  latency: no alert fired during the live run")
    if live_batches:
        durations = [p["durationMs"]["triggerExecution"] for p in live_batches]
        print(f"  live micro-batches: {len(live_batches)}, median {np.median(durations):.0f} ms, "
              f"median rows {np.median([p['numInputRows'] for p in live_batches]):.0f}")
    print(f"  files: {work}")


if __name__ == "__main__":
    main()
