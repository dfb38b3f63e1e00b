"""The default detector: how far a reading lies from everything seen before it, or from its time of week."""

from __future__ import annotations

import math
from array import array

from river import base

from models import params
from models.baseline import BOOTSTRAP, FLOOR_ABSOLUTE, FLOOR_RELATIVE, QUANTUM_TO_SIGMA, smallest_step, spread_floor
from models.upgrade import restore

WEEK_MS = 7 * 24 * 3_600_000
# How fast the mean absolute errors that decide between the plain and the seasonal view follow the data.
ERROR_RATE = 0.01
# How fast the recent readings' average departure from the long-run level follows them (as the 14-reading window).
DRIFT_RATE = 1.0 / 14.0
# From this fraction of the drift limit on, the plain moments stop learning the readings that drift.
FREEZE = 0.5
# A slot's level at the first reading of a visit is the one its earlier visits left (a period ago): how well
# that predicts is the profile's real skill. The weekly view is used only while that error is also below
# START_FIT times the plain one, once START_MIN visits were judged; START_RATE: how fast it follows them.
START_FIT = 1.0
START_MIN = 16
START_RATE = 0.05


class RunningMoments:
    """Mean and standard deviation of one stream (Welford), with a floor under the deviation.

    With `memory` 0 the moments cover the whole stream; otherwise, once `memory` values have been
    seen, each new value weighs 1/memory (an exponentially weighted mean and variance). The
    deviation used to score (`scale`) never drops below the rounding error of the smallest step seen
    between consecutive values (a quantized sensor's one-step changes are not anomalies), nor to zero
    (a flatline scores 0). The state is six numbers.

    >>> moments = RunningMoments()
    >>> for x in (9.0, 10.0, 11.0, 10.0) * 8:
    ...     moments.update(x)
    >>> round(moments.mean, 3), round(moments.scale, 3), round(moments.z(13.0), 2)
    (10.0, 0.707, 4.24)
    """

    __slots__ = ("memory", "n", "mean", "m2", "quantum", "last", "rounding", "scale", "held_step")

    def __init__(self, memory: int = 0) -> None:
        self.memory = memory
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0  # n times the variance while n <= memory (or always), then the weighted variance
        self.quantum = 0.0  # the smallest non-zero step between consecutive values (0: none yet)
        self.last = 0.0
        self.rounding = FLOOR_ABSOLUTE  # the least deviation that can be measured (kept by update)
        self.scale = FLOOR_ABSOLUTE  # the deviation used to score, never below `rounding` (kept by update)
        self.held_step = 0.0  # the last non-zero step from `last` to a value held back (`hold`)

    def __setstate__(self, state) -> None:
        restore(self, state, {"held_step": 0.0})

    @property
    def ready(self) -> bool:
        """Whether enough values have been seen for a standard deviation."""
        return self.n >= BOOTSTRAP

    def update(self, x: float) -> None:
        """Learn one finite value."""
        n = self.n = self.n + 1
        quantum = self.quantum
        if n > 1:  # inline, as `smallest_step` (the sensor model's hot path)
            last = self.last
            step = x - last if x > last else last - x
            if step > 0.0 and (step < quantum or quantum == 0.0):
                self.quantum = quantum = step
        self.last = x
        delta = x - self.mean
        memory = self.memory
        if memory and n > memory:
            weight = 1.0 / memory
            mean = self.mean = self.mean + weight * delta
            self.m2 = (1.0 - weight) * (self.m2 + weight * delta * delta)
        else:
            mean = self.mean = self.mean + delta / n
            self.m2 += delta * (x - mean)
            if memory and n == memory:
                self.m2 /= n  # from here on m2 holds the weighted variance itself
        variance = self.m2 if memory and n >= memory else self.m2 / n
        # Inline, as `spread_floor`.
        floor = FLOOR_RELATIVE * (mean if mean > 0.0 else -mean) + FLOOR_ABSOLUTE
        rounding = QUANTUM_TO_SIGMA * quantum
        self.rounding = floor = rounding if rounding > floor else floor
        sd = math.sqrt(variance) if variance > 0.0 else 0.0
        self.scale = sd if sd > floor else floor

    def hold(self, x: float) -> None:
        """Note a value held back as anomalous, without learning it: a step held back twice is one the sensor takes.

        A sensor flat so far that moves by one step now and then (a rounded reading: 100, with the
        odd 99 or 101) has learned no step to set its rounding floor, so every move would score as
        infinitely rare and be held back again; the second move of the same size sets the floor.
        A move of another size (a spike, then a shift) is still judged against the flat history.
        """
        last = self.last
        step = x - last if x > last else last - x
        if step == 0.0:  # a reading at the usual level, held back with the anomaly around it
            return
        held = self.held_step
        if abs(step - held) <= 1e-9 * step:
            self.quantum = smallest_step(self.quantum, last, x)
            self.rounding = floor = spread_floor(self.mean, self.quantum)
            if self.scale < floor:
                self.scale = floor
        self.held_step = step

    def z(self, x: float) -> float:
        """How many deviations `x` lies from the mean (signed); 0.0 until ready."""
        if self.n < BOOTSTRAP:
            return 0.0
        return (x - self.mean) / self.scale


