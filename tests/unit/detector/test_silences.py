"""Silences through the detector's own per-sensor path (SensorGroup, as Spark and the local runner use it)."""

from __future__ import annotations

import pickle
import random

from alerts.rules import default_rules, parse_rules
from alerts.transition import FIRING, RESOLVED
from detector.console import alert_line
from detector.local_run import LocalDetector
from detector.sensor_group import SensorGroup
from detector.registry import SensorRegistry
from detector.sensor_state import RawEntry, SensorState
from detector.stateful import SensorStep
from detector.stream_entries import CLOCK_STREAM, clock_batch, record_batch
from models import SensorModel
from models.model_config import ModelConfig

T0 = 1_704_067_200_000
MINUTE = 60_000


def readings(sensor_id: str, minutes, seed: int = 1) -> list[RawEntry]:
    """One reading at each of `minutes` (arrival and event time alike)."""
    rng = random.Random(seed)
    return [RawEntry("tocsin:events", f"{T0 + m * MINUTE}-0", T0 + m * MINUTE, 0,
                     {"sensor_id": sensor_id, "ts": str(T0 + m * MINUTE), "value": f"{rng.gauss(20.0, 0.5):.3f}"})
            for m in minutes]


def tick(minute: float) -> RawEntry:
    ms = int(T0 + minute * MINUTE)
    return RawEntry(CLOCK_STREAM, f"{ms}-0", ms, 0, {})


def transitions(group: SensorGroup, batch: list[RawEntry]) -> list[tuple[str, str, str]]:
    result = group.process(batch)
    result = result[0] if isinstance(result, tuple) else result
    return [(t.rule, t.sensor_id, t.state) for t in result.transitions]


def test_a_sensor_that_stops_while_the_others_go_on_fires_once_then_resolves_on_its_next_reading():
    local = LocalDetector(default_rules())
    assert transitions(local, readings("door", range(60)) + readings("hall", range(60), seed=2)) == []
    assert transitions(local, readings("hall", range(60, 69), seed=3)) == [], "nine minutes: not yet unusual"
    assert transitions(local, readings("hall", range(69, 71), seed=4)) == [("silence", "door", FIRING)]
    assert transitions(local, readings("hall", range(71, 200), seed=5)) == [], "one alert per silence"
    assert transitions(local, readings("door", [200], seed=6)) == [("silence", "door", RESOLVED)]


def test_the_silence_alert_says_how_long_and_how_often_the_sensor_usually_reports():
    local = LocalDetector(default_rules())
    local.process(readings("door", range(60)))
    [fired] = local.process([tick(75)]).transitions
    assert fired.reason == "silent: no reading for 16m; usually a reading every 1m"
    assert fired.summary == "door is silent: no reading for 16m; usually a reading every 1m"
    assert fired.event_id == f"{T0 + 59 * MINUTE}-0" and fired.ts == T0 + 69 * MINUTE


def test_a_clock_tick_alone_is_enough_for_a_group_whose_sensors_all_went_quiet():
    group = SensorGroup(default_rules())
    group.process(readings("door", range(60)))
    result, scored = group.process([tick(65)])
    assert (result.transitions, scored) == ([], [])
    result, scored = group.process([tick(75)])
    assert [(t.sensor_id, t.state) for t in result.transitions] == [("door", FIRING)] and scored == []


def test_a_silence_inside_one_batch_gives_the_same_alerts_as_when_batches_cut_through_it():
    entries = readings("door", [*range(60), *range(120, 180)]) + readings("hall", range(180), seed=2)
    entries.sort(key=lambda entry: entry.id_ms)
    whole = LocalDetector(default_rules()).process(entries).transitions
    local, cut = LocalDetector(default_rules()), []
    for minute in range(0, 180, 2):
        cut += local.process([e for e in entries if minute * MINUTE <= e.id_ms - T0 < (minute + 2) * MINUTE]).transitions
    silences = [(t.id, t.state, t.ts, t.event_id) for t in whole if t.rule == "silence"]
    assert [s[1] for s in silences] == [FIRING, RESOLVED]
    assert silences == [(t.id, t.state, t.ts, t.event_id) for t in cut if t.rule == "silence"]


