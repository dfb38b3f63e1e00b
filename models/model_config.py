"""A sensor model's configuration: the detector by name, its parameters and SensorModel's settings, from YAML.

A model config file reads like

    detector: running        # a name from models.names()
    params: {memory: 0}      # the detector's own parameters
    sensor: {warmup: 300}    # SensorModel keyword settings (warmup, window, quiet, single ...)

Missing keys (or an empty file) mean the defaults. The values are checked by the real constructors, not
by a copy of their rules: one SensorModel is built when the config is read, and whatever it refuses is
reported as `file:line: field: reason` (detector/config_file.py), so a new SensorModel setting is
accepted here as soon as SensorModel takes it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from detector.config_file import (
    ConfigFileError, ConfigProblem, Loc, describe, did_you_mean, error_loc, field_path, load_yaml, model_at, shown,
    unknown_key_hint, validate,
)
from models.registry import DEFAULT_DETECTOR, build
from models.sensor import SensorModel

__all__ = ["ModelConfig", "ModelConfigError", "load_model_config", "model_for", "named_models",
           "parse_model_config", "sensor_settings"]

_TOP_LEVEL = ("detector", "params")  # SensorModel's parameters that the file gives at the top level
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?", re.IGNORECASE)


class ModelConfigError(ConfigFileError):
    """A model config file that cannot be used; one `file:line: field: reason` line per problem."""


def sensor_settings() -> list[str]:
    """The keys a `sensor:` mapping may hold: SensorModel's keyword parameters, as its signature has them.

    >>> "warmup" in sensor_settings(), "detector" in sensor_settings()
    (True, False)
    """
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [name for name, parameter in inspect.signature(SensorModel).parameters.items()
            if parameter.kind in kinds and name not in _TOP_LEVEL]


class ModelConfig(BaseModel):
    """How to build each new sensor's model: detector name, its parameters, SensorModel settings; picklable.

    >>> config = ModelConfig(detector="zscore", params={"rate": 0.05}, sensor={"warmup": 50, "single": None})
    >>> model = config.build()
    >>> model.detector_name, model.params, model.warmup, model.single
    ('zscore', {'rate': 0.05}, 50, None)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    detector: str = Field(default=DEFAULT_DETECTOR, strict=True)
    params: dict[str, Any] = Field(default_factory=dict)
    sensor: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params", "sensor", mode="before")
    @classmethod
    def _empty(cls, value: object) -> object:
        return {} if value is None else value  # `sensor:` with every key commented out

    @model_validator(mode="after")
    def _buildable(self) -> ModelConfig:
        # The real constructors judge the values; only on a refusal are the keys tried one by one.
        if all(key in sensor_settings() for key in self.sensor) and not _refusal(self.build):
            return self
        raise ValidationError.from_exception_data(type(self).__name__, [
            InitErrorDetails(type=_problem(loc, reason), loc=(), input=dict(self)) for loc, reason in self._problems()
        ])

    def build(self) -> SensorModel:
        """A fresh SensorModel with these settings (each sensor gets its own)."""
        return SensorModel(detector=self.detector, params=dict(self.params), **self.sensor)

    def _problems(self) -> list[tuple[Loc, str]]:
        """Each key the constructors refuse, tried alone (beside a valid detector and params), and why."""
        known = sensor_settings()
        unknown = [(("sensor", key), _unknown_setting(key, known)) for key in self.sensor if key not in known]
        if reason := _refusal(partial(build, self.detector)):
            return unknown + [(("detector",), reason)]
        params = [(("params", key), reason) for key, value in self.params.items()
                  if (reason := _refusal(partial(build, self.detector, **{key: value}), value))]
        if not params and (reason := _refusal(partial(build, self.detector, **self.params))):
            params = [(("params",), reason)]  # parameters that are fine alone but not together
        if params:
            return unknown + params
        model = partial(SensorModel, self.detector, dict(self.params))
        sensor = [(("sensor", key), reason) for key, value in self.sensor.items()
                  if key in known and (reason := _refusal(partial(model, **{key: value}), value))]
        if not unknown and not sensor:
            sensor = [(("sensor",), _refusal(self.build) or "refused by SensorModel")]  # fine alone, not together
        return unknown + sensor


def parse_model_config(text: str, source: str = "<model config>", *, detector: str | None = None) -> ModelConfig:
    """Validate model config YAML `text`; `detector`, if given, replaces the file's; `source` names it in errors."""
    document = load_yaml(text, source, ModelConfigError)
    data = {} if document.data is None else document.data
    if detector is not None and isinstance(data, dict):
        data = {**data, "detector": detector}
    return validate(replace(document, data=data), ModelConfig, ModelConfigError, _reason)