class WeeklyProfile:
    """A stream's usual level at each time of the week, and how well it predicts the stream.

    The week is cut into `buckets` slots; each slot's level is the first reading in it, then
    follows every reading that falls in it at `rate` (an exponentially weighted mean). So a slot's
    level holds its earlier weeks and the readings of the visit under way. The residuals (each
    reading minus its slot's level, before the reading is learned) keep a mean and a standard
    deviation (Welford, over every residual), and `error` their mean absolute value, which the
    detector compares with the plain deviation to decide whether the time of week explains the
    stream. The state is 8 bytes per slot and five numbers.
    """

    __slots__ = ("period_ms", "buckets", "rate", "profile", "n", "mean", "m2", "error", "start_error", "starts", "last")

    def __init__(self, period_ms: int, buckets: int, rate: float) -> None:
        self.period_ms, self.buckets, self.rate = period_ms, buckets, rate
        self.profile = array("d", [math.nan]) * buckets  # NaN: no reading in the slot yet
        self.n = 0  # residuals seen
        self.mean = 0.0  # their mean
        self.m2 = 0.0  # n times their variance
        self.error = 0.0
        self.start_error = 0.0  # mean |residual| at the first reading of a visit to a slot with a level
        self.starts = 0  # such readings seen
        self.last = -1  # the slot of the last reading

    def __setstate__(self, state) -> None:
        slots = dict(state[1] if isinstance(state, tuple) else state)
        residual = slots.pop("residual", None)  # a RunningMoments until the residuals were kept inline
        if residual is not None:
            slots.update(n=residual.n, mean=residual.mean, m2=residual.m2)
        # Saved before first readings were judged: trusted as it was until they say otherwise.
        restore(self, slots, {"start_error": 0.0, "starts": START_MIN, "last": -1})

    @property
    def sd(self) -> float:
        """The standard deviation of the residuals (0.0 before two)."""
        return math.sqrt(self.m2 / self.n) if self.n > 1 else 0.0

    def update(self, x: float, bucket: int) -> None:
        """Learn one finite value taken in `bucket`: the residual statistics, then the slot's level."""
        level = self.profile[bucket]
        last, self.last = self.last, bucket
        if level != level:  # NaN: the slot's first reading
            self.profile[bucket] = x
            return
        residual = x - level
        if bucket != last:  # a new visit: the level is the one earlier visits left
            starts = self.starts = self.starts + 1
            rate = START_RATE if START_RATE * starts > 1.0 else 1.0 / starts
            self.start_error += rate * ((residual if residual > 0.0 else -residual) - self.start_error)
        n = self.n = self.n + 1
        delta = residual - self.mean
        self.mean += delta / n
        self.m2 += delta * (residual - self.mean)
        self.error += ERROR_RATE * ((residual if residual > 0.0 else -residual) - self.error)
        self.profile[bucket] = level + self.rate * residual


