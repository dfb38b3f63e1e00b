"""`tocsin demo`: the whole system on embedded defaults for about a minute, then a summary."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from alerts.rules import RuleSet
from alerts.transition import ACTIVE_HASH, ALERT_STREAM, DEADLETTER_STREAM, FIRING, AlertTransition
from detector.console import BatchPrinter
from detector.events import stream_names
from detector.job import DetectorConfig
from detector.redis_server import EmbeddedRedis, connect
from detector.runner import caught_up, run_detector, stop_on_signals
from detector.sink import SENSOR_STATS_HASH
from models.scenario_eval.metrics import Alert, Matching
from simulator.generator import generate, labels
from simulator.labels import Label
from simulator.plan import Plan, resolve
from simulator.publisher import publish_events, write_labels, write_registry
from simulator.scenario_file import find_scenario


@dataclass
class DemoRun:
    """Where a demo run keeps its files, and what happened in it."""

    root: Path
    published: int = 0
    publish_error: BaseException | None = None
    slack_delivered: int | None = None  # None: the notifier was off
    truth: list[Label] = field(default_factory=list)

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint"

    @property
    def logs(self) -> Path:
        return self.root / "log"


def publish_in_background(run: DemoRun, url: str, plan: Plan, shards: int) -> threading.Thread:
    """Publish the scenario's events at its own pace on a thread of its own."""

    def publish() -> None:
        client = connect(url)
        try:
            run.published = publish_events(client, generate(plan), shards=shards, speed=plan.scenario.speed).events
        except BaseException as exc:  # reported in the summary; the detector still drains what arrived
            run.publish_error = exc
        finally:
            client.close()

    thread = threading.Thread(target=publish, name="simulator", daemon=True)
    thread.start()
    return thread


def notifier_in_background(run: DemoRun, url: str, stop: threading.Event, say) -> threading.Thread | None:
    """Run the Slack notifier beside the job when SLACK_BOT_TOKEN (or _FILE) is set; otherwise say it is off."""
    if not (os.environ.get("SLACK_BOT_TOKEN") or os.environ.get("SLACK_BOT_TOKEN_FILE")):
        say("Slack: off (SLACK_BOT_TOKEN is not set); alerts wait in tocsin:alerts for `tocsin notify`")
        return None
    from alerts.notifier import Notifier
    from alerts.notifier_settings import NotifierSettings

    notifier = Notifier.from_settings(NotifierSettings.from_env(redis_url=url))
    notifier.start()
    say(f"Slack: notifier on, default channel {notifier.default_channel}")

    def deliver() -> None:
        run.slack_delivered = notifier.run(stop_event=stop)

    thread = threading.Thread(target=deliver, name="notifier", daemon=True)
    thread.start()
    return thread


def wait_delivered(client, timeout_s: float = 30.0) -> None:
    """Wait until the notifier's group has read and acknowledged every alert on the stream (or the timeout)."""
    from alerts.notifier import GROUP

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        newest = client.xrevrange(ALERT_STREAM, count=1)
        groups = {g["name"].decode(): g for g in client.xinfo_groups(ALERT_STREAM)} if newest else {}
        group = groups.get(GROUP)
        if not newest or (group and group["pending"] == 0 and group["last-delivered-id"] == newest[0][0]):
            return
        time.sleep(0.2)


