"""Reading a rules file: YAML parsed with line marks, each problem reported as `file:line: field: reason`."""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loc = tuple[str | int, ...]
M = typing.TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One thing wrong in a rules file: where (file, 1-based line, field path) and why."""

    source: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class RuleFileError(ValueError):
    """A rules file that cannot be used; the message has one `file:line: field: reason` line per problem."""

    def __init__(self, problems: typing.Iterable[RuleProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))


def read_text(path: str | Path) -> str:
    """The file's text, or a `RuleFileError` saying why it cannot be read."""
    source = str(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        reason = "rules file not found"
    except IsADirectoryError:
        reason = "is a directory, not a rules file"
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start})"
    except OSError as exc:
        reason = f"cannot be read: {exc.strerror}"
    raise RuleFileError([RuleProblem(source, None, "", reason)])


def validate_document(text: str, source: str, model: type[M]) -> M:
    """Parse YAML `text` and validate it into `model`, mapping each error back to its line."""
    node, data = _load(text, source)
    if node is None:
        raise RuleFileError([RuleProblem(source, 1, "", "empty rules file: expected a 'rules:' list")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(_problem(error, node, source, model) for error in exc.errors()) from None


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
    """1-based line of the deepest node on `loc` that exists in the YAML tree."""
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


def _load(text: str, source: str) -> tuple[Node | None, object]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        duplicates = list(_duplicate_keys(node, (), source)) if node is not None else []
        if duplicates:
            raise RuleFileError(duplicates)
        return node, loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise RuleFileError([RuleProblem(source, line, "", f"not valid YAML: {reason}")]) from None
    finally:
        loader.dispose()


def _duplicate_keys(node: Node, loc: Loc, source: str) -> typing.Iterator[RuleProblem]:
    # PyYAML keeps the last of two equal keys without a word; a repeated key is almost always a mistake.
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else ""
            if name in seen:
                where = field_path(loc + (name,))
                reason = f"repeated key (first on line {seen[name]})"
                yield RuleProblem(source, key.start_mark.line + 1, where, reason)
            seen.setdefault(name, key.start_mark.line + 1)
            yield from _duplicate_keys(value, loc + (name,), source)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, loc + (index,), source)


def _problem(error: dict, root: Node, source: str, model: type[BaseModel]) -> RuleProblem:
    # A validator of a whole list can point at the offending item through ctx["at"], e.g. (3, "name").
    loc: Loc = tuple(error["loc"]) + tuple(error.get("ctx", {}).get("at", ()))
    where = field_path(loc) or "(top level)"
    return RuleProblem(source, line_of(root, loc), where, _reason(error, loc, model))


def _reason(error: dict, loc: Loc, model: type[BaseModel]) -> str:
    kind, given = error["type"], _shown(error.get("input"))
    if kind == "extra_forbidden":
        return "unknown field" + _unknown_key_hint(str(loc[-1]), _model_at(model, loc[:-1]))
    if kind == "missing":
        return "required field is missing"
    if kind == "string_type":
        quote = isinstance(error.get("input"), int | float | bool)
        return f"must be text, got {given}" + (" (quote it)" if quote else "")
    if kind in ("model_type", "dict_type"):
        return f"must be a mapping of fields, got {given}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list, got {given}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"must be a whole number, got {given}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {given}"
    if kind == "finite_number":
        return f"must be a finite number, got {given}"
    if kind in ("greater_than_equal", "too_short", "too_long"):
        return _limit(kind, error.get("ctx", {}), given)
    if kind == "literal_error":
        return f"must be {error['ctx']['expected']}, got {given}"
    message = error["msg"].removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _shown(value: object) -> str:
    """The offending input, short: containers by kind, scalars by repr."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _limit(kind: str, ctx: dict, given: object) -> str:
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}, got {given}"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} item(s), got {ctx['actual_length']}"
    return f"must have at most {ctx['max_length']} items, got {ctx['actual_length']}"


def _model_at(model: type[BaseModel] | None, loc: Loc) -> type[BaseModel] | None:
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


def _unknown_key_hint(key: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    names = [f.alias or name for name, f in model.model_fields.items()]
    close = difflib.get_close_matches(key, names, n=1)
    if close:
        return f" {key!r} (did you mean {close[0]!r}?)"
    for name in names:
        # A key one level too high, e.g. `score_above` written beside `when` instead of under it.
        if key in (getattr(_model_at(model, (name,)), "model_fields", None) or {}):
            return f" {key!r} (it belongs under {name!r})"
    return f" {key!r} (known: {', '.join(sorted(names))})"
