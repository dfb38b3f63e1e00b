"""One sensor's slice of a micro-batch: validation, replay safety, duplicates, late events, rules."""

from __future__ import annotations

import pickle

import numpy as np

from alerts.rules import SensorInfo, default_rules, parse_rules
from detector.sensor_state import Expectation, RawEntry, SensorState, advance
from models import SensorModel

T0 = 1_704_067_200_000
SENSOR = SensorInfo("pump-1/pressure", type="pressure", site="east", channel="#ops")


def entries(values, start=0, sensor="pump-1/pressure"):
    """Stream entries with consecutive ids and one reading a second."""
    return [RawEntry("tocsin:events", f"{T0 + i}-0", T0 + i, 0,
                     {"sensor_id": sensor, "ts": str(T0 + i * 1000), "value": repr(float(v))})
            for i, v in enumerate(values, start)]


def steady(n, seed=3):
    return np.random.default_rng(seed).normal(4.0, 0.1, n)


def fresh() -> SensorState:
    return SensorState(model=SensorModel())


def test_a_spike_after_warm_up_fires_once_and_resolves():
    values = steady(400)
    values[300] = 9.0
    state = fresh()
    result = advance(state, entries(values), default_rules(), SENSOR)
    assert [t.state for t in result.transitions] == ["firing", "resolved"]
    fired = result.transitions[0]
    assert (fired.sensor_id, fired.channel, fired.site, fired.value) == ("pump-1/pressure", "#ops", "east", 9.0)
    assert fired.expected.startswith("4") and "normal range" in fired.expected
    assert state.count == 400 and result.scored == 400


def test_entries_already_in_the_state_are_skipped_so_a_replay_changes_nothing():
    batch = entries(steady(50))
    state = fresh()
    advance(state, batch, default_rules(), SENSOR)
    again = advance(state, batch, default_rules(), SENSOR)
    assert again.scored == 0 and state.count == 50


def test_entries_are_processed_in_entry_id_order_whatever_order_they_arrive_in():
    batch = entries(steady(60))
    in_order, shuffled = fresh(), fresh()
    advance(in_order, batch, default_rules(), SENSOR)
    advance(shuffled, batch[::-1], default_rules(), SENSOR)
    assert pickle.dumps(in_order.model) == pickle.dumps(shuffled.model)


def test_a_duplicate_reading_is_not_double_counted_and_a_late_one_is_scored():
    batch = entries([4.0, 4.1, 4.2])
    duplicate = RawEntry("tocsin:events", f"{T0 + 10}-0", T0 + 10, 0, dict(batch[1].fields))
    late = RawEntry("tocsin:events", f"{T0 + 11}-0", T0 + 11, 0,
                    {"sensor_id": "pump-1/pressure", "ts": str(T0 - 5000), "value": "4.05"})
    state = fresh()
    result = advance(state, batch + [duplicate, late], default_rules(), SENSOR)
    assert (result.scored, state.count, state.duplicates, state.late) == (4, 4, 1, 1)


def test_a_malformed_entry_becomes_a_dead_letter_and_the_rest_goes_on():
    batch = entries([4.0, 4.1])
    bad = RawEntry("tocsin:events", f"{T0 + 1}-1", T0 + 1, 1, {"sensor_id": "pump-1/pressure", "ts": "x", "value": "1"})
    state = fresh()
    result = advance(state, batch + [bad], default_rules(), SENSOR)
    [letter] = result.dead_letters
    assert (letter.entry_id, letter.fields["ts"]) == (f"{T0 + 1}-1", "x")
    assert "ts:" in letter.reason
    assert state.count == 2


def test_state_of_a_rule_removed_from_the_file_is_dropped():
    state = fresh()
    advance(state, entries([4.0]), default_rules(), SENSOR)
    assert set(state.rules) == {"anomaly", "silence"}
    other = parse_rules("rules: [{name: hot, when: {value_above: 80}}]")
    advance(state, entries([4.0], start=1), other, SENSOR)
    assert set(state.rules) == {"hot"}


def test_the_state_pickles_small_and_continues_the_same():
    state = fresh()
    advance(state, entries(steady(300)), default_rules(), SENSOR)
    blob = pickle.dumps(state)
    assert len(blob) < 8192  # the default detector keeps a weekly profile: 336 slots of 8 bytes
    restored = pickle.loads(blob)
    tail = entries(steady(20, seed=9), start=300)
    assert advance(restored, tail, default_rules(), SENSOR).scored == 20 and restored.count == 320


def test_expectation_words_the_range():
    assert str(Expectation(20.123, 19.0, 21.5)) == "20.12, normal range 19..21.5"
    assert str(Expectation(20.123, None, None)) == "20.12"
    assert str(Expectation(None, None, None)) == "n/a"



def test_the_model_mutes_by_the_rules_that_watch_the_sensor():
    # Bursts inside the quiet period after the first: muted runs must stay below the rule's own threshold.
    values = np.random.default_rng(11).normal(100.0, 1.0, 600)
    for start in (400, 440, 480):
        values[start : start + 4] = values[start] + 40.0
    rules = parse_rules("rules: [{name: early, when: {score_above: 0.95}, for: 2, resolve_after: 3}]")
    state = fresh()
    fired = [t for t in advance(state, entries(values), rules, SENSOR).transitions if t.state == "firing"]
    assert len(fired) == 1, "one alert for the flickering anomaly, as under the default rule"
    assert (state.model.min_run, state.model.threshold) == (2, 0.99), "what is learned stays the model's call"
