"""AnomalyLikelihood: what 0.99 means, warm-up, flat and quantized score histories."""

from __future__ import annotations

import math
import random

import pytest

from models.calibration import AnomalyLikelihood
from models.reasons import LASTING, SHIFT, SPIKE


def trained(raws, **kwargs) -> AnomalyLikelihood:
    calibration = AnomalyLikelihood(**kwargs)
    for raw in raws:
        calibration.likelihood(raw)
        calibration.learn(raw)
    return calibration


def half_normal(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [abs(rng.gauss(0.0, 1.0)) for _ in range(n)]


def test_zero_until_sixteen_scores_are_learned():
    calibration = AnomalyLikelihood()
    for raw in half_normal(15):
        assert calibration.likelihood(raw) == 0.0
        calibration.learn(raw)
    assert not calibration.ready
    assert calibration.likelihood(1e9) == 0.0


def test_an_average_at_the_long_run_99th_percentile_is_a_likelihood_of_099():
    calibration = trained(half_normal(5000), window=1)
    assert calibration.q99 == pytest.approx(2.576, rel=0.1)  # half-normal 99th percentile
    assert calibration.likelihood(calibration.q99) == pytest.approx(0.99, abs=1e-9)
    assert calibration.likelihood(calibration.median) == pytest.approx(0.5, abs=1e-9)


def test_the_average_of_the_window_is_judged():
    calibration = trained(half_normal(5000), window=4)
    calibration.likelihood(40.0)
    for _ in range(3):
        assert calibration.likelihood(0.0) >= 0.99  # the spike stays in the window
    assert calibration.likelihood(0.0) < 0.5


def test_a_flat_score_history_gives_a_half_and_no_division_by_zero():
    calibration = trained([0.0] * 500)
    assert calibration.likelihood(0.0) == 0.5
    assert calibration.likelihood(1.0) == 1.0


def test_min_width_judges_a_first_step_after_a_flat_history_on_the_detectors_scale():
    calibration = trained([0.0] * 500, window=5, min_width=1.5)
    assert calibration.likelihood(3.0) < 0.99  # one quantized step: 3 sigma once in five readings
    assert calibration.likelihood(30.0) == 1.0


def test_one_learned_spike_does_not_blind_it():
    calibration = trained(half_normal(3000))
    before = calibration.q99
    calibration.learn(1e12)
    assert calibration.q99 < 1.2 * before


def pareto(n: int, seed: int = 0, alpha: float = 1.5) -> list[float]:
    """Raw scores of a bursty sensor: a power-law tail, far heavier than an exponential one."""
    rng = random.Random(seed)
    return [rng.paretovariate(alpha) for _ in range(n)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_single_reading_tail_is_corrected_by_how_often_it_was_passed(seed):
    light = trained(half_normal(20_000, seed), window=10, horizon=1000, single=1e-5)
    heavy = trained(pareto(20_000, seed), window=10, horizon=1000, single=1e-5)
    assert light.tail_correction == 1.0  # a Gaussian's tail is lighter than the exponential one fitted to it
    assert heavy.tail_correction > 3.0
    # A burst at 5e-6 under the fitted exponential tail: past `single` alone, so it would alert uncorrected.
    anchor = max(heavy.q99, heavy.q99_seen)
    burst = anchor + heavy.excess * math.log(0.01 / 5e-6)
    assert heavy.tail(burst) == pytest.approx(5e-6)
    corrected = 1.0 - 5e-6 * heavy.tail_correction * (0.01 / 1e-5)
    likelihood = heavy.likelihood(burst)
    assert heavy._held == pytest.approx(corrected)  # the spike test's probability, scaled by the correction
    assert corrected - 1e-12 <= likelihood < 0.99  # a burst as common as this sensor's bursts are does not alert


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bursts_every_few_thousand_readings_are_seen_by_the_deeper_check(seed):
    scores = half_normal(20_000, seed)
    for burst in range(1500, 20_000, 2500):  # 8 bursts, each far past the 1-in-100,000 level of the rest
        scores[burst] = 25.0
    calibration = trained(scores, window=10, horizon=1000, single=1e-5)
    shallow = (calibration.beyond + 1.0) / (calibration.n * 1e-3 + 1.0)
    assert shallow < 1.0  # at 1-in-1,000 the bursts are lost among the noise's own tail
    assert calibration.deep >= 8 and calibration.tail_correction >= 3.0
    assert trained(half_normal(20_000, seed), window=10, horizon=1000, single=1e-5).tail_correction == 1.0


def test_one_burst_is_not_evidence_of_a_heavy_tail():
    scores = half_normal(3000, seed=3)
    scores[2000] = 40.0
    assert trained(scores, window=10, horizon=1000, single=1e-5).tail_correction == 1.0


def test_a_huge_spike_is_reported_as_a_spike_while_it_is_in_the_average():
    rng = random.Random(4)
    calibration = AnomalyLikelihood(window=5, horizon=1000, single=1e-5)
    for _ in range(2000):
        raw = abs(rng.gauss(0.0, 1.0))
        calibration.likelihood(raw)
        calibration.learn(raw)
    after = [(calibration.likelihood(raw), calibration.reason) for raw in (1000.0, 0.7, 0.7, 0.7, 0.7, 0.7)]
    assert all(likelihood == 1.0 for likelihood, _ in after[:5])  # the average test gives 1.0 as well
    assert [reason for _, reason in after] == [SPIKE] * 5 + [SHIFT]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_moderate_departure_that_lasts_far_longer_than_any_before_is_lasting(seed):
    # Scores a little beyond the 90th percentile, for hours: their average stays under the 99th
    # percentile of single scores (and the distribution learns them), so only their length tells.
    def run(lasting):
        calibration = trained(half_normal(3000, seed), window=14, horizon=1000, min_width=1.5, lasting=lasting)
        reasons = []
        for raw in [2.45] * 200:
            likelihood = calibration.likelihood(raw)
            calibration.learn(raw)
            reasons.append((likelihood >= 0.99, calibration.reason))
        return reasons

    fired = [i for i, (high, reason) in enumerate(run(2.0)) if high]
    assert fired and 80 <= fired[0] <= 90 and run(2.0)[fired[0]][1] == LASTING
    assert not any(high for high, _ in run(None))


def test_a_stretch_no_longer_than_twice_the_longest_before_is_not_lasting():
    scores = half_normal(3000) + [2.45] * 100 + half_normal(300, 1) + [2.45] * 150
    calibration = trained(scores, window=14, horizon=1000, min_width=1.5, lasting=2.0)
    assert calibration._longest >= 100
    assert calibration.likelihood(2.45) < 0.99
