"""Rules files: loading, the errors for each kind of invalid file, selectors, conditions and holds."""

from __future__ import annotations

import math
import re
import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from alerts.summary_template import check_template
from alerts.rules import (
    AUTO,
    Condition,
    Hold,
    Rule,
    RuleFileError,
    RuleSet,
    Selector,
    SensorInfo,
    default_rules,
    load_rules,
    parse_hold,
    parse_rules,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "rules"

# fixture file, line, field path, a fragment of the reason
INVALID = [
    ("unknown_key.yaml", 5, "rules[0].sevrity", "did you mean 'severity'"),
    ("misplaced_key.yaml", 3, "rules[0].score_above", "belongs under 'when'"),
    ("duplicate_name.yaml", 6, "rules[1].name", "duplicate rule name 'anomaly'"),
    ("duplicate_key.yaml", 6, "rules[0].severity", "repeated key (first on line 5)"),
    ("two_conditions.yaml", 3, "rules[0].when", "2 conditions (score_above, value_above)"),
    ("no_condition.yaml", 3, "rules[0].when", "needs one condition"),
    ("missing_when.yaml", 5, "rules[1].when", "required field is missing"),
    ("bad_duration.yaml", 5, "rules[0].for", "'30 seconds' is not a duration"),
    ("zero_count.yaml", 5, "rules[0].for", "at least 1 event"),
    ("bad_glob_type.yaml", 4, "rules[0].match.sensor", "must be text"),
    ("bad_severity.yaml", 5, "rules[0].severity", "got 'urgent'"),
    ("score_out_of_range.yaml", 4, "rules[0].when.score_above", "must be between 0 and 1"),
    ("reversed_range.yaml", 4, "rules[0].when.value_outside", "low < high"),
    ("bad_name.yaml", 2, "rules[0].name", "got 'Pump Anomaly'"),
    ("bad_resolve_after.yaml", 5, "rules[0].resolve_after", "at least 1"),
    ("unknown_template_field.yaml", 5, "rules[0].summary", "{sensor} (did you mean {sensor_id}?)"),
    ("bad_template_format.yaml", 5, "rules[0].summary", "Unknown format code 'f'"),
    ("no_rules.yaml", 1, "rules", "at least one rule"),
    ("not_a_mapping.yaml", 1, "(top level)", "must be a mapping"),
    ("empty.yaml", 1, "", "empty rules file"),
    ("not_yaml.yaml", 4, "", "not valid YAML"),
]


@pytest.mark.parametrize(("name", "line", "field", "reason"), INVALID, ids=[case[0] for case in INVALID])
def test_invalid_file_names_file_line_and_field(name, line, field, reason):
    path = FIXTURES / name
    with pytest.raises(RuleFileError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {field}: " if field else f"{path}:{line}: "), message
    assert reason in message
    problem = caught.value.problems[0]
    assert (problem.source, problem.line, problem.field) == (str(path), line, field)


def test_every_invalid_fixture_is_exercised():
    on_disk = {p.name for p in FIXTURES.glob("*.yaml")} - {"valid.yaml"}
    assert on_disk == {case[0] for case in INVALID}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "absent.yaml", "rules file not found"),
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: _write(tmp / "latin1.yaml", b"rules: caf\xe9\n"), "not UTF-8 text"),
    ],
    ids=["missing", "directory", "not-utf8"],
)
def test_unreadable_file_is_named(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(RuleFileError, match=reason) as caught:
        load_rules(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_all_problems_are_reported_in_line_order():
    text = "rules:\n  - name: a\n    when: {value_above: 1}\n    sevrity: info\n  - name: B\n    when: {}\n"
    with pytest.raises(RuleFileError) as caught:
        parse_rules(text, "two.yaml")
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (4, "rules[0].sevrity"),
        (5, "rules[1].name"),
        (6, "rules[1].when"),
    ]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("rules:\n  - name: a\n    match: {site: no}\n    when: {value_above: 1}\n", "got False (quote it)"),
        ("rules:\n  - name: a\n    when: {value_above: '80'}\n", "must be a number, got '80'"),
        ("rules:\n  - name: a\n    when: {value_above: .nan}\n", "must be a finite number"),
        ("rules:\n  - name: a\n    when: {score_abve: 0.9}\n", "did you mean 'score_above'"),
        ("rules:\n  - name: a\n    when: {value_above: 1}\n    for: '3'\n", "write 3 to count events"),
        ("rules:\n  - name: a\n    when: {value_above: 1}\n    for: 2.5\n", "whole number of events"),
        ("rules: !!python/object:os.system {}\n", "not valid YAML"),
    ],
    ids=["yaml-bool", "number-as-text", "nan", "condition-typo", "count-as-text", "fractional-count", "tag"],
)
def test_easy_mistakes_get_a_clear_reason(yaml_text, message):
    with pytest.raises(RuleFileError, match=re.escape(message)):
        parse_rules(yaml_text, "inline.yaml")


