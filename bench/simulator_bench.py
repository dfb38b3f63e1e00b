"""How fast the simulator generates events in memory and publishes them to a real embedded Redis.

Run: .venv/bin/python bench/simulator_bench.py [--events N]
Prints figures; asserts nothing (speed is measured here, not in tests).
"""

from __future__ import annotations

import argparse
import time

from detector.redis_server import EmbeddedRedis, connect
from simulator.generator import generate
from simulator.plan import resolve
from simulator.publisher import publish_events
from simulator.scenario_file import find_scenario


def scenario_of(events: int):
    """The default fleet (20 sensors), one reading a second, long enough for about `events` events."""
    default = find_scenario("default")
    sensors = len(resolve(default).sensors)
    return default.model_copy(update={"interval": 1000, "duration": 1000 * -(-events // sensors)})


def timed(label: str, count_events) -> None:
    started = time.perf_counter()
    count = count_events()
    seconds = time.perf_counter() - started
    print(f"{label:<50} {count:>9,} events {seconds:7.2f} s {count / seconds:>11,.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    scenario = scenario_of(args.events)
    timed("generate (SimEvent objects)", lambda: sum(1 for _ in generate(scenario)))
    timed("generate + to_fields (stream entries)", lambda: sum(1 for e in generate(scenario) if e.to_fields()))
    with EmbeddedRedis() as server:
        client = connect(server.url)
        for shards in (1, 3):
            client.flushall()
            timed(f"generate + publish, pipelined XADD, {shards} shard(s)",
                  lambda: publish_events(client, generate(scenario), shards=shards).events)
        client.flushall()
        events = list(generate(scenario))
        timed("publish only (events pre-generated), 1 shard", lambda: publish_events(client, events).events)
        client.close()


if __name__ == "__main__":
    main()
