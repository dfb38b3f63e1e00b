"""Config files: YAML with line marks, repeated keys, pydantic errors traced to file, line and field."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from detector.config_file import (
    ConfigFileError, ConfigProblem, describe, field_path, load_yaml, model_at, shown, unknown_key_hint, validate,
)

_STRICT = ConfigDict(extra="forbid")


class Limits(BaseModel):
    """Test model: a nested mapping."""

    model_config = _STRICT
    low: float
    high: float = 1.0


class Probe(BaseModel):
    """Test model: one list item."""

    model_config = _STRICT
    name: str
    limits: Limits | None = None


class Spike(BaseModel):
    """Test model: one member of a tagged union."""

    model_config = _STRICT
    kind: Literal["spike"]
    size: float


class Dip(BaseModel):
    """Test model: the other member of the tagged union."""

    model_config = _STRICT
    kind: Literal["dip"]
    depth: float


class Station(BaseModel):
    """Test model: a whole file."""

    model_config = _STRICT
    probes: list[Probe]
    events: list[Annotated[Spike | Dip, Field(discriminator="kind")]] = []

    @field_validator("probes")
    @classmethod
    def _unique(cls, probes: list[Probe]) -> list[Probe]:
        names = [p.name for p in probes]
        for index, name in enumerate(names):
            if name in names[:index]:
                context = {"name": name, "at": (index, "name")}
                raise PydanticCustomError("twice", "probe {name} is listed twice", context)
        return probes


class StationFileError(ConfigFileError):
    """The error a user of the module raises for its own kind of file."""


def _problems(text: str, source: str = "s.yaml") -> list[tuple[int | None, str, str]]:
    with pytest.raises(StationFileError) as caught:
        validate(load_yaml(text, source, StationFileError), Station, StationFileError)
    return [(p.line, p.field, p.reason) for p in caught.value.problems]


def test_a_valid_file_validates_into_the_model():
    document = load_yaml("probes:\n  - name: a\n    limits: {low: 0}\n", "s.yaml")
    station = validate(document, Station)
    assert station.probes[0].limits == Limits(low=0.0, high=1.0)
    assert document.line_of(("probes", 0, "limits", "low")) == 3


def test_each_pydantic_error_names_its_line_and_field_in_line_order():
    text = "probes:\n  - name: a\n    limits: {low: cold}\n  - nme: b\n"
    assert _problems(text) == [
        (3, "probes[0].limits.low", "must be a number, got 'cold'"),
        (4, "probes[1].name", "required field is missing"),
        (4, "probes[1].nme", "extra inputs are not permitted"),
    ]


def test_a_list_validator_can_point_at_the_offending_item():
    assert _problems("probes:\n  - name: a\n  - name: b\n  - name: a\n") == [
        (4, "probes[2].name", "probe a is listed twice")]


def test_a_tagged_union_member_is_named_by_its_place_in_the_file_not_its_tag():
    text = "probes: []\nevents:\n  - kind: dip\n    depth: deep\n"
    assert _problems(text) == [(4, "events[0].depth", "must be a number, got 'deep'")]


def test_a_whole_file_of_the_wrong_shape_is_the_top_level():
    assert _problems("- 1\n- 2\n") == [(1, "(top level)", "must be a mapping of fields, got [1, 2]")]


def test_repeated_keys_are_refused_with_both_lines():
    text = "probes:\n  - name: a\n    limits: {low: 0}\n    name: b\nprobes: []\n"
    with pytest.raises(StationFileError) as caught:
        load_yaml(text, "s.yaml", StationFileError)
    assert str(caught.value) == (
        "s.yaml:4: probes[0].name: repeated key (first on line 2)\n"
        "s.yaml:5: probes: repeated key (first on line 1)")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [("probes: [\n", 2, "not valid YAML: expected the node content, but found '<stream end>'"),
     ("a: 1\n---\nb: 2\n", 2, "not valid YAML: but found another document"),
     ("a: !!python/name:os.system\n", 1, "not valid YAML: could not determine a constructor")],
    ids=["unclosed", "two-documents", "python-tag"],
)
def test_text_that_is_not_safe_yaml_is_refused_with_its_line(text, line, reason):
    with pytest.raises(ConfigFileError) as caught:
        load_yaml(text, "s.yaml")
    (problem,) = caught.value.problems
    assert (problem.source, problem.line, problem.field) == ("s.yaml", line, "")
    assert problem.reason.startswith(reason)


def test_an_empty_file_has_no_document_and_points_at_line_1():
    document = load_yaml("# only a comment\n", "s.yaml")
    assert (document.root, document.data, document.line_of(("probes",))) == (None, None, 1)


def test_a_problem_reads_as_file_line_field_reason():
    assert str(ConfigProblem("s.yaml", 3, "probes[0]", "bad")) == "s.yaml:3: probes[0]: bad"
    assert str(ConfigProblem("s.yaml", None, "", "not found")) == "s.yaml: not found"
    assert load_yaml("a:\n  b: 1\n", "s.yaml").problem(("a", "b"), "odd") == ConfigProblem("s.yaml", 2, "a.b", "odd")


def test_a_custom_reason_gets_the_error_and_its_path_in_the_file():
    seen = []
    with pytest.raises(ConfigFileError, match=r"s.yaml:1: probes: probes -> list_type"):
        validate(load_yaml("probes: 3\n", "s.yaml"), Station,
                 reason=lambda error, loc: seen.append(loc) or f"{field_path(loc)} -> {error['type']}")
    assert seen == [("probes",)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [({"probes": [{"name": 5}]}, "must be text, got 5"),
     ({"probes": {}}, "must be a list, got {}"),
     ({"probes": [3]}, "must be a mapping of fields, got 3"),
     ({"probes": [{"name": "a", "limits": {"low": "x"}}]}, "must be a number, got 'x'"),
     ({"probes": [], "events": [{"kind": "spike", "size": 1, "extra": 2}]}, "extra inputs are not permitted")],
)
def test_describe_words_common_errors_plainly(data, reason):
    with pytest.raises(Exception) as caught:
        Station.model_validate(data)
    assert describe(caught.value.errors()[0]) == reason


def test_describe_adds_the_value_to_a_limit_and_can_show_it_short():
    error = {"type": "greater_than_equal", "msg": "Input should be greater than or equal to 1", "input": 0,
             "ctx": {"ge": 1}}
    assert describe(error) == "must be greater than or equal to 1, got 0"
    assert describe({"type": "list_type", "msg": "", "input": {"a": 1}}, show=shown) == "must be a list, got a mapping"


def test_unknown_key_hint_suggests_a_close_name_or_a_better_place_or_lists_the_known():
    assert unknown_key_hint("nmae", Probe) == " 'nmae' (did you mean 'name'?)"
    assert unknown_key_hint("low", Probe) == " 'low' (it belongs under 'limits')"
    assert unknown_key_hint("zzz", Probe) == " 'zzz' (known: limits, name)"
    assert unknown_key_hint("zzz", None) == ""


def test_model_at_follows_lists_and_optional_fields():
    assert model_at(Station, ("probes", 0, "limits")) is Limits
    assert model_at(Station, ("probes", 0, "name")) is None
    assert model_at(Station, ("nothing",)) is None
