"""`tocsin evaluate`: measure detectors on the NAB benchmark or on simulator scenarios with ground truth."""

from __future__ import annotations

import typer

from models.nab.cli import nab
from models.scenario_eval.cli import scenario

evaluate = typer.Typer(help="Measure detectors: on NAB, or on simulator scenarios.", no_args_is_help=True)
evaluate.command("nab")(nab)
evaluate.command("scenario")(scenario)