def run_demo(root: Path, rules: RuleSet, *, scenario_name: str = "default", master: str = "local[*]",
             shards: int = 2, console: Console | None = None) -> DemoRun:
    """Embedded Redis, simulator, detector (and Slack when configured) until the scenario is detected."""
    console = console or Console(highlight=False)
    run = DemoRun(root)
    scenario = find_scenario(scenario_name)
    with EmbeddedRedis(root / "redis") as server, stop_on_signals() as stop:
        console.print(f"Redis: embedded redis-server at {server.url}")
        client = connect(server.url)
        plan = resolve(scenario)
        write_registry(client, plan.sensors)
        run.truth = labels(plan)
        write_labels(client, run.truth, root / "labels.jsonl")
        notifier_stop = threading.Event()
        notifier = notifier_in_background(run, server.url, notifier_stop, console.print)
        console.print(f"Simulator: scenario {scenario.name!r} ({scenario.description}), {len(plan.sensors)} sensors, "
                      f"{shards} shards, at {scenario.speed:g}x real time")
        publisher = publish_in_background(run, server.url, plan, shards)
        config = DetectorConfig(redis_url=server.url, streams=stream_names(shards),
                                checkpoint=str(run.checkpoint), trigger="1 second")
        console.print(f"Detector: Spark {master}, checkpoint {run.checkpoint}; starting (5-10 s)...")
        printer = BatchPrinter(console)
        run_detector(config, rules, master=master, log_dir=run.logs, on_batch=printer, stop=stop,
                     until=lambda query: not publisher.is_alive() and caught_up(query, client, config.streams))
        if notifier is not None:
            wait_delivered(client)
            notifier_stop.set()
            notifier.join(10)
        summarize(run, client, printer, console)
        client.close()
    return run


# The same matching `tocsin evaluate scenario` uses; an alert up to 10 minutes after a window detects it.
MATCHING = Matching(lead_ms=0, grace_ms=10 * 60_000)


def explains(label: Label, alert: AlertTransition) -> bool:
    """Whether a firing alert falls on one of the label's sensors inside its window (plus the grace)."""
    return alert.state == FIRING and MATCHING.explains(Alert(alert.sensor_id, alert.ts), label)


def detected(label: Label, alerts: list[AlertTransition]) -> AlertTransition | None:
    """The first firing alert that the label explains."""
    return min((a for a in alerts if explains(label, a)), key=lambda a: a.ts, default=None)


def summarize(run: DemoRun, client, printer: BatchPrinter, console: Console) -> None:
    """Events read, alerts fired, where they were delivered, what the ground truth says, where files are."""
    stats = client.hgetall(SENSOR_STATS_HASH)
    scored = sum(int(json.loads(v)["count"]) for v in stats.values())
    alerts = [AlertTransition.from_fields(f) for _, f in client.xrange(ALERT_STREAM)]
    firing = sum(1 for a in alerts if a.state == FIRING)
    console.rule("summary")
    console.print(f"Events: {run.published} published, {scored} scored by {len(stats)} sensor models, "
                  f"{client.xlen(DEADLETTER_STREAM)} dead-lettered")
    if run.publish_error is not None:
        console.print(f"[red]Simulator stopped early:[/red] {run.publish_error}")
    console.print(f"Alerts: {firing} fired, {len(alerts) - firing} resolved")
    console.print(f"  delivered to Redis stream {ALERT_STREAM} ({len(alerts)} entries), hash {ACTIVE_HASH} "
                  f"({client.hlen(ACTIVE_HASH)} firing now), PUBLISH tocsin:alerts:live ({len(alerts)} messages)")
    if run.slack_delivered is None:
        console.print("  Slack: off (set SLACK_BOT_TOKEN and SLACK_CHANNEL to deliver there)")
    else:
        console.print(f"  Slack: {run.slack_delivered} transitions delivered")
    for label in run.truth:
        hit = detected(label, alerts)
        verdict = (f"[green]detected[/green] by {hit.rule} {(hit.ts - label.start_ms) / 1000:+.0f} s after it began"
                   if hit else "[yellow]not detected[/yellow]")
        console.print(f"Ground truth: {label.kind} on {', '.join(label.sensors)}: {verdict}")
    for alert in alerts:
        if alert.state == FIRING and not any(explains(label, alert) for label in run.truth):
            console.print(f"Not in the ground truth: {alert.rule} on {alert.sensor_id} (value {alert.value:.4g}, "
                          f"expected {alert.expected}): the noise itself had an outlier there, or a false alarm")
    console.print(f"Checkpoint: {run.checkpoint}\nLogs: {run.logs / 'spark.log'}, {run.root / 'redis' / 'redis.log'}; "
                  f"labels: {run.root / 'labels.jsonl'}")
