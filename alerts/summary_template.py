"""The summary template of a rule: which fields it may name, and checking it once, at load."""

from __future__ import annotations

import difflib
import string

TEMPLATE_FIELDS = ("sensor_id", "rule", "value", "score", "expected", "reason", "site", "severity", "type")
DEFAULT_SUMMARY = "{sensor_id} {rule}: value {value:.4g}, expected {expected} (score {score:.3f})"
SILENCE_SUMMARY = "{sensor_id} is {reason}"  # "t1 is silent: no reading for 12m; ...": no value nor score
# Typed like the real values, so a format spec that cannot apply (`{sensor_id:.2f}`) fails at load.
_SAMPLE = {name: "x" for name in TEMPLATE_FIELDS} | {"value": 1.5, "score": 0.5}


def check_template(template: str) -> None:
    """Raise ValueError unless `template` names only TEMPLATE_FIELDS and formats with sample values.

    >>> check_template("{sensor_id} at {value:.1f}")
    >>> check_template("{sensr_id}")
    Traceback (most recent call last):
    ...
    ValueError: unknown template field {sensr_id} (did you mean {sensor_id}?)
    """
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"not a valid template: {exc}") from None
    for name in names:
        if name not in TEMPLATE_FIELDS:
            close = difflib.get_close_matches(name, TEMPLATE_FIELDS, n=1)
            known = f" (known: {', '.join(TEMPLATE_FIELDS)})"
            hint = f" (did you mean {{{close[0]}}}?)" if close else known
            raise ValueError(f"unknown template field {{{name}}}{hint}")
    try:
        template.format(**_SAMPLE)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"template does not format: {exc}") from None
