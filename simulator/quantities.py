"""The value types scenario files are written in (durations, start times, numbers, names) and their base model.

Durations are written `250ms`, `30s`, `5m`, `2h`, `1d`, `1w` or combined (`1h30m`); a bare number
means seconds. They are held as integer milliseconds.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

DURATION_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION_PART = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*")


def parse_duration(value: object) -> int:
    """Milliseconds from `30s`, `1h30m`, `250ms`, `-5s` or a number of seconds.

    >>> parse_duration("1h30m"), parse_duration("250ms"), parse_duration(2), parse_duration("-5s")
    (5400000, 250, 2000, -5000)
    >>> parse_duration("soon")
    Traceback (most recent call last):
    ...
    ValueError: must be a duration like 30s, 5m, 2h or 250ms, got 'soon'
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * 1000)
    text = value if isinstance(value, str) else ""
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text):
        raise ValueError(f"must be a duration like 30s, 5m, 2h or 250ms, got {value!r}")
    return round(sum(float(number) * DURATION_UNITS_MS[unit] for number, unit in parts))


def parse_start(value: object) -> int:
    """Epoch milliseconds from epoch milliseconds or an ISO-8601 time (UTC when it has no zone).

    >>> parse_start("2024-01-01T00:00:00Z"), parse_start(1704067200000)
    (1704067200000, 1704067200000)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    moment = value
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if not isinstance(moment, dt.datetime):
        raise ValueError(f"must be epoch milliseconds or an ISO-8601 time like 2024-01-01T00:00:00Z, got {value!r}")
    # YAML reads an unquoted time without a zone as a naive datetime; YAML itself defines it as UTC.
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return round(moment.timestamp() * 1000)


def _positive(ms: int) -> int:
    if ms <= 0:
        raise ValueError("must be a positive duration")
    return ms


def _not_negative(ms: int) -> int:
    if ms < 0:
        raise ValueError("must not be negative")
    return ms


Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Duration = Annotated[int, BeforeValidator(parse_duration), AfterValidator(_not_negative)]
PositiveDuration = Annotated[int, BeforeValidator(parse_duration), AfterValidator(_positive)]
SignedDuration = Annotated[int, BeforeValidator(parse_duration)]
StartTime = Annotated[int, BeforeValidator(parse_start)]
Fraction = Annotated[Number, Field(gt=0, le=1)]
Name = Annotated[str, Field(strict=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class Spec(BaseModel):
    """Base of every scenario model: unknown fields are errors, values are frozen once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)
