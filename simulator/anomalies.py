"""Injected anomalies: what each kind does to the readings of the sensors it targets, inside its window.

An anomaly sees only the readings that fall in its event-time window and returns their new values;
NaN means "no reading" (a dropout). Magnitudes are in the sensor's own unit, except for
`device_failure`, whose magnitude is in multiples of each sensor's noise sigma (its sensors differ in unit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from simulator.quantities import Duration, Number, PositiveDuration, Spec


@dataclass(slots=True)
class Readings:
    """The readings of one sensor inside one anomaly's window, and what the anomaly may need of it."""

    t_ms: np.ndarray
    values: np.ndarray
    start_ms: int
    end_ms: int
    sigma: float  # the sensor's noise sigma
    low: float  # the sensor's physical range
    high: float
    rng: np.random.Generator  # this anomaly's own random stream for this sensor
    memory: dict = field(default_factory=dict)  # kept from one chunk of readings to the next

    @property
    def progress(self) -> np.ndarray:
        """How far into the window each reading is, from 0 to 1."""
        return (self.t_ms - self.start_ms) / max(self.end_ms - self.start_ms, 1)


class Episode(Spec):
    """Something that happens to some sensors from `at` (offset from the start) for `duration`."""

    at: Duration
    duration: PositiveDuration | None = Field(None, description="omitted: to the end of the run (one reading for a spike or dip)")
    sensors: list[Annotated[str, Field(strict=True, min_length=1)]] = Field(default_factory=list)
    devices: list[Annotated[str, Field(strict=True, min_length=1)]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_targets(self) -> "Episode":
        if not self.sensors and not self.devices:
            raise ValueError("needs targets: a 'sensors' or 'devices' list")
        return self


class Spike(Episode):
    """A short jump of `magnitude` (by default a single reading)."""

    kind: Literal["spike"]
    magnitude: Number

    def shape(self, r: Readings) -> np.ndarray:
        """The readings during the spike."""
        return r.values + self.magnitude


class Dip(Spike):
    """A short drop of `magnitude` below the normal reading."""

    kind: Literal["dip"]
    magnitude: Annotated[Number, Field(gt=0)]

    def shape(self, r: Readings) -> np.ndarray:
        """The readings during the dip."""
        return r.values - self.magnitude


class LevelShift(Episode):
    """The reading moves by `magnitude` and stays there until the window ends."""

    kind: Literal["level_shift"]
    magnitude: Number

    def shape(self, r: Readings) -> np.ndarray:
        """The readings during the shift."""
        return r.values + self.magnitude


class Drift(Episode):
    """A gradual departure, growing linearly from 0 to `magnitude` over the window."""

    kind: Literal["drift"]
    magnitude: Number

    def shape(self, r: Readings) -> np.ndarray:
        """The readings during the drift."""
        return r.values + self.magnitude * r.progress


class VarianceBurst(Episode):
    """The noise grows to `magnitude` times its usual standard deviation."""

    kind: Literal["variance_burst"]
    magnitude: Annotated[Number, Field(gt=1)]

    def shape(self, r: Readings) -> np.ndarray:
        """The readings during the burst: extra noise so the total sigma is `magnitude` x sigma."""
        extra = r.sigma * math.sqrt(self.magnitude**2 - 1)
        return r.values + r.rng.normal(0.0, extra, len(r.values))


class Stuck(Episode):
    """A flatline: the sensor repeats its first reading of the window."""

    kind: Literal["stuck"]

    def shape(self, r: Readings) -> np.ndarray:
        """The readings during the flatline."""
        held = r.memory.setdefault("held", float(r.values[0]) if len(r.values) else math.nan)
        return np.full(len(r.values), held)


class Dropout(Episode):
    """No data: the sensor sends nothing during the window."""

    kind: Literal["dropout"]

    def shape(self, r: Readings) -> np.ndarray:
        """No readings at all."""
        return np.full(len(r.values), math.nan)


class OutOfRange(Episode):
    """Physically impossible readings: `magnitude` above the range's high end (below the low end if < 0)."""

    kind: Literal["out_of_range"]
    magnitude: Number

    @model_validator(mode="after")
    def _not_zero(self) -> "OutOfRange":
        if self.magnitude == 0:
            raise ValueError("magnitude: must not be 0 (positive: above the range, negative: below it)")
        return self

    def shape(self, r: Readings) -> np.ndarray:
        """Readings outside the physical range, still with their noise."""
        edge = r.high if self.magnitude > 0 else r.low
        return edge + self.magnitude + r.rng.normal(0.0, r.sigma, len(r.values))


class Oscillation(Episode):
    """A sine of amplitude `magnitude` and period `period` on top of the normal reading."""

    kind: Literal["oscillation"]
    magnitude: Number
    period: PositiveDuration

    def shape(self, r: Readings) -> np.ndarray:
        """The readings while oscillating."""
        return r.values + self.magnitude * np.sin(2 * math.pi * (r.t_ms - r.start_ms) / self.period)


class DeviceFailure(Episode):
    """Every sensor of the target devices departs together by `magnitude` sigmas, reached after `ramp`."""

    kind: Literal["device_failure"]
    magnitude: Number
    ramp: Duration = 0

    @model_validator(mode="after")
    def _targets_devices(self) -> "DeviceFailure":
        if not self.devices:
            raise ValueError("devices: a device failure needs a 'devices' list")
        return self

    def shape(self, r: Readings) -> np.ndarray:
        """The readings of one of the failing device's sensors."""
        grown = np.minimum(1.0, (r.t_ms - r.start_ms) / self.ramp) if self.ramp else 1.0
        return r.values + self.magnitude * r.sigma * grown


Anomaly = Annotated[
    Spike | Dip | LevelShift | Drift | VarianceBurst | Stuck | Dropout | OutOfRange | Oscillation | DeviceFailure,
    Field(discriminator="kind"),
]
ANOMALY_KINDS = ("spike", "dip", "level_shift", "drift", "variance_burst", "stuck", "dropout",
                 "out_of_range", "oscillation", "device_failure")
