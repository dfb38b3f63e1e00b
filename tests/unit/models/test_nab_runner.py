"""The NAB runner, report and command on the tiny fixture corpus, with the real SensorModel."""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models import SensorModel
from models.nab.cli import app
from models.nab.corpus import load_corpus
from models.nab.report import summary_html, write_report
from models.nab.onsets import OnsetRule, onset_scores
from models.model_config import ModelConfig
from models.nab.runner import check_result_name, evaluate_nab

FIXTURE = Path(__file__).parents[2] / "fixtures" / "nab"
PARAMS = {"rate": 0.05}
MODEL = ModelConfig(detector="zscore", params=PARAMS)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """One zscore run over the fixture corpus, in this process."""
    return evaluate_nab(FIXTURE, MODEL, tmp_path_factory.mktemp("nab"), processes=1)


def flat(output: str) -> str:
    """Command output with rich's line wrapping undone."""
    return " ".join(output.split())


def read_rows(path: Path) -> list[dict]:
    """A result CSV as dicts."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_each_series_gets_a_nab_result_file(result):
    corpus = load_corpus(FIXTURE)
    for series in corpus.series:
        path = result.results_dir / series.category / f"zscore_{series.file}"
        rows = read_rows(path)
        assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label"]
        assert [row["timestamp"] for row in rows] == list(series.timestamps)
        assert [int(row["label"]) for row in rows] == series.labels()
        assert all(0.0 <= float(row["anomaly_score"]) <= 1.0 for row in rows)


def test_scores_are_those_of_a_fresh_sensor_model_scoring_then_learning_each_record(result):
    run = next(run for run in result.runs if run.series.file == "art_tiny_spikes.csv")
    model = SensorModel(detector="zscore", params=PARAMS)
    expected = [model.process(value, ts) for value, ts in zip(run.series.values, run.series.ts_ms)]
    likelihoods = [score.likelihood for score in expected]
    assert list(run.anomaly_scores) == onset_scores(likelihoods, OnsetRule.default())
    assert run.model_bytes == len(pickle.dumps(model))


def test_the_three_profiles_are_scored_and_written_like_nab(result):
    assert set(result.profiles) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    standard = result.profiles["standard"]
    assert standard.perfect == 3.0  # three windows in the fixture corpus
    assert standard.null == -3.0
    assert -100.0 <= standard.score <= 100.0
    rows = read_rows(result.results_dir / "zscore_standard_scores.csv")
    assert [row["File"] for row in rows[:-1]] == [run.series.name for run in result.runs]
    assert rows[-1]["Detector"] == "Totals"
    assert float(rows[-1]["Score"]) == pytest.approx(standard.raw)


def test_cost_figures_are_reported(result):
    assert result.records == 900
    assert result.bytes_per_model == sum(run.model_bytes for run in result.runs) / 3
    assert all(run.process_seconds > 0 for run in result.runs)


def test_a_pool_of_workers_gives_the_same_scores(result, tmp_path):
    pooled = evaluate_nab(FIXTURE, MODEL, tmp_path, processes=2)
    assert [run.anomaly_scores for run in pooled.runs] == [run.anomaly_scores for run in result.runs]
    assert pooled.profiles["standard"].raw == result.profiles["standard"].raw


@pytest.mark.parametrize(("name", "message"), [("z_score", "'_' and '/' cannot appear"), ("../x", "letters, digits")])
def test_result_names_nab_cannot_take_are_refused_before_any_series_runs(name, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        check_result_name(name)
    with pytest.raises(ValueError, match=message):
        evaluate_nab(FIXTURE, MODEL, tmp_path, name=name, processes=1)
    assert not any(tmp_path.iterdir())


def test_the_report_draws_every_series_and_links_it_from_the_summary(result):
    page = write_report(result, processes=1)
    text = page.read_text()
    assert "Numenta HTM" in text and "tocsin zscore" in text
    for run in result.runs:
        link = f"plots/{run.series.category}/{Path(run.series.file).stem}.png"
        assert f"href='{link}'" in text
        assert (result.results_dir / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_prints_the_scores_beside_the_published_scoreboard(tmp_path):
    args = ["nab", "--data", str(FIXTURE), "--out", str(tmp_path), "--detector", "zscore"]
    outcome = CliRunner().invoke(app, [*args, "--param", "rate=0.05", "--processes", "1", "--no-plots"])
    assert outcome.exit_code == 0, outcome.output
    assert "Numenta HTM" in outcome.output and "tocsin zscore" in outcome.output
    assert "µs per record" in outcome.output and "bytes per model" in outcome.output
    assert (tmp_path / "zscore" / "zscore_standard_scores.csv").exists()


def test_the_command_names_a_bad_detector_or_parameter(tmp_path):
    base = ["nab", "--data", str(FIXTURE), "--out", str(tmp_path), "--processes", "1", "--no-plots"]
    bad_name = CliRunner().invoke(app, [*base, "--detector", "z_score"])
    assert bad_name.exit_code == 2 and "unknown detector 'z_score'" in bad_name.output
    bad_param = CliRunner().invoke(app, [*base, "--param", "rate"])
    assert bad_param.exit_code == 2 and "KEY=VALUE" in bad_param.output
    unknown_param = CliRunner().invoke(app, [*base, "--detector", "zscore", "--param", "speed=2"])
    assert unknown_param.exit_code == 2
    assert "params.speed: detector 'zscore' has no parameter" in flat(unknown_param.output)
    assert not any(tmp_path.iterdir())


def test_a_model_config_file_names_the_results_after_its_stem(tmp_path):
    config = tmp_path / "warm50.yaml"
    config.write_text("detector: zscore\nparams: {rate: 0.05}\nsensor: {warmup: 50}\n")
    base = ["nab", "--data", str(FIXTURE), "--out", str(tmp_path / "out"), "--processes", "1", "--no-plots"]
    outcome = CliRunner().invoke(app, [*base, "--model-config", str(config)])
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "out" / "warm50" / "warm50_standard_scores.csv").exists()
    model = ModelConfig(detector="zscore", params=PARAMS, sensor={"warmup": 50})
    direct = evaluate_nab(FIXTURE, model, tmp_path / "direct", name="warm50", processes=1)
    rows = read_rows(tmp_path / "out" / "warm50" / "warm50_standard_scores.csv")
    assert float(rows[-1]["Score"]) == pytest.approx(direct.profiles["standard"].raw)
    assert direct.sensor == {"warmup": 50}
    assert "sensor settings: <code>{&#x27;warmup&#x27;: 50}</code>" in summary_html(direct)
    assert "sensor settings: <code>the defaults</code>" in summary_html(evaluate_nab(FIXTURE, MODEL, tmp_path / "defaults", processes=1))


def test_a_model_config_file_whose_stem_nab_cannot_take_is_refused_unless_detector_is_given(tmp_path):
    config = tmp_path / "my_model.yaml"
    config.write_text("detector: zscore\n")
    base = ["nab", "--data", str(FIXTURE), "--out", str(tmp_path / "out"), "--processes", "1", "--no-plots",
            "--model-config", str(config)]
    refused = CliRunner().invoke(app, base)
    assert refused.exit_code == 2
    assert "my_model.yaml" in refused.output and "'_' and '/' cannot appear" in flat(refused.output)
    both = CliRunner().invoke(app, [*base, "--param", "rate=0.05"])
    assert both.exit_code == 2 and "under 'params'" in flat(both.output)
    named = CliRunner().invoke(app, [*base, "--detector", "sad"])
    assert named.exit_code == 0, named.output
    assert (tmp_path / "out" / "sad" / "sad_standard_scores.csv").exists()


def test_the_command_has_help():
    outcome = CliRunner().invoke(app, ["nab", "--help"])
    assert outcome.exit_code == 0
    assert "--detector" in outcome.output and "--param" in outcome.output
