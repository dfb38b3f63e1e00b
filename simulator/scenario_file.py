"""Reading scenario files: YAML with its line marks, every problem reported as `file:line: field: reason`.

Built-in scenarios live in `simulator/scenarios/*.yaml`; `find_scenario` takes a built-in name or a path.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from detector.config_file import (
    ConfigFileError, ConfigProblem, Loc, YamlDocument, describe, did_you_mean, load_yaml, validate,
)
from simulator import anomalies, faults, schema
from simulator.fleet import ScenarioInvalid
from simulator.plan import resolve
from simulator.schema import Scenario

class ScenarioError(ConfigFileError):
    """A scenario file that cannot be used; one `file:line: field: reason` line per problem."""


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
    raise ScenarioError([ConfigProblem(text, None, "", "no such built-in scenario or file "
                                                       f"(built in: {', '.join(builtin_names())})")])


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario file; raise `ScenarioError` naming file, line and field."""
    source = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([ConfigProblem(str(path), None, "", f"cannot be read: {exc}")]) from None
    return parse_scenario(text, source, Path(path).parent)


def parse_scenario(text: str, source: str = "<scenario>", directory: Path | None = None) -> Scenario:
    """Validate YAML text as a scenario, then check that it can run (types, targets, timing).

    `extends: NAME` (a built-in name, or a file relative to `directory`) starts from that scenario's
    top-level fields and replaces the ones this file gives.
    """
    document = load_yaml(text, source, ScenarioError)
    if not isinstance(document.data, dict):
        raise ScenarioError([ConfigProblem(source, 1, "", "a scenario must be a mapping with at least "
                                                          "name, duration and fleet")])
    if "extends" in document.data:
        parent = _parent_fields(document.data.pop("extends"), document, directory)
        document = replace(document, data={**parent, **document.data})
    scenario = validate(document, Scenario, ScenarioError, _reason)
    try:
        resolve(scenario)
    except ScenarioInvalid as exc:
        raise ScenarioError(document.problem(loc, reason) for loc, reason in exc.problems) from None
    return scenario


def _parent_fields(parent: object, child: YamlDocument, directory: Path | None,
                   seen: tuple[Path, ...] = ()) -> dict:
    """The raw top-level fields of the scenario named by `extends`, itself possibly extending another."""
    here = directory or Path(".")
    if parent in builtin_names():
        path = Path(str(_builtin_dir() / f"{parent}.yaml"))
    elif isinstance(parent, str) and (here / parent).is_file():
        path = here / parent
    else:
        raise ScenarioError([child.problem(("extends",), f"no built-in scenario or file {parent!r}")])
    seen = seen or ((here / child.source).resolve(),)
    if path.resolve() in seen:
        raise ScenarioError([child.problem(("extends",), f"{parent!r} leads back to a scenario that extends it")])
    data = load_yaml(path.read_text(encoding="utf-8"), path.name, ScenarioError).data
    if isinstance(data, dict) and "extends" in data:
        data = {**_parent_fields(data.pop("extends"), child, path.parent, seen + (path.resolve(),)), **data}
    return data if isinstance(data, dict) else {}


def _builtin_dir():
    return resources.files("simulator") / "scenarios"


def _reason(error: dict, loc: Loc) -> str:
    kind, given, ctx = error["type"], error.get("input"), error.get("ctx", {})
    if kind == "extra_forbidden":
        return "unknown field" + did_you_mean(str(loc[-1]), _field_names())
    if kind == "finite_number":
        return f"must be a number, got {given!r}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = ", ".join(anomalies.ANOMALY_KINDS if loc[:1] == ("anomalies",) else faults.FAULT_KINDS)
        return f"unknown kind {ctx.get('tag', '')!r} (expected one of: {expected})" if "tag" in ctx else (
            f"needs a 'kind' (one of: {expected})")
    if kind == "string_pattern_mismatch":
        return f"{given!r} may only hold letters, digits and . _ : -"
    return describe(error)


def _field_names() -> list[str]:
    models = [m for module in (schema, anomalies, faults) for m in vars(module).values()
              if isinstance(m, type) and issubclass(m, BaseModel)]
    return sorted({name for model in models for name in model.model_fields})
