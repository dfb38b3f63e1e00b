"""Reading a rules file: YAML parsed with line marks, each problem reported as `file:line: field: reason`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from detector.config_file import (
    M, ConfigFileError, ConfigProblem, Loc, describe, load_yaml, model_at, shown, unknown_key_hint, validate,
)

RuleProblem = ConfigProblem  # the name alerts.rules has always exported


class RuleFileError(ConfigFileError):
    """A rules file that cannot be used; the message has one `file:line: field: reason` line per problem."""


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
    document = load_yaml(text, source, RuleFileError)
    if document.root is None:
        raise RuleFileError([RuleProblem(source, 1, "", "empty rules file: expected a 'rules:' list")])
    return validate(document, model, RuleFileError, lambda error, loc: _reason(error, loc, model))


def _reason(error: dict, loc: Loc, model: type[BaseModel]) -> str:
    kind, given, ctx = error["type"], shown(error.get("input")), error.get("ctx", {})
    if kind == "extra_forbidden":
        return "unknown field" + unknown_key_hint(str(loc[-1]), model_at(model, loc[:-1]))
    if kind == "string_type" and isinstance(error.get("input"), int | float | bool):
        return f"must be text, got {given} (quote it)"  # YAML reads `no`, `on` and `1.0` as non-text
    if kind == "finite_number":
        return f"must be a finite number, got {given}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}, got {given}"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} items, got {ctx['actual_length']}"
    return describe(error, show=shown)
