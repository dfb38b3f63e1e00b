"""Rule evaluation: holds by count and by event time, resolve_after, one fire per episode, ids, summaries."""

from __future__ import annotations

import math
import pickle

import pytest

from alerts.evaluation import Observation, RuleState, evaluate, step
from alerts.rules import Rule, SensorInfo
from alerts.transition import FIRING, RESOLVED, transition_id

PUMP = SensorInfo("pump-1", type="pressure", site="plant-a", channel="#pump-owners")
T0 = 1_700_000_000_000


def rule(**fields) -> Rule:
    """A rule on any sensor; `when` defaults to value_above 80."""
    return Rule.model_validate({"name": "hot", "when": {"value_above": 80}} | fields)


def observe(i: int, value: float, score: float = 0.5, ts_ms: int | None = None) -> Observation:
    """The i-th event of pump-1, one second apart unless `ts_ms` says otherwise."""
    ts = T0 + 1_000 * i if ts_ms is None else ts_ms
    return Observation("pump-1", f"{ts}-{i}", ts, value, score, expected="expected 20 (18..22)")


def run(r: Rule, values, state: RuleState | None = None) -> list[tuple[int, str]]:
    """Step `r` over values; the (event index, transition state) of every transition."""
    state = RuleState() if state is None else state
    out = []
    for i, value in enumerate(values):
        transition = step(r, state, observe(i, value), PUMP)
        if transition is not None:
            out.append((i, transition.state))
    return out


def test_fires_on_the_third_consecutive_match():
    assert run(rule(**{"for": 3}), [90, 90, 90, 90]) == [(2, FIRING)]


def test_an_interrupted_run_starts_counting_again():
    assert run(rule(**{"for": 3}), [90, 90, 10, 90, 90, 90]) == [(5, FIRING)]


def test_pending_until_the_hold_is_reached():
    state, r = RuleState(), rule(**{"for": 2})
    step(r, state, observe(0, 90), PUMP)
    assert state.pending and not state.firing
    step(r, state, observe(1, 90), PUMP)
    assert state.firing and not state.pending


def test_duration_hold_fires_once_the_run_spans_it_in_event_time():
    r, state = rule(**{"for": "30s"}), RuleState()
    fired = [step(r, state, observe(i, 90, ts_ms=T0 + 10_000 * i), PUMP) for i in range(5)]
    assert [t.state if t else None for t in fired] == [None, None, None, FIRING, None]
    assert fired[3].ts == T0 + 30_000


def test_duration_hold_restarts_after_a_non_match():
    r, state = rule(**{"for": "30s"}), RuleState()
    times_and_values = [(0, 90), (20_000, 90), (25_000, 10), (40_000, 90), (65_000, 90), (70_000, 90)]
    fired = [step(r, state, observe(i, v, ts_ms=T0 + t), PUMP) for i, (t, v) in enumerate(times_and_values)]
    assert [i for i, t in enumerate(fired) if t] == [5]


def test_event_time_going_backwards_does_not_fire_early():
    r, state = rule(**{"for": "30s"}), RuleState()
    assert step(r, state, observe(0, 90, ts_ms=T0 + 60_000), PUMP) is None
    assert step(r, state, observe(1, 90, ts_ms=T0), PUMP) is None


def test_single_event_duration_hold_never_fires_on_its_first_event():
    assert run(rule(**{"for": "1s"}), [90]) == []


def test_no_second_fire_while_firing():
    assert run(rule(), [90] * 10) == [(0, FIRING)]


def test_resolves_after_resolve_after_consecutive_clears():
    assert run(rule(resolve_after=3), [90, 10, 10, 10, 10]) == [(0, FIRING), (3, RESOLVED)]


def test_a_match_while_firing_resets_the_clear_count():
    assert run(rule(resolve_after=2), [90, 10, 90, 10, 90, 10, 10]) == [(0, FIRING), (6, RESOLVED)]


def test_firing_again_after_resolve_needs_the_full_hold():
    r = rule(**{"for": 2})
    assert run(r, [90, 90, 10, 90, 10, 90, 90]) == [(1, FIRING), (2, RESOLVED), (6, FIRING)]


def test_resolve_points_at_the_event_that_fired():
    r, state = rule(), RuleState()
    fired = step(r, state, observe(0, 90), PUMP)
    resolved = step(r, state, observe(1, 10), PUMP)
    assert (fired.fired_event_id, resolved.fired_event_id) == ("", fired.event_id)
    assert state == RuleState()


@pytest.mark.parametrize(
    ("when", "values_and_scores", "fires_at"),
    [
        ({"score_above": 0.99}, [(20, 0.5), (20, 0.99), (20, 1.0)], 1),
        ({"value_above": 80}, [(80, 0.0), (80.5, 0.0)], 1),
        ({"value_below": 5}, [(5, 0.0), (4.0, 0.0)], 1),
        ({"value_outside": [5, 80]}, [(40, 0.0), (5, 0.0), (81, 0.0)], 2),
        ({"value_outside": [5, 80]}, [(40, 0.0), (4, 0.0)], 1),
    ],
    ids=["score_above", "value_above", "value_below", "value_outside-high", "value_outside-low"],
)
def test_each_condition_kind(when, values_and_scores, fires_at):
    r, state = rule(when=when), RuleState()
    fired = [step(r, state, observe(i, v, s), PUMP) for i, (v, s) in enumerate(values_and_scores)]
    assert [i for i, t in enumerate(fired) if t] == [fires_at]


