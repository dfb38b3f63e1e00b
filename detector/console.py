"""What the detector prints for a person watching it: one line per alert transition."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from rich.console import Console
from rich.markup import escape

from alerts.transition import FIRING, AlertTransition
from detector.sink import BatchReport

SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def alert_line(alert: AlertTransition) -> str:
    """Rich markup for one transition: when, state, severity, rule, sensor, value and why."""
    when = datetime.fromtimestamp(alert.ts / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if alert.state == FIRING:
        style = SEVERITY_STYLE.get(alert.severity, "white")
        head = f"[{style}]FIRING  [{escape(alert.severity)}][/{style}]"
    else:
        head = "[green]RESOLVED[/green]"
    # A silence has no reading: no value nor score to show, only why.
    said = "" if math.isnan(alert.value) else f"value {alert.value:.4g}, score {alert.score:.3f}"
    if alert.expected:
        said += f", expected {escape(alert.expected)}"
    if alert.reason:
        said = f"{said}; {escape(alert.reason)}" if said else escape(alert.reason)
    said = f": {said}" if said else ""  # a silent bus's resolve: no reading, nothing to say but that it ended
    return f"{when}Z {head} {escape(alert.rule)} on [bold]{escape(alert.sensor_id)}[/bold]{said}  (id {alert.id})"


class BatchPrinter:
    """on_batch callback: prints new alerts and dead letters, and keeps running totals."""

    def __init__(self, console: Console | None = None, show_dead_letters: bool = True) -> None:
        self.console = console or Console(highlight=False)
        self.show_dead_letters = show_dead_letters
        self.alerts: list[AlertTransition] = []
        self.dead_letters = 0
        self.batches = 0

    def __call__(self, report: BatchReport) -> None:
        if report.batch_id is not None:
            self.batches += 1
        for alert in report.new_alerts:
            self.alerts.append(alert)
            self.console.print(alert_line(alert))
        for letter in report.new_dead_letters:
            self.dead_letters += 1
            if self.show_dead_letters:
                self.console.print(f"[dim]dead letter {escape(letter['stream'])} {escape(letter['id'])}: "
                                   f"{escape(letter['reason'])}[/dim]")
