"""NAB's scoring rules, written from numenta/NAB's sweeper, optimizer and runner, over plain values.

A series is scored from its anomaly scores and its labelled windows (inclusive row-index ranges).
Every row after the probationary period gets a *sweep score*: the reward it would earn if it were
a detection. Inside a window that is a scaled sigmoid of how early the row is; outside, a cost that
shrinks the closer the row follows the previous window. A window counts once, with its best detected
row, or costs the false-negative weight when nothing in it is detected. Sweeping the threshold down
the sorted scores gives the total at every threshold; NAB keeps the best one per profile over the
whole corpus, and reports 100 * (raw - null) / (perfect - null).

>>> series = ScoredSeries("toy", [0.0] * 28 + [0.9, 0.0], windows=[(28, 29)])
>>> standard = CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
>>> result = score_corpus([series], {"standard": standard})["standard"]
>>> result.threshold, round(result.raw, 3), result.null, result.perfect, round(result.score, 1)
(0.9, 1.0, -1.0, 1.0, 100.0)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

PROBATION_PERCENT = 0.15
# NAB caps the probationary period at the share of a 5000-row file (750 rows at 15%).
PROBATION_CAP_ROWS = 5000
# Above every legal score: the first threshold of a sweep detects nothing (all windows missed).
START_THRESHOLD = 1.1


@dataclass(frozen=True, slots=True)
class CostMatrix:
    """One scoring profile: reward for a detected window, cost of a false positive and of a missed window."""

    tp_weight: float
    fp_weight: float
    fn_weight: float


@dataclass(frozen=True, slots=True)
class ScoredSeries:
    """One series' anomaly scores in record order, and its windows as inclusive row-index ranges."""

    name: str
    anomaly_scores: Sequence[float]
    windows: Sequence[tuple[int, int]] = ()

    def __post_init__(self) -> None:
        for row, score in enumerate(self.anomaly_scores):
            if not 0.0 <= score <= 1.0:  # also refuses NaN
                raise ValueError(f"{self.name}: anomaly score {score!r} at row {row} is not in [0, 1]")
        previous_end = -1
        for start, end in self.windows:
            if not previous_end < start < end < len(self.anomaly_scores):
                # NAB's sweeper divides by (width - 1) after a window, so a window needs two rows.
                raise ValueError(
                    f"{self.name}: window ({start}, {end}) must span at least two rows inside "
                    f"0..{len(self.anomaly_scores) - 1}, after the previous window (ends {previous_end})"
                )
            previous_end = end


class SweepPoint(NamedTuple):
    """One scorable row: its anomaly score, its reward if detected, and the window it lies in (or None)."""

    anomaly_score: float
    sweep_score: float
    window: tuple[str, int] | None


class ThresholdScore(NamedTuple):
    """The total at one threshold (rows scoring >= threshold are detections), with NAB's row counts."""

    threshold: float
    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    windows_hit: int


@dataclass(frozen=True)
class ProfileResult:
    """One profile over a corpus: the chosen threshold, raw/null/perfect totals and the normalised score."""

    profile: str
    cost: CostMatrix
    threshold: float
    raw: float
    null: float
    perfect: float
    score: float
    per_series: dict[str, ThresholdScore] = field(repr=False)
    null_per_series: dict[str, float] = field(repr=False)
    windows_per_series: dict[str, int] = field(repr=False)

    def subset_score(self, names: Collection[str]) -> float | None:
        """The normalised score over some series (a category), or None when they hold no window."""
        raw = sum(self.per_series[name].score for name in names)
        null = sum(self.null_per_series[name] for name in names)
        perfect = sum(self.windows_per_series[name] for name in names) * self.cost.tp_weight
        return None if perfect == null else normalised_score(raw, null, perfect)


