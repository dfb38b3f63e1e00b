"""`tocsin detect --model-config`: a bad file or detector is refused before Spark or Redis start."""

from __future__ import annotations

from typer.testing import CliRunner

from detector.cli import app

runner = CliRunner()


def flat(output: str) -> str:
    """Command output with rich's line wrapping undone."""
    return " ".join(output.split())


def test_a_bad_model_config_is_refused_with_file_line_and_key(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("detector: running\nsensor:\n  warmup: 50\n  qiuet: 20\n")
    result = runner.invoke(app, ["detect", "--model-config", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4: sensor.qiuet: unknown setting 'qiuet' (did you mean 'quiet'?)" in flat(result.output)


def test_model_replaces_the_files_detector_and_must_suit_its_params(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("detector: zscore\nparams: {rate: 0.05}\n")
    unknown = runner.invoke(app, ["detect", "--model-config", str(path), "--model", "crystal-ball"])
    assert unknown.exit_code == 2 and "--model: unknown detector 'crystal-ball'" in flat(unknown.output)
    unsuited = runner.invoke(app, ["detect", "--model-config", str(path), "--model", "sad"])
    assert unsuited.exit_code == 2
    assert f"{path}:2: params.rate: detector 'sad' has no parameter 'rate'" in flat(unsuited.output)


def test_a_missing_model_config_is_refused_by_name(tmp_path):
    result = runner.invoke(app, ["detect", "--model-config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "nope.yaml" in flat(result.output)
