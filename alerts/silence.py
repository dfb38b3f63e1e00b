"""Silence rules (`silent_for`): judged between events, on the stream's clock, not by any one event.

A sensor that stops sending gives its rules nothing to step on, so the detector asks, at each
micro-batch, how long each sensor has been silent (`silent_ms`) and how long a silence must last to
be unusual for it (`usual_ms`, for `silent_for: auto`). The alert fires once, caused by the sensor's
last entry (so a replayed batch gives the same transition id), and resolves at its next reading.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, MutableMapping

from alerts.evaluation import Observation, RuleState, transition
from alerts.rules import AUTO, Rule, SensorInfo
from alerts.transition import FIRING, RESOLVED, AlertTransition

SPOKE = "reporting again"  # why a silence resolved


def silence_limit(rule: Rule, usual_ms: int | None) -> int | None:
    """How long a silence must last for `rule` to fire; None for a rule on events, or auto before it is learned.

    >>> from alerts.rules import parse_rules
    >>> fixed, auto = parse_rules("rules: [{name: a, when: {silent_for: 5m}}, {name: b, when: {silent_for: auto}}]").rules
    >>> silence_limit(fixed, None), silence_limit(auto, 600_000), silence_limit(auto, None)
    (300000, 600000, None)
    """
    limit = rule.when.silent_for
    if limit is None:
        return None
    return usual_ms if limit == AUTO else limit


def shortest_silence(rules: Iterable[Rule], auto_floor_ms: int) -> int | None:
    """The shortest silence any of `rules` could fire on (an auto one: `auto_floor_ms`); None without silence rules.

    >>> from alerts.rules import parse_rules
    >>> shortest_silence(parse_rules("rules: [{name: a, when: {silent_for: 5s}}]").rules, 10_000)
    5000
    """
    limits = [rule.when.silent_for for rule in rules if rule.when.silent_for is not None]
    return min((auto_floor_ms if limit == AUTO else limit for limit in limits), default=None)


def went_silent(rules: Iterable[Rule], states: MutableMapping[str, RuleState], sensor: SensorInfo, *,
                silent_ms: int, usual_ms: int | None, mean_gap_ms: float, last_event_id: str,
                last_ts_ms: int) -> list[AlertTransition]:
    """Fire each silence rule whose limit `silent_ms` has reached; a firing one stays quiet until a reading comes.

    The firing transition is pinned to the sensor's last entry and timed at its last event time plus
    the limit (when the silence became one), so a batch cut elsewhere gives the same transition; its
    value and score are NaN (there is no reading); its reason says how long, and the sensor's usual pace.
    """
    fired = []
    for rule in rules:
        limit = silence_limit(rule, usual_ms)
        if limit is None or silent_ms < limit:
            continue
        state = states.get(rule.name)
        if state is None:
            state = states[rule.name] = RuleState()
        if state.firing:
            continue
        pace = f"a reading every {duration_words(mean_gap_ms)}" if mean_gap_ms > 0.0 else ""
        reason = f"silent: no reading for {duration_words(silent_ms)}" + (f"; usually {pace}" if pace else "")
        obs = Observation(sensor.sensor_id, last_event_id, last_ts_ms + limit, math.nan, math.nan, reason=reason)
        state.firing, state.fired_event_id = True, last_event_id
        fired.append(transition(rule, obs, sensor, FIRING))
    return fired


def spoke(rules: Iterable[Rule], states: MutableMapping[str, RuleState], obs: Observation,
          sensor: SensorInfo) -> list[AlertTransition]:
    """Resolve each firing silence rule: `obs` is the sensor's first reading since ("reporting again")."""
    resolved = []
    for rule in rules:
        state = states.get(rule.name)
        if rule.when.silent_for is None or state is None or not state.firing:
            continue
        fired_event_id = state.fired_event_id
        state.firing, state.fired_event_id = False, ""
        resolved.append(transition(rule, obs, sensor, RESOLVED, fired_event_id=fired_event_id, why=SPOKE))
    return resolved


def duration_words(ms: float) -> str:
    """A duration in at most two units, for people.

    >>> duration_words(45_300), duration_words(725_000), duration_words(5_400_000), duration_words(250)
    ('45s', '12m 5s', '1h 30m', '0.25s')
    """
    if ms < 1_000:
        return f"{ms / 1_000:.2g}s"
    seconds = int(round(ms / 1_000))
    parts = [(seconds // 86_400, "d"), (seconds % 86_400 // 3_600, "h"), (seconds % 3_600 // 60, "m"), (seconds % 60, "s")]
    first = next(i for i, (amount, _) in enumerate(parts) if amount)
    return " ".join(f"{amount}{unit}" for amount, unit in parts[first:first + 2] if amount)
