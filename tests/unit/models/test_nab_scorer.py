"""NAB scoring on hand-built series whose totals can be worked out on paper."""

from __future__ import annotations

import math

import pytest

from models.nab.scorer import (
    CostMatrix,
    ScoredSeries,
    best_threshold,
    normalised_score,
    probation_length,
    score_at,
    score_corpus,
    sweep_points,
    sweep_thresholds,
)

STANDARD = CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
LOW_FP = CostMatrix(tp_weight=1.0, fp_weight=0.22, fn_weight=1.0)
LOW_FN = CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=2.0)
PROFILES = {"standard": STANDARD, "reward_low_FP_rate": LOW_FP, "reward_low_FN_rate": LOW_FN}
# 100 rows: rows 0-14 are probationary; one window of 20 rows, 40..59.
WINDOW = (40, 59)
MAX_TP = math.tanh(2.5)  # scaled_sigmoid(-1): 2*sigmoid(5) - 1 == tanh(5/2)


def series_with(marks: dict[int, float], *, rows: int = 100, windows=(WINDOW,), name: str = "s") -> ScoredSeries:
    """A series scoring 0 everywhere except the given rows."""
    scores = [0.0] * rows
    for row, score in marks.items():
        scores[row] = score
    return ScoredSeries(name, scores, windows)


def total_at(series: ScoredSeries, threshold: float, cost: CostMatrix = STANDARD) -> float:
    """One series' NAB total when rows scoring >= threshold are detections."""
    return score_at(sweep_points(series, cost), cost, threshold).score


def test_probationary_period_is_15_percent_capped_at_750_rows():
    assert probation_length(100) == 15
    assert probation_length(4032) == 604
    assert probation_length(5000) == 750
    assert probation_length(22695) == 750


def test_detection_on_the_first_row_of_a_window_earns_exactly_the_tp_weight():
    assert total_at(series_with({40: 1.0}), 1.0) == pytest.approx(1.0)


def test_detection_on_the_last_row_of_a_window_earns_little():
    # position -(59 - 59 + 1) / 20 = -0.05 on the scaled sigmoid, divided by its left-edge value
    assert total_at(series_with({59: 1.0}), 1.0) == pytest.approx(math.tanh(0.125) / MAX_TP)


def test_detection_halfway_through_a_window_earns_the_sigmoid_value():
    # row 50: position -(59 - 50 + 1) / 20 = -0.5 -> 2*sigmoid(2.5) - 1 = 0.84828
    assert total_at(series_with({50: 1.0}), 1.0) == pytest.approx(0.848284 / 0.986614, abs=1e-6)


def test_a_window_counts_once_with_its_earliest_detection():
    both = series_with({45: 1.0, 55: 1.0})
    assert total_at(both, 1.0) == pytest.approx(total_at(series_with({45: 1.0}), 1.0))


def test_a_missed_window_costs_the_fn_weight():
    assert total_at(series_with({}), 0.5) == -1.0
    assert total_at(series_with({}), 0.5, LOW_FN) == -2.0


def test_a_false_positive_before_any_window_costs_the_fp_weight():
    marks = {20: 1.0, 40: 1.0}
    assert total_at(series_with(marks), 1.0) == pytest.approx(1.0 - 0.11)
    assert total_at(series_with(marks), 1.0, LOW_FP) == pytest.approx(1.0 - 0.22)


def test_a_false_positive_after_a_window_costs_less_the_closer_it_follows():
    # distance from the window's last row over (width - 1): 1/19 right after it, 19/19 at row 78
    just_after = total_at(series_with({40: 1.0, 60: 1.0}), 1.0) - 1.0
    far_after = total_at(series_with({40: 1.0, 78: 1.0}), 1.0) - 1.0
    assert just_after == pytest.approx(0.11 * math.tanh(-2.5 / 19))
    assert far_after == pytest.approx(-0.11 * MAX_TP)
    beyond = series_with({40: 1.0, 120: 1.0}, rows=200)  # 61 / 19 > 3 widths: the full cost
    assert total_at(beyond, 1.0) - 1.0 == pytest.approx(-0.11)


def test_the_probationary_period_is_never_scored():
    assert total_at(series_with({3: 1.0, 40: 1.0}), 1.0) == pytest.approx(1.0)
    in_probation = series_with({5: 1.0}, windows=((2, 10),))
    assert score_corpus([in_probation], {"standard": STANDARD})["standard"].raw == 0.0  # no scorable window


def test_sweep_counts_rows_like_nab():
    row = score_at(sweep_points(series_with({20: 0.9, 40: 0.9, 41: 0.9}), STANDARD), STANDARD, 0.9)
    # 85 scored rows: 20 in the window (2 detected), 65 outside (1 detected)
    assert (row.tp, row.fn, row.fp, row.tn, row.windows_hit) == (2, 18, 1, 64, 1)


