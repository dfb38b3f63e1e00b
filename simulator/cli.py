"""`tocsin simulate`: list the built-in scenarios, publish one to Redis, or record one to files.

`replay` (mounted as `tocsin replay`) publishes a recording or an external CSV data set to a sink.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from simulator.sinks import DEFAULT_MAXLEN

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
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar (there is none when not on a terminal)."),
) -> None:
    """Publish a scenario's events to Redis streams, after its sensor registry and its labels."""
    from redis import RedisError

    from detector.redis_server import RedisUnavailable, connect, redacted
    from simulator.generator import sample_count
    from simulator.plan import resolve
    from simulator.progress import ReplayProgress, summary_line
    from simulator.publisher import publish_scenario
    from simulator.sinks import SinkError

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
    plan = resolve(chosen)
    expected = sum(sample_count(plan, spec) for spec in plan.sensors)  # before dropouts and duplicates
    try:
        with ReplayProgress(err, expected, enabled=not quiet, label="publishing") as progress:
            summary = publish_scenario(client, chosen, shards=shards, speed=pace, maxlen=maxlen,
                                       labels_out=labels_out, on_commit=progress)
    except SinkError as exc:  # Redis refused the events (an outage is waited out): what was sent stays on the streams
        fail(str(exc), 1)
    except RedisError as exc:  # Redis went away while the registry or the labels were written
        fail(f"redis: {exc}", 1)
    except KeyboardInterrupt:
        fail("interrupted; the events published so far stay on the streams", 130)
    finally:
        client.close()
    console.print(f"{summary_line(summary)}; {summary.labels} label(s) on tocsin:labels"
                  + (f" and in {labels_out}" if labels_out else ""), markup=False)
    if summary.retired:
        console.print(f"{len(summary.retired)} sensor(s) stay retired in the registry, so the detector dead-letters "
                      f"their events: {', '.join(summary.retired)} (`tocsin retire --undo SENSOR...` takes them back)",
                      markup=False)


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



class SinkKind(str, Enum):
    """Where `tocsin replay` sends records."""

    redis = "redis"
    file = "file"
    stdout = "stdout"
    kafka = "kafka"


SOURCE_HELP = ("A recording from `tocsin simulate record` (.jsonl or .parquet), a CSV file, or a directory of "
               "CSV files (each file one sensor, id <folder>/<stem>, like NAB's data/<category>/*.csv).")


