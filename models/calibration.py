"""Raw detector scores turned into an anomaly likelihood in [0, 1] that means the same on every sensor."""

from __future__ import annotations

import math
from collections import deque
from statistics import median

from models.baseline import BOOTSTRAP, MAD_TO_SIGMA, MEAN_ABS_TO_SIGMA
from models.reasons import LASTING, ONE_READING, SHIFT, SPIKE, UNREST
from models.upgrade import restore

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
# The single-reading test's tail is checked at these probabilities against the scores learned: a bursty
# sensor's tail is heavier than an exponential one the deeper one looks, so the deeper check scales it
# further once enough scores have been learned to see bursts that rare.
TAIL_CHECK = 1e-3
TAIL_DEEP = 1e-4
# The likelihood every test gives at its own limit (the 99th percentile, `single`, `unrest`).
ALONE = 0.99
# The lasting test's stretch must be worth at least this many readings beyond the 90th percentile (net of those
# back within it) before it is judged against the longest earlier one.
LASTING_MIN = 80.0


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
    a higher one comes; the reported likelihood is the larger of the two tests. The tail is checked
    against the scores it learns: when more of them pass its 1-in-1,000 or its 1-in-10,000 level
    than it predicts (a burstier sensor than an exponential tail allows), its probabilities are
    scaled up by the larger ratio (`tail_correction`).

    With `lasting` set, a stretch in which most raw scores lie beyond the 90th percentile (and at
    least `min_width` above the median) is measured: one up for each score beyond, one down for each
    within, from 0 (a CUSUM of the exceedances, against half of them). A stretch worth more than
    LASTING_MIN readings and `lasting` times the longest one that ended since the calibration started
    is an anomaly of its own (1.0, held as a spike is), once `horizon` scores have been learned: a
    moderate departure that lasts far longer than any this sensor made, which the 14-reading tests
    lose as the score distribution learns it.

    With `unrest` set, the recent average is also judged against the distribution of such averages
    (its 99th percentile, tracked, and an exponential tail above it), as Numenta's likelihood does:
    an average that rises for a while without reaching the single scores' 99th percentile (noise
    that doubles, spikes that come more often) is rare among averages. `unrest` is the probability
    that gives 0.99; the test starts once `horizon` averages have been learned, since a tracked
    99th percentile needs that many to settle.

    Call `likelihood(raw)` for every reading (score first), then `learn(raw)` for the readings the
    sensor learns. `reason` says which test gave the last likelihood (an index of `models.reasons`); a
    one-reading test's (a spike) becomes a shift once the readings after it score beyond the 99th
    percentile too.

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
        "_recent", "_held", "_held_left", "_first", "unrest", "averages", "average_q99", "average_excess", "_average", "beyond",
        "reason", "_held_reason", "_far", "deep", "lasting", "_stretch", "_stretch_peak", "_longest",
    )  # fmt: skip

    def __init__(self, window: int = 5, horizon: int = 1000, min_width: float = 0.0, single: float | None = None,
                 unrest: float | None = None, lasting: float | None = None) -> None:
        self.single = single
        self.lasting = lasting
        self._stretch = 0.0  # the lasting test's measure of the current stretch beyond the 90th percentile
        self._stretch_peak = 0.0  # its largest value in that stretch
        self._longest = 0.0  # the largest of the stretches that ended
        self.unrest = unrest
        self.averages = 0  # averages learned by the unrest test
        self.average_q99 = 0.0  # their 99th percentile, tracked
        self.average_excess = 0.0  # their mean excess above it
        self._average = 0.0  # the average of the last `window` raw scores (set by `likelihood`)
        self.q99_seen = 0.0  # the 99th percentile of single raw scores, tracked
        self.beyond = 0  # learned scores whose tail probability was at most TAIL_CHECK
        self.deep = 0  # those at most TAIL_DEEP
        self._held = 0.0  # a likelihood held for `window` readings (`hold`)
        self._held_left = 0
        self._held_reason = SPIKE  # the test behind the held likelihood
        self.reason = SHIFT  # the test behind the last likelihood
        self._far = 0  # readings in a row whose raw score was beyond the 99th percentile
        self.window = window
        self.horizon = horizon
        self.min_width = min_width
        self.n = 0
        self.median = 0.0
        self.q90 = 0.0
        self.excess = 0.0  # mean excess of the scores above q90
        self._recent: deque = deque(maxlen=window)
        self._first: list[float] | None = []

    # Added since the first release, with the values that keep an older pickled calibration as it was.
    _ADDED = {
        "single": None, "q99_seen": 0.0, "_held": 0.0, "_held_left": 0, "unrest": None, "averages": 0,
        "average_q99": 0.0, "average_excess": 0.0, "_average": 0.0, "beyond": 0, "reason": SHIFT,
        "_held_reason": SPIKE, "_far": 0, "deep": 0, "lasting": None, "_stretch": 0.0, "_stretch_peak": 0.0,
        "_longest": 0.0,
    }  # fmt: skip

    def __setstate__(self, state) -> None:
        restore(self, state, self._ADDED)

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
        average = self._average = sum(recent) / len(recent)
        middle = self.median
        floor = self._width_floor()
        q99 = self.q90 + LN10 * self.excess
        width = q99 - middle if q99 - middle > floor else floor
        likelihood = 0.5 * math.erfc(Z99 * (middle - average) / (width * SQRT2))
        reason = SHIFT
        if self.unrest is not None and average > self.average_q99 and self.averages > self.horizon:
            unrest = 1.0 - self.average_tail(average) * (0.01 / self.unrest)
            if unrest > likelihood:
                likelihood, reason = unrest, UNREST
        if self.single is not None and raw > q99 and raw > self.q99_seen:
            self.hold(1.0 - self.tail(raw) * self.tail_correction * (0.01 / self.single), SPIKE)
        far = self._far = self._far + 1 if raw > q99 else 0
        if self.lasting is not None:  # inline: the hot path
            level = self.q90 if self.q90 > middle + floor else middle + floor
            stretch = self._stretch
            if raw > level:
                stretch = self._stretch = stretch + 1.0
                if stretch > self._stretch_peak:
                    self._stretch_peak = stretch
            elif stretch > 0.0:
                stretch = self._stretch = stretch - 1.0
                if stretch <= 0.0:  # the stretch ended
                    self._stretch = stretch = 0.0
                    if self._stretch_peak > self._longest:
                        self._longest = self._stretch_peak
                    self._stretch_peak = 0.0
            if stretch > LASTING_MIN and stretch > self.lasting * self._longest and self.n > self.horizon:
                self.hold(1.0, LASTING)
        if self._held_left > 0:
            self._held_left -= 1
            held = self._held
            if held > likelihood or held >= ALONE:  # at ALONE, the average is high because that reading is in it
                reason = self._held_reason
                if far > 1 and reason in ONE_READING:  # the readings after it are far off as well: it lasts
                    reason = SHIFT
                if held > likelihood:
                    likelihood = held
        self.reason = reason
        return likelihood

    def hold(self, likelihood: float, reason: int) -> None:
        """Report at least `likelihood` for the next `window` readings (this one included), unless a higher one comes.

        A test that looks at one reading (a spike, a new extreme) lasts as long as the average it
        stands beside, so a rule that asks for a few readings in a row sees it; `reason` names it.
        """
        if likelihood >= self._held or self._held_left <= 0:
            self._held, self._held_left, self._held_reason = likelihood, self.window, reason

    def _width_floor(self) -> float:
        # The least distance between the median and the 99th percentile: a flat score history is not a 0/0.
        return self.min_width + 1e-9 * abs(self.median) + 1e-12

    @property
    def tail_correction(self) -> float:
        """How many times more often learned scores passed the tail's 1-in-1,000 (or 10,000) level than it predicts.

        At least 1. An exponential tail is too light for bursty sensors (message counts, request
        rates), whose bursts then look rarer than they are; the deeper the level, the more so (a
        sensor that bursts every few thousand readings barely shows at 1-in-1,000), so the larger
        of the two ratios counts. Each is estimated with one pseudo-count, so a few learned scores
        do not move it.
        """
        n = self.n
        correction = (self.beyond + 1.0) / (n * TAIL_CHECK + 1.0)
        if self.deep > 1:  # one burst is not evidence of a heavy tail
            deep = (self.deep + 1.0) / (n * TAIL_DEEP + 1.0)
            if deep > correction:
                correction = deep
        return correction if correction > 1.0 else 1.0

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

    def average_tail(self, average: float) -> float:
        """The probability of an average of `window` raw scores at least `average`.

        1.0 up to the tracked 99th percentile of the averages, then an exponential tail.
        """
        if average <= self.average_q99:
            return 1.0
        floor = self._width_floor() / LN10
        scale = self.average_excess if self.average_excess > floor else floor
        return 0.01 * math.exp(-(average - self.average_q99) / scale)

    def learn(self, raw: float) -> None:
        """Add one raw score to the long-run distribution."""
        self.n += 1
        if self._first is not None:
            self._start(raw)
            return
        rate = STEP / self.horizon
        if rate * self.n < 1.0:
            rate = 1.0 / self.n
        if self.unrest is not None:
            self._learn_average(rate)
        if self.single is not None and raw > self.q99_seen:
            tail = self.tail(raw)
            if tail <= TAIL_CHECK:
                self.beyond += 1
                if tail <= TAIL_DEEP:
                    self.deep += 1
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

    def _learn_average(self, rate: float) -> None:
        # The 99th percentile of the averages and the mean excess above it, tracked as for single scores.
        average = self._average
        self.averages += 1
        if self.averages == 1:
            self.average_q99, self.average_excess = average, self.excess
            return
        scale = self.average_excess if self.average_excess > 1e-12 else 1e-12
        over = average - self.average_q99
        if over > 0.0:
            self.average_q99 += 0.99 * rate * scale
            self.average_excess += rate * ((over if over < EXCESS_CAP * scale else EXCESS_CAP * scale) - self.average_excess)
        elif over < 0.0:
            self.average_q99 -= 0.01 * rate * scale

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
