"""Evaluating rules on scored events: a small state machine per (sensor, rule), pure, driven by event time."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass

from alerts.rules import Rule, SensorInfo
from alerts.transition import FIRING, RESOLVED, AlertTransition


@dataclass(slots=True)
class RuleState:
    """Where one rule stands on one sensor; small and picklable, it lives in Spark state.

    `matches` and `since_ms` describe the current run of matching events (pending while not firing);
    `clears` counts consecutive non-matching events while firing.
    """

    matches: int = 0
    since_ms: int = 0  # event time of the first event of the current matching run
    firing: bool = False
    fired_event_id: str = ""  # the event that fired the alert; a resolve points back to it
    clears: int = 0
    peak: "Observation | None" = None  # the most anomalous event of the current run, reported on firing

    @property
    def pending(self) -> bool:
        """True while the condition holds but not yet for long enough to fire."""
        return self.matches > 0 and not self.firing


@dataclass(frozen=True, slots=True)
class Observation:
    """One scored event, as rules see it."""

    sensor_id: str
    event_id: str  # entry id on the event stream
    ts_ms: int  # event time, epoch ms
    value: float
    score: float  # calibrated anomaly likelihood in [0, 1]; NaN while the model cannot tell
    # The model's explanation, e.g. "20.1, normal range 19.2..21.0": anything whose str() says it, so the
    # text is only formatted for the rare event that makes a transition.
    expected: object = ""
    reason: str = ""  # why the model scored it so, in words (`models.reasons`); "" without a model


def step(rule: Rule, state: RuleState, obs: Observation, sensor: SensorInfo) -> AlertTransition | None:
    """Advance `state` (updated in place) by one event; return the transition if the alert changes state.

    The alert fires once the condition has held for `rule.for_` (consecutive events, or a span of event
    time) and resolves after `rule.resolve_after` consecutive non-matching events. An event the condition
    cannot judge (NaN score) leaves the state untouched. A firing transition is caused by the event that
    completes `for` (its `event_id` and `ts`), but reports the value, score and expectation of the run's
    most anomalous event (the earliest of the highest score): a one-reading spike is reported as the spike.

    >>> from alerts.rules import parse_rules
    >>> rule = parse_rules("rules: [{name: hot, when: {value_above: 80}, for: 2}]").rules[0]
    >>> state, pump = RuleState(), SensorInfo("pump-1")
    >>> step(rule, state, Observation("pump-1", "0-0", 0, 90.0, 0.5), pump) is None
    True
    >>> fired = step(rule, state, Observation("pump-1", "1-0", 1, 85.0, 0.4), pump)
    >>> fired.state, fired.event_id, fired.value
    ('firing', '1-0', 90.0)
    >>> step(rule, state, Observation("pump-1", "2-0", 2, 20.0, 0.5), pump).fired_event_id
    '1-0'
    """
    held = rule.when.holds(obs.value, obs.score)
    if held is None:
        return None
    if held:
        state.clears = 0
        if state.matches == 0:
            state.since_ms = obs.ts_ms
        state.matches += 1
        if state.firing:
            return None
        if state.peak is None or obs.score > state.peak.score:
            state.peak = obs
        if not rule.for_.reached(state.matches, max(0, obs.ts_ms - state.since_ms)):
            return None
        peak, state.peak = state.peak, None
        state.firing, state.fired_event_id = True, obs.event_id
        return transition(rule, obs, sensor, FIRING, reported=peak)
    state.matches, state.since_ms, state.peak = 0, 0, None
    if not state.firing:
        return None
    state.clears += 1
    if state.clears < rule.resolve_after:
        return None
    fired_event_id = state.fired_event_id
    state.firing, state.fired_event_id, state.clears = False, "", 0
    return transition(rule, obs, sensor, RESOLVED, fired_event_id=fired_event_id)


def evaluate(
    rules: Iterable[Rule], states: MutableMapping[str, RuleState], obs: Observation, sensor: SensorInfo
) -> list[AlertTransition]:
    """Step every rule in `rules` (those watching `sensor`) over one event; `states` is keyed by rule name.

    A rule seen for the first time starts from a fresh RuleState.
    """
    transitions = []
    for rule in rules:
        state = states.get(rule.name)
        if state is None:
            state = states[rule.name] = RuleState()
        transition = step(rule, state, obs, sensor)
        if transition is not None:
            transitions.append(transition)
    return transitions


def transition(
    rule: Rule, obs: Observation, sensor: SensorInfo, state: str, fired_event_id: str = "",
    reported: Observation | None = None, why: str = "",
) -> AlertTransition:
    """The transition `rule` makes to `state` at `obs`, reporting `reported` (default: `obs`), with its summary.

    A firing says why from the rule and the model; a resolve says `why` if given (a silence ended, a
    sensor retired), else nothing.
    """
    shown = reported or obs
    # The firing event's reason: by the end of `for` the model knows whether the peak was one reading or lasts.
    reason = rule.when.why(obs.reason) if state == FIRING else why
    summary = rule.render_summary(
        sensor_id=obs.sensor_id, rule=rule.name, value=shown.value, score=shown.score,
        expected=str(shown.expected) or "n/a", reason=reason or "n/a",
        site=sensor.site, severity=rule.severity, type=sensor.type,
    )
    return AlertTransition.create(
        rule=rule.name, sensor_id=obs.sensor_id, state=state, event_id=obs.event_id,
        severity=rule.severity, value=shown.value, score=shown.score, ts=obs.ts_ms, summary=summary,
        site=sensor.site, channel=rule.channel or sensor.channel, expected=str(shown.expected),
        reason=reason, fired_event_id=fired_event_id,
    )
