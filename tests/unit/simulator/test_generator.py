"""The generator: deterministic, in arrival order, complete, and keyed so fleets can grow."""

import json

import numpy as np

from simulator.generator import generate, labels, sample_count
from simulator.plan import resolve
from simulator.scenario_file import find_scenario

from .conftest import FLEET, build, by_sensor


def wire(scenario) -> bytes:
    return b"".join(json.dumps(e.to_fields()).encode() + b"\n" for e in generate(scenario))


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    scenario = find_scenario("default")
    assert wire(scenario) == wire(find_scenario("default"))
    assert wire(scenario) != wire(scenario.model_copy(update={"seed": scenario.seed + 1}))
    assert labels(scenario) == labels(find_scenario("default"))


def test_events_come_in_event_time_order_with_every_sample_of_every_sensor():
    scenario = build("jitter: 3s\n")
    events = list(generate(scenario))
    arrivals = [e.emit_ms for e in events]
    assert arrivals == sorted(arrivals)
    assert all(e.ts_ms == e.emit_ms for e in events)  # no fault: each arrives at its own time
    plan = resolve(scenario)
    groups = by_sensor(events)
    assert set(groups) == {s.sensor_id for s in plan.sensors}
    for spec in plan.sensors:
        stamps = [e.ts_ms for e in groups[spec.sensor_id]]
        assert len(stamps) == sample_count(plan, spec) == 120
        assert stamps == sorted(stamps)
        assert max(abs(ts - (scenario.start_time + i * 10_000)) for i, ts in enumerate(stamps)) <= 3000


def test_events_follow_the_event_contract():
    from detector.events import parse_event

    event = next(iter(generate(build())))
    parsed = parse_event(event.to_fields())
    assert (parsed.sensor_id, parsed.ts_ms, parsed.value, parsed.device_id, parsed.site, parsed.unit) == (
        event.sensor_id, event.ts_ms, event.value, "pump-1", "plant", "bar")


def test_readings_use_the_type_defaults_and_the_sensor_overrides():
    scenario = build(fleet=FLEET.replace("{type: flow}", "{type: flow, base: 120, noise: 0.5, unit: l/s, daily_amplitude: 0}"))
    groups = by_sensor(generate(scenario))
    flows = np.array([e.value for e in groups["pump-1/flow"]])
    pressures = np.array([e.value for e in groups["pump-1/pressure"]])
    assert abs(flows.mean() - 120) < 2 and groups["pump-1/flow"][0].unit == "l/s"
    assert abs(pressures.mean() - 4.0) < 0.05 and 0.03 < pressures.std() < 0.07


def test_adding_a_sensor_leaves_the_others_unchanged():
    bigger = build(fleet=FLEET.replace("sensors: [{type: pressure}]", "sensors: [{type: pressure}, {type: power}]"))
    before, after = by_sensor(generate(build())), by_sensor(generate(bigger))
    assert set(after) - set(before) == {"pump-2/power"}
    assert all(before[s] == after[s] for s in before)


def test_sensors_of_a_correlated_device_move_together():
    def shared_movement(correlation: float) -> float:
        fleet = FLEET.replace("device: pump-1", f"device: pump-1\n        correlation: {correlation}")
        groups = by_sensor(generate(build("duration: 6h\n", fleet=fleet.replace("duration: 20m\n", ""))))
        pressure = np.array([e.value for e in groups["pump-1/pressure"]])
        flow = np.array([e.value for e in groups["pump-1/flow"]])
        return float(np.corrcoef(pressure, flow)[0, 1])

    assert shared_movement(0.9) > 0.6
    assert abs(shared_movement(0.0)) < 0.15


def test_a_run_of_several_chunks_is_complete_and_in_order():
    scenario = build("interval: 1s\njitter: 400ms\n", fleet=FLEET.replace("interval: 10s\n", "").replace("20m", "3h"))
    events = list(generate(scenario))
    assert len(events) == 4 * 3 * 3600  # 10 800 samples a sensor: three chunks
    assert all(a.emit_ms <= b.emit_ms for a, b in zip(events, events[1:]))
