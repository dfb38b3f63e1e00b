"""A robust online z-score per feature (median / MAD start, Huber updates), at several time scales."""

from __future__ import annotations

from river import base

from models import params
from models.baseline import FeatureBaselines
from models.multiscale import MEAN, ScaleFeatures


class RobustZScore(base.AnomalyDetector):
    """Robust online z-score: how many robust spreads each feature lies from its level.

    Each feature keeps a `RobustBaseline` (median/MAD bootstrap, then Huber level and winsorized
    absolute-deviation spread updated at `rate`), so one spike shifts it by at most
    `rate * clip` spreads. With `multiscale` on, each feature is also judged by its change since
    the last reading and by a fast moving mean (`ScaleFeatures`), each against its own baseline; the
    mean's spread never drops below the value's rounding floor times sqrt(fast / (2 - fast)), the
    spread such a mean has over independent rounding errors, so a quantized sensor's one-step
    changes do not fire: a jump shows on the change, a small lasting shift on the mean. The score is the largest |z|
    over all of them: about 0.8 on average for Gaussian noise (value only), 0.0 for a flatline, and 0.0 until
    16 values have been learned. NaN and inf values are neither learned nor scored. O(1) per event.

    Parameters
    ----------
    rate
        How fast the level and spread follow the data (about 1/rate events of memory).
    clip
        Residuals beyond `clip` spreads are clipped before they are learned.
    fast
        The smoothing of the fast moving mean (about 1/fast readings).
    multiscale
        Whether the change and fast-mean features are scored too, or only the value.

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

    def __init__(self, rate: float = 0.03, clip: float = 3.0, fast: float = 0.3, multiscale: bool = False) -> None:
        self.rate = params.fraction("RobustZScore", "rate", rate)
        self.clip = params.positive("RobustZScore", "clip", clip)
        self.fast = params.fraction("RobustZScore", "fast", fast)
        if not isinstance(multiscale, bool):
            raise ValueError(f"RobustZScore: multiscale must be true or false, got {multiscale!r}")
        self.multiscale = multiscale
        self._scales = ScaleFeatures("RobustZScore", self.fast)
        self._baselines = FeatureBaselines("RobustZScore", self.rate, self.clip)

    @property
    def ready(self) -> bool:
        """Whether the scores mean something yet (every seen feature past its bootstrap)."""
        return self._baselines.ready

    def _features(self, x: dict) -> tuple[dict, dict]:
        """The features with their own baselines (values, changes), and the fast means by feature."""
        if not self.multiscale:
            return x, {}
        own, means = {}, {}
        for key, value in self._scales.features(x).items():
            if isinstance(key, tuple) and key[1] == MEAN:
                means[key] = value
            else:
                own[key] = value
        return own, means

    def learn_one(self, x: dict) -> None:
        """Update each feature's baselines, then the multi-scale state."""
        own, means = self._features(x)
        self._baselines.update(own)
        self._baselines.update(means)
        if self.multiscale:
            self._scales.update(x)

    def score_one(self, x: dict) -> float:
        """The largest robust |z| over the features of `x` (and their change and fast mean)."""
        own, means = self._features(x)
        worst = self._baselines.largest_z(own)
        shrink = (self.fast / (2.0 - self.fast)) ** 0.5
        by_feature = self._baselines.by_feature
        for key, mean in means.items():
            baseline, value = by_feature.get(key), by_feature.get(key[0])
            if baseline is not None and baseline.ready and value is not None:
                spread = max(baseline.scale, shrink * value.floor)
                z = abs(mean - baseline.level) / spread
                worst = z if z > worst else worst
        return worst

    def expected_one(self, feature: object) -> tuple[float, float] | None:
        """The (expected value, spread) of a feature, or None until it is ready."""
        return self._baselines.expected(feature)

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"rate": 0.1, "clip": 2.0, "multiscale": False}
