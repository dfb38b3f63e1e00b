"""Model config files: defaults, the settings reaching SensorModel, and each bad input named by file, line and key."""

from __future__ import annotations

import inspect
import pickle
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from models import SensorModel
from models.evaluate_cli import evaluate
from models.model_config import (
    ModelConfig, ModelConfigError, load_model_config, model_for, named_models, parse_model_config, sensor_settings,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "model_config"
EXAMPLE = Path(__file__).parents[3] / "models" / "model_config.example.yaml"


def settings(model: SensorModel) -> dict:
    """Everything a SensorModel was configured with."""
    return {"detector": model.detector_name, "params": model.params,
            **{name: getattr(model, name) for name in sensor_settings()}}


def flat(output: str) -> str:
    """Command output with rich's line wrapping undone."""
    return " ".join(output.split())


@pytest.mark.parametrize("name", ["empty.yaml", "empty_sections.yaml"])
def test_an_empty_file_or_empty_sections_mean_the_defaults(name):
    config = load_model_config(FIXTURES / name)
    assert config == ModelConfig()
    assert settings(config.build()) == settings(SensorModel())


def test_a_valid_file_reaches_the_detector_and_the_sensor_model():
    model = load_model_config(FIXTURES / "valid.yaml").build()
    assert (model.detector_name, model.params) == ("zscore", {"rate": 0.05})
    assert model.detector.rate == 0.05
    assert (model.warmup, model.quiet, model.single) == (50, 20, None)
    assert model.window == SensorModel().window, "a key left out keeps SensorModel's default"


def test_each_build_is_a_fresh_model_and_the_config_pickles():
    config = load_model_config(FIXTURES / "valid.yaml")
    first, second = config.build(), config.build()
    first.process(20.0, 1_704_067_200_000)
    assert (first.count, second.count) == (1, 0)
    assert first.detector is not second.detector
    assert pickle.loads(pickle.dumps(config)) == config


@pytest.mark.parametrize("name, line, key, words", [
    ("unknown_key.yaml", 2, "colour", "unknown field 'colour' (known: detector, params, sensor)"),
    ("misplaced_setting.yaml", 2, "warmup", "unknown field 'warmup' (it belongs under 'sensor')"),
    ("unknown_setting.yaml", 3, "sensor.qiuet", "unknown setting 'qiuet' (did you mean 'quiet'?)"),
    ("detector_under_sensor.yaml", 2, "sensor.detector", "belongs at the top level"),
    ("unknown_detector.yaml", 2, "detector", "unknown detector 'prophet'; known: running, zscore"),
    ("detector_not_text.yaml", 1, "detector", "must be a detector name, got 3"),
    ("bad_value.yaml", 3, "sensor.warmup", "warmup must be an integer >= 0, got -1"),
    ("wrong_type.yaml", 2, "sensor.threshold", "threshold must be a finite number, got 'high'"),
    ("number_as_text.yaml", 2, "sensor.single", "YAML reads 1e-5 as text: write 0.00001"),
    ("unknown_param.yaml", 4, "params.speed", "detector 'zscore' has no parameter 'speed'; it takes: rate"),
    ("bad_param.yaml", 3, "params.rate", "RobustZScore: rate must be in (0, 1], got 1.5"),
    ("params_not_mapping.yaml", 1, "params", "must be a mapping of the detector's parameters, got a list of 2"),
    ("not_a_mapping.yaml", 1, "(top level)", "must be a mapping"),
    ("repeated_key.yaml", 3, "sensor.warmup", "repeated key (first on line 2)"),
])
def test_each_bad_input_names_the_file_the_line_and_the_key(name, line, key, words):
    path = FIXTURES / name
    with pytest.raises(ModelConfigError) as caught:
        load_model_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert words in message


def test_invalid_yaml_and_an_unreadable_file_name_the_file():
    with pytest.raises(ModelConfigError, match=r"not_yaml.yaml:2: not valid YAML"):
        load_model_config(FIXTURES / "not_yaml.yaml")
    with pytest.raises(ModelConfigError, match=r"missing.yaml: cannot be read: No such file"):
        load_model_config(FIXTURES / "missing.yaml")


def test_a_detector_given_beside_the_file_replaces_its_detector_and_keeps_its_settings():
    config = model_for(FIXTURES / "unknown_detector.yaml", "sad")
    assert config.detector == "sad"
    with pytest.raises(ModelConfigError, match=r"valid.yaml:3: params.rate: detector 'sad' has no parameter"):
        load_model_config(FIXTURES / "valid.yaml", detector="sad")  # zscore's rate does not suit sad
    with pytest.raises(ValueError, match="unknown detector 'prophet'"):
        model_for(FIXTURES / "valid.yaml", "prophet")


def test_evaluations_name_a_file_model_after_its_stem_and_detectors_after_themselves():
    assert list(named_models(FIXTURES / "valid.yaml", [])) == ["valid"]
    by_detector = named_models(FIXTURES / "empty_sections.yaml", ["zscore", "sad"])
    assert {name: config.detector for name, config in by_detector.items()} == {"zscore": "zscore", "sad": "sad"}


def test_the_example_file_holds_every_setting_at_its_default():
    data = yaml.safe_load(EXAMPLE.read_text())
    assert list(data["sensor"]) == sensor_settings()
    defaults = inspect.signature(SensorModel).parameters
    assert data["detector"] == defaults["detector"].default and data["params"] == {}
    assert data["sensor"] == {name: defaults[name].default for name in sensor_settings()}
    assert settings(load_model_config(EXAMPLE).build()) == settings(SensorModel())


def test_the_scenario_command_names_a_bad_model_config(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("detector: running\nsensor:\n  warmup: -5\n")
    result = CliRunner().invoke(evaluate, ["scenario", "spike", "--model-config", str(path), "--no-baseline"])
    assert result.exit_code == 2
    assert f"{path}:3: sensor.warmup: SensorModel: warmup must be an integer >= 0, got -5" in flat(result.output)


def test_the_scenario_command_reports_a_model_config_under_its_stem(tmp_path):
    path = tmp_path / "warm50.yaml"
    path.write_text("sensor: {warmup: 50}\n")
    args = ["scenario", "spike", "--model-config", str(path), "--no-baseline"]
    result = CliRunner().invoke(evaluate, args)
    assert result.exit_code == 0, result.output
    assert "warm50:" in result.output
    both = CliRunner().invoke(evaluate, [*args, "--detector", "zscore", "--detector", "running"])
    assert both.exit_code == 0, both.output
    assert "zscore:" in both.output and "running:" in both.output


def test_every_refused_key_is_reported_at_once():
    text = "sensor:\n  warmup: -1\n  qiuet: 20\n  threshold: 2\n"
    with pytest.raises(ModelConfigError) as caught:
        parse_model_config(text, "m.yaml")
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (2, "sensor.warmup"), (3, "sensor.qiuet"), (4, "sensor.threshold")]
