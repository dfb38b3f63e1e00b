"""A small fleet to inject things into, and a way to compare a run with its clean twin."""

from collections import defaultdict

import pytest

from simulator.generator import generate, labels
from simulator.scenario_file import parse_scenario

FLEET = """
name: small
seed: 3
duration: 20m
interval: 10s
fleet:
  - site: plant
    devices:
      - device: pump-1
        sensors: [{type: pressure}, {type: flow}, {type: vibration}]
      - device: pump-2
        sensors: [{type: pressure}]
"""


def build(extra: str = "", fleet: str = FLEET):
    """The small fleet with `extra` YAML (anomalies, faults, overrides) appended."""
    return parse_scenario(fleet + extra, "test.yaml")


def by_sensor(events):
    """Events grouped by sensor, each group in arrival order."""
    groups = defaultdict(list)
    for event in events:
        groups[event.sensor_id].append(event)
    return groups


@pytest.fixture
def injected():
    """Run a scenario with `extra` and its clean twin; returns (label, events by sensor, clean by sensor)."""

    def run(extra: str):
        scenario = build(extra)
        clean = scenario.model_copy(update={"anomalies": [], "faults": []})
        (label,) = labels(scenario)
        return label, by_sensor(generate(scenario)), by_sensor(generate(clean))

    return run
