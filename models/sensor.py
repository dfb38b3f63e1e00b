"""One sensor's model: a detector, its calibration and the learning policy, scored one reading at a time."""

from __future__ import annotations

import math
from typing import NamedTuple

from models import params as checks
from models.calibration import SQRT2, AnomalyLikelihood
from models.reasons import DRIFT, EXTREME, LEAN, SPREAD, STUCK, WORDS
from models.registry import DEFAULT_DETECTOR, build
from models.routine import DailyRoutine
from models.upgrade import restore

# Raw scores are clamped here before calibration, so a detector's inf cannot poison the averages.
RAW_CAP = 1e12
# The calibration's 99th percentile lies at least this many score resolutions above its median.
MIN_WIDTH = 1.5
# The runs of identical readings a sensor must have ended before the longest of them says how long one lasts.
STUCK_RUNS = 20
# The spread test: the recent readings' average step, sqrt(|x - previous|) (the root makes an average of
# steps about normal, so a normal tail fits it), over about the last 1/SPREAD_RATE readings, against the
# long-run average step; each step counts at most SPREAD_CAP times the latter. Judged once SPREAD_AFTER
# steps have been learned, against the long-run deviation of the recent average from the long-run one
# (never below SPREAD_FLOOR times the long-run average step); the tail probability is worked out only past
# SPREAD_GATE (a squared z).
SPREAD_RATE = 1.0 / 20.0
SPREAD_CAP = 4.0
SPREAD_AFTER = 400
SPREAD_FLOOR = 0.05
SPREAD_GATE = 9.0
# For this many readings after a re-baseline, the detector it replaced is kept (a seasonal one whose calibration
# had learned more than `horizon` scores): a reading that detector expected at this time of week, within the
# 99th percentile of its raw scores, is the sensor's old rhythm coming back, not an alert.
FORMER_SPAN = 1000
# The lean test's allowance: each reading adds its signed raw score less this much to the sums of readings above
# and below the expected level (a two-sided CUSUM, in raw-score units: deviations for the default detector).
LEAN_SLACK = 0.5
# ... and fires only on a lean of at least this much (a few deviations), so a sensor whose leans all stayed
# tiny (a quantized one, its rounding floor as its deviation) does not fire on its first ordinary one.
LEAN_MIN = 3.0


# Builds a Score from a tuple of its fields in order, without the Python-level __new__ of a NamedTuple
# (one frame less per reading, on the hot path).
_new_score = tuple.__new__


class Score(NamedTuple):
    """The verdict on one reading: raw score, calibrated likelihood and what was expected."""

    raw: float
    likelihood: float
    expected: float | None
    low: float | None
    high: float | None
    warming_up: bool
    muted: bool = False  # the likelihood reached the threshold but was capped below it (quiet period, routine)
    reason: str = ""  # which test gave the likelihood, in words (`models.reasons`); "" while warming up or skipped