def load_model_config(path: str | Path, *, detector: str | None = None) -> ModelConfig:
    """Read and validate a model config file; a `ModelConfigError` names the file, the line and the key."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ModelConfigError([ConfigProblem(str(path), None, "", f"not UTF-8 text (byte {exc.start})")]) from None
    except OSError as exc:
        raise ModelConfigError([ConfigProblem(str(path), None, "", f"cannot be read: {exc.strerror}")]) from None
    return parse_model_config(text, str(path), detector=detector)


def model_for(path: str | Path | None = None, detector: str | None = None, params: dict | None = None) -> ModelConfig:
    """The model a command's options ask for: the file's config (defaults without one), `detector` replacing its own.

    Without a file, `params` are the detector's parameters (a file gives its own). Bad input raises a
    ValueError: an unknown `detector` lists the known names before the file is read.

    >>> model_for(detector="zscore", params={"rate": 0.05}).params
    {'rate': 0.05}
    >>> model_for(detector="zscore", params={"speed": 2})
    Traceback (most recent call last):
    ...
    ValueError: params.speed: detector 'zscore' has no parameter 'speed'; it takes: rate, clip, fast, multiscale
    """
    if detector is not None:
        build(detector)  # the registry's own error, with the known names
    if path is not None:
        if params:
            raise ValueError(f"detector parameters: give them under 'params' in {path}, not beside it")
        return load_model_config(path, detector=detector)
    data = {"detector": detector or DEFAULT_DETECTOR, "params": params or {}}
    try:
        return ModelConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError("\n".join(f"{field_path(loc)}: {_reason(error, loc)}" for error in exc.errors()
                                    for loc in [error_loc(error, data)])) from None


def named_models(path: str | Path | None, detectors: list[str], params: dict | None = None) -> dict[str, ModelConfig]:
    """The models an evaluation compares, by the name its report gives each.

    Each of `detectors` gets the file's other settings; with no detectors, the file's model is named
    after the file's stem (the default detector, without a file).

    >>> list(named_models(None, ["zscore", "sad"])), list(named_models(None, []))
    (['zscore', 'sad'], ['running'])
    """
    if not detectors:
        return {Path(path).stem if path is not None else DEFAULT_DETECTOR: model_for(path, None, params)}
    return {name: model_for(path, name, params) for name in detectors}


def _text_hint(given: object) -> str:
    """Why a number may have arrived as text: PyYAML (YAML 1.1) reads 1e-5 as a string, quoted numbers too."""
    if not isinstance(given, str) or not _NUMBER.fullmatch(given.strip()):
        return ""
    if "e" in given.lower():
        plain = f"{float(given):.15f}".rstrip("0").rstrip(".")
        return f" (YAML reads {given} as text: write {plain})"
    return " (a number in quotes is text: drop the quotes)"


def _refusal(trial: Callable[[], object], given: object = None) -> str:
    """Why `trial` (a constructor call) refuses its input, or "" if it accepts it."""
    try:
        trial()
    except (ValueError, TypeError) as exc:
        return str(exc) + _text_hint(given)
    return ""


def _unknown_setting(key: str, known: list[str]) -> str:
    if key in _TOP_LEVEL:
        return f"unknown setting {key!r} (it belongs at the top level, beside 'sensor')"
    return f"unknown setting {key!r}" + (did_you_mean(key, known) or f" (known: {', '.join(known)})")


def _problem(loc: Loc, reason: str) -> PydanticCustomError:
    # `at` points the error at a key inside the file (detector/config_file.error_loc).
    return PydanticCustomError("model_setting", "{reason}", {"reason": reason, "at": loc})


def _reason(error: dict, loc: Loc) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "model_setting":
        return error["ctx"]["reason"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if key in sensor_settings():
            return f"unknown field {key!r} (it belongs under 'sensor')"
        return "unknown field" + unknown_key_hint(key, model_at(ModelConfig, loc[:-1]))
    if kind == "string_type" and loc == ("detector",):
        return f"must be a detector name, got {shown(given)}"
    if kind == "dict_type" and loc in (("params",), ("sensor",)):
        what = "the detector's parameters" if loc == ("params",) else "SensorModel settings"
        return f"must be a mapping of {what}, got {shown(given)}"
    return describe(error, show=shown)
