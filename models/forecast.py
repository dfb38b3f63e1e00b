"""A forecasting detector: the residual of a robust online Holt forecaster, in robust spreads."""

from __future__ import annotations

from river import base

from models import params
from models.baseline import RobustBaseline


class HoltForecast:
    """One feature's Holt linear forecaster (level + trend) fed with clipped residuals, and their spread."""

    __slots__ = ("alpha", "beta", "level", "trend", "residuals")

    def __init__(self, alpha: float, beta: float, rate: float, clip: float) -> None:
        self.alpha = alpha
        self.beta = beta
        self.level: float | None = None
        self.trend = 0.0
        self.residuals = RobustBaseline(rate, clip)

    def forecast(self) -> float:
        """The value expected next."""
        return self.level + self.trend

    def z(self, x: float) -> float:
        """The residual of `x` against the forecast, in robust spreads of past residuals."""
        if self.level is None:
            return 0.0
        return self.residuals.z(x - self.level - self.trend)

    def update(self, x: float) -> None:
        """Learn one finite value: a spike moves level and trend by at most `clip` spreads."""
        if self.level is None:
            self.level = x
            return
        residual = x - self.level - self.trend
        residuals = self.residuals
        if residuals.ready:
            limit = residuals.clip * residuals.scale
            residual = limit if residual > limit else (-limit if residual < -limit else residual)
        residuals.update(x - self.level - self.trend)
        previous = self.level
        self.level = previous + self.trend + self.alpha * residual
        self.trend += self.beta * (self.level - previous - self.trend)


class EwmaForecast(base.AnomalyDetector):
    """How surprising each reading is against an online forecast of it (Holt's linear method).

    Each feature keeps a level and a trend smoothed at `alpha` and `beta` and forecasts level +
    trend one step ahead; the score is the largest |residual| over the features, in robust spreads
    of the past residuals (`RobustBaseline` at `rate`). Residuals beyond `clip` spreads are clipped
    before the level and trend learn them, so a spike does not drag the forecast along, while a
    lasting shift is followed within about 1/alpha readings. Drifting and trending sensors, whose
    level a z-score lags behind, are judged by how well they can be predicted instead. Scores are
    0.0 until 16 residuals are known; NaN and inf values are skipped. O(1) per event.

    Parameters
    ----------
    alpha, beta
        Smoothing of the level and of the trend.
    rate, clip
        As in `RobustZScore`, for the spread of the residuals.

    Examples
    --------

    >>> import random
    >>> rng = random.Random(42)
    >>> detector = EwmaForecast()
    >>> for i in range(500):  # a ramp with noise: a z-score on the value would lag behind it
    ...     detector.learn_one({"value": 0.1 * i + rng.gauss(0.0, 0.5)})
    >>> round(detector.score_one({"value": 50.5}), 1)
    0.9
    >>> round(detector.score_one({"value": 58.0}), 1)
    14.4
    """

    score_resolution = 1.0  # scores are in standard deviations

    def __init__(self, alpha: float = 0.3, beta: float = 0.02, rate: float = 0.03, clip: float = 3.0) -> None:
        owner = "EwmaForecast"
        self.alpha = params.fraction(owner, "alpha", alpha)
        self.beta = params.fraction(owner, "beta", beta)
        self.rate = params.fraction(owner, "rate", rate)
        self.clip = params.positive(owner, "clip", clip)
        self._by_feature: dict = {}

    @property
    def ready(self) -> bool:
        """Whether every seen feature has enough residuals to judge one."""
        by_feature = self._by_feature
        return bool(by_feature) and all(f.residuals.ready for f in by_feature.values())

    def learn_one(self, x: dict) -> None:
        """Learn each finite feature's value into its forecaster."""
        for feature, value in x.items():
            if params.finite_value("EwmaForecast", feature, value):
                forecaster = self._by_feature.get(feature)
                if forecaster is None:
                    forecaster = HoltForecast(self.alpha, self.beta, self.rate, self.clip)
                    self._by_feature[feature] = forecaster
                forecaster.update(float(value))

    def score_one(self, x: dict) -> float:
        """The largest |residual| over the known finite features of `x`, in robust spreads."""
        worst = 0.0
        for feature, value in x.items():
            forecaster = self._by_feature.get(feature)
            if forecaster is not None and params.finite_value("EwmaForecast", feature, value):
                z = abs(forecaster.z(float(value)))
                worst = z if z > worst else worst
        return worst

    def expected_one(self, feature: object) -> tuple[float, float] | None:
        """The (forecast, residual spread) of a feature, or None until it is ready."""
        forecaster = self._by_feature.get(feature)
        if forecaster is None or not forecaster.residuals.ready:
            return None
        return forecaster.forecast(), forecaster.residuals.scale

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"alpha": 0.5, "beta": 0.1}