def test_nan_score_neither_counts_nor_clears():
    r, state = rule(when={"score_above": 0.9}, **{"for": 2}, resolve_after=1), RuleState()
    assert step(r, state, observe(0, 1, 0.95), PUMP) is None
    before = pickle.dumps(state)
    assert step(r, state, observe(1, 1, math.nan), PUMP) is None
    assert pickle.dumps(state) == before
    assert step(r, state, observe(2, 1, 0.95), PUMP).state == FIRING
    assert step(r, state, observe(3, 1, math.nan), PUMP) is None
    assert state.firing


def test_transition_carries_the_event_the_rule_and_the_sensor():
    r = rule(severity="critical", channel="#ops-pumps")
    t = step(r, RuleState(), observe(4, 93.25, 0.997), PUMP)
    assert (t.rule, t.sensor_id, t.state) == ("hot", "pump-1", FIRING)
    assert (t.severity, t.site) == ("critical", "plant-a")
    assert (t.value, t.score, t.ts, t.event_id) == (93.25, 0.997, T0 + 4_000, f"{T0 + 4_000}-4")
    assert (t.channel, t.expected) == ("#ops-pumps", "expected 20 (18..22)")


def test_channel_falls_back_to_the_sensor_owner():
    assert step(rule(), RuleState(), observe(0, 90), PUMP).channel == "#pump-owners"
    assert step(rule(), RuleState(), observe(0, 90), SensorInfo("pump-1")).channel == ""


def test_ids_are_deterministic_across_replays():
    r, values = rule(**{"for": 2}, resolve_after=2), [90, 90, 90, 10, 10, 90]

    def transitions():
        state = RuleState()
        return [t for i, v in enumerate(values) if (t := step(r, state, observe(i, v), PUMP))]

    first, replay = transitions(), transitions()
    assert first == replay
    assert [t.id for t in first] == [
        transition_id("hot", "pump-1", FIRING, observe(1, 90).event_id),
        transition_id("hot", "pump-1", RESOLVED, observe(4, 10).event_id),
    ]


def test_state_survives_pickling_mid_run():
    r, state = rule(**{"for": 3}), RuleState()
    run(r, [90, 90], state)
    restored = pickle.loads(pickle.dumps(state))
    assert step(r, restored, observe(2, 90), PUMP).state == FIRING


def test_summary_template_gets_every_field():
    template = "{sensor_id}|{rule}|{value:.1f}|{score:.2f}|{expected}|{reason}|{site}|{severity}|{type}"
    t = step(rule(summary=template, severity="info"), RuleState(), observe(0, 90.04, 0.5), PUMP)
    assert t.summary == "pump-1|hot|90.0|0.50|expected 20 (18..22)|value above 80|plant-a|info|pressure"


def test_a_score_rule_reports_the_models_reason_at_the_event_that_fires_it():
    r, state = rule(when={"score_above": 0.99}, **{"for": 3}), RuleState()
    # The first reading looked like a spike; by the third, the model has seen that it lasts.
    reasons = ["spike: a", "spike: a", "shift: b"]
    scored = [Observation("pump-1", f"{i}-0", T0 + i, 50.0 + i, score, reason=why)
              for i, (score, why) in enumerate(zip([1.0, 0.999, 0.995], reasons))]
    fired = [step(r, state, obs, PUMP) for obs in scored][-1]
    assert (fired.state, fired.value, fired.score, fired.reason) == (FIRING, 50.0, 1.0, "shift: b")
    bare = Observation("pump-1", "9-0", T0 + 9, 50.0, 1.0)  # a score from outside tocsin's models says nothing
    assert step(rule(when={"score_above": 0.99}), RuleState(), bare, PUMP).reason == "anomaly score at or above 0.99"


@pytest.mark.parametrize(
    ("when", "value", "reason"),
    [({"value_above": 80}, 90.0, "value above 80"), ({"value_below": 5.5}, 1.0, "value below 5.5"),
     ({"value_outside": [5, 80]}, 90.0, "value outside 5..80")],
)
def test_a_value_rule_reports_its_own_condition_not_the_models_reason(when, value, reason):
    obs = Observation("pump-1", "1-0", T0, value, 0.2, reason="shift: the model's view")
    fired = step(rule(when=when), RuleState(), obs, PUMP)
    assert fired.reason == reason
    resolved = step(rule(when=when, resolve_after=1), RuleState(firing=True, fired_event_id="1-0"),
                    Observation("pump-1", "2-0", T0 + 1, 50.0, 0.2, reason="shift: x"), PUMP)
    assert resolved.state == RESOLVED and resolved.reason == ""  # a resolve has nothing to explain


def test_default_summary_reads_well_without_an_explanation():
    obs = Observation("pump-1", "1-0", T0, 93.25, 0.997)
    assert step(rule(), RuleState(), obs, PUMP).summary == "pump-1 hot: value 93.25, expected n/a (score 0.997)"


def test_evaluate_steps_every_rule_with_its_own_state():
    rules = [rule(), rule(name="very-hot", when={"value_above": 95}, **{"for": 2})]
    states: dict[str, RuleState] = {}
    got = []
    for i, value in enumerate([90, 99, 99]):
        got.append([(t.rule, t.state) for t in evaluate(rules, states, observe(i, value), PUMP)])
    assert got == [[("hot", FIRING)], [], [("very-hot", FIRING)]]
    assert set(states) == {"hot", "very-hot"}
