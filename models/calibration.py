"""Raw detector scores turned into an anomaly likelihood in [0, 1] that means the same on every sensor."""

from __future__ import annotations

import math
from collections import deque
from statistics import median

from models.baseline import BOOTSTRAP, MAD_TO_SIGMA, MEAN_ABS_TO_SIGMA

SQRT2 = math.sqrt(2.0)
Z90 = 1.2815515655446004  # standard normal quantiles
Z99 = 2.3263478740408408
LN10 = math.log(10.0)
# The quantile trackers step by this many times 1/horizon of the tail's width per score, so the
# long-run distribution forgets on about the horizon's time scale.
STEP = 10.0
# An excess above the 90th percentile counts at most this many times the mean excess, so one huge
# spike cannot blind a sensor.
EXCESS_CAP = 20.0


class AnomalyLikelihood:
    """Numenta-style anomaly likelihood: the recent average raw score against the long-run raw scores.

    `likelihood(raw)` is 0.99 exactly when the average of the last `window` raw scores reaches the
    99th percentile of single raw scores, and follows a normal curve through the median (0.5) and
    that percentile elsewhere. Averaging makes noise far quieter than single scores, so under
    stationary noise it about never reaches 0.99; a single spike large enough to lift the average
    past the 99th percentile keeps it there for `window` readings; a sustained shift keeps it there.
    Each sensor is judged against its own score distribution, so one threshold means the same on
    every sensor and for every detector.

    `min_width` is the least distance between the median and the 99th percentile, in raw-score
    units: after a flat stretch of identical scores, a detector's first small step (a quantized
    sensor's one-step change) is then judged on the detector's own scale, not as infinitely rare.

    The long-run distribution is three numbers over about `horizon` scores: the median and the
    90th percentile (stochastic-approximation quantiles), and the mean excess over the latter; the
    99th percentile is extrapolated from them with an exponential tail, which follows heavy tails
    and quantized scores where a fitted Gaussian would not. The first 16 learned scores start it
    from their median and MAD; until then the likelihood is 0.0.

    With `single` set, a single raw score is also judged alone: its tail probability (`tail`: an
    exponential tail above the larger of the extrapolated and the tracked 99th percentile) is
    mapped so that `single` gives 0.99, and that likelihood is held for `window` readings or until
    a higher one comes; the reported likelihood is the larger of the two tests.

    Call `likelihood(raw)` for every reading (score first), then `learn(raw)` for the readings the
    sensor learns.

    >>> import random
    >>> rng = random.Random(1)
    >>> calibration = AnomalyLikelihood(window=5, horizon=1000)
    >>> for _ in range(2000):
    ...     raw = abs(rng.gauss(0.0, 1.0))
    ...     _ = calibration.likelihood(raw)
    ...     calibration.learn(raw)
    >>> [round(calibration.likelihood(raw), 3) for raw in (0.7, 20.0, 0.7, 0.7, 0.7, 0.7, 0.7)]
    [0.425, 1.0, 1.0, 1.0, 1.0, 1.0, 0.501]
    """

    __slots__ = (
        "window", "horizon", "min_width", "single", "n", "median", "q90", "excess", "q99_seen",
        "_recent", "_held", "_held_left", "_first",
    )  # fmt: skip

    def __init__(self, window: int = 5, horizon: int = 1000, min_width: float = 0.0, single: float | None = None) -> None:
        self.single = single
        self.q99_seen = 0.0  # the 99th percentile of single raw scores, tracked
        self._held = 0.0  # a likelihood held for `window` readings (`hold`)
        self._held_left = 0
        self.window = window
        self.horizon = horizon
        self.min_width = min_width
        self.n = 0
        self.median = 0.0
        self.q90 = 0.0
        self.excess = 0.0  # mean excess of the scores above q90
        self._recent: deque = deque(maxlen=window)
        self._first: list[float] | None = []

    @property
    def ready(self) -> bool:
        """Whether enough raw scores have been learned to judge new ones."""
        return self._first is None

    @property
    def q99(self) -> float:
        """The 99th percentile of single raw scores, from an exponential tail above q90."""
        return self.q90 + LN10 * self.excess

    def likelihood(self, raw: float) -> float:
        """Push one raw score and return the likelihood of the recent average; 0.0 until ready."""
        recent = self._recent
        recent.append(raw)
        if self._first is not None:
            return 0.0
        middle = self.median
        width = self.q90 + LN10 * self.excess - middle
        floor = self._width_floor()
        if width < floor:
            width = floor
        likelihood = 0.5 * math.erfc(Z99 * (middle - sum(recent) / len(recent)) / (width * SQRT2))
        if self.single is not None:
            self.hold(1.0 - self.tail(raw) * (0.01 / self.single))
        held = self._held if self._held_left > 0 else 0.0
        self._held_left -= 1
        return held if held > likelihood else likelihood

    def hold(self, likelihood: float) -> None:
        """Report at least `likelihood` for the next `window` readings (this one included), unless a higher one comes.

        A test that looks at one reading (a spike, a new extreme) lasts as long as the average it
        stands beside, so a rule that asks for a few readings in a row sees it.
        """
        if likelihood >= self._held or self._held_left <= 0:
            self._held, self._held_left = likelihood, self.window

    def _width_floor(self) -> float:
        # The least distance between the median and the 99th percentile: a flat score history is not a 0/0.
        return self.min_width + 1e-9 * abs(self.median) + 1e-12

    def tail(self, raw: float) -> float:
        """The probability of a single raw score at least `raw`: 1.0 up to the 99th percentile, then an exponential tail."""
        if self._first is not None:
            return 1.0
        anchor = self.q90 + LN10 * self.excess
        if self.q99_seen > anchor:
            anchor = self.q99_seen
        if raw <= anchor:
            return 1.0
        floor = self._width_floor() / LN10
        return 0.01 * math.exp(-(raw - anchor) / (self.excess if self.excess > floor else floor))

    def learn(self, raw: float) -> None:
        """Add one raw score to the long-run distribution."""
        self.n += 1
        if self._first is not None:
            self._start(raw)
            return
        rate = STEP / self.horizon
        if rate * self.n < 1.0:
            rate = 1.0 / self.n
        excess = self.excess
        scale = excess if excess > 1e-12 else 1e-12
        step = rate * scale
        # A score equal to a quantile leaves it put, so a flat history stays exactly flat.
        if raw > self.median:
            self.median += 0.5 * step
        elif raw < self.median:
            self.median -= 0.5 * step
        if raw > self.q99_seen:
            self.q99_seen += 0.99 * step
        elif raw < self.q99_seen:
            self.q99_seen -= 0.01 * step
        over = raw - self.q90
        if over > 0.0:
            self.q90 += 0.9 * step
            cap = EXCESS_CAP * scale
            self.excess = excess + rate * ((over if over < cap else cap) - excess)
        elif over < 0.0:
            self.q90 -= 0.1 * step

    def _start(self, raw: float) -> None:
        # Median and MAD, so that a spike among the first scores does not set the scale.
        first = self._first
        first.append(raw)
        if len(first) < BOOTSTRAP:
            return
        self.median = median(first)
        deviations = [abs(score - self.median) for score in first]
        sd = MAD_TO_SIGMA * median(deviations) or MEAN_ABS_TO_SIGMA * sum(deviations) / len(deviations)
        # As if Gaussian: q90 and the mean excess above it (about 0.47 sd) follow from the sd.
        self.q90 = self.median + Z90 * sd
        self.excess = 0.47 * sd
        self.q99_seen = self.median + Z99 * sd
        self._first = None