class SensorModel:
    """A sensor's detector behind one calibration and one learning policy; picklable and small.

    Every reading is scored first, then learned. The raw score becomes an anomaly likelihood
    (`AnomalyLikelihood`), reported as 0.0 during probation: the first `warmup` readings after the
    detector is ready. Nine tests feed it, each held for `window` readings so a one-reading event
    satisfies a rule that asks for a few readings in a row:

    - the average of the last `window` raw scores against the long-run distribution of single ones
      (a lasting shift, or unrest);
    - a single raw score rarer than `single` (a per-reading probability) under that distribution's
      tail (a spike);
    - a reading beyond the range of every earlier one by more than `range_margin` times its width,
      with a raw score of at least `range_score`, once `range_after` readings have set the range
      (a new extreme, as Numenta's detector checks);
    - the same average against the long-run distribution of such averages, rarer than `unrest`
      (unrest that lasts: noise that grows, spikes that come more often);
    - a stretch in which most raw scores lie beyond their 90th percentile, lasting more than
      `lasting` times the longest earlier one and worth at least 80 readings, once `horizon`
      scores have been learned (a moderate departure that lasts far longer than any this sensor
      made, which the averages lose as the score distribution learns it);
    - a reading that lifts the readings' lean to one side of the expected level (a two-sided CUSUM
      of the raw score, signed by the side the reading lies on, less `LEAN_SLACK` per reading) past
      `lean` times the largest lean before it since the detector started (and past `LEAN_MIN`), once
      `horizon` scores have been learned; for a detector that says what it expects. The record
      follows the lean as it grows, so only a reading that adds a good part of the record at once
      fires: a one-sided burst (a spike on top of others, or on a lean) on a sensor whose leans
      stayed small, which the unsigned tests judge against the sensor's spikes of either side;
    - the same reading repeated for longer than `stuck` times any earlier run of repeats, and for
      at least `window` readings, once `stuck_after` readings have been seen (a frozen probe); this
      one lasts until the reading changes, and the frozen readings are neither learned nor taken
      as a new normal;
    - the average (square-rooted) step between consecutive readings over about the last 20 far
      above or below the long-run average step, rarer than `spread` under a normal curve, once
      400 steps have been learned (the readings start to swing, or go quiet, around the same
      level). Repeats (the stuck test's) and steps into or out of a reading another test flags
      (a spike) do not count, and each step counts at most four times the usual one. Readings
      only this test flags are still learned (the level's deviation widens with them), and a
      spread that lasts `rebaseline_after` readings becomes the new normal;
    - for a detector that reports drift (the default, while it judges by time of week), the recent
      readings' average far from the sensor's long-run level (a slow drift the time-of-week
      profile follows); the alert then reports the long-run level as the expected one.

    Readings with likelihood >= `threshold` are held back instead of learned, so a short anomaly
    leaves the baseline alone (the score distribution learns every score, so a pattern that keeps
    coming back becomes normal); when `rebaseline_after` readings in a row are held back, the
    anomaly has become the new normal: a fresh detector learns the held readings and a short
    probation of `settle` readings follows. A fresh detector has not seen the sensor's daily or
    weekly rhythm, so for `FORMER_SPAN` readings the one it replaced is kept when it judged by time
    of week (and its calibration had learned more than `horizon` scores): a reading at the threshold
    that detector expected at this time of week (within the 99th percentile of its raw scores) is
    the old rhythm coming back, not an alert, unless its run started with one it did not expect (a
    spike's hold); such readings are learned and reported capped below the threshold (`Score.muted`).
    NaN and inf readings are skipped with a neutral score.

    Alerts mark onsets: once a run of likelihoods >= `threshold` that lasted at least `min_run`
    readings ends, a new run starting within `quiet` readings (which does not extend the quiet
    period) is reported capped just below the threshold (`Score.muted`), so an anomaly that
    flickers, or the unrest that follows it, raises one alert rather than many. A shorter run
    raised no alert under a rule held for `min_run` readings (the default rule holds 3), so it
    mutes nothing: a blip must not hide the anomaly that follows it (the job sets the run's threshold and
    `min_run` from the rules that watch the sensor: `alerting`). A muted run is reported anyway
    once its raw score grows past `escalate` times the peak raw score of the run that started the
    quiet period: a larger event is not hidden by a smaller one before it. A run that comes at the
    time of day (within about half an hour, UTC) at which runs came on `routine` of the
    `routine + 1` days before is a daily routine (a nightly backup, a cron job) and is capped the
    same way, unless its raw score passes `escalate` times theirs (`DailyRoutine`). The learning
    policy still sees the true likelihood. `ts_ms` is passed to time-aware detectors (the default
    keeps a weekly profile); gaps and irregular spacing do not matter otherwise. A model pickled by
    an earlier release loads with the tests added since switched off.

    `detector` and `params` name a registered detector (`models.names()`); `window` and `horizon`
    are the calibration's short average and long-run memory; `band` sets the normal range reported
    with each score: expected +- band * the detector's spread (None for detectors without one).
    The defaults are the ones measured on NAB (README, "Measuring detectors").

    >>> import random
    >>> rng = random.Random(3)
    >>> model = SensorModel()
    >>> scores = [model.process(rng.gauss(50.0, 1.0), 1_700_000_000_000 + i) for i in range(400)]
    >>> scores[0].warming_up, scores[-1].warming_up
    (True, False)
    >>> spike = model.process(70.0, 1_700_000_000_400)
    >>> round(spike.likelihood, 3), round(spike.expected, 1), round(spike.low), round(spike.high)
    (1.0, 49.9, 47, 53)
    >>> model.count
    401
    """

    __slots__ = (
        "detector_name", "params", "warmup", "window", "horizon", "threshold", "rebaseline_after",
        "settle", "band", "detector", "calibration", "count", "skipped", "rebaselines",
        "quiet", "single", "range_margin", "range_score", "range_after", "_low", "_high",
        "unrest", "escalate", "routine", "_probation", "_held", "_ready", "_quiet_left", "_in_run", "_muted",
        "_peak", "_last_peak", "_mute_peak", "_routine", "_timed", "_expects", "_judges", "_holds", "min_run", "_run",
        "stuck", "stuck_after", "_last", "_repeats", "_longest", "_runs", "_frozen", "_drifts", "_alert_at",
        "spread", "_steps", "_recent_step", "_usual_step", "_step_gate", "_spread_at",
        "_spread_run", "_spread_held", "_spread_left", "_step_skip", "lasting",
        "_former", "_former_q99", "_former_left", "_former_run",
        "lean", "_lean_up", "_lean_down", "_lean_peak",
    )  # fmt: skip

    def __init__(
        self,
        detector: str = DEFAULT_DETECTOR,
        params: dict | None = None,
        warmup: int = 200,
        *,
        window: int = 14,
        horizon: int = 1000,
        threshold: float = 0.99,
        rebaseline_after: int = 30,
        settle: int = 30,
        band: float = 3.0,
        quiet: int = 100,
        single: float | None = 1e-5,
        range_margin: float | None = 0.1,
        range_score: float = 4.5,
        range_after: int = 750,
        unrest: float | None = 3e-3,
        escalate: float | None = 1.5,
        routine: int | None = 2,
        min_run: int = 3,
        stuck: float | None = 4.0,
        stuck_after: int = 400,
        spread: float | None = 1e-6,
        lasting: float | None = 2.0,
        lean: float | None = 1.5,
    ) -> None:
        self._check(params, warmup, window, horizon, threshold, rebaseline_after, settle, band)
        owner = "SensorModel"
        self.quiet = checks.count(owner, "quiet", quiet)
        self.single = None if single is None else checks.fraction(owner, "single", single)
        self.range_margin = None if range_margin is None else checks.positive(owner, "range_margin", range_margin)
        self.range_score = checks.positive(owner, "range_score", range_score)
        self.range_after = checks.count(owner, "range_after", range_after)
        self.unrest = None if unrest is None else checks.fraction(owner, "unrest", unrest)
        self.escalate = None if escalate is None else checks.positive(owner, "escalate", escalate)
        self.routine = None if routine is None else checks.count(owner, "routine", routine, minimum=1)
        self._routine = None if routine is None else DailyRoutine(self.routine)
        self.min_run = checks.count(owner, "min_run", min_run, minimum=1)
        self._alert_at = threshold  # the likelihood the alert rule fires at (`alerting`)
        self.stuck = None if stuck is None else checks.positive(owner, "stuck", stuck)
        self.stuck_after = checks.count(owner, "stuck_after", stuck_after)
        self.spread = None if spread is None else checks.fraction(owner, "spread", spread)
        self.lasting = None if lasting is None else checks.positive(owner, "lasting", lasting)
        self.lean = None if lean is None else checks.factor(owner, "lean", lean)
        self._lean_up = self._lean_down = 0.0  # the lean test's sums above and below the expected level
        self._lean_peak = 0.0  # the largest of them since the detector started
        self._steps = 0  # steps between consecutive readings learned by the spread test
        self._recent_step = 0.0  # the recent readings' average step (every reading)
        self._usual_step = 0.0  # the long-run average step (learned readings)
        self._step_gate = 0.0  # SPREAD_GATE times the long-run mean square of the recent average's departure from it
        self._spread_at = 0  # the reading (`count`) at which the spread test last reached the threshold
        self._spread_run = 0  # readings it did in a row (each within `window` readings of the last)
        self._spread_held = 0.0  # its likelihood, held for `window` readings
        self._spread_left = 0
        self._step_skip = False  # whether the last reading was flagged by the other tests (its step out does not count)
        self._last = math.nan  # the last finite reading
        self._repeats = 0  # readings in a row equal to it
        self._longest = 0  # the longest such run that has ended, frozen ones aside
        self._runs = 0  # how many such runs have ended, frozen ones aside
        self._frozen = False  # whether the current run made the sensor stuck
        self._low = self._high = math.nan  # the range of every finite reading so far
        self._former = None  # the seasonal detector a recent re-baseline replaced (`FORMER_SPAN`), if any
        self._former_q99 = 0.0  # the 99th percentile of its raw scores
        self._former_left = 0  # readings left before it is let go
        self._former_run = 0  # in a run at the threshold: 1 if its first reading was the old rhythm, 2 if not
        self.detector_name = detector
        self.params = dict(params or {})
        self.warmup, self.window, self.horizon = warmup, window, horizon
        self.threshold, self.rebaseline_after, self.settle = threshold, rebaseline_after, settle
        self.band = band
        self.detector = self._use(build(detector, **self.params))
        self.calibration = self._calibration()
        self.count = 0  # readings processed, skipped ones included
        self.skipped = 0  # NaN / inf readings
        self.rebaselines = 0
        self._probation = warmup  # readings left before likelihoods are reported
        self._held: list[tuple[float, int]] = []  # (value, ts_ms) held back during the current anomaly
        self._ready = False  # whether the detector's scores mean something yet (it stays so)
        self._quiet_left = 0  # readings left in the quiet period after the last run at the threshold
        self._in_run = False  # whether the last scored reading reached the threshold
        self._muted = False  # whether the current run started in a quiet period, or is a daily routine
        self._peak = 0.0  # the largest raw score of the current (or last) run at the threshold
        self._run = 0  # the length of that run, in readings
        self._last_peak = 0.0  # that of the run that started the quiet period
        self._mute_peak = 0.0  # the raw score a muted run must pass `escalate` times to be reported

    @staticmethod
    def _check(params, warmup, window, horizon, threshold, rebaseline_after, settle, band) -> None:
        owner = "SensorModel"
        if params is not None and not isinstance(params, dict):
            raise ValueError(f"{owner}: params must be a dict of detector parameters, got {params!r}")
        checks.count(owner, "warmup", warmup)
        checks.count(owner, "window", window, minimum=1)
        checks.count(owner, "horizon", horizon, minimum=10)  # the calibration steps 10/horizon
        checks.fraction(owner, "threshold", threshold)
        checks.count(owner, "rebaseline_after", rebaseline_after, minimum=1)
        checks.count(owner, "settle", settle)
        checks.positive(owner, "band", band)

    def process(self, value: float, ts_ms: int) -> Score:
        """Score one reading against what was learned so far, then learn from it."""
        self.count += 1
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"SensorModel.process: value must be a number, got {value!r}") from None
        detector = self.detector
        if self._timed:  # a time-aware detector (weekly profile) learns when each reading was taken
            detector.at(ts_ms)
        if value - value != 0.0:  # NaN or inf, without a call
            self.skipped += 1
            expected = detector.expected_one("value") if self._expects else None
            return self._score(0.0, 0.0, expected, self._warming_up())
        if self._judges:  # score and expected value in one pass, without dicts (the default detector)
            raw, expected = detector.judge("value", value)
        else:
            expected = detector.expected_one("value") if self._expects else None
            raw = float(detector.score_one({"value": value}))
        if not -RAW_CAP <= raw <= RAW_CAP:  # NaN, inf or beyond the cap
            raw = self._clamp(raw)
        # Within the range so far (most readings), nothing changes: the call is skipped on the hot path.
        if self.range_margin is not None and not self._low <= value <= self._high and self._beyond_range(value, raw):
            self.calibration.hold(1.0, EXTREME)
        if self.lean is not None and expected is not None and self._probation <= 0:  # inline: the hot path
            up, down = self._lean_up, self._lean_down
            if value >= expected[0]:  # the score counts toward the lean above the expected level, against the one below
                up += raw - LEAN_SLACK
                down -= raw + LEAN_SLACK
            else:
                up -= raw + LEAN_SLACK
                down += raw - LEAN_SLACK
            self._lean_up = up = up if up > 0.0 else 0.0
            self._lean_down = down = down if down > 0.0 else 0.0
            lean = up if up > down else down
            if lean > self._lean_peak:  # a new largest lean: judged against the one before
                if lean > self.lean * self._lean_peak and lean > LEAN_MIN and self.calibration.n > self.horizon:
                    self.calibration.hold(1.0, LEAN)
                self._lean_peak = lean
        if self._drifts:
            level = detector.drifted("value")
            if level is not None:  # judged against the long-run level, which the alert then reports
                self.calibration.hold(1.0, DRIFT)
                expected = level
        last = self._last  # the stuck test moves it on
        stuck = self._stuck(value)
        calibration = self.calibration  # until a re-baseline below starts a new one
        if stuck:
            calibration.hold(1.0, STUCK)
        likelihood = calibration.likelihood(raw)
        reason = calibration.reason  # read now: a re-baseline below starts a new calibration
        threshold = self.threshold
        if self.spread is not None:  # inline: the hot path
            flagged = likelihood >= threshold
            # Not a repeat (the stuck test's), nor a step into or out of a reading the other tests flag (a
            # spike). Such a reading is learned (warming up, below the threshold, or flagged by this test alone).
            if not flagged and not self._step_skip and value != last and last == last:  # (NaN: the first reading)
                step = math.sqrt(value - last if value > last else last - value)
                usual = self._usual_step
                cap = SPREAD_CAP * usual
                if step > cap > 0.0:  # (no cap before a step has been learned)
                    step = cap
                recent = self._recent_step = self._recent_step + SPREAD_RATE * (step - self._recent_step)
                off = recent - usual
                gate = self._step_gate
                if off * off > gate:
                    self._spread_test(off)
                # Learn the step, and the recent average's mean square departure from the long-run one.
                n = self._steps = self._steps + 1
                rate = 1.0 / (n if n < self.horizon else self.horizon)  # then forgets over `horizon` steps
                self._usual_step = usual + rate * (step - usual)
                square = off * off
                if square > gate and n > SPREAD_AFTER:  # a departure the test judges widens its yardstick slowly
                    square = gate
                self._step_gate = gate + rate * (SPREAD_GATE * square - gate)
            self._step_skip = flagged
        alone = False  # whether the spread test alone reaches the threshold: the reading is then learned
        if self._spread_left:
            self._spread_left -= 1
            if self._spread_held > likelihood:
                alone = likelihood < threshold
                likelihood, reason = self._spread_held, SPREAD
        ready = calibration.ready
        if stuck and ready:  # neither a new normal nor worth learning: reported while it lasts
            return self._onset(raw, likelihood, expected, ts_ms, reason)
        if self._probation > 0 or not ready:
            self._learn_warming_up(value, raw)
            return self._score(raw, 0.0, expected, True)
        back = False  # whether the reading is the old rhythm coming back after a re-baseline
        if self._former is not None:
            self._former_left -= 1
            if self._former_left <= 0:
                self._former = None
            elif likelihood < threshold:
                self._former_run = 0
            elif self._former_run != 2:  # a run that started with a reading the old rhythm did not expect goes on
                back = self._comes_back(value, ts_ms)
                if not self._former_run:
                    self._former_run = 1 if back else 2
                if back:  # learned, and reported capped below the threshold
                    likelihood, alone = math.nextafter(min(threshold, self._alert_at), 0.0), False
        if likelihood >= threshold and not alone:
            self._hold(value, ts_ms)
            if self._holds:  # the default detector notes the step (a quantized sensor's resolution)
                detector.hold_value("value", value)
            self.calibration.learn(raw)  # the score distribution learns every score: a repeated pattern becomes normal
        else:
            if self._held:
                self._held.clear()  # the anomaly was short: its readings stay unlearned
            if self._judges:
                detector.learn_value("value", value)
            else:
                detector.learn_one({"value": value})
            self.calibration.learn(raw)
        if likelihood < self._alert_at and not self._in_run and self._quiet_left <= 0:  # `_onset` has nothing to do
            return self._score(raw, likelihood, expected, False, back, reason)
        score = self._onset(raw, likelihood, expected, ts_ms, reason)  # below the threshold if `back`: it ends a run
        return score._replace(muted=True) if back else score

    def _comes_back(self, value: float, ts_ms: int) -> bool:
        """Whether the detector the last re-baseline replaced expected `value` at this time of week."""
        former = self._former
        former.at(ts_ms)
        score = former.seasonal_score("value", value)
        return score is not None and score <= self._former_q99

    def _spread_test(self, off: float) -> None:
        """Hold the spread test's likelihood for a recent average step `off` from the long-run one (beyond the gate).

        Once it has reached the threshold on `rebaseline_after` readings in a row, the recent
        average step becomes the usual one.
        """
        floor = SPREAD_FLOOR * self._usual_step + 1e-12
        if self._steps <= SPREAD_AFTER or off * off <= SPREAD_GATE * floor * floor:
            return
        var = self._step_gate / SPREAD_GATE
        sd = math.sqrt(var) if var > floor * floor else floor
        likelihood = 1.0 - 0.5 * math.erfc((off if off > 0.0 else -off) / (sd * SQRT2)) * (0.01 / self.spread)
        if likelihood <= 0.0:
            return
        if likelihood >= self._spread_held or self._spread_left <= 0:  # held for `window` readings, as the others
            self._spread_held, self._spread_left = likelihood, self.window
        if likelihood >= self.threshold:
            # In a row: within the `window` readings its likelihood is held (repeats and spikes do not count).
            run = self._spread_run = self._spread_run + 1 if self.count - self._spread_at <= self.window else 1
            self._spread_at = self.count
            if run >= self.rebaseline_after:
                self._usual_step, self._spread_run = self._recent_step, 0

    def _beyond_range(self, value: float, raw: float) -> bool:
        """Whether `value` lies far outside the range of every earlier reading; then the range takes it in.

        Far outside: beyond the range by more than `range_margin` times its width, with a raw score
        of at least `range_score` (a new extreme a lot larger than noise), once more than
        `range_after` readings have been seen.
        """
        low, high = self._low, self._high
        beyond = False
        if high > low and self.count > self.range_after:  # False while NaN, or for a flatline
            margin = (high - low) * self.range_margin
            beyond = (value > high + margin or value < low - margin) and raw >= self.range_score
        if not value >= low:
            self._low = value
        if not value <= high:
            self._high = value
        return beyond

    def _stuck(self, value: float) -> bool:
        """Whether the sensor is stuck at `value`: repeated for longer than `stuck` times any earlier repeat.

        Longer than `stuck` times the longest run of identical readings that has ended, and at
        least `window` readings, once more than `stuck_after` readings have been seen; true from
        the reading that reaches that length until the value changes (a frozen probe that repeats
        its last reading). A frozen run does not become the longest usual one, and a sensor that
        never varied has no earlier run to compare with and stays quiet. Nor does one that varied
        fewer than `STUCK_RUNS` times: a sensor that holds its reading for hundreds at a time has
        shown too few runs for their longest to say how long one lasts.
        """
        if value != self._last:
            if self._repeats and not self._frozen:
                self._runs += 1
                if self._repeats > self._longest:
                    self._longest = self._repeats
            self._last, self._repeats, self._frozen = value, 1, False
            return False
        self._repeats += 1
        if self._frozen:
            return True
        if self.stuck is None or self._runs < STUCK_RUNS or self.count <= self.stuck_after:
            return False
        self._frozen = self._repeats >= max(int(self.stuck * self._longest) + 1, self.window)
        return self._frozen

    def alerting(self, threshold: float, min_run: int) -> None:
        """Mark alert onsets as the rule that watches this sensor fires: at `threshold`, held `min_run` readings.

        The job calls it with its rules (`alerts.rules.alert_onset`), so a run the rule fired on starts
        the quiet period, a shorter one does not, and a muted run is capped just below the rule's own
        threshold. What is learned is still decided at `threshold` (the model's setting).

        >>> model = SensorModel()
        >>> model.alerting(0.95, 2)
        >>> model.min_run, model.threshold
        (2, 0.99)
        """
        self._alert_at = checks.fraction("SensorModel.alerting", "threshold", threshold)
        self.min_run = checks.count("SensorModel.alerting", "min_run", min_run, minimum=1)

    def _onset(self, raw: float, likelihood: float, expected, ts_ms: int, reason: int) -> Score:
        """The score to report: a run at the alert threshold that starts in a quiet period, or is routine, is capped."""
        high = likelihood >= self._alert_at
        if high and not self._in_run:
            quiet = self._quiet_left > 0
            routine = None if self._routine is None else self._routine.match(ts_ms)
            self._muted = quiet or routine is not None
            self._mute_peak = max(self._last_peak if quiet else 0.0, routine or 0.0)
            self._peak, self._run = raw, 0
        elif not high and self._in_run and not self._muted and self._run >= self.min_run:
            self._quiet_left = self.quiet + 1  # counted down from this reading on
            self._last_peak = self._peak
        if high:
            self._run += 1
            if self._routine is not None:
                self._routine.note(ts_ms, raw)
            if raw > self._peak:
                self._peak = raw
            if self._muted and self.escalate is not None and raw > self.escalate * self._mute_peak:
                self._muted = False  # a larger event than the one it would repeat
        self._in_run = high
        if self._quiet_left > 0:
            self._quiet_left -= 1
        if high and self._muted:
            capped = math.nextafter(self._alert_at, 0.0)
            return self._score(raw, capped, expected, False, True, reason)
        return self._score(raw, likelihood, expected, False, False, reason)

    def _warming_up(self) -> bool:
        return self._probation > 0 or not self.calibration.ready

    def _learn_warming_up(self, value: float, raw: float) -> None:
        self.detector.learn_one({"value": value})
        # Only scores of a ready detector describe its normal behaviour (HalfSpaceTrees scores 0
        # for its whole first window), so only those count for the calibration and the probation.
        if self._ready or self._detector_ready():
            self.calibration.learn(raw)
            if self._probation > 0:
                self._probation -= 1

    def _detector_ready(self) -> bool:
        self._ready = bool(getattr(self.detector, "ready", True))
        return self._ready

    def _hold(self, value: float, ts_ms: int) -> None:
        held = self._held
        held.append((value, ts_ms))
        if len(held) >= self.rebaseline_after:
            self._rebaseline()

    def _rebaseline(self) -> None:
        """Accept a persisting shift: a fresh detector learns the held readings, then a probation."""
        former, calibration = self.detector, self.calibration
        if self._former is None:  # a re-baseline soon after another keeps the detector from before both
            if (FORMER_SPAN > 0 and self._timed and hasattr(former, "seasonal_score") and calibration.ready
                    and calibration.n > self.horizon):
                self._former = former
                self._former_q99 = max(calibration.q99, calibration.q99_seen)
        if self._former is not None:
            self._former_left, self._former_run = FORMER_SPAN, 0
        detector = self.detector = self._use(build(self.detector_name, **self.params))
        for value, ts_ms in self._held:
            if self._timed:
                detector.at(ts_ms)
            detector.learn_one({"value": value})
        self._held.clear()
        self.calibration = self._calibration()
        self._lean_up = self._lean_down = self._lean_peak = 0.0
        self._probation = self.settle
        self._ready = False
        self.rebaselines += 1

    def _use(self, detector):
        """`detector`, after noting once which optional methods it has (times, expected values, one-value paths)."""
        self._timed = hasattr(detector, "at")
        self._expects = hasattr(detector, "expected_one")
        self._judges = hasattr(detector, "judge") and hasattr(detector, "learn_value")
        self._holds = hasattr(detector, "hold_value")
        self._drifts = hasattr(detector, "drifted")
        return detector

    def _calibration(self) -> AnomalyLikelihood:
        # A detector may say how far apart its raw scores must be to differ (z-scores: 1 sigma).
        min_width = MIN_WIDTH * getattr(self.detector, "score_resolution", 0.0)
        return AnomalyLikelihood(self.window, self.horizon, min_width, self.single, self.unrest, self.lasting)

    def _score(self, raw, likelihood, expected, warming_up, muted=False, reason=None) -> Score:
        words = "" if reason is None else WORDS[reason]
        if expected is None:
            return _new_score(Score, (raw, likelihood, None, None, None, warming_up, muted, words))
        level, spread = expected
        margin = self.band * spread
        return _new_score(Score, (raw, likelihood, level, level - margin, level + margin, warming_up, muted, words))

    @staticmethod
    def _clamp(raw: float) -> float:
        if raw != raw:
            return 0.0
        return RAW_CAP if raw > RAW_CAP else (-RAW_CAP if raw < -RAW_CAP else raw)

    # Added since the first release, with the values that keep an older pickled model as it was: the
    # tests it did not have stay off. Fixes apply: a blip no longer mutes what follows (`min_run`); a
    # run under way when the model was saved counts as an alert, as it did (`_run`).
    _ADDED = {
        "single": None, "range_margin": None, "range_score": 4.5, "range_after": 750, "_low": math.nan,
        "_high": math.nan, "unrest": None, "escalate": None, "_peak": 0.0, "_last_peak": 0.0, "routine": None,
        "_routine": None, "min_run": 3, "_run": 3, "stuck": None, "_last": math.nan, "_repeats": 0, "_longest": 0,
        "_frozen": False, "stuck_after": 750, "_runs": STUCK_RUNS,  # as trusted as it was
        "spread": None, "_steps": 0, "_recent_step": 0.0, "_usual_step": 0.0, "_step_gate": 0.0,
        "_spread_at": 0, "_spread_run": 0, "_spread_held": 0.0, "_spread_left": 0, "_step_skip": False,
        "lasting": None, "_former": None, "_former_q99": 0.0, "_former_left": 0, "_former_run": 0,
        "lean": None, "_lean_up": 0.0, "_lean_down": 0.0, "_lean_peak": 0.0,
    }  # fmt: skip

    def __setstate__(self, state) -> None:
        slots = state[1] if isinstance(state, tuple) else state
        # Until routines, a muted run could only have been muted by the quiet period.
        restore(self, state, {**self._ADDED, "_mute_peak": slots.get("_last_peak", 0.0),
                              "_alert_at": slots.get("threshold", 0.99)})
        self._use(self.detector)

    def __repr__(self) -> str:
        return (
            f"SensorModel(detector={self.detector_name!r}, params={self.params!r}, "
            f"count={self.count}, warming_up={self._warming_up()})"
        )

