"""Alert rules: which sensors a rule watches, the condition it tests, how long it must hold, what it says."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alerts.rule_file import RuleFileError, RuleProblem, read_text, validate_document
from alerts.summary_template import DEFAULT_SUMMARY, SILENCE_SUMMARY, check_template

__all__ = [
    "Condition", "Hold", "Rule", "RuleFileError", "RuleProblem", "RuleSet", "Selector", "SensorInfo",
    "default_rules", "load_rules", "parse_hold", "parse_rules",
]

CONDITIONS = ("score_above", "value_above", "value_below", "value_outside", "silent_for")
AUTO = 0  # `silent_for: auto`: as long as is unusual for the sensor (detector/arrivals.py)
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_FROZEN = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """What the sensor registry knows about one sensor; rules select on it and alerts carry it."""

    sensor_id: str
    type: str = ""
    site: str = ""
    device_id: str = ""
    unit: str = ""
    channel: str = ""  # the owner's Slack route, used when the rule names none


@dataclass(frozen=True, slots=True)
class Hold:
    """How long a condition must hold before firing: `events` consecutive events, or `ms` of event time."""

    events: int = 0
    ms: int = 0

    def reached(self, matches: int, elapsed_ms: int) -> bool:
        """True once `matches` consecutive matching events spanning `elapsed_ms` satisfy the hold.

        >>> Hold(events=3).reached(2, 0), Hold(events=3).reached(3, 0)
        (False, True)
        >>> Hold(ms=30_000).reached(9, 29_999), Hold(ms=30_000).reached(2, 30_000)
        (False, True)
        """
        return elapsed_ms >= self.ms if self.ms else matches >= self.events


def parse_hold(raw: object) -> Hold:
    """`for:` as a Hold: an int >= 1 counts events; "30s", "5m", "1h30m", "500ms" are event-time spans.

    >>> parse_hold(3), parse_hold("1m30s")
    (Hold(events=3, ms=0), Hold(events=0, ms=90000))
    """
    if isinstance(raw, Hold):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 1:
            raise ValueError(f"must be at least 1 event, got {raw}")
        return Hold(events=raw)
    if isinstance(raw, str):
        text = raw.strip()
        if text.isdigit():
            raise ValueError(f"{raw!r} is text: write {text} to count events or '{text}s' for a duration")
        return Hold(ms=parse_duration(raw))
    raise ValueError(f"must be a whole number of events or a duration like '30s', got {raw!r}")


def parse_duration(raw: str) -> int:
    """A duration such as "30s", "5m", "1h30m" or "500ms", in milliseconds.

    >>> parse_duration("1h30m")
    5400000
    """
    text = raw.strip()
    if not text or not re.fullmatch(f"(?:{_DURATION.pattern})+", text):
        raise ValueError(f"{raw!r} is not a duration: a number and a unit ms, s, m, h or d, e.g. '30s'")
    ms = sum(int(n) * _UNIT_MS[unit] for n, unit in _DURATION.findall(text))
    if ms == 0:
        raise ValueError(f"{raw!r} is zero: a duration must be positive")
    return ms


def parse_silence(raw: object) -> int:
    """`silent_for:` in milliseconds: a duration of at least a second, or "auto" (AUTO, 0).

    >>> parse_silence("10m"), parse_silence("auto")
    (600000, 0)
    """
    if not isinstance(raw, str):  # a bare number has no unit: 5000 could mean seconds or milliseconds
        raise ValueError(f"must be a duration like '10m', or auto, got {raw!r}")
    if raw.strip() == "auto":
        return AUTO
    try:
        ms = parse_duration(raw)
    except ValueError as exc:
        raise ValueError(f"{exc}, or auto") from None
    if ms < 1_000:
        raise ValueError(f"{raw!r} is under a second: a micro-batch's lag is not a silence")
    return ms


class Selector(BaseModel):
    """Which sensors a rule watches: every key given must match; an omitted key matches anything."""

    model_config = _FROZEN

    sensor: str | None = None  # fnmatch glob on sensor_id, case-sensitive
    type: str | None = None
    site: str | None = None

    def matches(self, info: SensorInfo) -> bool:
        """True if `info` satisfies every key of this selector."""
        return (
            (self.sensor is None or fnmatchcase(info.sensor_id, self.sensor))
            and (self.type is None or info.type == self.type)
            and (self.site is None or info.site == self.site)
        )


class Condition(BaseModel):
    """Exactly one test on an event's value or calibrated anomaly score."""

    model_config = _FROZEN

    score_above: Finite | None = None  # inclusive: the calibrated score caps at 1.0, so 1.0 must be reachable
    value_above: Finite | None = None  # strict: a value on the limit is within it
    value_below: Finite | None = None
    value_outside: tuple[Finite, Finite] | None = None  # [low, high]: below low or above high
    # No reading for this long (ms; AUTO: as long as is unusual for the sensor): judged on the stream's clock.
    silent_for: Annotated[int, PlainValidator(parse_silence)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: object) -> object:
        # Only an empty `when` is "no condition": with other keys, the unknown-field error names the typo.
        if data is None or data == {}:
            raise ValueError(f"needs one condition: {', '.join(CONDITIONS)}")
        given = [key for key in CONDITIONS if isinstance(data, dict) and key in data]
        if len(given) > 1:
            raise ValueError(f"has {len(given)} conditions ({', '.join(given)}); a rule tests exactly one")
        if given and data[given[0]] is None:
            raise ValueError(f"{given[0]} has no value")
        return data

    @field_validator("score_above")
    @classmethod
    def _probability(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"must be between 0 and 1 (a calibrated likelihood), got {value}")
        return value

    @field_validator("value_outside")
    @classmethod
    def _ordered(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        if bounds[0] >= bounds[1]:
            raise ValueError(f"must be [low, high] with low < high, got {list(bounds)}")
        return bounds

    def holds(self, value: float, score: float) -> bool | None:
        """True if the event meets the condition, False if not, None if it cannot tell (score is NaN).

        A silence is never met by an event: `alerts.silence` judges it between events.

        >>> Condition(score_above=0.99).holds(20.0, 0.995), Condition(value_outside=(5, 80)).holds(81.0, 0.1)
        (True, True)
        >>> Condition(score_above=0.99).holds(20.0, float("nan")) is None
        True
        """
        if self.silent_for is not None:
            return None
        if self.score_above is not None:
            return None if math.isnan(score) else score >= self.score_above
        if self.value_above is not None:
            return value > self.value_above
        if self.value_below is not None:
            return value < self.value_below
        low, high = self.value_outside  # type: ignore[misc]  # exactly one condition is set
        return value < low or value > high

    def why(self, model_reason: str) -> str:
        """Why an event that meets the condition does, in words: the model's reason for a score condition.

        >>> Condition(value_outside=(5, 80)).why(""), Condition(score_above=0.99).why("")
        ('value outside 5..80', 'anomaly score at or above 0.99')
        >>> Condition(score_above=0.99).why("spike: one reading far beyond this sensor's usual deviations")
        "spike: one reading far beyond this sensor's usual deviations"
        """
        if self.score_above is not None:
            return model_reason or f"anomaly score at or above {self.score_above:g}"
        if self.silent_for is not None:
            return model_reason or "silent"
        if self.value_above is not None:
            return f"value above {self.value_above:g}"
        if self.value_below is not None:
            return f"value below {self.value_below:g}"
        low, high = self.value_outside  # type: ignore[misc]
        return f"value outside {low:g}..{high:g}"


class Rule(BaseModel):
    """One alert rule: selector, condition, hold (`for`), resolve_after, severity, Slack route, summary."""

    model_config = _FROZEN

    name: str
    match: Selector = Selector()
    when: Condition
    for_: Annotated[Hold, PlainValidator(parse_hold)] = Field(default=Hold(events=1), alias="for")
    resolve_after: int = Field(default=1, ge=1, strict=True)
    severity: Literal["info", "warning", "critical"] = "warning"
    channel: str = ""  # Slack route; "" falls back to the sensor owner's channel, then the notifier's default
    summary: str = DEFAULT_SUMMARY

    @model_validator(mode="before")
    @classmethod
    def _silence_summary(cls, data: object) -> object:
        # A silence has no value nor score: without a summary of its own it says why instead.
        when = data.get("when") if isinstance(data, dict) else None
        if isinstance(when, dict) and when.get("silent_for") is not None and "summary" not in data:
            return {**data, "summary": SILENCE_SUMMARY}
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not re.fullmatch(r"[a-z0-9_.-]+", name):
            raise ValueError(f"must use only a-z, 0-9, '_', '.' and '-', got {name!r}")
        return name

    @field_validator("summary")
    @classmethod
    def _template(cls, template: str) -> str:
        check_template(template)
        return template

    @model_validator(mode="after")
    def _silence_has_no_hold(self) -> "Rule":
        if self.when.silent_for is None:
            return self
        given = [key for name, key in (("for_", "for"), ("resolve_after", "resolve_after"))
                 if name in self.model_fields_set]
        if given:
            verb = "does" if len(given) == 1 else "do"
            raise ValueError(f"{' and '.join(given)} {verb} not apply to silent_for: a silence fires once it has "
                             f"lasted that long and resolves at the sensor's next reading")
        return self

    def matches(self, info: SensorInfo) -> bool:
        """True if this rule watches the sensor described by `info`."""
        return self.match.matches(info)

    def render_summary(self, **values: object) -> str:
        """The summary template filled with `values` (the TEMPLATE_FIELDS), trimmed."""
        return self.summary.format(**values).strip()


class RuleSet(BaseModel):
    """A validated rules file: rules with unique names, in file order."""

    model_config = _FROZEN

    rules: tuple[Rule, ...]

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        # An empty list is refused here, not with min_length: pydantic counts only the valid items for
        # min_length, so one bad rule would also be reported as "no rules".
        if not rules:
            raise ValueError("must list at least one rule")
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.name in first:
                raise PydanticCustomError(
                    "duplicate_rule",
                    "duplicate rule name '{name}' (first used by rules[{first}])",
                    {"name": rule.name, "first": first[rule.name], "at": (index, "name")},
                )
            first[rule.name] = index
        return rules

    def for_sensor(self, info: SensorInfo) -> tuple[Rule, ...]:
        """The rules that watch this sensor, in file order."""
        return tuple(rule for rule in self.rules if rule.matches(info))


def alert_onset(rules: tuple[Rule, ...]) -> tuple[float, int] | None:
    """How the score rules among `rules` fire: the lowest `score_above`, and the fewest events one holds for.

    A rule held for a time, not a count, holds for one event here. None when no rule tests the score.
    A sensor's model marks alert onsets by it (`SensorModel.alerting`), so what it mutes follows the rules.

    >>> rules = parse_rules("rules: [{name: a, when: {score_above: 0.99}, for: 3}, "
    ...                     "{name: b, when: {score_above: 0.999}}]")
    >>> alert_onset(rules.rules), alert_onset(default_rules().rules[1:])
    ((0.99, 1), None)
    """
    scored = [rule for rule in rules if rule.when.score_above is not None]
    if not scored:
        return None
    return min(rule.when.score_above for rule in scored), min(rule.for_.events or 1 for rule in scored)


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Validate rules YAML `text`; `source` names it in errors."""
    return validate_document(text, source, RuleSet)


def load_rules(path: str | Path) -> RuleSet:
    """Load and validate a rules file; a `RuleFileError` names the file, the line and the field."""
    return parse_rules(read_text(path), str(path))


@functools.cache
def default_rules() -> RuleSet:
    """The shipped rules: warn when the calibrated score stays >= 0.99 for 3 events, resolve after 3 below."""
    text = resources.files("alerts").joinpath("default_rules.yaml").read_text(encoding="utf-8")
    return parse_rules(text, "alerts/default_rules.yaml")