def probation_length(n_rows: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a file that are never scored: 15% of it, at most 750.

    >>> probation_length(4032), probation_length(22695)
    (604, 750)
    """
    return min(math.floor(percent * n_rows), math.floor(percent * PROBATION_CAP_ROWS))


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: about 0.987 at a window's left edge (-1), 0 at its right edge (0), -1 far after.

    >>> [round(scaled_sigmoid(p), 5) for p in (-1.0, -0.5, 0.0, 1.0, 3.5)]
    [0.98661, 0.84828, 0.0, -0.98661, -1.0]
    """
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def sweep_points(
    series: ScoredSeries, cost: CostMatrix, probation_percent: float = PROBATION_PERCENT
) -> list[SweepPoint]:
    """The scorable rows of one series (after the probationary period) with their sweep scores."""
    # Dividing by the left-edge value makes a detection on a window's first row worth exactly tp_weight.
    max_tp = scaled_sigmoid(-1.0)
    probation = probation_length(len(series.anomaly_scores), probation_percent)
    windows = list(series.windows)
    points = []
    current = previous_end = previous_width = None
    upcoming = 0
    for row, anomaly_score in enumerate(series.anomaly_scores):
        if current is None and upcoming < len(windows) and row == windows[upcoming][0]:
            current, upcoming = upcoming, upcoming + 1
        if current is not None:
            start, end = windows[current]
            width = end - start + 1
            sweep = scaled_sigmoid(-(end - row + 1) / width) * cost.tp_weight / max_tp
            window = (series.name, current)
        else:
            # A false positive costs less the closer it follows the previous window, as in NAB.
            after = -1.0 if previous_end is None else scaled_sigmoid((row - previous_end) / (previous_width - 1))
            sweep, window = after * cost.fp_weight, None
        if row >= probation:
            points.append(SweepPoint(anomaly_score, sweep, window))
        if current is not None and row == windows[current][1]:
            previous_end, previous_width, current = row, width, None
    return points


def sweep_thresholds(
    points: Sequence[SweepPoint], cost: CostMatrix, lowest: float = -math.inf
) -> Iterator[ThresholdScore]:
    """The total at every distinct threshold, from START_THRESHOLD down to the lowest score >= `lowest`."""
    best = {point.window: -cost.fn_weight for point in points if point.window is not None}
    # A running total instead of NAB's re-summing of every window at each threshold: same sums.
    total = sum(best.values())
    fn = sum(1 for point in points if point.window is not None)
    tn, tp, fp, hit = len(points) - fn, 0, 0, set()
    threshold = START_THRESHOLD
    detected = [point for point in points if point.anomaly_score >= lowest]
    for point in sorted(detected, key=itemgetter(0), reverse=True):
        if point.anomaly_score != threshold:
            yield ThresholdScore(threshold, total, tp, tn, fp, fn, len(hit))
            threshold = point.anomaly_score
        if point.window is None:
            fp, tn, total = fp + 1, tn - 1, total + point.sweep_score
        else:
            tp, fn = tp + 1, fn - 1
            hit.add(point.window)
            better = max(best[point.window], point.sweep_score)
            total += better - best[point.window]
            best[point.window] = better
    yield ThresholdScore(threshold, total, tp, tn, fp, fn, len(hit))


def best_threshold(rows: Iterable[ThresholdScore]) -> ThresholdScore:
    """The highest-scoring row; on a tie, the highest threshold (NAB's stable sort keeps the first)."""
    return max(rows, key=itemgetter(1))


def score_at(points: Sequence[SweepPoint], cost: CostMatrix, threshold: float) -> ThresholdScore:
    """The total when exactly the rows scoring >= threshold are detections."""
    return deque(sweep_thresholds(points, cost, lowest=threshold), maxlen=1)[0]


def normalised_score(raw: float, null: float, perfect: float) -> float:
    """NAB's final score: 0 for the null detector, 100 for a perfect one.

    >>> normalised_score(raw=-58.0, null=-116.0, perfect=116.0)
    25.0
    """
    return 100.0 * (raw - null) / (perfect - null)


def _optimise(sweeps: Mapping[str, list[SweepPoint]], cost: CostMatrix) -> tuple[float, dict[str, ThresholdScore]]:
    """NAB's optimiser: one threshold for the whole corpus, then each series scored at it."""
    everything = [point for points in sweeps.values() for point in points]
    threshold = best_threshold(sweep_thresholds(everything, cost)).threshold
    return threshold, {name: score_at(points, cost, threshold) for name, points in sweeps.items()}


def _null_scores(sweeps: Mapping[str, list[SweepPoint]], cost: CostMatrix) -> dict[str, float]:
    """NAB's null detector (every row 0.5), optimised: its only choices are no detection or all rows."""
    nothing = {name: score_at(points, cost, math.inf).score for name, points in sweeps.items()}
    every_row = {name: score_at(points, cost, -math.inf).score for name, points in sweeps.items()}
    # On a tie NAB keeps the higher threshold (1.1), which detects nothing.
    return every_row if sum(every_row.values()) > sum(nothing.values()) else nothing


def score_corpus(
    series: Sequence[ScoredSeries],
    profiles: Mapping[str, CostMatrix],
    probation_percent: float = PROBATION_PERCENT,
) -> dict[str, ProfileResult]:
    """Every profile's optimised threshold, raw, null and perfect totals, and normalised score."""
    names = [one.name for one in series]
    if len(set(names)) != len(names):
        raise ValueError("series names must be unique: windows are told apart by them")
    windows = {one.name: len(one.windows) for one in series}
    results = {}
    for profile, cost in profiles.items():
        sweeps = {one.name: sweep_points(one, cost, probation_percent) for one in series}
        threshold, per_series = _optimise(sweeps, cost)
        null_per_series = _null_scores(sweeps, cost)
        raw = sum(row.score for row in per_series.values())
        null = sum(null_per_series.values())
        # NAB's perfect total counts every labelled window, each worth tp_weight.
        perfect = sum(windows.values()) * cost.tp_weight
        results[profile] = ProfileResult(
            profile=profile,
            cost=cost,
            threshold=threshold,
            raw=raw,
            null=null,
            perfect=perfect,
            score=normalised_score(raw, null, perfect) if perfect != null else 0.0,
            per_series=per_series,
            null_per_series=null_per_series,
            windows_per_series=windows,
        )
    return results
