"""Scenario files: the built-in ones load and run; a bad one is refused with its file, line and field."""

from pathlib import Path

import pytest

import simulator
from simulator.anomalies import ANOMALY_KINDS
from simulator.faults import FAULT_KINDS
from simulator.generator import labels
from simulator.plan import resolve
from simulator.scenario_file import ScenarioError, builtin_names, find_scenario, load_scenario, parse_scenario

FIXTURES = Path(__file__).parents[2] / "fixtures" / "scenarios"
INVALID = sorted(FIXTURES.glob("*.yaml"))
WARM_UP_READINGS = 200  # what the detector's models need before their scores mean anything


def test_there_is_one_invalid_fixture_per_kind_of_mistake():
    assert len(INVALID) >= 15


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_an_invalid_scenario_is_refused_with_file_line_and_field(path):
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert expected in str(caught.value)


def test_every_problem_is_reported_not_only_the_first():
    text = (FIXTURES / "not_a_number.yaml").read_text().replace("duration: 10m", "duration: forever")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "two.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "two.yaml:3: duration: must be a duration like 30s, 5m, 2h or 250ms, got 'forever'",
        "two.yaml:14: anomalies[0].magnitude: must be a number, got 'big'"]


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenarios_load_and_resolve(name):
    scenario = find_scenario(name)
    assert scenario.name == name and scenario.description
    assert resolve(scenario).sensors


def test_the_builtin_library_has_the_demo_scenarios():
    assert {"default", "clean", "spike"} <= set(builtin_names())
    default, clean = find_scenario("default"), find_scenario("clean")
    assert 18 <= len(resolve(default).sensors) <= 25
    assert len({s.site for s in resolve(default).sensors}) >= 2
    assert sorted(label.kind for label in labels(default)) == ["level_shift", "spike"]
    assert labels(clean) == [] and resolve(clean).sensors == resolve(default).sensors


def test_the_library_covers_every_kind_and_one_scenario_has_them_all():
    every = set(ANOMALY_KINDS) | set(FAULT_KINDS)
    real = [name for name in builtin_names() if name not in ("default", "clean", "spike", "everything")]
    assert len(real) >= 8
    assert {label.kind for name in real for label in labels(find_scenario(name))} == every
    assert {label.kind for label in labels(find_scenario("everything"))} == every


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_injections_leave_the_models_their_warm_up(name):
    plan = resolve(find_scenario(name))
    interval = {s.sensor_id: s.interval_ms for s in plan.sensors}
    for injection in plan.anomalies + plan.faults:
        readings_before = min((injection.start_ms - plan.scenario.start_time) // interval[s] for s in injection.sensor_ids)
        assert readings_before >= WARM_UP_READINGS, injection


def test_a_scenario_file_can_extend_a_builtin_or_a_neighbour(tmp_path):
    (tmp_path / "base.yaml").write_text("extends: spike\nname: base\nseed: 99\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\nduration: 50m\n")
    child = load_scenario(tmp_path / "child.yaml")
    assert (child.name, child.seed, child.duration) == ("child", 99, 3_000_000)
    assert child.fleet == find_scenario("spike").fleet


def test_a_scenario_cannot_extend_itself(tmp_path):
    (tmp_path / "loop.yaml").write_text("extends: loop.yaml\nname: loop\n")
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    for name in ("loop.yaml", "a.yaml"):
        with pytest.raises(ScenarioError, match=f"{name}:1: extends: .* leads back to a scenario that extends it"):
            load_scenario(tmp_path / name)


def test_an_unknown_scenario_name_lists_the_builtin_ones():
    with pytest.raises(ScenarioError, match="no such built-in scenario or file.*default"):
        find_scenario("defualt")


def test_a_missing_file_is_named():
    with pytest.raises(ScenarioError, match="nowhere.yaml: cannot be read"):
        find_scenario("nowhere.yaml")


def test_the_example_in_the_scenario_format_guide_is_valid():
    guide = (Path(simulator.__file__).parent / "scenarios" / "README.md").read_text()
    example = guide.split("```yaml\n")[1].split("```")[0]
    scenario = parse_scenario(example, "README.md")
    assert [label.kind for label in labels(scenario)] == ["spike", "device_failure", "late"]
