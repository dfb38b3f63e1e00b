"""Robust online level and spread of a stream, O(1) per value, one per feature."""

from __future__ import annotations

from statistics import median

from models.params import finite_value

# Turn a Gaussian's median absolute deviation and mean absolute deviation into its standard deviation.
MAD_TO_SIGMA = 1.4826
MEAN_ABS_TO_SIGMA = 1.2533
# The spread never goes below this (relative to the level, plus an absolute floor), so a flatline
# scores 0 instead of dividing by zero, and float rounding on a constant signal is not an anomaly.
FLOOR_RELATIVE = 1e-9
FLOOR_ABSOLUTE = 1e-12
# Readings rounded to a step q carry a uniform rounding error of standard deviation q / sqrt(12):
# no smaller spread can be measured, so a quantized sensor's one-step changes are not anomalies.
QUANTUM_TO_SIGMA = 12.0**-0.5
BOOTSTRAP = 16


def smallest_step(quantum: float, previous: float, x: float) -> float:
    """The smallest non-zero step between consecutive values, with the step from `previous` to `x` (0: none yet).

    >>> smallest_step(0.0, 10.0, 10.5), smallest_step(0.5, 10.5, 10.25), smallest_step(0.25, 10.25, 10.25)
    (0.5, 0.25, 0.25)
    """
    step = x - previous if x > previous else previous - x
    return step if step > 0.0 and (step < quantum or quantum == 0.0) else quantum


def spread_floor(level: float, quantum: float) -> float:
    """The least spread that can be measured: a quantized sensor's rounding error, and never zero."""
    floor = FLOOR_RELATIVE * (level if level > 0.0 else -level) + FLOOR_ABSOLUTE
    rounding = QUANTUM_TO_SIGMA * quantum
    return rounding if rounding > floor else floor


class RobustBaseline:
    """Level and spread (in sigma units) of one stream: median/MAD to start, then Huber updates.

    The first `bootstrap` values set the level and spread exactly (median and MAD, or the mean
    absolute deviation when most values are equal). After that each value moves the level by its
    residual clipped to `clip` spreads (a Huber M-estimate) and the spread towards the clipped
    absolute residual, both at `rate` (or 1/n while n < 1/rate). So one spike moves the level by at
    most rate * clip spreads. The spread used (`scale`) never drops below the rounding error of the
    smallest step seen between consecutive values, nor to zero. The state is eight numbers.

    >>> import random
    >>> rng = random.Random(7)
    >>> baseline = RobustBaseline(rate=0.02)
    >>> for _ in range(2000):
    ...     baseline.update(rng.gauss(10.0, 2.0))
    >>> round(baseline.level, 1), round(baseline.scale, 1)
    (10.0, 2.0)
    >>> baseline.update(1e9)  # a huge spike barely moves it
    >>> round(baseline.level, 1), round(baseline.scale, 1)
    (10.1, 2.1)
    >>> round(baseline.z(16.0), 1), round(baseline.z(4.0), 1)
    (2.7, -2.9)
    """

    __slots__ = ("rate", "clip", "bootstrap", "n", "level", "spread", "floor", "quantum", "last", "_first")

    def __init__(self, rate: float, clip: float = 3.0, bootstrap: int = BOOTSTRAP) -> None:
        self.rate = rate
        self.clip = clip
        self.bootstrap = bootstrap
        self.n = 0
        self.level = 0.0
        self.spread = 0.0  # the estimate itself; it may collapse on a flatline, `scale` does not
        self.floor = FLOOR_ABSOLUTE
        self.quantum = 0.0  # the smallest non-zero step between consecutive values (0: none yet)
        self.last = 0.0
        self._first: list[float] | None = []

    @property
    def ready(self) -> bool:
        """Whether the bootstrap values have been seen."""
        return self.n >= self.bootstrap

    @property
    def scale(self) -> float:
        """The spread used to score: the estimate, but never below the floor."""
        return self.spread if self.spread > self.floor else self.floor

    def update(self, x: float) -> None:
        """Learn one finite value."""
        self.n += 1
        if self.n > 1:
            self.quantum = smallest_step(self.quantum, self.last, x)
        self.last = x
        if self._first is not None:
            self._start(x)
        else:
            level = self.level
            spread = self.spread
            floor = self.floor
            limit = self.clip * (spread if spread > floor else floor)
            residual = x - level
            clipped = limit if residual > limit else (-limit if residual < -limit else residual)
            rate = self.rate
            if rate * self.n < 1.0:
                rate = 1.0 / self.n
            self.level = level + rate * clipped
            self.spread = spread + rate * (MEAN_ABS_TO_SIGMA * abs(clipped) - spread)
        self.floor = spread_floor(self.level, self.quantum)

    def _start(self, x: float) -> None:
        first = self._first
        first.append(x)
        self.level = median(first)
        deviations = [abs(v - self.level) for v in first]
        self.spread = MAD_TO_SIGMA * median(deviations)
        if self.spread == 0.0:
            self.spread = MEAN_ABS_TO_SIGMA * sum(deviations) / len(deviations)
        if self.n >= self.bootstrap:
            self._first = None  # the state stays small once the bootstrap is done

    def z(self, x: float) -> float:
        """How many spreads `x` lies above (+) or below (-) the level; 0.0 until ready."""
        if self.n < self.bootstrap:
            return 0.0
        spread = self.spread
        floor = self.floor
        return (x - self.level) / (spread if spread > floor else floor)


class FeatureBaselines:
    """One `RobustBaseline` per feature of a River feature dict; non-finite values are skipped."""

    __slots__ = ("owner", "rate", "clip", "by_feature")

    def __init__(self, owner: str, rate: float, clip: float) -> None:
        self.owner = owner
        self.rate = rate
        self.clip = clip
        self.by_feature: dict = {}

    @property
    def ready(self) -> bool:
        """Whether at least one feature has finished its bootstrap and all seen ones have."""
        return bool(self.by_feature) and all(b.ready for b in self.by_feature.values())

    def update(self, x: dict) -> None:
        """Learn the finite values of `x`."""
        for feature, value in x.items():
            if finite_value(self.owner, feature, value):
                baseline = self.by_feature.get(feature)
                if baseline is None:
                    baseline = self.by_feature[feature] = RobustBaseline(self.rate, self.clip)
                baseline.update(float(value))

    def z(self, x: dict) -> dict:
        """The signed robust z-score of each finite feature of `x` that has a baseline."""
        scores = {}
        by_feature = self.by_feature
        for feature, value in x.items():
            baseline = by_feature.get(feature)
            if baseline is not None and finite_value(self.owner, feature, value):
                scores[feature] = baseline.z(float(value))
        return scores

    def largest_z(self, x: dict) -> float:
        """The largest |z| over the finite features of `x` that have a baseline (0.0 if none)."""
        largest = 0.0
        by_feature = self.by_feature
        for feature, value in x.items():
            baseline = by_feature.get(feature)
            if baseline is not None and finite_value(self.owner, feature, value):
                z = abs(baseline.z(float(value)))
                if z > largest:
                    largest = z
        return largest

    def expected(self, feature: object) -> tuple[float, float] | None:
        """The (level, spread) of a feature, or None until it is ready."""
        baseline = self.by_feature.get(feature)
        if baseline is None or not baseline.ready:
            return None
        return baseline.level, baseline.scale
