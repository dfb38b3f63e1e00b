"""The default detector: a robust online z-score per feature."""

from __future__ import annotations

from river import base

from models import params
from models.baseline import FeatureBaselines


class RobustZScore(base.AnomalyDetector):
    """Robust online z-score: how many robust spreads each feature lies from its level.

    Each feature keeps a `RobustBaseline` (median/MAD bootstrap, then Huber level and winsorized
    absolute-deviation spread updated at `rate`), so one spike shifts it by at most
    `rate * clip` spreads. The score is the largest |z| over the features of `x`: about 0.8 on
    average for Gaussian noise, 0.0 for a flatline, and 0.0 until 16 values have been learned.
    NaN and inf values are neither learned nor scored. O(1) per event.

    Parameters
    ----------
    rate
        How fast the level and spread follow the data (about 1/rate events of memory).
    clip
        Residuals beyond `clip` spreads are clipped before they are learned.

    Examples
    --------

    >>> import random
    >>> rng = random.Random(42)
    >>> detector = RobustZScore()
    >>> for _ in range(500):
    ...     detector.learn_one({"value": rng.gauss(20.0, 0.5)})
    >>> round(detector.score_one({"value": 20.5}), 1)
    1.2
    >>> round(detector.score_one({"value": 35.0}), 1)
    31.2
    >>> detector.score_one({"value": float("nan")})
    0.0
    """

    score_resolution = 1.0  # scores are in standard deviations

    def __init__(self, rate: float = 0.03, clip: float = 3.0) -> None:
        self.rate = params.fraction("RobustZScore", "rate", rate)
        self.clip = params.positive("RobustZScore", "clip", clip)
        self._baselines = FeatureBaselines("RobustZScore", self.rate, self.clip)

    @property
    def ready(self) -> bool:
        """Whether the scores mean something yet (every seen feature past its bootstrap)."""
        return self._baselines.ready

    def learn_one(self, x: dict) -> None:
        """Update each feature's baseline with its value."""
        self._baselines.update(x)

    def score_one(self, x: dict) -> float:
        """The largest robust |z| over the features of `x`."""
        return self._baselines.largest_z(x)

    def expected_one(self, feature: object) -> tuple[float, float] | None:
        """The (expected value, spread) of a feature, or None until it is ready."""
        return self._baselines.expected(feature)

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"rate": 0.1, "clip": 2.0}
