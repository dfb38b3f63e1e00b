"""Fixtures of the integration tests that replay a recording."""

from __future__ import annotations

import pytest

from simulator.recording import record
from simulator.scenario_file import parse_scenario

SCENARIO = """
name: replayed
seed: 11
duration: 20m
interval: 1s
jitter: 100ms
fleet:
  - site: plant
    devices:
      - device: pump-1
        sensors: [{type: pressure}, {type: flow}, {type: vibration}]
      - device: pump-2
        sensors: [{type: pressure}]
anomalies:
  - {kind: spike, at: 3m, magnitude: 9, sensors: [pump-1/vibration]}
faults:
  - {kind: malformed, at: 2m, duration: 10m, rate: 0.05, sensors: [pump-1/flow]}
  - {kind: late, at: 5m, duration: 5m, delay: 1m, rate: 0.2, sensors: [pump-2/pressure]}
  - {kind: duplicate, at: 8m, duration: 5m, rate: 0.1, sensors: [pump-1/pressure]}
"""


@pytest.fixture(scope="module")
def scenario():
    return parse_scenario(SCENARIO, "replayed.yaml")


@pytest.fixture(scope="module")
def recording(tmp_path_factory, scenario):
    """About 4,800 events, with malformed, late and duplicated records, recorded as JSON lines."""
    return record(scenario, tmp_path_factory.mktemp("rec") / "run.jsonl")
