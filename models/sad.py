"""River's StandardAbsoluteDeviation made a plain `score_one(x)` detector, one per feature."""

from __future__ import annotations

from river import anomaly, base, stats

from models import params
from models.baseline import BOOTSTRAP

SUB_STATS = {"mean": stats.Mean, "median": lambda: stats.Quantile(0.5)}


class StandardAbsoluteDeviation(base.AnomalyDetector):
    """|x - mean| / standard deviation per feature (River's SAD), the largest over the features.

    River's `StandardAbsoluteDeviation` scores a target `y` and ignores `x`; this adapter keeps one
    per feature of `x`, so it speaks the same protocol as every other detector. The mean and
    variance are cumulative (they never forget), which the sensor's re-baselining makes up for.
    Scores are 0.0 until each feature has 16 values; NaN and inf values are skipped.

    Parameters
    ----------
    sub_stat
        What is subtracted before dividing by the standard deviation: "mean" or "median"
        (River's P-square quantile estimate).

    Examples
    --------

    >>> import random
    >>> rng = random.Random(42)
    >>> detector = StandardAbsoluteDeviation()
    >>> for _ in range(500):
    ...     detector.learn_one({"value": rng.gauss(20.0, 0.5)})
    >>> round(detector.score_one({"value": 20.5}), 1)
    1.0
    >>> round(detector.score_one({"value": 35.0}), 1)
    30.0
    """

    score_resolution = 1.0  # scores are in standard deviations

    def __init__(self, sub_stat: str = "mean") -> None:
        if sub_stat not in SUB_STATS:
            raise ValueError(
                f"StandardAbsoluteDeviation: sub_stat must be one of {', '.join(SUB_STATS)}, "
                f"got {sub_stat!r}"
            )
        self.sub_stat = sub_stat
        self._by_feature: dict = {}

    @property
    def ready(self) -> bool:
        """Whether every seen feature has enough values for a standard deviation."""
        by_feature = self._by_feature
        return bool(by_feature) and all(s.variance.n >= BOOTSTRAP for s in by_feature.values())

    def learn_one(self, x: dict) -> None:
        """Update each feature's mean and variance."""
        for feature, value in x.items():
            if params.finite_value("StandardAbsoluteDeviation", feature, value):
                sad = self._by_feature.get(feature)
                if sad is None:
                    sad = anomaly.StandardAbsoluteDeviation(sub_stat=SUB_STATS[self.sub_stat]())
                    self._by_feature[feature] = sad
                sad.learn_one(None, float(value))

    def score_one(self, x: dict) -> float:
        """The largest |x - mean| / standard deviation over the known features of `x`."""
        worst = 0.0
        for feature, value in x.items():
            sad = self._by_feature.get(feature)
            if sad is not None and sad.variance.n >= BOOTSTRAP:
                if params.finite_value("StandardAbsoluteDeviation", feature, value):
                    worst = max(worst, sad.score_one(None, float(value)))
        return worst

    def expected_one(self, feature: object) -> tuple[float, float] | None:
        """The (mean or median, standard deviation) of a feature, or None until it is ready."""
        sad = self._by_feature.get(feature)
        if sad is None or sad.variance.n < BOOTSTRAP:
            return None
        return sad.sub_stat.get(), max(sad.variance.get(), 0.0) ** 0.5

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"sub_stat": "median"}