def test_valid_file_loads_every_feature():
    ruleset = load_rules(FIXTURES / "valid.yaml")
    anomaly, pressure, level, band = ruleset.rules
    names = ["anomaly", "pump-pressure-high", "tank.level-low", "temp_out_of_band"]
    assert [r.name for r in ruleset.rules] == names
    assert (anomaly.when.score_above, anomaly.for_, anomaly.resolve_after) == (0.99, Hold(events=3), 3)
    assert pressure.match == Selector(sensor="pump-*", type="pressure", site="plant-a")
    assert (pressure.for_, pressure.severity, pressure.channel) == (Hold(ms=30_000), "critical", "#ops-pumps")
    assert (level.when.value_below, level.for_, level.resolve_after) == (5, Hold(events=1), 1)
    assert level.severity == "info"
    assert (band.when.value_outside, band.for_) == ((5.0, 80.0), Hold(ms=90_000))


def test_default_rules_warn_after_three_events_at_or_above_099_and_on_an_unusual_silence():
    rule, silence = default_rules().rules
    assert rule.match == Selector()
    assert rule.when == Condition(score_above=0.99)
    assert (rule.for_, rule.resolve_after, rule.severity, rule.channel) == (Hold(events=3), 3, "warning", "")
    assert (silence.name, silence.match, silence.when) == ("silence", Selector(), Condition(silent_for="auto"))
    assert silence.when.silent_for == AUTO


def test_selector_keys_all_have_to_match():
    selector = Selector(sensor="pump-*", type="pressure", site="plant-a")
    rule = Rule(name="r", match=selector, when={"value_above": 1})
    assert rule.matches(SensorInfo("pump-7", type="pressure", site="plant-a"))
    assert not rule.matches(SensorInfo("pump-7", type="pressure", site="plant-b"))
    assert not rule.matches(SensorInfo("pump-7", type="flow", site="plant-a"))
    assert not rule.matches(SensorInfo("Pump-7", type="pressure", site="plant-a"))  # globs are case-sensitive
    assert not rule.matches(SensorInfo("fan-1", type="pressure", site="plant-a"))
    assert not rule.matches(SensorInfo("pump-7"))  # a sensor the registry knows nothing about


def test_empty_selector_matches_any_sensor():
    assert Selector().matches(SensorInfo("anything"))


def test_ruleset_picks_rules_for_a_sensor_in_file_order():
    ruleset = load_rules(FIXTURES / "valid.yaml")
    names = lambda info: [r.name for r in ruleset.for_sensor(info)]  # noqa: E731
    assert names(SensorInfo("pump-1", type="pressure", site="plant-a")) == ["anomaly", "pump-pressure-high"]
    assert names(SensorInfo("temp-01", type="level")) == ["anomaly", "tank.level-low", "temp_out_of_band"]
    assert names(SensorInfo("temp-001")) == ["anomaly"]


@pytest.mark.parametrize(
    ("condition", "value", "score", "expected"),
    [
        (Condition(score_above=0.99), 0.0, 0.99, True),  # inclusive: the score caps at 1.0
        (Condition(score_above=0.99), 0.0, 0.9899, False),
        (Condition(score_above=1.0), 0.0, 1.0, True),
        (Condition(score_above=0.99), 0.0, math.nan, None),
        (Condition(value_above=80), 80.0, math.nan, False),  # strict: on the limit is within it
        (Condition(value_above=80), 80.5, math.nan, True),
        (Condition(value_below=5), 5.0, 0.0, False),
        (Condition(value_below=5), 4.9, 0.0, True),
        (Condition(value_outside=(5, 80)), 4.9, 0.0, True),
        (Condition(value_outside=(5, 80)), 80.1, 0.0, True),
        (Condition(value_outside=(5, 80)), 5.0, 0.0, False),
        (Condition(value_outside=(5, 80)), 42.0, 0.0, False),
    ],
)
def test_condition_holds(condition, value, score, expected):
    assert condition.holds(value, score) is expected


@pytest.mark.parametrize(
    ("raw", "hold"),
    [(1, Hold(events=1)), (5, Hold(events=5)), ("500ms", Hold(ms=500)), ("30s", Hold(ms=30_000)),
     ("5m", Hold(ms=300_000)), ("1h30m", Hold(ms=5_400_000)), ("2d", Hold(ms=172_800_000))],
)
def test_parse_hold(raw, hold):
    assert parse_hold(raw) == hold


@pytest.mark.parametrize("raw", [0, -2, True, 2.5, "", "3", "30 s", "5x", "m5", "0m", None, [3]])
def test_parse_hold_refuses(raw):
    with pytest.raises(ValueError):
        parse_hold(raw)


def test_rules_built_in_python_are_validated_too():
    with pytest.raises(ValidationError, match="duplicate rule name 'a'"):
        RuleSet(rules=[Rule(name="a", when={"value_above": 1}), Rule(name="a", when={"value_below": 1})])
    with pytest.raises(ValidationError, match="2 conditions"):
        Condition(value_above=1, value_below=0)
    assert Rule(name="a", when={"value_above": 1}, for_="10s").for_ == Hold(ms=10_000)


def test_rules_survive_pickling_for_spark_workers():
    ruleset = load_rules(FIXTURES / "valid.yaml")
    assert pickle.loads(pickle.dumps(ruleset)) == ruleset


def test_check_template_accepts_every_field():
    check_template("{sensor_id} {rule} {value:.2f} {score:.3f} {expected} {site} {severity} {type} {{x}}")


@pytest.mark.parametrize(
    ("template", "message"),
    [("{value.__class__}", "unknown template field"), ("{}", "unknown template field"),
     ("{value", "not a valid template"), ("{severity:.1f}", "does not format")],
)
def test_check_template_refuses(template, message):
    with pytest.raises(ValueError, match=message):
        check_template(template)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