def test_without_a_silence_rule_nothing_is_judged_and_a_fixed_limit_applies_from_the_first_gap():
    quiet = parse_rules("rules: [{name: hot, when: {value_above: 80}}]")
    local = LocalDetector(quiet)
    local.process(readings("door", range(3)))
    assert local.process([tick(600)]).transitions == []
    fixed = LocalDetector(parse_rules("rules: [{name: gone, when: {silent_for: 2m}}]"))
    fixed.process(readings("door", range(3)))
    assert [(t.rule, t.state) for t in fixed.process([tick(4)]).transitions] == [("gone", FIRING)]


def test_a_sensor_state_saved_before_silences_loads_and_learns_its_arrivals_from_then_on():
    state = SensorState(model=SensorModel())
    old = state.__dict__.copy()
    del old["arrivals"], old["info"]
    restored = SensorState.__new__(SensorState)
    restored.__setstate__(pickle.loads(pickle.dumps(old)))
    group = LocalDetector(default_rules(), states={"door": restored})
    group.process(readings("door", range(60)))
    assert restored.arrivals.gaps == 59 and restored.info.sensor_id == "door"


def test_the_console_line_of_a_silence_shows_why_not_a_missing_value():
    local = LocalDetector(default_rules())
    local.process(readings("door", range(60)))
    [fired] = local.process([tick(75)]).transitions
    line = alert_line(fired)
    assert "silence on [bold]door[/bold]: silent: no reading for 16m; usually a reading every 1m" in line
    assert "nan" not in line


def test_a_fleet_that_pauses_as_a_whole_is_no_sensor_s_silence():
    # A stopped publisher or a paused bus: nothing arrives from anyone, so no sensor is to blame.
    local = LocalDetector(default_rules())
    both = sorted(readings("door", range(60)) + readings("hall", range(60), seed=2), key=lambda e: e.id_ms)
    assert transitions(local, both) == []
    assert transitions(local, [tick(59)]) == [], "no arrival, no time: the clock stands still"
    back = sorted(readings("door", range(90, 95), seed=3) + readings("hall", range(90, 100), seed=4),
                  key=lambda e: e.id_ms)
    assert transitions(local, back) == []
    assert transitions(local, readings("hall", range(100, 106), seed=5)) == [("silence", "door", FIRING)], \
        "then eleven minutes of the fleet going on without it"


def test_a_bucket_that_only_gets_the_tick_keeps_the_pause_it_forgave():
    # In Spark a state bucket lives one batch: it must save a forgiven pause, or its sensors' next readings
    # would end a silence the whole fleet had.
    step = SensorStep(rules=default_rules(), registry=SensorRegistry(), model=ModelConfig())
    stored = GroupState()
    list(step(("bucket",), iter([frame(readings("door", range(60)))]), stored))
    idle = clock_batch(T0 + 90 * MINUTE, 30 * MINUTE).to_pandas()
    list(step(("bucket",), iter([idle]), stored))
    assert pickle.loads(stored.get[0])["door"].arrivals.paused == 30 * MINUTE
    out = list(step(("bucket",), iter([frame(readings("door", range(91, 93)))]), stored))
    assert out[0]["kind"].tolist().count("alert") == 0


class GroupState:
    """Spark's GroupState, as far as SensorStep uses it: a stored row."""

    def __init__(self) -> None:
        self.get, self.exists = None, False

    def update(self, row) -> None:
        self.get, self.exists = row, True


def frame(entries):
    return record_batch("tocsin:events", [(e.entry_id, [k for pair in e.fields.items() for k in pair])
                                          for e in entries]).to_pandas()
