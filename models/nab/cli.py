"""`tocsin evaluate nab`: run a detector over the NAB corpus and print its scores beside NAB's scoreboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from models.model_config import named_models
from models.nab.corpus import NabCorpusError
from models.nab.report import PROFILE_TITLES, scoreboard, write_report
from models.nab.runner import NabResult, check_result_name, evaluate_nab

app = typer.Typer(help="Evaluate tocsin detectors on public anomaly benchmarks.", no_args_is_help=True)


@app.callback()
def evaluate() -> None:
    """Evaluate tocsin detectors on public anomaly benchmarks."""


def parse_params(items: list[str] | None) -> dict:
    """Detector parameters from KEY=VALUE strings, each VALUE read as a YAML scalar (3, 0.5, true, text).

    >>> parse_params(["rate=0.05", "clip=3", "name=x"])
    {'rate': 0.05, 'clip': 3, 'name': 'x'}
    """
    params = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--param")
        try:
            params[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            raise typer.BadParameter(f"{item!r}: VALUE is not a YAML scalar", param_hint="--param") from None
    return params


@app.command("nab")
def nab(
    data: Annotated[
        Path, typer.Option(help="NAB corpus folder holding data/ and labels/.", exists=True, file_okay=False)
    ],
    out: Annotated[Path, typer.Option(help="Results folder; this run goes to OUT/<name>/, where <name> is the "
                                           "detector, or the model config file's stem.", file_okay=False)],
    detector: Annotated[str | None, typer.Option(
        help="Registered detector name (no '_'; default: the model config's, else the default detector); "
             "replaces the detector of --model-config.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Detector parameter KEY=VALUE; repeat for more "
                                                       "(with --model-config, write them under its params).")
    ] = None,
    model_config: Annotated[Path | None, typer.Option(
        help="Model config YAML (detector, params, sensor settings), as `tocsin detect --model-config` takes. "
             "Its file stem names the results unless --detector is given (so no '_' in it).",
        exists=True, dir_okay=False)] = None,
    processes: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: every core).")] = None,
    plots: Annotated[bool, typer.Option(help="Write a PNG per series and the summary page.")] = True,
) -> None:
    """Run a detector online over every NAB series (score first, then learn) and score it by NAB's rules."""
    console = Console()
    try:
        [(name, model)] = named_models(model_config, [detector] if detector else [], parse_params(param)).items()
        if detector is None and model_config is not None:
            check_result_name(name, f"results name (from the file name {model_config.name}; rename it or give "
                                    "--detector)")
        result = evaluate_nab(data, model, out, name=name, processes=processes)
    except (NabCorpusError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(code=2) from None
    console.print(scoreboard_table(result))
    console.print(figures(result), highlight=False)
    if plots:
        console.print(f"report: {write_report(result, processes=processes)}", highlight=False)


def scoreboard_table(result: NabResult) -> Table:
    """This run's three profile scores ranked among NAB's published detectors."""
    table = Table(title=f"NAB scores: tocsin {result.detector} beside the published scoreboard")
    table.add_column("Detector")
    for title in PROFILE_TITLES.values():
        table.add_column(title, justify="right")
    for name, scores, ours in scoreboard(result):
        cells = ["n/a" if score is None else f"{score:.1f}" for score in scores]
        table.add_row(name, *cells, style="bold yellow" if ours else None)
    return table


def figures(result: NabResult) -> str:
    """Thresholds, cost per record and per model, and wall time, one line each."""
    thresholds = "".join(f"threshold {name}: {profile.threshold:.10g}\n" for name, profile in result.profiles.items())
    return (
        f"{thresholds}"
        f"records: {result.records} in {len(result.runs)} series\n"
        f"µs per record (process: score then learn): {result.us_per_record:.2f}\n"
        f"bytes per model (pickled, end of series): {result.bytes_per_model:.0f}\n"
        f"wall time (run + score): {result.wall_seconds:.1f} s\n"
        f"results: {result.results_dir}"
    )
