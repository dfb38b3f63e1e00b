"""Data faults: records arrive late, out of order, twice, broken or with a skewed clock, inside their window only."""

from collections import Counter

import pytest

from detector.events import InvalidEvent, parse_event
from simulator.faults import DEFECTS
from simulator.generator import generate

from .conftest import FLEET, build


def fault(kind: str, extra: str, targets: str = "sensors: [pump-1/flow]") -> str:
    return f"faults:\n  - kind: {kind}\n    at: 5m\n    duration: 10m\n    {targets}\n    {extra}\n"


def untouched_outside(label, events, clean):
    for sensor_id in clean:
        keep = [e for e in events[sensor_id] if not label.covers(sensor_id, e.ts_ms) or sensor_id not in label.sensors]
        if sensor_id in label.sensors:
            assert keep == [e for e in clean[sensor_id] if not label.covers(sensor_id, e.ts_ms)]
        else:
            assert events[sensor_id] == clean[sensor_id]


def test_late_records_arrive_after_their_delay_and_claim_their_own_time(injected):
    label, events, clean = injected(fault("late", "delay: 1m\n    rate: 0.3"))
    untouched_outside(label, events, clean)
    late = [e for e in events["pump-1/flow"] if e.emit_ms != e.ts_ms]
    assert 5 < len(late) < 40 and all(e.emit_ms - e.ts_ms == 60_000 for e in late)
    assert all(label.covers(e.sensor_id, e.ts_ms) for e in late)
    assert sorted(e.ts_ms for e in events["pump-1/flow"]) == [e.ts_ms for e in clean["pump-1/flow"]]


def test_out_of_order_records_overtake_each_other(injected):
    label, events, clean = injected(fault("out_of_order", "delay: 45s\n    rate: 0.5"))
    untouched_outside(label, events, clean)
    stamps = [e.ts_ms for e in events["pump-1/flow"]]
    assert stamps != sorted(stamps)
    assert Counter(stamps) == Counter(e.ts_ms for e in clean["pump-1/flow"])


def test_duplicates_repeat_records_right_after_themselves(injected):
    label, events, clean = injected(fault("duplicate", "rate: 0.2"))
    untouched_outside(label, events, clean)
    flows = events["pump-1/flow"]
    repeats = [b for a, b in zip(flows, flows[1:]) if a == b]
    assert len(flows) - len(clean["pump-1/flow"]) == len(repeats) > 3
    assert all(label.covers(e.sensor_id, e.ts_ms) for e in repeats)


def test_malformed_records_break_the_event_contract(injected):
    label, events, clean = injected(fault("malformed", "rate: 0.5", targets="devices: [pump-1]"))
    untouched_outside(label, events, clean)
    broken = [e for group in events.values() for e in group if e.defect]
    assert {DEFECTS[e.defect - 1] for e in broken} == set(DEFECTS)
    for event in broken:
        with pytest.raises(InvalidEvent):
            parse_event(event.to_fields())
    assert all(parse_event(e.to_fields()) for group in events.values() for e in group if not e.defect)


def test_clock_skew_shifts_the_claimed_time_in_its_window(injected):
    label, events, clean = injected(fault("clock_skew", "skew: -2m"))
    skewed = {e.emit_ms: e.ts_ms for e in events["pump-1/flow"]}
    for e in clean["pump-1/flow"]:
        expected = e.ts_ms - 120_000 if label.covers(e.sensor_id, e.ts_ms) else e.ts_ms
        assert skewed[e.emit_ms] == expected


def test_late_records_cross_chunk_boundaries_in_arrival_order():
    late = fault("late", "delay: 20m\n    rate: 0.05", targets="devices: [pump-1]").replace("10m", "2h")
    fleet = FLEET.replace("interval: 10s\n", "interval: 1s\n").replace("duration: 20m", "duration: 3h")
    scenario = build(late, fleet=fleet)
    events = list(generate(scenario))
    assert len(events) == 4 * 3 * 3600
    assert all(a.emit_ms <= b.emit_ms for a, b in zip(events, events[1:]))
    assert sum(e.emit_ms > e.ts_ms for e in events) > 1000
