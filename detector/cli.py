"""`tocsin`: the console script. Each subcommand validates its options, then calls one runner."""

from __future__ import annotations

import logging
import time
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from detector.events import stream_names
from detector.metrics import METRICS_HOST

app = typer.Typer(help="tocsin: real-time anomaly triggers from sensor streams to Redis and Slack.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False, add_completion=False)
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class StartingOffsets(str, Enum):
    """Where a fresh checkpoint starts reading, as Spark's Kafka source names it."""

    earliest = "earliest"
    latest = "latest"


def fail(message: str, code: int = 2) -> None:
    """Print an error for a person and exit with `code`."""
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def load_rule_set(rules: Optional[Path]):
    """The rules file, or the shipped default rules; a bad file exits with file, line and field."""
    from alerts.rules import RuleFileError, default_rules, load_rules

    try:
        return load_rules(rules) if rules else default_rules()
    except RuleFileError as exc:
        fail(str(exc))


def load_model(path: Optional[Path], detector: str):
    """The model config file (or the defaults) with `detector` replacing its detector; bad input exits."""
    from models import names
    from models.model_config import model_for

    if detector and detector not in names():
        fail(f"--model: unknown detector {detector!r}; known: {', '.join(names())}")
    try:
        return model_for(path, detector or None)
    except ValueError as exc:  # a ModelConfigError: one `file:line: key: reason` per problem
        fail(str(exc))


def require_java() -> None:
    """Exit with how to get Java when Spark could not start without it."""
    from detector.spark import JavaMissing, check_java

    try:
        check_java()
    except JavaMissing as exc:
        fail(str(exc))


@app.command()
def detect(
    master: str = typer.Option("", help="Spark master: local[*], local[2], spark://host:7077 ... "
                               "(default: spark-submit's, or local[*])"),
    checkpoint: Path = typer.Option(Path("var/checkpoint"), help="Checkpoint directory (offsets + per-sensor state)."),
    trigger: str = typer.Option("0 seconds", help="Micro-batch interval ('0 seconds' = as soon as the last ends, "
                                "'2 seconds', '500ms') or 'availableNow' (read what is there, then stop)."),
    max_records_per_trigger: Optional[int] = typer.Option(50_000, min=1, help="Admission control: most events per micro-batch."),
    rules: Optional[Path] = typer.Option(None, help="Alert rules YAML file (default: the shipped rules)."),
    shards: int = typer.Option(1, min=1, help="Number of event streams (tocsin:events:0..N-1; 1 = tocsin:events)."),
    starting_offsets: StartingOffsets = typer.Option(StartingOffsets.earliest, help="Where a fresh checkpoint starts."),
    model: str = typer.Option("", help="Detector name (default: the model config's, else the default detector); "
                              "replaces the detector of --model-config. See `tocsin models`."),
    model_config: Optional[Path] = typer.Option(
        None, exists=True, dir_okay=False,
        help="Model config YAML: detector, params, sensor settings (see models/model_config.example.yaml). "
             "It builds the model of each sensor new to the checkpoint; sensors already in its state keep "
             "the model they have."),
    log_dir: Path = typer.Option(Path("var/log"), help="Where Spark's log goes."),
    state_buckets: int = typer.Option(64, min=1, help="Groups of sensors in Spark state (spread over executors); "
                                      "fixed for the life of a checkpoint."),
    metrics_port: Optional[int] = typer.Option(None, min=1, max=65535, help="Serve Prometheus metrics at "
                                               "http://HOST:PORT/metrics (batches, rows, lag, alerts, outages)."),
    metrics_host: str = typer.Option(METRICS_HOST, help="The address the metrics server listens on (all "
                                     "interfaces by default, for a scraper elsewhere; 127.0.0.1: this machine only)."),
) -> None:
    """Run the detector job until stopped (Ctrl-C or SIGTERM stop it cleanly).

    Redis comes from REDIS_URL; when it is unset, an embedded redis-server is started and its address printed.

    Sensors already in the checkpoint's state keep their model when the model config changes; new sensors get the new one.
    """
    from detector.job import BadOption, DetectorConfig, trigger_args
    from detector.redis_outage import RedisRefused
    from detector.redis_server import RedisUnavailable
    from detector.runner import redis_url_or_embedded, stop_on_signals

    ruleset = load_rule_set(rules)
    settings = load_model(model_config, model)
    require_java()
    try:
        trigger_args(trigger)
    except BadOption as exc:
        fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    try:
        with redis_url_or_embedded(Path("var/redis"), console.print) as target, stop_on_signals() as stop:
            config = DetectorConfig(redis_url=target.url, streams=stream_names(shards),
                                    checkpoint=str(checkpoint.resolve()), trigger=trigger,
                                    max_records_per_trigger=max_records_per_trigger,
                                    starting_offsets=starting_offsets.value, model=settings,
                                    state_buckets=state_buckets)
            serve(config, ruleset, master, log_dir, stop, target.revive, metrics_port, metrics_host)
    except (RedisUnavailable, RedisRefused, BadOption) as exc:
        fail(str(exc))


def serve(config, ruleset, master: str, log_dir: Path, stop, revive=None, metrics_port: int | None = None,
          metrics_host: str = METRICS_HOST) -> None:
    """Run the job in this process, printing alerts as they fire, until stopped."""
    from detector.console import BatchPrinter
    from detector.metrics import DetectorMetrics
    from detector.runner import run_detector

    from detector.spark import submitted

    metrics = None
    if metrics_port is not None:
        metrics = DetectorMetrics()
        try:
            metrics.serve(metrics_port, metrics_host)
        except OSError as exc:
            fail(f"--metrics-host {metrics_host} --metrics-port {metrics_port}: cannot serve metrics there: {exc}")
        console.print(f"Metrics: http://{metrics_host}:{metrics_port}/metrics (Prometheus)")

    where = master or ("spark-submit's master" if submitted() else "local[*]")
    console.print(f"Detector: reading {', '.join(config.streams)} on {where}; checkpoint {config.checkpoint}; "
                  f"Spark log in {log_dir / 'spark.log'}. Ctrl-C stops.")
    printer = BatchPrinter(console)
    restarts = run_detector(config, ruleset, master=master, log_dir=log_dir, on_batch=printer, stop=stop,
                            revive=revive, metrics=metrics)
    outages = f"; restarted after {restarts} Redis outage{'s' if restarts > 1 else ''}" if restarts else ""
    console.print(f"Stopped after {printer.batches} micro-batches: {len(printer.alerts)} alert transitions, "
                  f"{printer.dead_letters} dead letters{outages}.")


@app.command()
def demo(
    scenario: str = typer.Option("default", help="Built-in scenario name or scenario file (`tocsin simulate list`)."),
    master: str = typer.Option("local[*]", help="Spark master."),
    shards: int = typer.Option(2, min=1, help="Event streams to spread the sensors over."),
    rules: Optional[Path] = typer.Option(None, help="Alert rules YAML file (default: the shipped rules)."),
    out: Path = typer.Option(Path("var/demo"), help="Where each run keeps its checkpoint, logs and Redis data."),
) -> None:
    """Run the whole system on embedded defaults for about a minute, then print a summary.

    Embedded Redis, the simulator, the detector on local Spark (and Slack when SLACK_BOT_TOKEN is set);
    each alert is printed as it fires.
    """
    from detector.demo import run_demo
    from simulator.scenario_file import ScenarioError, find_scenario

    ruleset = load_rule_set(rules)
    require_java()
    try:
        find_scenario(scenario)
    except ScenarioError as exc:
        fail(str(exc))
    root = (out / time.strftime("%Y%m%d-%H%M%S")).resolve()
    run_demo(root, ruleset, scenario_name=scenario, master=master, shards=shards, console=console)


@app.command()
def retire(
    sensors: list[str] = typer.Argument(..., help="Sensor ids, as in the events' sensor_id."),
    undo: bool = typer.Option(False, "--undo", help="Take the sensors back into service."),
    redis_url: Optional[str] = typer.Option(None, "--redis-url", envvar="REDIS_URL", show_envvar=True,
                                            help="Redis holding the sensor registry."),
) -> None:
    """Take sensors out of service in the registry: the detector resolves their alerts and forgets them.

    Their firing alerts (a silence that will never end) resolve, their models and counters are dropped, and anything they still send goes to the dead-letter stream. A running detector reads the change within 30 s and applies it at its next micro-batch.
    """
    from detector.redis_server import RedisUnavailable, connect, redacted
    from detector.registry import REGISTRY_HASH, set_retired

    if not redis_url:
        fail("no Redis: set REDIS_URL or pass --redis-url (`tocsin detect` prints the URL of its embedded Redis)")
    try:
        client = connect(redis_url)
    except RedisUnavailable as exc:
        fail(str(exc), 1)
    try:
        changed = set_retired(client, sensors, retired=not undo)
    finally:
        client.close()
    state = "back in service" if undo else "retired"
    unchanged = [sensor for sensor in sensors if sensor not in changed]
    if changed:
        console.print(f"{len(changed)} sensor(s) {state} in {REGISTRY_HASH} at {redacted(redis_url)}: "
                      f"{', '.join(changed)}", markup=False)
    if unchanged:
        console.print(f"already {state}: {', '.join(unchanged)}", markup=False)


@app.command("models")
def list_models() -> None:
    """List the detectors a sensor model can use."""
    from models import DEFAULT_DETECTOR, names

    for name in names():
        console.print(f"{name}{'  (default)' if name == DEFAULT_DETECTOR else ''}")


def mount_subcommands() -> None:
    """Add the subcommands that live with their own packages."""
    from alerts.cli import notify
    from models.evaluate_cli import evaluate
    from simulator.cli import app as simulate
    from simulator.cli import replay

    app.command("notify")(notify)
    app.command("replay")(replay)
    app.add_typer(evaluate, name="evaluate", help="Measure detectors: on NAB, or on simulator scenarios.")
    app.add_typer(simulate, name="simulate", help="Publish simulator scenarios to the event streams.")


mount_subcommands()


def main() -> None:
    """Entry point of the `tocsin` console script."""
    app()
