"""What happens to one sensor's events in a micro-batch: validate, score first then learn, run its rules.

Pure: plain values in, plain values out. The Spark adapter (detector/job.py) pickles `SensorState`
into Spark state and calls `advance` once per sensor per micro-batch.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from alerts.evaluation import Observation, RuleState, evaluate, transition
from alerts.rules import RuleSet, SensorInfo, alert_onset
from alerts.silence import shortest_silence, spoke, went_silent
from alerts.transition import RESOLVED, AlertTransition
from detector.arrivals import MIN_SILENCE_MS, Arrivals
from detector.events import InvalidEvent, parse_event
from models import SensorModel
from models.upgrade import restore

RECENT_KEYS = 32  # (ts, value) pairs remembered to drop duplicate deliveries of one reading
RETIRED = "retired in the sensor registry"  # why a retired sensor's alerts resolved


@dataclass(frozen=True)
class RawEntry:
    """One stream entry as the source read it: where it came from and its fields as text."""

    stream: str
    entry_id: str
    id_ms: int
    id_seq: int
    fields: dict[str, str]


@dataclass(frozen=True)
class DeadLetter:
    """An entry refused by the contract, with why."""

    stream: str
    entry_id: str
    fields: dict[str, str]
    reason: str


@dataclass
class SensorState:
    """Everything tocsin remembers about one sensor between micro-batches."""

    model: SensorModel
    rules: dict[str, RuleState] = field(default_factory=dict)
    last_id: tuple[int, int] = (0, 0)
    last_ts_ms: int = 0
    count: int = 0
    duplicates: int = 0
    late: int = 0
    last_likelihood: float = 0.0
    recent: deque = field(default_factory=lambda: deque(maxlen=RECENT_KEYS))
    arrivals: Arrivals = field(default_factory=Arrivals)  # when its readings arrive: is it silent?
    info: SensorInfo | None = None  # as its last entry described it, for rules judged between entries

    def __setstate__(self, state: dict) -> None:
        # Saved before silences were judged: the arrivals are learned from the next reading on.
        restore(self, state, {"arrivals": Arrivals(), "info": None})


@dataclass
class BatchResult:
    """What one sensor's slice of a micro-batch produced."""

    transitions: list[AlertTransition] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    scored: int = 0
    retired: list[str] = field(default_factory=list)  # sensors forgotten because the registry retired them


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the model expected; str() words it for an alert: '20.1, normal range 19.2..21.0'."""

    expected: float | None
    low: float | None
    high: float | None

    def __str__(self) -> str:
        if self.expected is None:
            return "n/a"
        if self.low is None or self.high is None:
            return f"{self.expected:.4g}"
        return f"{self.expected:.4g}, normal range {self.low:.4g}..{self.high:.4g}"


def advance(state: SensorState, entries: list[RawEntry], rules: RuleSet, info: SensorInfo) -> BatchResult:
    """Process one sensor's entries in entry-id order; mutates `state`, returns alerts and dead letters."""
    result = BatchResult()
    state.info = info
    sensor_rules = rules.for_sensor(info)
    onset = alert_onset(sensor_rules)
    if onset is not None:  # the model mutes what these rules would fire on, and no less
        state.model.alerting(*onset)
    shortest = shortest_silence(sensor_rules, MIN_SILENCE_MS)
    # Whether a silence alert is firing: only then has a reading one to resolve (spared on every other reading).
    silenced = any(rule.name in state.rules and state.rules[rule.name].firing
                   for rule in sensor_rules if rule.when.silent_for is not None)
    # Rules removed from the file since the last run leave no state behind.
    for stale in state.rules.keys() - {rule.name for rule in sensor_rules}:
        del state.rules[stale]
    for entry in sorted(entries, key=lambda e: (e.id_ms, e.id_seq)):
        if (entry.id_ms, entry.id_seq) <= state.last_id:
            continue  # already in this state: a re-delivered entry
        state.last_id = (entry.id_ms, entry.id_seq)
        try:
            event = parse_event(entry.fields)
        except InvalidEvent as bad:
            result.dead_letters.append(DeadLetter(entry.stream, entry.entry_id, entry.fields, bad.reason))
            continue
        if (event.ts_ms, event.value) in state.recent:
            state.duplicates += 1
            continue
        state.recent.append((event.ts_ms, event.value))
        if shortest is not None and state.arrivals.silence(entry.id_ms) >= shortest:
            # A silence that began and ended within this batch: reported as the batch-end check would have.
            fired = silences(state, rules, entry.id_ms, sensor_rules)
            result.transitions += fired
            silenced = silenced or bool(fired)
        if event.ts_ms < state.last_ts_ms:
            state.late += 1  # scored all the same: the model only needs roughly ordered values
        state.last_ts_ms = max(state.last_ts_ms, event.ts_ms)
        state.arrivals.note(entry.id_ms, entry.entry_id)
        score = state.model.process(event.value, event.ts_ms)
        state.count += 1
        state.last_likelihood = score.likelihood
        result.scored += 1
        observation = Observation(
            sensor_id=info.sensor_id, event_id=entry.entry_id, ts_ms=event.ts_ms,
            value=event.value, score=score.likelihood,
            expected=Expectation(score.expected, score.low, score.high), reason=score.reason,
        )
        if silenced:
            result.transitions += spoke(sensor_rules, state.rules, observation, info)
            silenced = False
        result.transitions += evaluate(sensor_rules, state.rules, observation, info)
    return result


def retire(state: SensorState, rules: RuleSet, clock_ms: int) -> list[AlertTransition]:
    """Resolve every alert firing on a sensor the registry retired; the caller then forgets its state.

    Each resolve is pinned to the sensor's last entry, at `clock_ms` (the batch's clock), and says why.
    """
    info = state.info
    if info is None:  # saved before sensors kept their description: no rule state to resolve either
        return []
    event_id = state.arrivals.last_id or f"{state.last_id[0]}-{state.last_id[1]}"
    obs = Observation(info.sensor_id, event_id, clock_ms if clock_ms >= 0 else state.last_ts_ms, math.nan, math.nan)
    resolved = []
    for rule in rules.for_sensor(info):
        rule_state = state.rules.get(rule.name)
        if rule_state is not None and rule_state.firing:
            resolved.append(transition(rule, obs, info, RESOLVED, fired_event_id=rule_state.fired_event_id,
                                       why=RETIRED))
    return resolved


def silences(state: SensorState, rules: RuleSet, clock_ms: int,
             sensor_rules: tuple | None = None) -> list[AlertTransition]:
    """The silence rules this sensor fires at `clock_ms` (the stream's clock: entry-id milliseconds)."""
    info, arrivals = state.info, state.arrivals
    if info is None or arrivals.last_ms < 0:
        return []
    return went_silent(rules.for_sensor(info) if sensor_rules is None else sensor_rules, state.rules, info,
                       silent_ms=arrivals.silence(clock_ms), usual_ms=arrivals.usual_limit(),
                       mean_gap_ms=arrivals.mean_gap, last_event_id=arrivals.last_id, last_ts_ms=state.last_ts_ms)
