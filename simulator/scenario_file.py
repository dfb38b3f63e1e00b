"""Reading scenario files: YAML with its line marks, every problem reported as `file:line: field: reason`.

Built-in scenarios live in `simulator/scenarios/*.yaml`; `find_scenario` takes a built-in name or a path.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import Node

from alerts.rule_file import field_path, line_of
from simulator import anomalies, faults, schema
from simulator.fleet import Loc, ScenarioInvalid
from simulator.plan import resolve
from simulator.schema import Scenario


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """One thing wrong in a scenario file: where (file, 1-based line, field path) and why."""

    source: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; one `file:line: field: reason` line per problem."""

    def __init__(self, problems: list[ScenarioProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line or 0)
        super().__init__("\n".join(map(str, self.problems)))


def builtin_names() -> list[str]:
    """Names of the built-in scenarios, sorted."""
    return sorted(p.name.removesuffix(".yaml") for p in _builtin_dir().iterdir() if p.name.endswith(".yaml"))


def find_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or the scenario file at a path."""
    text = str(name_or_path)
    if text in builtin_names():
        return load_scenario(Path(str(_builtin_dir() / f"{text}.yaml")))
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_scenario(path)
    raise ScenarioError([ScenarioProblem(text, None, "", "no such built-in scenario or file "
                                                         f"(built in: {', '.join(builtin_names())})")])


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario file; raise `ScenarioError` naming file, line and field."""
    source = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([ScenarioProblem(str(path), None, "", f"cannot be read: {exc}")]) from None
    return parse_scenario(text, source, Path(path).parent)


def parse_scenario(text: str, source: str = "<scenario>", directory: Path | None = None) -> Scenario:
    """Validate YAML text as a scenario, then check that it can run (types, targets, timing).

    `extends: NAME` (a built-in name, or a file relative to `directory`) starts from that scenario's
    top-level fields and replaces the ones this file gives.
    """
    root, data = _parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError([ScenarioProblem(source, 1, "", "a scenario must be a mapping with at least "
                                                            "name, duration and fleet")])
    if "extends" in data:
        data = {**_parent_fields(data.pop("extends"), root, source, directory), **data}
    try:
        scenario = Scenario.model_validate(data)
        resolve(scenario)
    except ValidationError as exc:
        raise ScenarioError([_from_pydantic(error, root, data, source) for error in exc.errors()]) from None
    except ScenarioInvalid as exc:
        raise ScenarioError([ScenarioProblem(source, line_of(root, loc), field_path(loc), reason)
                             for loc, reason in exc.problems]) from None
    return scenario


def _parent_fields(parent: object, root: Node, source: str, directory: Path | None,
                   seen: tuple[Path, ...] = ()) -> dict:
    """The raw top-level fields of the scenario named by `extends`, itself possibly extending another."""
    here = directory or Path(".")
    if parent in builtin_names():
        path = Path(str(_builtin_dir() / f"{parent}.yaml"))
    elif isinstance(parent, str) and (here / parent).is_file():
        path = here / parent
    else:
        raise ScenarioError([ScenarioProblem(source, line_of(root, ("extends",)), "extends",
                                             f"no built-in scenario or file {parent!r}")])
    seen = seen or ((here / source).resolve(),)
    if path.resolve() in seen:
        raise ScenarioError([ScenarioProblem(source, line_of(root, ("extends",)), "extends",
                                             f"{parent!r} leads back to a scenario that extends it")])
    _, data = _parse_yaml(path.read_text(encoding="utf-8"), path.name)
    if isinstance(data, dict) and "extends" in data:
        data = {**_parent_fields(data.pop("extends"), root, source, path.parent, seen + (path.resolve(),)), **data}
    return data if isinstance(data, dict) else {}


def _builtin_dir():
    return resources.files("simulator") / "scenarios"


def _parse_yaml(text: str, source: str) -> tuple[Node | None, object]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([ScenarioProblem(source, mark.line + 1 if mark else None, "",
                                             f"not valid YAML: {reason}")]) from None
    finally:
        loader.dispose()


def _from_pydantic(error: dict, root: Node, data: object, source: str) -> ScenarioProblem:
    loc = _without_union_tags(tuple(error["loc"]), data)
    return ScenarioProblem(source, line_of(root, loc), field_path(loc) or "(top level)", _reason(error, loc))


def _without_union_tags(loc: Loc, data: object) -> Loc:
    """Drop the `kind` tag pydantic puts in the path of a member of a tagged union (anomalies, faults)."""
    kept: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and part not in data and part == data.get("kind"):
            continue
        kept.append(part)
        data = data.get(part) if isinstance(data, dict) else (
            data[part] if isinstance(data, list) and isinstance(part, int) and part < len(data) else None)
    return tuple(kept)


def _reason(error: dict, loc: Loc) -> str:
    kind, given, ctx = error["type"], error.get("input"), error.get("ctx", {})
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _field_names(), n=1)
        return f"unknown field{f' (did you mean {close[0]!r}?)' if close else ''}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"must be a number, got {given!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {given!r}"
    if kind == "string_type":
        return f"must be text, got {given!r}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {given!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of fields, got {given!r}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = ", ".join(anomalies.ANOMALY_KINDS if loc[:1] == ("anomalies",) else faults.FAULT_KINDS)
        return f"unknown kind {ctx.get('tag', '')!r} (expected one of: {expected})" if "tag" in ctx else (
            f"needs a 'kind' (one of: {expected})")
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "string_pattern_mismatch":
        return f"{given!r} may only hold letters, digits and . _ : -"
    message = error["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    return message[:1].lower() + message[1:] + (f", got {given!r}" if kind in _LIMITS else "")


_LIMITS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "literal_error")


def _field_names() -> list[str]:
    models = [m for module in (schema, anomalies, faults) for m in vars(module).values()
              if isinstance(m, type) and issubclass(m, BaseModel)]
    return sorted({name for model in models for name in model.model_fields})
