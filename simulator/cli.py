"""`tocsin simulate`: list the built-in scenarios, publish one to Redis, or record one to files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from simulator.publisher import DEFAULT_MAXLEN

app = typer.Typer(help="Simulated sensor traffic from seeded scenarios, with ground-truth labels.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SCENARIO_HELP = "A built-in scenario name (see `tocsin simulate list`) or the path of a scenario YAML file."


def fail(message: str, code: int = 2) -> None:
    """Print an error for a person and exit with `code`."""
    err.print(f"[red]error:[/red] {message}", markup=True)
    raise typer.Exit(code)


def load(name_or_path: str):
    """The scenario, or exit with its file, line and field when it is invalid."""
    from simulator.scenario_file import ScenarioError, find_scenario

    try:
        return find_scenario(name_or_path)
    except ScenarioError as exc:
        fail(str(exc))


@app.command("list")
def list_scenarios() -> None:
    """One line per built-in scenario: its name and what it shows."""
    from simulator.scenario_file import builtin_names

    names = builtin_names()
    width = max(map(len, names))
    for name in names:
        console.print(f"{name:<{width}}  {load(name).description}", markup=False)


@app.command()
def run(
    scenario: str = typer.Argument("default", help=SCENARIO_HELP),
    shards: int = typer.Option(1, min=1, help="Number of event streams (tocsin:events:0..N-1; 1 = tocsin:events)."),
    speed: Optional[float] = typer.Option(None, min=0.001, help="Replay at X times real time (default: the scenario's own speed)."),
    fast: bool = typer.Option(False, "--fast", help="Publish as fast as possible, ignoring event time."),
    redis_url: Optional[str] = typer.Option(None, "--redis-url", envvar="REDIS_URL", show_envvar=True,
                                            help="Redis to publish to."),
    maxlen: int = typer.Option(DEFAULT_MAXLEN, min=1, help="Approximate MAXLEN trimming of each event stream."),
    labels_out: Optional[Path] = typer.Option(None, help="Also write the ground-truth labels to this JSON-lines file."),
) -> None:
    """Publish a scenario's events to Redis streams, after its sensor registry and its labels."""
    from detector.redis_server import RedisUnavailable, connect, redacted
    from simulator.publisher import publish_scenario

    if speed is not None and fast:
        fail("choose --speed X or --fast, not both")
    if not redis_url:
        fail("no Redis to publish to: set REDIS_URL or pass --redis-url. `tocsin detect` and `tocsin demo` "
             "start an embedded Redis and print its URL.")
    chosen = load(scenario)
    pace = None if fast else (speed or chosen.speed)
    try:
        client = connect(redis_url)
    except RedisUnavailable as exc:
        fail(str(exc), 1)
    how = "as fast as possible" if pace is None else f"at {pace:g}x real time"
    console.print(f"publishing {chosen.name!r} to {redacted(redis_url)} on {shards} shard(s), {how}", markup=False)
    try:
        summary = publish_scenario(client, chosen, shards=shards, speed=pace, maxlen=maxlen, labels_out=labels_out)
    finally:
        client.close()
    console.print(f"{summary.events} events to {', '.join(summary.streams)} in {summary.seconds:.2f} s "
                  f"({summary.events_per_s:,.0f} events/s); {summary.labels} label(s) on tocsin:labels"
                  + (f" and in {labels_out}" if labels_out else ""), markup=False)


@app.command()
def record(
    scenario: str = typer.Argument(..., help=SCENARIO_HELP),
    out: Path = typer.Option(..., "--out", help="Events file; labels go beside it as <name>.labels.jsonl."),
    parquet: bool = typer.Option(False, "--parquet", help="Write events as Parquet (typed columns) instead of JSON lines."),
) -> None:
    """Record a scenario's events and labels to files; the same scenario and seed give identical bytes."""
    from simulator.recording import record as record_run

    done = record_run(load(scenario), out, "parquet" if parquet else "jsonl")
    console.print(f"{done.events} events to {done.events_path}, {done.labels} label(s) to {done.labels_path}",
                  markup=False)

