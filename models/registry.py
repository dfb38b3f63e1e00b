"""Detectors by name: the names the configuration uses, and how to build one with checked parameters."""

from __future__ import annotations

import inspect

from models.ensemble import Ensemble
from models.forecast import EwmaForecast
from models.hst import ScaledHalfSpaceTrees
from models.loda import Loda
from models.running import RunningZScore
from models.sad import StandardAbsoluteDeviation
from models.seasonal import SeasonalZScore
from models.zscore import RobustZScore

DEFAULT_DETECTOR = "running"

_DETECTORS: dict[str, type] = {
    "running": RunningZScore,
    "zscore": RobustZScore,
    "hst": ScaledHalfSpaceTrees,
    "sad": StandardAbsoluteDeviation,
    "loda": Loda,
    "forecast": EwmaForecast,
    "ensemble": Ensemble,
    "seasonal": SeasonalZScore,
}


def names() -> list[str]:
    """The registered detector names, the default first.

    >>> names()
    ['running', 'zscore', 'hst', 'sad', 'loda', 'forecast', 'ensemble', 'seasonal']
    """
    return list(_DETECTORS)


def build(name: str, **params: object):
    """A fresh detector (River `score_one` / `learn_one`) by name; unknown names or parameters raise.

    >>> build("zscore", rate=0.05)
    RobustZScore (
      rate=0.05
      clip=3.
      fast=0.3
      multiscale=False
    )
    >>> build("zscore", speed=2)
    Traceback (most recent call last):
    ...
    ValueError: detector 'zscore' has no parameter 'speed'; it takes: rate, clip, fast, multiscale
    >>> build("prophet")
    Traceback (most recent call last):
    ...
    ValueError: unknown detector 'prophet'; known: running, zscore, hst, sad, loda, forecast, ensemble, seasonal
    """
    detector_class = _DETECTORS.get(name) if isinstance(name, str) else None
    if detector_class is None:
        raise ValueError(f"unknown detector {name!r}; known: {', '.join(_DETECTORS)}")
    accepted = list(inspect.signature(detector_class).parameters)
    unknown = [key for key in params if key not in accepted]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(
            f"detector {name!r} has no parameter{plural} {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted)}"
        )
    return detector_class(**params)
