"""The seeded generator: a scenario in, its sensor events out in arrival order, plus their ground truth.

Each sensor is generated on its own, in chunks, from random streams keyed by (seed, name), then all
sensors are merged by arrival time. The same scenario and seed give the same events, byte for byte.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from simulator.anomalies import Readings
from simulator.faults import Records, broken_fields
from simulator.fleet import SensorSpec
from simulator.labels import Label
from simulator.plan import Plan, resolve
from simulator.schema import Scenario
from simulator.signals import baseline, device_load, gaussian_noise, heavy_tailed_noise, seeded

CHUNK = 4096  # samples per sensor generated at once: big enough for numpy, small enough for memory


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One simulated record: a reading as the event contract carries it, and when it arrives."""

    sensor_id: str
    ts_ms: int
    value: float
    device_id: str
    site: str
    unit: str
    emit_ms: int  # arrival time on the bus in event time; later than ts_ms for late records
    defect: int = 0  # 0 for a well-formed record, else 1 + index into faults.DEFECTS

    def to_fields(self) -> dict[str, str]:
        """The stream entry's fields (strings), broken as its defect says for a malformed record.

        >>> SimEvent("p-1/flow", 1704067200000, 61.25, "p-1", "north", "m3/h", 1704067200000).to_fields()
        {'sensor_id': 'p-1/flow', 'ts': '1704067200000', 'value': '61.25', 'device_id': 'p-1', 'site': 'north', 'unit': 'm3/h'}
        """
        fields = {"sensor_id": self.sensor_id, "ts": str(self.ts_ms), "value": repr(self.value),
                  "device_id": self.device_id, "site": self.site, "unit": self.unit}
        return broken_fields(fields, self.defect) if self.defect else fields


def generate(scenario: Scenario | Plan) -> Iterator[SimEvent]:
    """Every event of the scenario, in arrival order (event-time order unless a fault delays it)."""
    plan = scenario if isinstance(scenario, Plan) else resolve(scenario)
    streams = [_sensor_rows(plan, index, spec) for index, spec in enumerate(plan.sensors)]
    for emit_ms, index, _seq, ts_ms, value, defect in heapq.merge(*streams):
        spec = plan.sensors[index]
        yield SimEvent(spec.sensor_id, ts_ms, value, spec.device_id, spec.site, spec.unit, emit_ms, defect)


def labels(scenario: Scenario | Plan) -> list[Label]:
    """The ground truth of the scenario: one label per anomaly, then one per data fault, in file order."""
    plan = scenario if isinstance(scenario, Plan) else resolve(scenario)
    return [Label(i.kind, i.sensor_ids, i.start_ms, i.end_ms, plan.scenario.name)
            for i in plan.anomalies + plan.faults]


def sample_count(plan: Plan, spec: SensorSpec) -> int:
    """How many readings the sensor takes during the scenario (before dropouts and faults)."""
    return math.ceil(plan.scenario.duration / spec.interval_ms)


def _sensor_rows(plan: Plan, index: int, spec: SensorSpec) -> Iterator[tuple]:
    """One sensor's rows `(emit_ms, index, seq, ts_ms, value, defect)`, sorted by arrival."""
    seed, total = plan.scenario.seed, sample_count(plan, spec)
    noise_rng = seeded(seed, "noise", spec.sensor_id)
    jitter_rng = seeded(seed, "jitter", spec.sensor_id)
    anomalies = [(a, seeded(seed, "anomaly", str(n), spec.sensor_id), {})
                 for n, a in enumerate(plan.anomalies) if spec.sensor_id in a.sensor_ids]
    faults = [(f, seeded(seed, "fault", str(n), spec.sensor_id))
              for n, f in enumerate(plan.faults) if spec.sensor_id in f.sensor_ids]
    held: Records | None = None
    seq = 0
    for first in range(0, total, CHUNK):
        t_ms = plan.scenario.start_time + np.arange(first, min(first + CHUNK, total), dtype=np.int64) * spec.interval_ms
        values = _with_anomalies(spec, t_ms, _signal(plan, spec, t_ms, noise_rng), anomalies)
        records = _records(t_ms, np.round(values, spec.precision), spec.jitter_ms, jitter_rng)
        for injection, rng in faults:
            inside = (records.t_ms >= injection.start_ms) & (records.t_ms < injection.end_ms)
            records = injection.episode.disturb(records, inside, rng) if inside.any() else records
        records = records if held is None else held.then(records)
        records = records.take(np.argsort(records.emit_ms, kind="stable"))
        # Hold back what a later chunk could still overtake: its rows arrive no earlier than this bound.
        bound = t_ms[-1] + spec.interval_ms - spec.jitter_ms if first + CHUNK < total else np.iinfo(np.int64).max
        ready = int(np.searchsorted(records.emit_ms, bound, side="left"))
        held = records.take(np.arange(ready, len(records.values)))
        rows = zip(records.emit_ms[:ready].tolist(), records.ts_ms[:ready].tolist(),
                   records.values[:ready].tolist(), records.defects[:ready].tolist())
        for emit_ms, ts_ms, value, defect in rows:
            yield emit_ms, index, seq, ts_ms, value, defect
            seq += 1


def _signal(plan: Plan, spec: SensorSpec, t_ms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Base, trend, cycles and noise (part of it shared by the device), kept within the physical range."""
    shape = baseline(t_ms, start_ms=plan.scenario.start_time, base=spec.base, trend_per_hour=spec.trend,
                     daily_amplitude=spec.daily_amplitude, weekly_amplitude=spec.weekly_amplitude)
    noise = spec.noise
    own = (heavy_tailed_noise(rng, 1.0, len(t_ms), noise.df) if noise.kind == "student_t"
           else gaussian_noise(rng, 1.0, len(t_ms)))
    if spec.correlation:
        shared = device_load(t_ms, plan.scenario.seed, spec.device_id)
        own = spec.correlation * shared + math.sqrt(1 - spec.correlation**2) * own
    return np.clip(shape + noise.sigma * own, spec.low, spec.high)


def _with_anomalies(spec: SensorSpec, t_ms: np.ndarray, values: np.ndarray, anomalies: list) -> np.ndarray:
    """The readings after each anomaly, in file order, has reshaped the ones in its window."""
    for injection, rng, memory in anomalies:
        inside = (t_ms >= injection.start_ms) & (t_ms < injection.end_ms)
        if inside.any():
            window = Readings(t_ms[inside], values[inside], injection.start_ms, injection.end_ms,
                              spec.noise.sigma, spec.low, spec.high, rng, memory)
            values[inside] = injection.episode.shape(window)
    return values


def _records(t_ms: np.ndarray, values: np.ndarray, jitter_ms: int, rng: np.random.Generator) -> Records:
    """Records for the readings that exist (NaN: dropped), each arriving at its jittered sample time."""
    ts_ms = t_ms + rng.integers(-jitter_ms, jitter_ms + 1, len(t_ms)) if jitter_ms else t_ms.copy()
    kept = ~np.isnan(values)
    return Records(t_ms[kept], ts_ms[kept], ts_ms[kept].copy(), values[kept], np.zeros(int(kept.sum()), np.int64))

