"""`tocsin evaluate scenario`: detectors on simulator scenarios, per anomaly kind, beside the batch baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from alerts.rules import RuleFileError, load_rules
from models.model_config import named_models
from models.scenario_eval.isolation import CONTAMINATION
from models.scenario_eval.metrics import ALL, DetectorScore
from models.scenario_eval.runner import GRACE_SAMPLES, ScenarioReport, evaluate_scenario
from simulator.fleet import ScenarioInvalid
from simulator.scenario_file import ScenarioError


def scenario(
    scenarios: Annotated[list[str], typer.Argument(help="Built-in scenario names or scenario files.")],
    detector: Annotated[
        list[str] | None, typer.Option("--detector", help="Registered detector name; repeat for more. With "
                                       "--model-config, each replaces the file's detector.")
    ] = None,
    model_config: Annotated[Path | None, typer.Option(
        help="Model config YAML (detector, params, sensor settings), as `tocsin detect --model-config` takes; "
             "reported under the file's stem unless --detector is given.", exists=True, dir_okay=False)] = None,
    out: Annotated[Path | None, typer.Option(help="Write every report as JSON to this file.", dir_okay=False)] = None,
    rules: Annotated[Path | None, typer.Option(help="Alert rules file (default: the shipped rules).",
                                               exists=True, dir_okay=False)] = None,
    baseline: Annotated[bool, typer.Option(help="Also run the batch IsolationForest baseline.")] = True,
    contamination: Annotated[float, typer.Option(min=0.0001, max=0.5, help="Baseline's outlier share.")]
    = CONTAMINATION,
    grace_samples: Annotated[int, typer.Option(min=0, help="Sample intervals after a label still explained.")]
    = GRACE_SAMPLES,
) -> None:
    """Score detectors on scenarios with ground truth: precision, recall, F1 and delay per anomaly kind."""
    console = Console()
    reports = []
    try:
        rule_set = load_rules(rules) if rules is not None else None
        models = named_models(model_config, detector or [])
        for name in scenarios:
            report = evaluate_scenario(name, models, rules=rule_set, baseline=baseline,
                                       grace_samples=grace_samples, contamination=contamination)
            reports.append(report)
            console.print(report_table(report))
            console.print(footer(report), highlight=False)
    except (ScenarioError, ScenarioInvalid, RuleFileError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(code=2) from None
    if out is not None:
        out.write_text(json.dumps([r.to_dict() for r in reports], indent=2) + "\n", encoding="utf-8")
        console.print(f"report: {out}", highlight=False)


def report_table(report: ScenarioReport) -> Table:
    """One row per (anomaly kind, detector), then one per data-fault kind with the alerts it caused."""
    table = Table(title=f"scenario {report.scenario}: {report.events} events, {report.sensors} sensors, "
                        f"{report.sensor_days:.3g} sensor-days",
                  caption="found: labels explained / labels; * a data fault, never a miss; "
                          "iforest: IsolationForest fitted offline (batch baseline)")
    for column in ("kind", "detector", "found", "recall", "alerts", "prec.", "F1", "delay s"):
        table.add_column(column, justify="left" if column in ("kind", "detector") else "right", no_wrap=True)
    kinds = [row.kind for row in report.scores[0].kinds] if report.scores else []
    for kind in kinds:
        for score in report.scores:
            row = next(r for r in score.kinds if r.kind == kind)
            table.add_row(kind, score.detector, f"{row.detected}/{row.labels}", _figure(row.recall),
                          str(row.alerts), _figure(row.precision), _figure(row.f1), _figure(row.delay_s, 0),
                          style="bold" if kind == ALL else None)
        table.add_section()
    for kind, count in report.labels.items():
        if kind in kinds:
            continue
        for score in report.scores:
            alerts = score.fault_alerts.get(kind, 0)
            table.add_row(f"{kind}*", score.detector, f"-/{count}", "", str(alerts), "", "", "")
    return table


def footer(report: ScenarioReport) -> str:
    """False alerts per sensor-day, dead letters and run time, one line per detector."""
    lines = [f"matching: alerts from {report.matching.lead_ms / 1000:g} s before a label's window to "
             f"{report.matching.grace_ms / 1000:g} s after it; malformed records: {report.malformed_records}, "
             f"dead letters: {report.dead_letters}"]
    for score in report.scores:
        lines.append(f"{score.detector}: {score.alerts} alerts, {score.false_alerts} false "
                     f"({score.false_per_sensor_day:.2f} per sensor-day), "
                     f"{report.seconds.get(score.detector, 0.0):.2f} s")
    lines += [line for line in map(found_by, report.scores) if line is not None]
    return "\n".join(lines)


def found_by(score: DetectorScore) -> str | None:
    """Which test found each kind, from the reason of the first alert on each label found; None without reasons.

    "running found spike by spike, level_shift by shift, drift by drift (shift 2, drift 1 when several)".
    """
    kinds = [(row.kind, row.found_by) for row in score.kinds if row.kind != ALL and row.found_by]
    if not kinds:
        return None
    return f"{score.detector} found " + ", ".join(f"{kind} by {_reasons(reasons)}" for kind, reasons in kinds)


def _reasons(reasons: dict[str, int]) -> str:
    if len(reasons) == 1:
        return next(iter(reasons))
    return "(" + ", ".join(f"{reason} {count}" for reason, count in reasons.items()) + ")"


def _figure(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
