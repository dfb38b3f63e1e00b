"""The fleet as the generator sees it: one fully resolved `SensorSpec` per sensor.

A sensor's settings come from the sensor entry, else from the scenario's `sensor_types`, else from the
built-in type below. Users add types under `sensor_types`; a type that is not built in must give at
least `unit`, `range`, `base` and `noise`.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.schema import Noise, Scenario, SensorProfile

Loc = tuple[str | int, ...]

BUILTIN_TYPES: dict[str, SensorProfile] = {
    "temperature": SensorProfile(unit="°C", range=(-40.0, 125.0), base=21.0, noise=Noise(sigma=0.2),
                                 daily_amplitude=1.0, precision=2),
    "humidity": SensorProfile(unit="%RH", range=(0.0, 100.0), base=45.0, noise=Noise(sigma=1.0),
                              daily_amplitude=3.0, precision=1),
    "pressure": SensorProfile(unit="bar", range=(0.0, 16.0), base=4.0, noise=Noise(sigma=0.05), precision=3),
    "vibration": SensorProfile(unit="mm/s", range=(0.0, 50.0), base=2.5,
                               noise=Noise(sigma=0.3, kind="student_t", df=4.0), precision=3),
    "power": SensorProfile(unit="kW", range=(0.0, 1000.0), base=40.0, noise=Noise(sigma=1.5),
                           daily_amplitude=5.0, precision=2),
    "flow": SensorProfile(unit="m3/h", range=(0.0, 500.0), base=60.0, noise=Noise(sigma=1.5),
                          daily_amplitude=4.0, precision=2),
}
REQUIRED_FOR_NEW_TYPES = ("unit", "range", "base", "noise")
# What a field falls back to when neither the sensor, nor its scenario type, nor a built-in type sets it.
FALLBACKS = {"trend": 0.0, "daily_amplitude": 0.0, "weekly_amplitude": 0.0, "precision": 3}


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """Everything needed to generate one sensor's readings and describe it in the registry."""

    sensor_id: str
    type: str
    site: str
    device_id: str
    channel: str
    unit: str
    low: float
    high: float
    base: float
    trend: float
    daily_amplitude: float
    weekly_amplitude: float
    noise: Noise
    precision: int
    interval_ms: int
    jitter_ms: int
    correlation: float

    def registry_entry(self) -> dict[str, object]:
        """The sensor's entry in the `tocsin:sensors` registry hash."""
        return {"type": self.type, "site": self.site, "device_id": self.device_id, "unit": self.unit,
                "channel": self.channel, "range": [self.low, self.high]}


class ScenarioInvalid(ValueError):
    """A scenario that validates field by field but cannot run; `problems` are (field path, reason)."""

    def __init__(self, name: str, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        lines = [f"{'.'.join(map(str, loc))}: {reason}" for loc, reason in problems]
        super().__init__(f"scenario {name!r}: " + "; ".join(lines))


def type_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Scenario sensor types that add a new type without the fields it cannot do without."""
    found = []
    for name, profile in scenario.sensor_types.items():
        if name not in BUILTIN_TYPES:
            for field in REQUIRED_FOR_NEW_TYPES:
                if getattr(profile, field) is None:
                    found.append((("sensor_types", name, field), "required for a sensor type that is not built in"))
    return found


def sensor_specs(scenario: Scenario, problems: list[tuple[Loc, str]]) -> list[SensorSpec]:
    """Resolve every sensor of the fleet, in file order; what cannot be resolved goes to `problems`."""
    specs: list[SensorSpec] = []
    seen: dict[str, Loc] = {}
    for s, site in enumerate(scenario.fleet):
        for d, device in enumerate(site.devices):
            here: Loc = ("fleet", s, "devices", d)
            if device.device in seen:
                problems.append((here + ("device",), f"device {device.device!r} appears twice"))
            seen[device.device] = here
            for i, entry in enumerate(device.sensors):
                loc = here + ("sensors", i)
                sensor_id = f"{device.device}/{entry.name or entry.type}"
                if sensor_id in seen:
                    problems.append((loc, f"sensor {sensor_id!r} appears twice (give one a 'name')"))
                seen[sensor_id] = loc
                layers = _layers(scenario, entry, loc, problems)
                if layers is not None:
                    specs.append(_spec(scenario, site, device, entry, sensor_id, layers, loc, problems))
    return specs


def _layers(scenario, entry, loc: Loc, problems: list) -> list[SensorProfile] | None:
    layers = [entry, scenario.sensor_types.get(entry.type), BUILTIN_TYPES.get(entry.type)]
    if layers[1] is None and layers[2] is None:
        known = sorted(set(BUILTIN_TYPES) | set(scenario.sensor_types))
        problems.append((loc + ("type",), f"unknown sensor type {entry.type!r} (known: {', '.join(known)}; "
                                          "add new ones under sensor_types)"))
        return None
    return [layer for layer in layers if layer is not None]


def _spec(scenario, site, device, entry, sensor_id, layers, loc: Loc, problems: list) -> SensorSpec:
    def pick(field: str):
        for layer in layers:
            if getattr(layer, field) is not None:
                return getattr(layer, field)
        return FALLBACKS.get(field)

    low, high = pick("range") or (float("-inf"), float("inf"))
    base = pick("base") or 0.0
    if not low <= base <= high:
        problems.append((loc + ("base",), f"base {base:g} is outside the sensor's range [{low:g}, {high:g}]"))
    interval = entry.interval or scenario.interval
    jitter = scenario.jitter if entry.jitter is None else entry.jitter
    if 2 * jitter >= interval:
        problems.append((loc + ("jitter",) if entry.jitter is not None else ("jitter",),
                         f"must be under half the sampling interval ({interval} ms) so readings stay in order "
                         "(an out_of_order fault is the way to disorder them)"))
    return SensorSpec(
        sensor_id=sensor_id, type=entry.type, site=site.site, device_id=device.device, channel=site.channel,
        unit=pick("unit") or "", low=low, high=high, base=base, trend=pick("trend"),
        daily_amplitude=pick("daily_amplitude"), weekly_amplitude=pick("weekly_amplitude"),
        noise=pick("noise") or Noise(sigma=0.0), precision=pick("precision"), interval_ms=interval,
        jitter_ms=jitter, correlation=device.correlation,
    )
