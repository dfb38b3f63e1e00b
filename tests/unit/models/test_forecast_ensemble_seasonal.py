"""EwmaForecast, Ensemble and SeasonalZScore on seeded streams."""

from __future__ import annotations

import math
import random

import pytest

from models import build
from models.ensemble import Ensemble
from models.forecast import EwmaForecast
from models.seasonal import SeasonalZScore
from models.zscore import RobustZScore

HOUR = 3_600_000


def ramp(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [0.1 * i + rng.gauss(0.0, 0.5) for i in range(n)]


def test_the_forecast_follows_a_trend_that_a_zscore_lags_behind():
    forecast, zscore = EwmaForecast(), RobustZScore()
    for value in ramp(600, seed=1):
        forecast.learn_one({"value": value})
        zscore.learn_one({"value": value})
    assert forecast.score_one({"value": 60.0}) < 2.0
    level, spread = forecast.expected_one("value")
    assert level == pytest.approx(60.0, abs=1.0) and 0.2 < spread < 1.0
    assert zscore.expected_one("value")[0] < 58.0  # about 1/rate readings behind


def test_a_spike_does_not_drag_the_forecast_along():
    forecast = EwmaForecast()
    for value in ramp(600, seed=2):
        forecast.learn_one({"value": value})
    before = forecast.expected_one("value")[0]
    forecast.learn_one({"value": 1e6})
    assert forecast.expected_one("value")[0] - before < 5.0


def test_the_forecast_skips_non_finite_values_and_is_not_ready_before_its_residuals():
    forecast = EwmaForecast()
    forecast.learn_one({"value": float("nan")})
    assert not forecast.ready and forecast.expected_one("value") is None
    assert forecast.score_one({"value": 1.0}) == 0.0


def test_the_ensemble_scores_the_largest_of_its_members():
    ensemble, members = Ensemble(("zscore", "forecast")), [RobustZScore(), EwmaForecast()]
    for value in ramp(600, seed=3):
        for detector in (ensemble, *members):
            detector.learn_one({"value": value})
    for probe in (60.0, 75.0, 30.0):
        x = {"value": probe}
        assert ensemble.score_one(x) == max(member.score_one(x) for member in members)


@pytest.mark.parametrize("members", [("zscore", "loda"), "zscore", (), ("hst",)])
def test_the_ensemble_refuses_members_on_other_scales(members):
    with pytest.raises(ValueError, match="Ensemble: member"):
        Ensemble(members)


def daily(days: int, seed: int) -> SeasonalZScore:
    rng = random.Random(seed)
    detector = SeasonalZScore()
    for i in range(24 * days):
        detector.at(i * HOUR)
        detector.learn_one({"value": 20.0 + 5.0 * math.sin(2 * math.pi * i / 24) + rng.gauss(0.0, 0.5)})
    return detector


def test_a_daily_cycle_is_normal_at_its_hour_and_a_spike_is_not():
    detector = daily(30, seed=4)
    detector.at(30 * 24 * HOUR + 18 * HOUR)  # 6 pm: the cycle's low, about 15
    assert detector.score_one({"value": 15.0}) < 1.0
    assert detector.score_one({"value": 40.0}) > 5.0
    level, _ = detector.expected_one("value")
    assert level == pytest.approx(15.0, abs=1.0)


def test_without_a_time_every_reading_is_judged_by_the_whole_stream():
    detector, zscore = SeasonalZScore(), RobustZScore()
    rng = random.Random(5)
    for _ in range(500):
        value = rng.gauss(10.0, 1.0)
        detector.learn_one({"value": value})
        zscore.learn_one({"value": value})
    # one hour holds every reading, and it learns as the whole stream does: the smaller |z| is the same
    assert detector.score_one({"value": 14.0}) == pytest.approx(zscore.score_one({"value": 14.0}))


def test_the_seasonal_detector_is_registered_with_checked_parameters():
    assert isinstance(build("seasonal"), SeasonalZScore)
    with pytest.raises(ValueError, match="SeasonalZScore: rate"):
        build("seasonal", rate=2.0)
