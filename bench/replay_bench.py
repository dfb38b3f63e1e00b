"""Record & replay figures: the mixed scenario's generation rate to a file and to Redis, and recording sizes.

Run: .venv/bin/python bench/replay_bench.py [--interval-s 5] [--sensors 1000] [--keep DIR]
Prints figures; asserts nothing (speed is measured here, not in tests).

1. `everything` (every anomaly and fault kind, 12 sensors, 1 day), sampled every `--interval-s` seconds
   instead of every minute so the run is long enough to time: generated and sent through the JSON-lines
   file sink and the Redis sink (one and three shards), then the recording replayed from disk to Redis.
2. A one-hour, `--sensors`-sensor fleet read every 10 s (360,000 events for 1,000 sensors), recorded as
   JSON lines and as Parquet: bytes on disk, bytes per event, and gzip'd JSON lines.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import tempfile
import time
from pathlib import Path

from detector.redis_server import EmbeddedRedis, connect
from simulator.generator import generate
from simulator.recording import record
from simulator.replay import BusRecord, checkpoint_for, play
from simulator.scenario_file import find_scenario, parse_scenario
from simulator.sinks import JsonLinesSink, RedisSink
from simulator.sources import open_source

TYPES = ("temperature", "humidity", "pressure", "vibration", "power")


def big_fleet(sensors: int):
    """A one-hour scenario of `sensors` sensors (five per device, 50 devices per site), one reading per 10 s."""
    devices = [f"      - {{device: d{d:04d}, sensors: [{', '.join('{type: ' + t + '}' for t in TYPES)}]}}"
               for d in range(sensors // len(TYPES))]
    sites = []
    for first in range(0, len(devices), 50):
        sites.append(f"  - site: site-{first // 50:02d}\n    devices:\n" + "\n".join(devices[first:first + 50]))
    text = "name: big-fleet\nseed: 1\nduration: 1h\ninterval: 10s\njitter: 1s\nfleet:\n" + "\n".join(sites) + "\n"
    return parse_scenario(text, "big-fleet.yaml")


def records_of(scenario):
    """The scenario's events as bus records, generated as they are consumed."""
    return (BusRecord(e.to_fields(), e.emit_ms) for e in generate(scenario))


def timed(label: str, run) -> None:
    """Print how many events `run()` sent, how long it took and the rate."""
    started = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - started
    print(f"{label:<58} {count:>9,} events {seconds:7.2f} s {count / seconds:>10,.0f} events/s")


def send(records, sink) -> int:
    """Play `records` to `sink` as fast as possible; the count sent."""
    with sink:
        return play(records, sink).events


def rates(scenario, workdir: Path) -> None:
    """Generation rate of the mixed scenario to a file and to Redis, and replay rate from the file."""
    out = workdir / "everything.jsonl"
    timed("generate + file sink (JSON lines)", lambda: send(records_of(scenario), JsonLinesSink(out)))
    with EmbeddedRedis(workdir / "redis") as server:
        client = connect(server.url)
        for shards in (1, 3):
            client.flushall()
            timed(f"generate + Redis sink, {shards} shard(s)",
                  lambda: send(records_of(scenario), RedisSink(client, shards=shards)))
        client.flushall()
        timed("replay the JSON-lines recording -> Redis, 1 shard",
              lambda: send(open_source(out).records, RedisSink(client)))
        client.flushall()
        checkpoint = checkpoint_for(out, [out], {"bench": 1})
        timed("replay the recording -> Redis, with progress (MULTI/EXEC)",
              lambda: send(open_source(out).records, RedisSink(client, checkpoint=checkpoint)))
        client.close()


def sizes(sensors: int, workdir: Path) -> None:
    """Bytes on disk of a one-hour recording of `sensors` sensors, JSON lines and Parquet."""
    scenario = big_fleet(sensors)
    for fmt in ("jsonl", "parquet"):
        started = time.perf_counter()
        done = record(scenario, workdir / f"big.{fmt}", fmt)
        seconds = time.perf_counter() - started
        size = done.events_path.stat().st_size
        print(f"1 h x {sensors:,} sensors, {fmt:<8} {done.events:>9,} events {size / 1e6:8.1f} MB "
              f"{size / done.events:6.1f} B/event  (recorded in {seconds:.1f} s)")
        if fmt == "jsonl":
            packed = len(gzip.compress(done.events_path.read_bytes(), compresslevel=6))
            print(f"1 h x {sensors:,} sensors, jsonl.gz  {done.events:>9,} events {packed / 1e6:8.1f} MB "
                  f"{packed / done.events:6.1f} B/event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval-s", type=float, default=5.0, help="sampling interval of the mixed scenario")
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="keep the files written here (default: a temporary folder)")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="tocsin-replay-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    interval_ms = round(args.interval_s * 1000)
    scenario = find_scenario("everything").model_copy(update={"interval": interval_ms, "jitter": interval_ms // 5})
    try:
        rates(scenario, workdir)
        sizes(args.sensors, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
