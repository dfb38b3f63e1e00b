"""SensorGroup builds each new sensor's model from the ModelConfig; sensors it already holds keep theirs."""

from __future__ import annotations

import pickle
import random

from alerts.rules import default_rules
from alerts.transition import FIRING
from detector.registry import SensorRegistry
from detector.sensor_group import SensorGroup
from detector.sensor_state import RawEntry
from detector.stateful import SensorStep
from models.model_config import ModelConfig

T0 = 1_704_067_200_000
WARM_5 = ModelConfig(sensor={"warmup": 5})


def readings(sensor_id: str, values: list[float], first: int = 0) -> list[RawEntry]:
    """One reading a second for `sensor_id`, as stream entries."""
    return [RawEntry("tocsin:events", f"{T0 + (first + i) * 1000}-0", T0 + (first + i) * 1000, 0,
                     {"sensor_id": sensor_id, "ts": str(T0 + (first + i) * 1000), "value": str(value)})
            for i, value in enumerate(values)]


def quiet_then_spike(seed: int = 4) -> list[float]:
    """60 normal readings, one spike, then normal readings again."""
    rng = random.Random(seed)
    return [rng.gauss(20.0, 0.5) for _ in range(60)] + [35.0] + [rng.gauss(20.0, 0.5) for _ in range(10)]


def firing(group: SensorGroup, entries: list[RawEntry]) -> list[str]:
    """The sensors whose alerts fired over `entries`."""
    result, _ = group.process(entries)
    return [t.sensor_id for t in result.transitions if t.state == FIRING]


def test_a_short_warmup_from_the_config_reaches_the_model_of_a_new_sensor():
    warm = SensorGroup(default_rules(), model=WARM_5)
    default = SensorGroup(default_rules())
    assert firing(warm, readings("s1", quiet_then_spike())) == ["s1"]
    assert firing(default, readings("s1", quiet_then_spike())) == [], "200 readings of warm-up by default"
    assert (warm.states["s1"].model.warmup, default.states["s1"].model.warmup) == (5, 200)


def test_sensors_already_in_state_keep_their_model_and_new_ones_get_the_new_config():
    before = SensorGroup(default_rules())
    before.process(readings("old", [20.0] * 3))
    restarted = SensorGroup(default_rules(), model=WARM_5, states=pickle.loads(pickle.dumps(before.states)))
    restarted.process(readings("old", [20.0] * 3, first=3) + readings("new", [20.0] * 3))
    old, new = restarted.states["old"].model, restarted.states["new"].model
    assert (old.warmup, old.count) == (200, 6)
    assert (new.warmup, new.count) == (5, 3)


def test_the_spark_step_carries_the_config_to_the_workers():
    step = SensorStep(rules=default_rules(), registry=SensorRegistry(), model=WARM_5)
    assert pickle.loads(pickle.dumps(step)).model == WARM_5
