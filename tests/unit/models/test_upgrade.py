"""Sensor models pickled by earlier releases (as Spark checkpoints keep them) carry on under this one."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest

from models import SensorModel, sensor

FIXTURES = Path(__file__).parents[2] / "fixtures" / "models"
T0 = 1_700_000_000_000
# Made by tests/fixtures/models/make_release_pickles.py at the releases it names: 600 readings of N(20, 0.5), one a minute.
RELEASES = ["sensor_model_release1.pickle", "sensor_model_release2.pickle", "sensor_model_release3.pickle"]


def carry_on(model: SensorModel, readings: int = 400) -> list[float]:
    rng = random.Random(12)
    return [model.process(20.0 + rng.gauss(0.0, 0.5), T0 + 60_000 * (600 + i)).likelihood for i in range(readings)]


@pytest.mark.parametrize("release", RELEASES)
def test_a_model_from_an_earlier_release_keeps_scoring_and_still_sees_a_spike(release):
    model = pickle.loads((FIXTURES / release).read_bytes())
    assert model.count == 600
    assert max(carry_on(model)) < 0.99
    spike = model.process(35.0, T0 + 60_000 * 1000)  # 30 sigma
    assert spike.likelihood >= 0.99
    again = pickle.loads(pickle.dumps(model))  # saved again by this release, it carries on exactly as the original
    assert carry_on(again, 50) == carry_on(model, 50)


def test_tests_added_since_a_release_stay_off_for_its_models():
    first = pickle.loads((FIXTURES / RELEASES[0]).read_bytes())
    assert (first.single, first.range_margin, first.unrest, first.escalate) == (None, None, None, None)
    assert first.calibration.single is None and first.calibration.unrest is None
    second = pickle.loads((FIXTURES / RELEASES[1]).read_bytes())
    assert second.single == 1e-5 and second.unrest is None  # it had the single-reading test, not the unrest test
    third = pickle.loads((FIXTURES / RELEASES[2]).read_bytes())
    assert (third.unrest, third.escalate, third.routine) == (3e-3, 1.5, None)  # no daily routines then
    assert all(model.min_run == 3 for model in (first, second, third))  # a fix, not a test: a blip mutes nothing
    assert all(model.stuck is None for model in (first, second, third))  # no stuck test then
    assert all(model.stuck_after == 750 for model in (first, second, third))  # as it was once switched on
    assert all(model._runs == sensor.STUCK_RUNS for model in (first, second, third))  # their longest run trusted
    assert second.detector.drift is None and third.detector.drift is None  # nor a drift test in 'running'
    assert second.detector.drifted("value") is None


def test_the_weekly_profile_keeps_its_residual_statistics_across_the_change_of_layout():
    model = pickle.loads((FIXTURES / RELEASES[1]).read_bytes())
    week = model.detector._by_feature["value"].week
    assert week.n > 500  # a fresh profile would start from 0
    assert 0.3 < week.sd < 1.0  # readings of N(20, 0.5) against their half-hour levels


def test_a_run_muted_before_routines_existed_keeps_its_escalation_peak():
    rng = random.Random(13)
    model = SensorModel()
    for i in range(1200):
        value = 20.0 + rng.gauss(0.0, 0.5) + (8.0 if 1000 <= i < 1004 else 0.0)  # one 16 sigma alert
        model.process(value, T0 + 60_000 * i)
    assert model._last_peak > 10.0
    state = {name: getattr(model, name) for name in SensorModel.__slots__ if hasattr(model, name)}
    for added_since in ("routine", "_routine", "_mute_peak"):  # what release 3 did not have
        del state[added_since]
    old = SensorModel.__new__(SensorModel)
    old.__setstate__((None, state))
    assert old.routine is None and old._routine is None
    assert old._mute_peak == model._last_peak  # a muted run then could only be muted by the quiet period