def replay(
    source: Path = typer.Argument(..., help=SOURCE_HELP),
    speed: Optional[float] = typer.Option(None, min=0.001, help="X times real time (60: an hour a minute); default 1."),
    fast: bool = typer.Option(False, "--fast", help="Publish as fast as possible, ignoring event time."),
    sink: Optional[SinkKind] = typer.Option(None, help="redis (the default), file (needs --out), stdout or kafka."),
    out: Optional[Path] = typer.Option(None, "--out", help="JSON-lines file to write (implies --sink file)."),
    redis_url: Optional[str] = typer.Option(None, "--redis-url", envvar="REDIS_URL", show_envvar=True,
                                            help="Redis to publish to (and to keep the replay's progress in)."),
    shards: int = typer.Option(1, min=1, help="Number of event streams (tocsin:events:0..N-1; 1 = tocsin:events)."),
    maxlen: int = typer.Option(DEFAULT_MAXLEN, min=1, help="Approximate MAXLEN trimming of each event stream."),
    kafka_bootstrap: Optional[str] = typer.Option(None, "--kafka-bootstrap", envvar="KAFKA_BOOTSTRAP_SERVERS",
                                                  show_envvar=True, help="Kafka brokers, HOST:PORT[,...] (--sink kafka)."),
    time_column: str = typer.Option("timestamp", help="CSV: the column with event times (epoch s/ms or ISO-8601; no zone = UTC)."),
    value_column: str = typer.Option("value", help="CSV: the column with the readings."),
    sensor_column: Optional[str] = typer.Option(None, help="CSV: the column with sensor ids."),
    sensor_id: Optional[str] = typer.Option(None, help="CSV: one sensor id for every row (default: from the file name)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip (and count) rows that cannot be read, instead of stopping."),
    resume: bool = typer.Option(False, "--resume", help="Go on after the last event an earlier replay of the same source published."),
    limit: Optional[int] = typer.Option(None, min=1, help="Stop after publishing this many events (--resume goes on)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar (there is none when not on a terminal)."),
) -> None:
    """Publish a recording or a CSV data set to the event streams (or a file, stdout, Kafka), paced by event time."""
    from simulator.csv_source import CsvMapping
    from simulator.progress import ReplayProgress, summary_line
    from simulator.replay import BadRows, ReplayError, play
    from simulator.sinks import SinkError
    from simulator.sources import open_source

    kind = _checked_sink(sink, out, speed=speed, fast=fast, resume=resume)
    bad = BadRows(skip=skip_bad)
    try:
        mapping = CsvMapping(time_column, value_column, sensor_column, sensor_id)
        opened = open_source(source, mapping, bad)
        # Not --skip-bad: a run stopped by a bad row can go on past it with --skip-bad --resume.
        shaping = {"kind": opened.kind, "shards": shards, **(mapping.options() if opened.kind == "csv" else {})}
        target = _sink_for(kind, opened, shaping, out=out, redis_url=redis_url, shards=shards, maxlen=maxlen,
                           kafka_bootstrap=kafka_bootstrap)
        start = target.resume_position() if resume else 0
    except (ReplayError, SinkError) as exc:
        fail(str(exc))
    shown = err if kind is SinkKind.stdout else console
    if start:
        shown.print(f"resuming {source} after event {start:,}", markup=False)
    total = None if opened.total is None else max(0, opened.total - start)
    total = min(total, limit) if total is not None and limit else total
    try:
        with target, ReplayProgress(err, total, enabled=not quiet) as progress:
            summary = play(opened.records, target, start=start, limit=limit,
                           speed=None if fast else (speed or 1.0), on_commit=progress)
    except ReplayError as exc:
        fail(f"{exc}" + ("; the events before it are published: add --skip-bad --resume to go on past it"
                         if kind is SinkKind.redis else ""), 1)
    except SinkError as exc:
        fail(str(exc), 1)
    except KeyboardInterrupt:
        fail("interrupted" + ("; --resume goes on after the last event published" if kind is SinkKind.redis else ""), 130)
    finally:
        _close_client(target)
    skipped = f"; skipped {bad.count:,} bad row(s), the first {bad.first}" if bad.count else ""
    shown.print(summary_line(summary, resumable=kind is SinkKind.redis) + skipped, markup=False)


def _checked_sink(sink: SinkKind | None, out: Path | None, *, speed, fast: bool, resume: bool) -> SinkKind:
    """The sink chosen (file when only --out is given, else redis), once the options agree with each other."""
    kind = sink or (SinkKind.file if out else SinkKind.redis)
    if speed is not None and fast:
        fail("choose --speed X or --fast, not both")
    if (kind is SinkKind.file) != (out is not None):
        fail("--sink file and --out PATH go together")
    if resume and kind is not SinkKind.redis:
        fail("--resume needs the redis sink: the replay's progress is kept in Redis, with the events it covers")
    return kind


def _sink_for(kind: SinkKind, opened, shaping: dict, *, out, redis_url, shards, maxlen, kafka_bootstrap):
    """The sink `kind`, configured; Redis keeps the progress under a key named by the source and the
    options that shape its records (`shaping`), so only the same replay resumes from it."""
    from detector.redis_server import RedisUnavailable, connect
    from simulator.replay import checkpoint_for
    from simulator.sinks import JsonLinesSink, KafkaSink, RedisSink, StdoutSink

    if kind is SinkKind.file:
        return JsonLinesSink(out)
    if kind is SinkKind.stdout:
        return StdoutSink()
    if kind is SinkKind.kafka:
        return KafkaSink(kafka_bootstrap, shards=shards)
    if not redis_url:
        fail("no Redis to publish to: set REDIS_URL or pass --redis-url (or choose --sink file, stdout or kafka)")
    try:
        client = connect(redis_url)
    except RedisUnavailable as exc:
        fail(str(exc), 1)
    checkpoint = checkpoint_for(opened.path, opened.files, shaping)
    return RedisSink(client, shards=shards, maxlen=maxlen, checkpoint=checkpoint)


def _close_client(target) -> None:
    client = getattr(target, "client", None)
    if client is not None:
        client.close()
