"""DeviceModel: joint scoring of a device's sensors, contributions, warm-up, NaN and pickling."""

from __future__ import annotations

import math
import pickle
import random

import pytest

from models.device import DeviceModel

SENSORS = ("pump/flow", "pump/pressure", "pump/power")


def run_pump(model: DeviceModel, rng: random.Random, minutes: range, load: float, *, fault=None):
    """Three sensors following one slow load; `fault` (sensor, offset) decouples one of them."""
    scores = []
    for minute in minutes:
        load = 0.95 * load + 0.3 * rng.gauss(0.0, 1.0)
        readings = {"pump/flow": 60.0 + 2.0 * load + rng.gauss(0.0, 0.2),
                    "pump/pressure": 4.0 + 0.2 * load + rng.gauss(0.0, 0.02),
                    "pump/power": 45.0 + load + rng.gauss(0.0, 0.1)}
        if fault is not None:
            readings[fault[0]] += fault[1]
        scores += [model.process(sensor, readings[sensor], minute) for sensor in SENSORS]
    return scores, load


@pytest.mark.parametrize("broken, offset", [("pump/power", -1.5), ("pump/flow", 3.0)])
def test_a_sensor_that_leaves_its_device_scores_high_and_tops_the_contributions(broken, offset):
    model, rng = DeviceModel(), random.Random(11)
    _, load = run_pump(model, rng, range(800), 0.0)
    scores, _ = run_pump(model, rng, range(800, 810), load, fault=(broken, offset))
    flagged = [s for s in scores if s.likelihood >= 0.99]
    assert flagged, max(s.likelihood for s in scores)
    assert all(s.contributions[0][0] == broken for s in flagged)
    assert all(s.contributions[0][1] > 0.5 for s in flagged)


def test_plain_noise_rarely_scores_high():
    model, rng = DeviceModel(), random.Random(3)
    scores = [model.process(f"d/s{i % 4}", rng.gauss(10.0 * (i % 4), 1.0), i // 4) for i in range(20_000)]
    judged = [s.likelihood for s in scores if not s.warming_up]
    assert len(judged) > 19_000
    assert sum(likelihood >= 0.99 for likelihood in judged) / len(judged) < 0.005


def test_contributions_are_shares_of_every_sensor():
    model, rng = DeviceModel(), random.Random(4)
    scores, _ = run_pump(model, rng, range(300), 0.0)
    names = {name for name, _ in scores[-1].contributions}
    assert names == set(SENSORS)
    assert math.isclose(sum(share for _, share in scores[-1].contributions), 1.0, abs_tol=1e-5)


def test_warm_up_reports_zero_then_judges():
    model, rng = DeviceModel(warmup=50), random.Random(5)
    scores, _ = run_pump(model, rng, range(200), 0.0)
    assert scores[0].warming_up and scores[0].likelihood == 0.0 and scores[0].contributions == ()
    assert all(s.likelihood == 0.0 for s in scores if s.warming_up)
    assert not scores[-1].warming_up


def test_nan_and_inf_are_skipped_without_touching_the_state():
    model, rng = DeviceModel(), random.Random(6)
    run_pump(model, rng, range(300), 0.0)
    before = pickle.dumps(model.baselines)
    for bad in (math.nan, math.inf, -math.inf):
        score = model.process("pump/flow", bad, 300)
        assert (score.raw, score.likelihood, score.contributions) == (0.0, 0.0, ())
    assert model.skipped == 3 and pickle.dumps(model.baselines) == before


def test_pickle_round_trip_scores_the_same_and_stays_small():
    model, rng = DeviceModel(), random.Random(7)
    run_pump(model, rng, range(400), 0.0)
    blob = pickle.dumps(model)
    copy = pickle.loads(blob)
    assert copy.process("pump/power", 44.0, 400) == model.process("pump/power", 44.0, 400)
    assert len(blob) < 5_000


def test_a_sensor_joining_later_is_scored_with_the_others():
    model, rng = DeviceModel(), random.Random(8)
    for minute in range(300):
        model.process("d/a", rng.gauss(0.0, 1.0), minute)
    scores = [model.process("d/b", rng.gauss(5.0, 1.0), minute) for minute in range(300, 400)]
    assert {name for name, _ in scores[-1].contributions} == {"d/a", "d/b"}


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": 0.0}, "rate"), ({"memory": 1}, "memory"), ({"shrink": 1.5}, "shrink"), ({"warmup": -1}, "warmup"),
])
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=f"DeviceModel: {message}"):
        DeviceModel(**kwargs)


@pytest.mark.parametrize("sensor, value, message", [("", 1.0, "sensor_id"), ("d/a", "warm", "value")])
def test_bad_readings_are_named(sensor, value, message):
    with pytest.raises(ValueError, match=f"DeviceModel.process: {message}"):
        DeviceModel().process(sensor, value, 0)