def test_sweep_lists_every_distinct_threshold_from_above_one_down():
    rows = list(sweep_thresholds(sweep_points(series_with({40: 0.9, 50: 0.4}), STANDARD), STANDARD))
    assert [row.threshold for row in rows] == [1.1, 0.9, 0.4, 0.0]
    assert rows[0].score == -1.0
    assert rows[1].score == pytest.approx(1.0)


def test_on_a_tie_the_highest_threshold_wins():
    rows = list(sweep_thresholds(sweep_points(series_with({40: 0.9, 45: 0.8}), STANDARD), STANDARD))
    assert rows[1].score == rows[2].score
    assert best_threshold(rows).threshold == 0.9


def test_one_threshold_is_chosen_for_the_whole_corpus():
    # Alone, "a" would detect nothing (20 early false positives at 0.6 outweigh its window found at 0.5)
    # and "b" would use 0.55; over both, 0.5 wins: -1.2 + 1.0 = -0.2 beats -2, -4.2 and -2.2.
    a = series_with({**{row: 0.6 for row in range(20, 40)}, 40: 0.5}, name="a")
    b = series_with({40: 0.55}, name="b")
    assert best_threshold(sweep_thresholds(sweep_points(a, STANDARD), STANDARD)).threshold == 1.1
    result = score_corpus([a, b], {"standard": STANDARD})["standard"]
    assert result.threshold == 0.5
    assert result.raw == pytest.approx(-0.2)
    assert result.per_series["a"].score == pytest.approx(-1.2)
    assert result.per_series["b"].score == pytest.approx(1.0)


def test_the_corpus_sweep_equals_the_sum_of_series_scored_at_its_threshold():
    a = series_with({20: 0.7, 45: 0.8, 70: 0.3}, name="a")
    b = series_with({30: 0.8, 41: 0.7, 90: 0.75}, name="b", windows=((40, 50), (70, 80)))
    points = sweep_points(a, STANDARD) + sweep_points(b, STANDARD)
    for row in sweep_thresholds(points, STANDARD):
        parts = total_at(a, row.threshold) + total_at(b, row.threshold)
        assert row.score == pytest.approx(parts)


def test_a_perfect_detector_scores_100_and_the_null_detector_0_in_every_profile():
    windows = ((40, 59), (75, 90))
    perfect = series_with({40: 1.0, 75: 1.0}, windows=windows, name="perfect")
    quiet = series_with({}, windows=(), name="quiet")
    for profile in score_corpus([perfect, quiet], PROFILES).values():
        assert profile.score == pytest.approx(100.0)
        assert profile.raw == profile.perfect == 2.0
    null = [ScoredSeries(s.name, [0.5] * 100, s.windows) for s in (perfect, quiet)]
    for profile in score_corpus(null, PROFILES).values():
        assert profile.score == 0.0
        assert profile.null == -2.0 * profile.cost.fn_weight


def test_normalisation_puts_null_at_0_and_perfect_at_100():
    assert normalised_score(-116.0, null=-116.0, perfect=116.0) == 0.0
    assert normalised_score(116.0, null=-116.0, perfect=116.0) == 100.0
    assert normalised_score(0.0, null=-232.0, perfect=116.0) == pytest.approx(66.666, abs=1e-3)


def test_category_scores_normalise_over_their_own_windows():
    hit = series_with({40: 1.0}, name="hit")
    missed = series_with({}, name="missed")
    result = score_corpus([hit, missed], {"standard": STANDARD})["standard"]
    assert result.subset_score(["hit"]) == pytest.approx(100.0)
    assert result.subset_score(["missed"]) == pytest.approx(0.0)
    assert score_corpus([series_with({}, windows=())], {"standard": STANDARD})["standard"].subset_score(["s"]) is None


@pytest.mark.parametrize(
    ("scores", "windows", "message"),
    [
        ([0.0, 1.5, 0.0], (), r"s: anomaly score 1\.5 at row 1"),
        ([0.0, math.nan], (), r"s: anomaly score nan at row 1"),
        ([0.0] * 10, ((2, 2),), r"window \(2, 2\) must span at least two rows"),
        ([0.0] * 10, ((2, 5), (4, 8)), r"window \(4, 8\)"),
        ([0.0] * 10, ((8, 10),), r"window \(8, 10\)"),
    ],
)
def test_bad_series_are_refused_with_name_and_row(scores, windows, message):
    with pytest.raises(ValueError, match=message):
        ScoredSeries("s", scores, windows)


def test_series_names_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        score_corpus([series_with({}), series_with({})], {"standard": STANDARD})
