"""Every data fault a real feed has, through the real job: malformed ones dead-lettered, duplicates not
double-counted, late, out-of-order and skewed readings scored."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from alerts.transition import DEADLETTER_STREAM
from detector.sink import SENSOR_STATS_HASH
from simulator.generator import generate
from simulator.plan import resolve
from simulator.publisher import publish_scenario
from simulator.scenario_file import parse_scenario
from tests.integration.test_detector_job import run_job

pytestmark = pytest.mark.integration

FAULTY = """\
extends: spike
name: spike-faulty
faults:
  - {kind: late, at: 250s, duration: 60s, delay: 20s, rate: 0.3, sensors: ["line-1/*"]}
  - {kind: out_of_order, at: 260s, duration: 60s, delay: 5s, rate: 0.5, sensors: ["line-2/*"]}
  - {kind: duplicate, at: 270s, duration: 60s, rate: 0.3, sensors: ["*"]}
  - {kind: malformed, at: 280s, duration: 30s, rate: 0.5, sensors: [line-1/pressure]}
  - {kind: clock_skew, at: 300s, duration: 30s, skew: 10s, sensors: [line-2/pressure]}
"""


def test_each_fault_reaches_the_detector_and_is_handled(spark, redis_url, redis_client, tmp_path):
    scenario = parse_scenario(FAULTY, source="faulty.yaml")
    events = list(generate(resolve(scenario)))
    malformed = sum(1 for e in events if e.defect)
    seen = Counter((e.sensor_id, e.ts_ms, e.value) for e in events if not e.defect)
    duplicates = sum(n - 1 for n in seen.values())
    late = sum(1 for before, after in zip(events, events[1:]) if after.ts_ms < before.ts_ms)
    assert malformed and duplicates and late, "the scenario really carries each fault"

    publish_scenario(redis_client, scenario, shards=2)
    run_job(spark, redis_url, tmp_path)

    stats = [json.loads(v) for v in redis_client.hgetall(SENSOR_STATS_HASH).values()]
    assert redis_client.xlen(DEADLETTER_STREAM) == malformed
    assert sum(s["duplicates"] for s in stats) == duplicates
    assert sum(s["count"] for s in stats) == len(events) - malformed - duplicates, "late ones scored too"
    assert sum(s["late"] for s in stats) > 0
