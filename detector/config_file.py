"""A YAML file validated by a pydantic model, every problem reported as `file:line: field: reason`.

Rules files (alerts/rule_file.py) and scenario files (simulator/scenario_file.py) both read this way:
`load_yaml` keeps each node's line and refuses repeated keys, `validate` maps each pydantic error back to
the line of the field it names, and each file kind raises its own subclass of `ConfigFileError`.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loc = tuple[str | int, ...]
M = typing.TypeVar("M", bound=BaseModel)
Reason = Callable[[dict, Loc], str]  # one pydantic error and its path in the file -> the reason shown

# Kinds whose pydantic message states the limit but not the value that broke it.
_LIMITS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "literal_error")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a config file: where (file, 1-based line, field path) and why."""

    source: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class ConfigFileError(ValueError):
    """A config file that cannot be used; the message has one `file:line: field: reason` line per problem."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed YAML file: its plain data, and its node tree so a field path can be traced to a line."""

    source: str
    root: Node | None  # None for a file with no document (empty, or only comments)
    data: object

    def line_of(self, loc: Loc) -> int:
        """1-based line of the deepest node on `loc` that exists in the file (1 for an empty file)."""
        return 1 if self.root is None else line_of(self.root, loc)

    def problem(self, loc: Loc, reason: str) -> ConfigProblem:
        """A problem at the field `loc` of this file."""
        return ConfigProblem(self.source, self.line_of(loc), field_path(loc), reason)


def load_yaml(text: str, source: str, error: type[ConfigFileError] = ConfigFileError) -> YamlDocument:
    """Parse YAML `text` keeping its line marks; raise `error` for invalid YAML or a repeated key."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDocument(source, None, None)
        repeated = list(_repeated_keys(root, ()))
        if repeated:
            raise error(ConfigProblem(source, line, field_path(loc), reason) for loc, line, reason in repeated)
        return YamlDocument(source, root, loader.construct_document(root))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise error([ConfigProblem(source, line, "", f"not valid YAML: {reason}")]) from None
    finally:
        loader.dispose()


def validate(document: YamlDocument, model: type[M], error: type[ConfigFileError] = ConfigFileError,
             reason: Reason | None = None) -> M:
    """`document.data` validated into `model`; raise `error` with one problem per pydantic error.

    `reason` words each error; by default `describe`.
    """
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise error(_problem(item, document, reason or _described) for item in exc.errors()) from None


def field_path(loc: Loc) -> str:
    """`("rules", 2, "when")` as `rules[2].when`.

    >>> field_path(("rules", 2, "when", "score_above"))
    'rules[2].when.score_above'
    """
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def line_of(node: Node, loc: Loc) -> int:
    """1-based line of the deepest node on `loc` that exists in the YAML tree under `node`."""
    line = node.start_mark.line
    for part in loc:
        if isinstance(node, MappingNode):
            found = [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == str(part)]
            if not found:
                break
            key, node = found[0]
            line = key.start_mark.line
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def error_loc(error: dict, data: object) -> Loc:
    """The path in the file that a pydantic error names.

    A validator of a whole list can point at the offending item through `ctx["at"]`, e.g. (3, "name");
    a member of a tagged union gets its tag (the `kind` value) in pydantic's path, but not in the file.

    >>> error_loc({"loc": ("faults", 0, "late", "delay")}, {"faults": [{"kind": "late"}]})
    ('faults', 0, 'delay')
    """
    kept: list[str | int] = []
    for part in tuple(error["loc"]) + tuple(error.get("ctx", {}).get("at", ())):
        if isinstance(data, dict) and part not in data and part == data.get("kind"):
            continue
        kept.append(part)
        data = data.get(part) if isinstance(data, dict) else (
            data[part] if isinstance(data, list) and isinstance(part, int) and part < len(data) else None)
    return tuple(kept)


def describe(error: dict, show: Callable[[object], str] = repr) -> str:
    """One pydantic error in plain words, e.g. "must be a number, got 'big'"; `show` prints the input."""
    kind, given, ctx = error["type"], show(error.get("input")), error.get("ctx", {})
    if kind == "missing":
        return "required field is missing"
    if kind == "string_type":
        return f"must be text, got {given}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of fields, got {given}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {given}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"must be a whole number, got {given}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {given}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    message = error["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    return message[:1].lower() + message[1:] + (f", got {given}" if kind in _LIMITS else "")


def shown(value: object) -> str:
    """The offending input, short: containers by kind, scalars by repr.

    >>> shown({"a": 1}), shown([1, 2]), shown(None), shown("x" * 80)[-5:]
    ('a mapping', 'a list of 2', 'nothing', 'xx...')
    """
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(word: str, names: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the name closest to a mistyped `word`, or "" if none is close.

    >>> did_you_mean("sevrity", ["name", "severity"]), did_you_mean("zzz", ["name"])
    (" (did you mean 'severity'?)", '')
    """
    close = difflib.get_close_matches(word, list(names), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key_hint(key: str, model: type[BaseModel] | None) -> str:
    """What an unknown `key` in a mapping validated by `model` was probably meant to be."""
    if model is None:
        return ""
    names = [f.alias or name for name, f in model.model_fields.items()]
    if hint := did_you_mean(key, names):
        return f" {key!r}{hint}"
    for name in names:
        # A key one level too high, e.g. `score_above` written beside `when` instead of under it.
        if key in (getattr(model_at(model, (name,)), "model_fields", None) or {}):
            return f" {key!r} (it belongs under {name!r})"
    return f" {key!r} (known: {', '.join(sorted(names))})"


def model_at(model: type[BaseModel] | None, loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping found at `loc`, or None if it is not a model."""
    current: object = model
    for part in loc:
        if isinstance(part, int):
            args = [a for a in typing.get_args(current) if a is not Ellipsis]
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or name: f for name, f in current.model_fields.items()}
            current = fields[part].annotation if part in fields else None
        else:
            return None
        current = _without_none(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _without_none(annotation: object) -> object:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _repeated_keys(node: Node, loc: Loc) -> typing.Iterator[tuple[Loc, int, str]]:
    # PyYAML keeps the last of two equal keys without a word; a repeated key is almost always a mistake.
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else ""
            if name in seen:
                yield loc + (name,), key.start_mark.line + 1, f"repeated key (first on line {seen[name]})"
            seen.setdefault(name, key.start_mark.line + 1)
            yield from _repeated_keys(value, loc + (name,))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _repeated_keys(item, loc + (index,))


def _problem(error: dict, document: YamlDocument, reason: Reason) -> ConfigProblem:
    loc = error_loc(error, document.data)
    return ConfigProblem(document.source, document.line_of(loc), field_path(loc) or "(top level)",
                         reason(error, loc))


def _described(error: dict, loc: Loc) -> str:
    return describe(error)
