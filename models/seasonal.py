"""A daily-profile detector: each reading against its hour of the day as well as against the whole stream."""

from __future__ import annotations

from river import base

from models import params
from models.baseline import RobustBaseline

HOUR_MS = 3_600_000
HOURS = 24


class DailyProfile:
    """One feature's robust level overall and per hour of the day (UTC), each with its spread."""

    __slots__ = ("overall", "hours", "rate", "clip")

    def __init__(self, rate: float, clip: float) -> None:
        self.rate, self.clip = rate, clip
        self.overall = RobustBaseline(rate, clip)
        self.hours: list[RobustBaseline | None] = [None] * HOURS

    def z(self, x: float, hour: int) -> float:
        """The smaller |z| against the whole stream and against this hour (the whole stream alone until the hour is ready)."""
        z = abs(self.overall.z(x))
        by_hour = self.hours[hour]
        if by_hour is not None and by_hour.ready:
            z_hour = abs(by_hour.z(x))
            return z_hour if z_hour < z else z
        return z

    def update(self, x: float, hour: int) -> None:
        """Learn one finite value at its hour."""
        self.overall.update(x)
        by_hour = self.hours[hour]
        if by_hour is None:
            by_hour = self.hours[hour] = RobustBaseline(self.rate, self.clip)
        by_hour.update(x)


class SeasonalZScore(base.AnomalyDetector):
    """Robust z-score that a daily cycle can explain away: the smaller of two |z| per feature.

    Each feature keeps a `RobustBaseline` over the whole stream and one per hour of the day (from
    the reading's timestamp, UTC). A reading is scored by its |z| against the whole stream, or
    against its hour when that is smaller: the night's low and the day's high of a daily cycle
    are normal for their hours, while a spike is far from both. An hour is used once it has 16
    readings of its own. `at(ts_ms)` sets the time of the readings that follow (`SensorModel`
    calls it); without it every reading falls in hour 0 and this is a plain robust z-score. The
    score is the largest over the features; NaN and inf values are skipped. O(1) per event.

    Parameters
    ----------
    rate, clip
        As in `RobustZScore`, for every baseline (each hour learns only from its own readings).

    Examples
    --------

    >>> import math, random
    >>> rng = random.Random(42)
    >>> detector = SeasonalZScore()
    >>> for i in range(24 * 30):  # hourly readings of a daily cycle, 30 days
    ...     detector.at(i * 3_600_000)
    ...     detector.learn_one({"value": 20.0 + 5.0 * math.sin(2 * math.pi * i / 24) + rng.gauss(0.0, 0.5)})
    >>> detector.at(24 * 30 * 3_600_000 + 6 * 3_600_000)  # 6 am: the cycle's high
    >>> round(detector.score_one({"value": 25.0}), 1), round(detector.score_one({"value": 40.0}), 1)
    (0.2, 5.2)
    """

    score_resolution = 1.0  # scores are in standard deviations

    def __init__(self, rate: float = 0.03, clip: float = 3.0) -> None:
        self.rate = params.fraction("SeasonalZScore", "rate", rate)
        self.clip = params.positive("SeasonalZScore", "clip", clip)
        self._hour = 0
        self._by_feature: dict = {}

    @property
    def ready(self) -> bool:
        """Whether every seen feature's overall baseline is past its bootstrap."""
        by_feature = self._by_feature
        return bool(by_feature) and all(p.overall.ready for p in by_feature.values())

    def at(self, ts_ms: int) -> None:
        """Set the time (epoch milliseconds) of the readings that follow."""
        self._hour = (int(ts_ms) // HOUR_MS) % HOURS

    def learn_one(self, x: dict) -> None:
        """Learn each finite feature at the current hour."""
        for feature, value in x.items():
            if params.finite_value("SeasonalZScore", feature, value):
                profile = self._by_feature.get(feature)
                if profile is None:
                    profile = self._by_feature[feature] = DailyProfile(self.rate, self.clip)
                profile.update(float(value), self._hour)

    def score_one(self, x: dict) -> float:
        """The largest, over the known finite features, of the smaller |z| (whole stream, this hour)."""
        worst = 0.0
        for feature, value in x.items():
            profile = self._by_feature.get(feature)
            if profile is not None and params.finite_value("SeasonalZScore", feature, value):
                z = profile.z(float(value), self._hour)
                worst = z if z > worst else worst
        return worst

    def expected_one(self, feature: object) -> tuple[float, float] | None:
        """The (level, spread) of a feature at the current hour (overall until the hour is ready), or None."""
        profile = self._by_feature.get(feature)
        if profile is None or not profile.overall.ready:
            return None
        by_hour = profile.hours[self._hour]
        baseline = by_hour if by_hour is not None and by_hour.ready else profile.overall
        return baseline.level, baseline.scale

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"rate": 0.1, "clip": 2.0}
