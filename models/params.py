"""Checks for detector and model parameters: a bad value is refused with its owner and name."""

from __future__ import annotations

import math


def _number(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    return float(value)


def fraction(owner: str, name: str, value: object) -> float:
    """A number in (0, 1].

    >>> fraction("RobustZScore", "rate", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: RobustZScore: rate must be in (0, 1], got 1.5
    """
    number = _number(owner, name, value)
    if not 0.0 < number <= 1.0:
        raise ValueError(f"{owner}: {name} must be in (0, 1], got {value!r}")
    return number


def positive(owner: str, name: str, value: object) -> float:
    """A number above zero."""
    number = _number(owner, name, value)
    if number <= 0.0:
        raise ValueError(f"{owner}: {name} must be above 0, got {value!r}")
    return number


def factor(owner: str, name: str, value: object) -> float:
    """A number above 1: how many times a record a new value must be.

    >>> factor("SensorModel", "lean", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: SensorModel: lean must be above 1 (a factor over the record), got 1.0
    """
    number = _number(owner, name, value)
    if number <= 1.0:
        raise ValueError(f"{owner}: {name} must be above 1 (a factor over the record), got {value!r}")
    return number


def count(owner: str, name: str, value: object, *, minimum: int = 0) -> int:
    """A whole number of at least `minimum` (bools refused).

    >>> count("SensorModel", "warmup", -1)
    Traceback (most recent call last):
    ...
    ValueError: SensorModel: warmup must be an integer >= 0, got -1
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def seed(owner: str, value: object) -> int | None:
    """A random seed: an integer or None."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{owner}: seed must be an integer or None, got {value!r}")
    return value


def finite_value(owner: str, feature: object, value: object) -> bool:
    """Whether a feature value is finite; NaN and inf are False, a non-number is refused."""
    try:
        return math.isfinite(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{owner}: feature {feature!r} is {value!r}, not a number") from None