class FeatureState:
    """One feature's plain moments, its weekly profile (if any), the plain mean absolute deviation and the drift."""

    __slots__ = ("moments", "week", "error", "drift")

    def __init__(self, memory: int, week: WeeklyProfile | None) -> None:
        self.moments = RunningMoments(memory)
        self.week = week
        self.error = 0.0  # mean |x - mean| over the readings the weekly profile could predict
        self.drift = 0.0  # the recent readings' average plain z-score while the weekly view is in use, else 0

    def __setstate__(self, state) -> None:
        restore(self, state, {"drift": 0.0})


class RunningZScore(base.AnomalyDetector):
    """|x - mean| / standard deviation per feature, over the readings seen, or against the time of week.

    A running (non-robust) z-score: the mean and the standard deviation never forget (or, with
    `memory`, forget over about that many readings), so a reading is judged against the sensor's
    whole history. Heavy tails widen the deviation, so they are not flagged over and over; the
    sensor's re-baselining takes care of lasting shifts. The deviation never drops below a
    quantized sensor's rounding error nor to zero, so quantized and flat sensors stay quiet.

    Streams with a weekly or daily rhythm are judged against their time of week instead: each
    feature keeps a `WeeklyProfile` (from the readings' timestamps, which `at(ts_ms)` passes in;
    `SensorModel` does), and once the profile's mean absolute error is below `fit` times the plain
    mean absolute deviation, the score is the z-score of the reading minus its slot's profile.
    A night's low and a Monday's peak are then normal, and a quiet Thursday afternoon is not.
    Once a slot's level has been met again a period later, the profile must also predict the first
    reading of each visit (from the level its earlier visits left) better than the plain mean does:
    at one reading a minute a slot's level follows the 30 readings of its visit, so on a sensor that
    only wanders it is a local level, not a time of week, and a week-old one would fire.
    `season_ms=0` turns this off.

    A profile that follows each slot's readings also follows a slow drift (a filter that clogs over
    hours), so while it is in use the detector also keeps the recent readings' average plain
    z-score (an exponentially weighted mean over about 14, each capped at 1.5 `drift`), and
    `drifted(feature)` reports the long-run level once that average is `drift` deviations away.
    From half that far on, the plain moments stop learning, so the long-run level does not follow
    the drift it judges; a sensor model holds such readings back and, if they last, re-baselines.

    Scores are 0.0 until a feature has 16 values; NaN and inf values are neither learned nor
    scored. O(1) per event; the weekly profile costs about 10 bytes per slot.

    Parameters
    ----------
    memory
        0 to remember every reading equally, or about how many readings to remember.
    season_ms
        The period of the profile in milliseconds (a week by default; 0 for none).
    buckets
        How many slots the period is cut into (336: half-hours of a week).
    season_rate
        How fast a slot's level follows the readings that fall in it.
    fit
        The profile is used when its mean absolute error is below this fraction of the plain one.
    drift
        How many plain deviations the recent readings' average may depart from the long-run level
        while the profile is in use before `drifted` reports it (None: never).

    Examples
    --------

    A pump's discharge pressure (bar), read every 10 s for about 80 minutes:

    >>> import random
    >>> rng = random.Random(42)
    >>> detector = RunningZScore()
    >>> for i in range(500):
    ...     detector.at(10_000 * i)
    ...     detector.learn_one({"pressure": rng.gauss(6.0, 0.2)})
    >>> [round(detector.score_one({"pressure": bar}), 1) for bar in (6.2, 4.0, float("nan"))]
    [1.0, 10.1, 0.0]

    Three weeks of a daily cycle, read every 30 minutes: the cycle's high is normal at noon, not at midnight.

    >>> import math
    >>> detector = RunningZScore()
    >>> half_hour = 1_800_000
    >>> for i in range(3 * 7 * 48):
    ...     detector.at(i * half_hour)
    ...     detector.learn_one({"value": 50.0 + 20.0 * math.sin(2 * math.pi * i / 48) + rng.gauss(0.0, 1.0)})
    >>> detector.at(3 * WEEK_MS + 12 * half_hour)  # 6:00, the top of the cycle
    >>> round(detector.score_one({"value": 70.0}))
    0
    >>> detector.at(3 * WEEK_MS + 36 * half_hour)  # 18:00, the bottom
    >>> round(detector.score_one({"value": 70.0}))
    29
    """

    score_resolution = 1.0  # scores are in standard deviations

    def __init__(
        self,
        memory: int = 0,
        season_ms: int = WEEK_MS,
        buckets: int = 336,
        season_rate: float = 0.1,
        fit: float = 0.5,
        drift: float | None = 6.0,
    ) -> None:
        owner = "RunningZScore"
        self.memory = params.count(owner, "memory", memory)
        self.season_ms = params.count(owner, "season_ms", season_ms)
        self.buckets = params.count(owner, "buckets", buckets, minimum=1)
        if self.buckets > 65_536:
            raise ValueError(f"{owner}: buckets must be at most 65536, got {buckets!r}")
        self.season_rate = params.fraction(owner, "season_rate", season_rate)
        self.fit = params.fraction(owner, "fit", fit)
        self.drift = None if drift is None else params.positive(owner, "drift", drift)
        self._by_feature: dict = {}
        self._slot = 0  # the weekly slot of the readings that follow

    @property
    def ready(self) -> bool:
        """Whether every seen feature has enough values for a standard deviation."""
        by_feature = self._by_feature
        return bool(by_feature) and all(state.moments.ready for state in by_feature.values())

    def at(self, ts_ms: int) -> None:
        """Set the time (epoch milliseconds) of the readings that follow."""
        if self.season_ms:
            self._slot = (int(ts_ms) % self.season_ms) * self.buckets // self.season_ms

    def learn_one(self, x: dict) -> None:
        """Update each finite feature's moments and weekly profile."""
        for feature, value in x.items():
            if params.finite_value("RunningZScore", feature, value):
                self.learn_value(feature, float(value))

    def learn_value(self, feature: object, value: float) -> None:
        """`learn_one({feature: value})` for one finite float, without the dict (the sensor model's hot path)."""
        state = self._by_feature.get(feature)
        if state is None:
            week = WeeklyProfile(self.season_ms, self.buckets, self.season_rate) if self.season_ms else None
            state = self._by_feature[feature] = FeatureState(self.memory, week)
        moments, week = state.moments, state.week
        if week is not None:
            bucket = self._slot
            if moments.n >= BOOTSTRAP and week.profile[bucket] == week.profile[bucket]:
                deviation = value - moments.mean
                state.error += ERROR_RATE * ((deviation if deviation > 0.0 else -deviation) - state.error)
                if self.drift is not None and self._departs(state, deviation):
                    week.update(value, bucket)
                    return  # the long-run level does not learn the drift it judges
            week.update(value, bucket)
        moments.update(value)

    def _fits_across(self, week: WeeklyProfile, state: FeatureState) -> bool:
        """Whether a profile that explains the stream within visits also does from one visit to the next."""
        if week.starts < START_MIN:  # not judged from visit to visit yet: trusted until a level a period old comes
            slot = self._slot
            return week.starts == 0 and (slot == week.last or week.profile[slot] != week.profile[slot])
        return week.start_error < START_FIT * state.error

    def _departs(self, state: FeatureState, deviation: float) -> bool:
        """Follow the drift while the weekly view is in use (else it is 0); whether it is past FREEZE times the limit."""
        week = state.week
        if week.n < BOOTSTRAP or week.error >= self.fit * state.error or not self._fits_across(week, state):
            state.drift = 0.0
            return False
        limit = self.drift
        cap = 1.5 * limit  # a spike moves the average by a little, not by its size
        z = deviation / state.moments.scale
        z = cap if z > cap else (-cap if z < -cap else z)
        drift = state.drift = state.drift + DRIFT_RATE * (z - state.drift)
        return (drift if drift > 0.0 else -drift) > FREEZE * limit

    def drifted(self, feature: object) -> tuple[float, float] | None:
        """The long-run (mean, standard deviation) of a feature whose recent readings drifted `drift` deviations away; else None.

        The average follows the learned readings only: while a sensor holds readings back, a drift
        it reported stays reported.
        """
        state = self._by_feature.get(feature)
        if state is None or self.drift is None:
            return None
        drift = state.drift
        if (drift if drift > 0.0 else -drift) < self.drift:
            return None
        return state.moments.mean, state.moments.scale

    def hold_value(self, feature: object, value: float) -> None:
        """A finite reading the sensor holds back as anomalous: not learned, its step may be the sensor's resolution."""
        state = self._by_feature.get(feature)
        if state is not None and state.moments.n:
            state.moments.hold(value)

    def judge(self, feature: object, value: float) -> tuple[float, tuple[float, float] | None]:
        """`score_one({feature: value})` and `expected_one(feature)` in one pass, for one finite float.

        The sensor model's hot path: the time-of-week view is worked out once for both.
        """
        state = self._by_feature.get(feature)
        if state is None or state.moments.n < BOOTSTRAP:
            return 0.0, None
        expected = self._weekly(state) if state.week is not None else None
        if expected is None:
            moments = state.moments
            expected = (moments.mean, moments.scale)
        z = (value - expected[0]) / expected[1]
        return (-z if z < 0.0 else z), expected

    def _weekly(self, state: FeatureState) -> tuple[float, float] | None:
        """(expected value, deviation) from the time of week, when the profile explains the stream."""
        week = state.week
        if (week is None or week.n < BOOTSTRAP or week.error >= self.fit * state.error
                or not self._fits_across(week, state)):
            return None
        profile = week.profile[self._slot]
        if profile != profile:
            return None
        floor = state.moments.rounding  # the readings' rounding error bounds the residuals' too
        scale = week.sd
        return profile + week.mean, (scale if scale > floor else floor)

    def seasonal_score(self, feature: object, value: float) -> float | None:
        """|z| of `value` against its time of week (as `judge`), or None while the weekly view is not in use.

        A sensor model asks it of the detector it replaced at a re-baseline: a reading that detector
        expected at this time of week is the sensor's old rhythm coming back (`SensorModel`).
        """
        state = self._by_feature.get(feature)
        if state is None or state.week is None or state.moments.n < BOOTSTRAP:
            return None
        weekly = self._weekly(state)
        if weekly is None:
            return None
        z = (value - weekly[0]) / weekly[1]
        return -z if z < 0.0 else z

    def _z(self, state: FeatureState, value: float) -> float:
        weekly = self._weekly(state) if state.week is not None else None
        if weekly is None:
            z = state.moments.z(value)
        else:
            z = (value - weekly[0]) / weekly[1]
        return -z if z < 0.0 else z

    def score_one(self, x: dict) -> float:
        """The largest |z| over the known finite features of `x`."""
        worst = 0.0
        by_feature = self._by_feature
        for feature, value in x.items():
            state = by_feature.get(feature)
            if state is not None and params.finite_value("RunningZScore", feature, value):
                z = self._z(state, float(value))
                worst = z if z > worst else worst
        return worst

    def expected_one(self, feature: object) -> tuple[float, float] | None:
        """The (expected value, standard deviation) of a feature now, or None until it is ready."""
        state = self._by_feature.get(feature)
        if state is None or state.moments.n < BOOTSTRAP:
            return None
        weekly = self._weekly(state) if state.week is not None else None
        return weekly if weekly is not None else (state.moments.mean, state.moments.scale)

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"memory": 100, "season_ms": 0}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({"drift": None, **state})  # pickled before the drift test: it stays off
