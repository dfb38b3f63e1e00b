"""One model per device: the joint state of its sensors, so a sensor that stops moving with the others shows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models import params as checks
from models.baseline import RobustBaseline
from models.calibration import AnomalyLikelihood
from models.sensor import MIN_WIDTH, RAW_CAP

# Residual vectors with fewer joint updates than this give a covariance too rough to calibrate on.
MIN_JOINT = 30
# The covariance moves by about 1/memory per reading, so its inverse is refreshed every few readings only.
REFRESH = 8


@dataclass(frozen=True, slots=True)
class DeviceScore:
    """The verdict on a device after one of its readings: distance, likelihood, and why."""

    raw: float  # robust Mahalanobis distance of the device's residual vector, in sigmas
    likelihood: float
    contributions: tuple[tuple[str, float], ...]  # (sensor_id, share), largest share first
    sensor_id: str  # the sensor whose reading was scored
    expected: float | None  # that sensor's value as its own level and the other sensors predict it
    low: float | None
    high: float | None
    warming_up: bool


class DeviceModel:
    """A device's sensors scored together: robust residuals per sensor, Mahalanobis distance across them.

    Each sensor keeps a robust level and spread (`RobustBaseline` at `rate`); its latest reading
    becomes a standardised residual. When a reading arrives, the vector of every sensor's latest
    residual is scored by its Mahalanobis distance under a covariance learned slowly (memory of about
    `memory` readings, residuals clipped to `clip` so an anomaly cannot teach it much) and shrunk by
    `shrink` towards its diagonal, so it stays invertible with few readings. Sensors that usually move
    together then score high when one of them breaks away, even if its value alone looks normal.

    The distance is calibrated as the sensor models' scores are (`AnomalyLikelihood`), reported as
    0.0 until `warmup` distances have been learned. A sensor's contribution is how far it lies from
    what the other sensors predict for it (its squared conditional residual), as a share of the total;
    `expected` is the same prediction in the sensor's own units, `band` conditional spreads wide.
    Score first, then learn; NaN and inf readings are skipped with a neutral score.

    >>> import random
    >>> rng, model = random.Random(5), DeviceModel()
    >>> def pump(minute, load, power_fault=0.0):  # three sensors driven by one slowly moving load
    ...     _ = model.process("pump/flow", 60.0 + 2.0 * load + rng.gauss(0.0, 0.2), minute)
    ...     _ = model.process("pump/pressure", 4.0 + 0.2 * load + rng.gauss(0.0, 0.02), minute)
    ...     return model.process("pump/power", 45.0 + load + rng.gauss(0.0, 0.1) + power_fault, minute)
    >>> load = 0.0
    >>> for minute in range(600):
    ...     load = 0.95 * load + 0.3 * rng.gauss(0.0, 1.0)
    ...     _ = pump(minute, load)
    >>> for minute in range(600, 605):  # the power drops 1.5 kW: within its usual range, not with the load
    ...     load = 0.95 * load + 0.3 * rng.gauss(0.0, 1.0)
    ...     score = pump(minute, load, power_fault=-1.5)
    >>> score.warming_up, round(score.likelihood, 3), score.contributions[0]
    (False, 0.999, ('pump/power', 0.667504))
    >>> round(score.low, 1) <= 45.0 + load <= round(score.high, 1)
    True
    """

    __slots__ = (
        "rate", "clip", "memory", "shrink", "warmup", "window", "horizon", "threshold", "band",
        "sensors", "baselines", "residuals", "covariance", "precision", "calibration",
        "count", "skipped", "joint", "_probation",
    )  # fmt: skip

    def __init__(
        self,
        rate: float = 0.01,
        clip: float = 3.0,
        memory: int = 500,
        shrink: float = 0.1,
        warmup: int = 200,
        *,
        window: int = 5,
        horizon: int = 1000,
        threshold: float = 0.99,
        band: float = 3.0,
    ) -> None:
        owner = "DeviceModel"
        self.rate = checks.fraction(owner, "rate", rate)
        self.clip = checks.positive(owner, "clip", clip)
        self.memory = checks.count(owner, "memory", memory, minimum=2)
        self.shrink = checks.fraction(owner, "shrink", shrink)
        self.warmup = checks.count(owner, "warmup", warmup)
        self.window = checks.count(owner, "window", window, minimum=1)
        self.horizon = checks.count(owner, "horizon", horizon, minimum=10)
        self.threshold = checks.fraction(owner, "threshold", threshold)
        self.band = checks.positive(owner, "band", band)
        self.sensors: dict[str, int] = {}  # sensor_id -> position in the residual vector
        self.baselines: list[RobustBaseline] = []
        self.residuals = np.zeros(0)  # each sensor's latest standardised residual
        self.covariance = np.zeros((0, 0))
        self.precision = np.zeros((0, 0))  # inverse of the shrunk covariance
        self.calibration = AnomalyLikelihood(window, horizon, MIN_WIDTH)  # distances are in sigmas
        self.count = 0  # readings processed, skipped ones included
        self.skipped = 0  # NaN / inf readings
        self.joint = 0  # residual vectors learned by the covariance
        self._probation = warmup

    def process(self, sensor_id: str, value: float, ts_ms: int) -> DeviceScore:
        """Score the device's state with this reading against what was learned so far, then learn."""
        self.count += 1
        value = self._number(value)
        i = self._position(sensor_id)
        baseline = self.baselines[i]
        if value - value != 0.0:  # NaN or inf, without a call
            self.skipped += 1
            return DeviceScore(0.0, 0.0, (), sensor_id, None, None, None, self.warming_up)
        if not baseline.ready:
            baseline.update(value)
            return DeviceScore(0.0, 0.0, (), sensor_id, None, None, None, True)
        self.residuals[i] = baseline.z(value)
        raw, contributions, predicted, conditional_sd = self._joint_score(i)
        likelihood = self.calibration.likelihood(raw)
        warming_up = self.warming_up
        self._learn(baseline, value, raw, likelihood, warming_up)
        margin = self.band * conditional_sd * baseline.scale
        expected = baseline.level + predicted * baseline.scale
        return DeviceScore(raw, 0.0 if warming_up else likelihood, contributions, sensor_id,
                           expected, expected - margin, expected + margin, warming_up)

    @property
    def warming_up(self) -> bool:
        """Whether likelihoods are still held at 0.0: too few distances learned to judge one."""
        return self._probation > 0 or not self.calibration.ready

    def _joint_score(self, i: int) -> tuple[float, tuple[tuple[str, float], ...], float, float]:
        """Distance, contributions, and sensor i's residual as the others predict it (with its spread)."""
        r, precision = self.residuals, self.precision
        pulled = precision @ r
        distance_sq = float(r @ pulled)
        raw = math.sqrt(distance_sq) if distance_sq > 0.0 else 0.0
        diagonal = np.diag(precision)
        # Sensor k's residual minus its regression on the others is pulled[k] / precision[k, k].
        conditional = pulled * pulled / diagonal
        total = float(conditional.sum())
        names = list(self.sensors)
        if total > 0.0:
            shares = sorted(zip(names, (conditional / total).tolist()), key=lambda pair: -pair[1])
        else:
            shares = [(name, 0.0) for name in names]
        contributions = tuple((name, round(share, 6)) for name, share in shares)
        predicted = float(r[i] - pulled[i] / diagonal[i])
        return min(raw, RAW_CAP), contributions, predicted, 1.0 / math.sqrt(diagonal[i])

    def _learn(self, baseline: RobustBaseline, value: float, raw: float, likelihood: float,
               warming_up: bool) -> None:
        baseline.update(value)
        self._learn_covariance(np.clip(self.residuals, -self.clip, self.clip))
        if self.joint < MIN_JOINT:
            return
        # An anomalous distance stays out of the calibration, so a long anomaly does not become normal.
        if warming_up or likelihood < self.threshold:
            self.calibration.learn(raw)
            if self._probation > 0:
                self._probation -= 1

    def _learn_covariance(self, r: np.ndarray) -> None:
        self.joint += 1
        rate = max(1.0 / self.joint, 1.0 / self.memory)
        self.covariance += rate * (np.outer(r, r) - self.covariance)
        if self.joint > MIN_JOINT and self.joint % REFRESH:
            return
        shrunk = (1.0 - self.shrink) * self.covariance + self.shrink * np.diag(np.diag(self.covariance))
        # Residuals are in sigmas, so a unit ridge keeps a sensor that has barely moved invertible.
        shrunk[np.diag_indices_from(shrunk)] += 1e-3
        self.precision = np.linalg.inv(shrunk)

    def _position(self, sensor_id: str) -> int:
        """The sensor's index in the residual vector; a new sensor joins as uncorrelated with the rest."""
        i = self.sensors.get(sensor_id)
        if i is not None:
            return i
        if not isinstance(sensor_id, str) or not sensor_id:
            raise ValueError(f"DeviceModel.process: sensor_id must be a non-empty string, got {sensor_id!r}")
        i = self.sensors[sensor_id] = len(self.baselines)
        self.baselines.append(RobustBaseline(self.rate, self.clip))
        self.residuals = np.append(self.residuals, 0.0)
        grown = np.eye(i + 1)
        grown[:i, :i] = self.covariance
        self.covariance = grown
        self.precision = np.linalg.inv(grown + 1e-3 * np.eye(i + 1))
        return i

    @staticmethod
    def _number(value: object) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"DeviceModel.process: value must be a number, got {value!r}") from None

    def __repr__(self) -> str:
        return f"DeviceModel(sensors={list(self.sensors)!r}, count={self.count}, warming_up={self.warming_up})"

