"""Scenario evaluation: alert/label matching and figures, the run over a small scenario, the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from models.evaluate_cli import evaluate
from models.model_config import ModelConfig
from models.scenario_eval import Alert, Matching, evaluate_scenario, score_detector
from models.scenario_eval.cli import found_by
from models.scenario_eval.metrics import ALL
from simulator.labels import Label
from simulator.scenario_file import parse_scenario

MATCHING = Matching(lead_ms=5, grace_ms=100)
LABELS = [
    Label("spike", ("a",), 1_000, 1_010, "t"),
    Label("spike", ("b",), 5_000, 5_010, "t"),
    Label("level_shift", ("c",), 2_000, 3_000, "t"),
    Label("malformed", ("a",), 8_000, 9_000, "t"),
    Label("late", ("d",), 0, 10_000, "t"),
]

SMALL = """
name: small
seed: 3
duration: 8m
interval: 1s
fleet:
  - site: lab
    devices:
      - device: line-1
        sensors:
          - {type: temperature, base: 21.0, noise: 0.2, daily_amplitude: 0}
          - {type: pressure, base: 4.0}
anomalies:
  - {kind: spike, at: 300s, magnitude: 25.0, sensors: [line-1/temperature]}
faults:
  - {kind: malformed, at: 6m, duration: 1m, rate: 0.2, sensors: [line-1/pressure]}
"""


def test_alerts_explain_labels_inside_the_widened_window_only():
    assert MATCHING.explains(Alert("a", 995), LABELS[0])
    assert MATCHING.explains(Alert("a", 1_109), LABELS[0])
    assert not MATCHING.explains(Alert("a", 994), LABELS[0])
    assert not MATCHING.explains(Alert("a", 1_110), LABELS[0])
    assert not MATCHING.explains(Alert("b", 1_000), LABELS[0])


def test_recall_is_per_label_and_precision_per_alert():
    alerts = [Alert("a", 1_003), Alert("a", 1_050), Alert("b", 7_000), Alert("c", 2_500)]
    score = score_detector("z", alerts, LABELS, MATCHING, sensor_days=2.0)
    rows = {row.kind: row for row in score.kinds}
    spike = rows["spike"]
    assert (spike.labels, spike.detected, spike.recall) == (2, 1, 0.5)
    assert (spike.alerts, spike.true_alerts) == (3, 2)  # the false alert on b counts against spikes
    assert spike.precision == pytest.approx(2 / 3)
    assert spike.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert spike.delay_s == pytest.approx(0.003)
    assert rows["level_shift"].precision == 1.0 and rows["level_shift"].delay_s == pytest.approx(0.5)
    assert (rows[ALL].labels, rows[ALL].detected, rows[ALL].alerts, rows[ALL].true_alerts) == (3, 2, 4, 3)
    assert (score.false_alerts, score.false_per_sensor_day) == (1, 0.5)


def test_found_by_counts_the_reason_of_the_first_alert_on_each_label_found():
    alerts = [Alert("a", 1_050, "shift"), Alert("a", 1_003, "spike"), Alert("b", 5_001, "spike"),
              Alert("c", 2_500, "drift"), Alert("c", 2_600, "")]
    rows = {row.kind: row for row in score_detector("z", alerts, LABELS, MATCHING, sensor_days=1.0).kinds}
    assert rows["spike"].found_by == {"spike": 2}  # a's first alert said spike; its later shift is not counted
    assert rows["level_shift"].found_by == {"drift": 1}
    assert rows[ALL].found_by == {"spike": 2, "drift": 1}
    unnamed = score_detector("iforest", [Alert("a", 1_003)], LABELS, MATCHING, sensor_days=1.0)
    assert unnamed.kinds[0].found_by == {}  # the batch baseline has no reasons
    assert found_by(unnamed) is None


def test_data_faults_are_never_misses_and_their_alerts_are_false_alerts():
    score = score_detector("z", [Alert("a", 8_500), Alert("d", 9_000)], LABELS, MATCHING, sensor_days=1.0)
    assert [row.kind for row in score.kinds] == ["spike", "level_shift", ALL]
    assert score.fault_alerts == {"malformed": 1, "late": 1}
    assert score.false_alerts == 2


def test_no_alerts_leave_precision_undefined_and_recall_zero():
    score = score_detector("z", [], LABELS, MATCHING, sensor_days=1.0)
    for row in score.kinds:
        assert (row.precision, row.recall, row.f1, row.delay_s) == (None, 0.0, None, None)


def test_a_small_scenario_runs_the_detector_and_the_baseline():
    report = evaluate_scenario(parse_scenario(SMALL), {"zscore": ModelConfig(detector="zscore")})
    assert [score.detector for score in report.scores] == ["zscore", "iforest"]
    zscore = {row.kind: row for row in report.scores[0].kinds}
    assert zscore["spike"].detected == 1 and 0 < zscore["spike"].delay_s < 10
    assert zscore["spike"].found_by == {"spike": 1}  # the reason of the alert the job raised
    assert report.labels == {"spike": 1, "malformed": 1}
    assert report.dead_letters == report.malformed_records > 0
    assert report.matching == Matching(lead_ms=0, grace_ms=10_000)
    assert json.loads(json.dumps(report.to_dict()))["scenario"] == "small"


def test_a_dropout_is_found_by_the_silence_rule_within_its_window():
    dropout = SMALL.replace("  - {kind: spike, at: 300s, magnitude: 25.0, sensors: [line-1/temperature]}",
                            "  - {kind: dropout, at: 200s, duration: 2m, sensors: [line-1/temperature]}")
    report = evaluate_scenario(parse_scenario(dropout), {"running": ModelConfig()}, baseline=False)
    [row] = [row for row in report.scores[0].kinds if row.kind == "dropout"]
    assert (row.detected, row.found_by) == (1, {"silent": 1})
    assert row.delay_s == 9.0  # 10 s (the least silence) after its last reading, a second before the window


def test_the_cli_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(evaluate, ["scenario", "spike", "--detector", "zscore", "--no-baseline",
                                           "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "scenario spike" in result.output and "zscore" in result.output
    assert "zscore found spike by spike" in result.output
    [report] = json.loads(out.read_text())
    assert report["scores"][0]["kinds"][0]["kind"] == "spike"


@pytest.mark.parametrize("args, message", [
    (["scenario", "no-such-scenario"], "no such built-in scenario"),
    (["scenario", "spike", "--detector", "prophet", "--no-baseline"], "unknown detector"),
])
def test_the_cli_names_bad_input(args, message):
    result = CliRunner().invoke(evaluate, args)
    assert result.exit_code == 2 and message in result.output
