"""Silence rules: `silent_for` in a rules file, firing once on a long silence, resolving at the next reading."""

from __future__ import annotations

import math

import pytest

from alerts.evaluation import Observation, RuleState, evaluate
from alerts.rules import AUTO, RuleFileError, SensorInfo, parse_rules
from alerts.silence import duration_words, shortest_silence, spoke, went_silent
from alerts.slack_message import firing_message
from alerts.transition import FIRING, RESOLVED, transition_id

T0 = 1_700_000_000_000


@pytest.fixture
def pump() -> SensorInfo:
    return SensorInfo("pump-1", type="pressure", site="plant-a", channel="#pumps")


def rules(text: str):
    return parse_rules(text).rules


FIXED_AND_AUTO = "rules: [{name: quiet, when: {silent_for: 5m}, severity: critical}, {name: usual, when: {silent_for: auto}}]"


def silent(rule_list, states, sensor, silent_ms, usual_ms=None):
    return went_silent(rule_list, states, sensor, silent_ms=silent_ms, usual_ms=usual_ms, mean_gap_ms=60_000.0,
                       last_event_id="1700000000000-0", last_ts_ms=T0)


def test_a_fixed_silence_fires_once_at_its_limit_pinned_to_the_last_reading(pump):
    states: dict[str, RuleState] = {}
    quiet = rules(FIXED_AND_AUTO)[:1]
    assert silent(quiet, states, pump, 299_999) == []
    [fired] = silent(quiet, states, pump, 300_000)
    assert (fired.rule, fired.state, fired.severity, fired.channel) == ("quiet", FIRING, "critical", "#pumps")
    assert fired.event_id == "1700000000000-0" and fired.ts == T0 + 300_000  # when the silence became one
    assert fired.id == transition_id("quiet", "pump-1", FIRING, "1700000000000-0")
    assert math.isnan(fired.value) and math.isnan(fired.score)
    assert fired.reason == "silent: no reading for 5m; usually a reading every 1m"
    assert fired.expected == "", "the reason says the usual pace"
    assert silent(quiet, states, pump, 900_000) == [], "one alert per silence"


def test_an_auto_silence_waits_for_the_learned_limit(pump):
    states: dict[str, RuleState] = {}
    usual = rules(FIXED_AND_AUTO)[1:]
    assert silent(usual, states, pump, 10_000_000, usual_ms=None) == [], "nothing learned yet: no judgement"
    assert silent(usual, states, pump, 599_000, usual_ms=600_000) == []
    [fired] = silent(usual, states, pump, 600_000, usual_ms=600_000)
    assert fired.rule == "usual" and fired.ts == T0 + 600_000


def test_the_next_reading_resolves_the_silence_and_points_back_to_it(pump):
    states: dict[str, RuleState] = {}
    both = rules(FIXED_AND_AUTO)
    fired = silent(both, states, pump, 700_000, usual_ms=600_000)
    assert [t.rule for t in fired] == ["quiet", "usual"]
    back = Observation("pump-1", "1700000700000-0", T0 + 700_000, 4.2, 0.3)
    resolved = spoke(both, states, back, pump)
    assert [(t.rule, t.state, t.fired_event_id, t.value) for t in resolved] == [
        ("quiet", RESOLVED, "1700000000000-0", 4.2), ("usual", RESOLVED, "1700000000000-0", 4.2)]
    assert {(t.reason, t.summary) for t in resolved} == {("reporting again", "pump-1 is reporting again")}
    assert spoke(both, states, back, pump) == [], "resolved once"


def test_events_never_step_a_silence_rule(pump):
    states: dict[str, RuleState] = {}
    both = rules(FIXED_AND_AUTO)
    for i in range(5):
        assert evaluate(both, states, Observation("pump-1", f"{i}-0", T0 + i, 1e9, 1.0), pump) == []
    assert not any(state.firing or state.matches for state in states.values())


def test_the_slack_text_says_the_sensor_is_silent_without_inventing_a_value(pump):
    [fired] = silent(rules(FIXED_AND_AUTO)[:1], {}, pump, 300_000)
    text = firing_message(fired).text
    assert "value n/a" in text and "why: silent: no reading for 5m" in text and "nan" not in text


def test_the_shortest_silence_bounds_which_sensors_need_a_look():
    assert shortest_silence(rules(FIXED_AND_AUTO), 10_000) == 10_000
    assert shortest_silence(rules("rules: [{name: a, when: {silent_for: 2h}}]"), 10_000) == 7_200_000
    assert shortest_silence(rules("rules: [{name: a, when: {value_above: 1}}]"), 10_000) is None


@pytest.mark.parametrize(("when", "message"), [
    ("{silent_for: 10}", "silent_for: must be a duration like '10m', or auto, got 10"),
    ("{silent_for: 5000}", "silent_for: must be a duration like '10m', or auto, got 5000"),
    ("{silent_for: 500ms}", "silent_for: '500ms' is under a second"),
    ("{silent_for: soon}", "silent_for: 'soon' is not a duration: a number and a unit ms, s, m, h or d, e.g. '30s', or auto"),
    ("{silent_for: 5m, score_above: 0.9}", "has 2 conditions (score_above, silent_for)"),
])
def test_a_bad_silence_condition_names_the_field_and_line(when, message):
    with pytest.raises(RuleFileError) as caught:
        parse_rules(f"rules:\n  - name: s\n    when: {when}\n", "rules.yaml")
    assert "rules.yaml:3: rules[0].when" in str(caught.value) and message in str(caught.value)


def test_for_and_resolve_after_are_refused_on_a_silence_rule():
    with pytest.raises(RuleFileError, match="rules.yaml:2: rules\\[0\\]: for and resolve_after do not apply to silent_for"):
        parse_rules("rules:\n  - name: s\n    when: {silent_for: auto}\n    for: 3\n    resolve_after: 2\n", "rules.yaml")


def test_auto_and_durations_parse():
    assert [rule.when.silent_for for rule in rules(FIXED_AND_AUTO)] == [300_000, AUTO]


def test_durations_are_worded_in_at_most_two_units():
    assert [duration_words(ms) for ms in (59_600, 60_000, 3_600_000, 90_061_000)] == ["1m", "1m", "1h", "1d 1h"]
