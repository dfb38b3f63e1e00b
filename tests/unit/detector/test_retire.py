"""Sensors retired in the registry: their alerts resolve, their state goes, what they still send is dead-lettered."""

from __future__ import annotations

import pickle

from alerts.rules import SensorInfo, default_rules
from alerts.transition import FIRING, RESOLVED
from detector.local_run import LocalDetector
from detector.registry import SensorRegistry
from detector.sensor_state import RETIRED
from detector.stateful import SensorStep
from detector.stream_entries import clock_batch
from models.model_config import ModelConfig
from tests.unit.detector.test_silences import MINUTE, T0, GroupState, frame, readings, tick

RETIRING = SensorRegistry({"door": SensorInfo("door")}, frozenset({"door"}))


def silent_door() -> tuple[LocalDetector, str]:
    """A detector on which `door` went silent while `hall` went on; the silence alert's event id."""
    local = LocalDetector(default_rules())
    local.process(readings("door", range(60)) + readings("hall", range(60), seed=2))
    [fired] = local.process(readings("hall", range(60, 71), seed=3)).transitions
    assert (fired.sensor_id, fired.state) == ("door", FIRING)
    return local, fired.event_id


def test_retiring_a_silent_sensor_resolves_its_alert_once_and_forgets_it():
    local, fired_id = silent_door()
    local.registry = RETIRING
    result = local.process([tick(72)])
    [resolved] = result.transitions
    assert (resolved.rule, resolved.sensor_id, resolved.state) == ("silence", "door", RESOLVED)
    assert resolved.fired_event_id == fired_id and resolved.event_id == fired_id, "pinned to its last entry"
    assert resolved.reason == RETIRED and resolved.summary == f"door is {RETIRED}"
    assert resolved.ts == T0 + 72 * MINUTE, "at the batch's clock"
    assert result.retired == ["door"] and "door" not in local.states and "hall" in local.states
    later = local.process([tick(200)]).transitions
    assert [t.sensor_id for t in later] == ["hall"], "door is forgotten: nothing more to say about it"


def test_a_retired_sensor_with_nothing_firing_is_forgotten_without_an_alert():
    local = LocalDetector(default_rules(), RETIRING)
    local.registry = SensorRegistry()
    local.process(readings("door", range(30)))
    local.registry = RETIRING
    result = local.process([tick(31)])
    assert (result.transitions, result.retired, local.states) == ([], ["door"], {})


def test_what_a_retired_sensor_still_sends_is_dead_lettered_with_how_to_take_it_back():
    local = LocalDetector(default_rules(), RETIRING)
    result = local.process(readings("door", range(3)) + readings("hall", range(3), seed=2))
    assert [letter.entry_id for letter in result.dead_letters] == [e.entry_id for e in readings("door", range(3))]
    assert "retired in the sensor registry (tocsin:sensors)" in result.dead_letters[0].reason
    assert "`tocsin retire --undo door`" in result.dead_letters[0].reason
    assert set(local.states) == {"hall"} and result.scored == 3


def test_a_sensor_taken_back_starts_afresh():
    local = LocalDetector(default_rules(), RETIRING)
    local.process(readings("door", range(3)))
    local.registry = SensorRegistry()
    local.process(readings("door", range(3, 5)))
    assert local.states["door"].count == 2


def test_a_bucket_that_only_gets_the_tick_saves_that_it_forgot_a_sensor():
    step = SensorStep(rules=default_rules(), registry=SensorRegistry(), model=ModelConfig())
    stored = GroupState()
    list(step(("bucket",), iter([frame(readings("door", range(60)))]), stored))
    retiring = SensorStep(rules=default_rules(), registry=RETIRING, model=ModelConfig())
    [out] = list(retiring(("bucket",), iter([clock_batch(T0 + 61 * MINUTE, 0).to_pandas()]), stored))
    assert pickle.loads(stored.get[0]) == {}
    assert list(zip(out["kind"], out["sensor_id"])) == [("retired", "door")], "the sink drops its counters"
