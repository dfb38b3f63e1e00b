"""The scenario schema: what a scenario file may say, validated field by field with pydantic.

Cross-references (sensor types, anomaly targets, timing that cannot work) are checked in `fleet.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.anomalies import Anomaly
from simulator.faults import Fault
from simulator.quantities import Duration, Name, Number, PositiveDuration, Spec, StartTime

# A fixed default start keeps runs reproducible: 2024-01-01T00:00:00Z, a Monday.
DEFAULT_START_MS = 1_704_067_200_000


class Noise(Spec):
    """Measurement noise: Gaussian, or heavy-tailed Student-t with `df` degrees of freedom."""

    sigma: Annotated[Number, Field(ge=0)]
    kind: Literal["gaussian", "student_t"] = "gaussian"
    df: Annotated[Number, Field(gt=2)] = 3.0

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, data: object) -> object:
        # `noise: 0.2` is short for Gaussian noise of sigma 0.2
        return {"sigma": data} if isinstance(data, int | float) and not isinstance(data, bool) else data


class SensorProfile(Spec):
    """The signal of a kind of sensor; every field may be left to the sensor type's defaults."""

    unit: str | None = None
    range: tuple[Number, Number] | None = Field(None, description="physical [low, high] the sensor can read")
    base: Number | None = None
    trend: Number | None = Field(None, description="units gained per hour")
    daily_amplitude: Number | None = None
    weekly_amplitude: Number | None = None
    noise: Noise | None = None
    precision: Annotated[int, Field(strict=True, ge=0, le=9)] | None = Field(None, description="decimals published")

    @field_validator("range")
    @classmethod
    def _range_ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError(f"must be [low, high] with low below high, got {list(value)}")
        return value


class SensorEntry(SensorProfile):
    """One sensor of a device; its id is `<device>/<name>` (name defaults to the type)."""

    type: Name
    name: Name | None = None
    interval: PositiveDuration | None = None
    jitter: Duration | None = None


class DeviceEntry(Spec):
    """A device and its sensors; `correlation` (0-1) is how much of their noise they share."""

    device: Name
    correlation: Annotated[Number, Field(ge=0, le=1)] = 0.0
    sensors: list[SensorEntry] = Field(min_length=1)


class SiteEntry(Spec):
    """A site, the Slack channel that owns its alerts, and its devices."""

    site: Name
    channel: str = ""
    devices: list[DeviceEntry] = Field(min_length=1)


class Scenario(Spec):
    """A whole simulated run: fleet, signal timing, injected anomalies and data faults, seed."""

    name: Name
    description: str = ""
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    duration: PositiveDuration
    interval: PositiveDuration = 1000
    jitter: Duration = 0
    start_time: StartTime = DEFAULT_START_MS
    speed: Annotated[Number, Field(gt=0)] = Field(1.0, description="time acceleration when published in real time")
    sensor_types: dict[Name, SensorProfile] = Field(default_factory=dict)
    fleet: list[SiteEntry] = Field(min_length=1)
    anomalies: list[Anomaly] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)

    @property
    def end_ms(self) -> int:
        """Event time at which the scenario stops (exclusive)."""
        return self.start_time + self.duration
