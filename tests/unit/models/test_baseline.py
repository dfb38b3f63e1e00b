"""RobustBaseline and FeatureBaselines: robust level and spread, floors, bad values."""

from __future__ import annotations

import math
import random

import pytest

from models.baseline import BOOTSTRAP, FeatureBaselines, RobustBaseline


def gaussian(n: int, mean: float, sd: float, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


def test_bootstrap_uses_median_and_mad_so_early_spikes_do_not_set_the_scale():
    baseline = RobustBaseline(rate=0.02)
    for value in [10.0, 11.0, 9.0, 1e6, 10.5, 9.5, 10.2, 9.8, 10.1, 9.9, 10.3, 9.7, 10.4, 9.6, 10.0, 10.0]:
        baseline.update(value)
    assert baseline.ready
    assert baseline.level == pytest.approx(10.0, abs=0.1)
    assert baseline.scale < 1.0


def test_not_ready_scores_zero():
    baseline = RobustBaseline(rate=0.02)
    for value in gaussian(BOOTSTRAP - 1, 5.0, 1.0):
        baseline.update(value)
    assert not baseline.ready
    assert baseline.z(1e9) == 0.0


def test_tracks_gaussian_level_and_sigma():
    baseline = RobustBaseline(rate=0.02)
    for value in gaussian(5000, -3.0, 0.5):
        baseline.update(value)
    assert baseline.level == pytest.approx(-3.0, abs=0.1)
    assert baseline.scale == pytest.approx(0.5, rel=0.15)


def test_one_spike_moves_level_by_at_most_rate_times_clip_spreads():
    baseline = RobustBaseline(rate=0.02, clip=3.0)
    for value in gaussian(3000, 100.0, 5.0):
        baseline.update(value)
    level, scale = baseline.level, baseline.scale
    baseline.update(1e12)
    assert abs(baseline.level - level) <= 0.02 * 3.0 * scale + 1e-9
    assert baseline.scale < 1.1 * scale


def test_flatline_has_positive_scale_and_scores_zero():
    baseline = RobustBaseline(rate=0.02)
    for _ in range(1000):
        baseline.update(42.0)
    assert baseline.scale > 0.0
    assert baseline.z(42.0) == 0.0
    assert math.isfinite(baseline.z(43.0)) and baseline.z(43.0) > 1e6  # a flatline that moves is news


def test_quantized_readings_keep_their_rounding_error_as_the_least_spread():
    rng = random.Random(3)
    baseline = RobustBaseline(rate=0.02)
    for _ in range(3000):
        baseline.update(float(round(rng.gauss(10.0, 0.2))))
    assert baseline.quantum == 1.0
    assert baseline.scale >= 1.0 / math.sqrt(12.0) - 1e-12
    assert abs(baseline.z(11.0)) < 4.0  # one step of the sensor's resolution is not extreme


def test_feature_baselines_skip_non_finite_values_and_score_known_features_only():
    baselines = FeatureBaselines("Test", rate=0.05, clip=3.0)
    for value in gaussian(100, 0.0, 1.0):
        baselines.update({"a": value, "b": float("nan")})
    assert list(baselines.by_feature) == ["a"]
    assert baselines.ready
    assert set(baselines.z({"a": 1.0, "b": 1.0, "c": 1.0})) == {"a"}
    assert baselines.largest_z({"a": float("inf")}) == 0.0
    assert baselines.expected("c") is None


def test_feature_baselines_refuse_a_non_number_naming_the_feature():
    baselines = FeatureBaselines("RobustZScore", rate=0.05, clip=3.0)
    with pytest.raises(ValueError, match="RobustZScore: feature 'a' is 'x', not a number"):
        baselines.update({"a": "x"})
