"""What a person watching a long publish or replay sees: a live bar while it runs, one summary line after."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from simulator.replay import PublishSummary


def event_time(ts_ms: int | None) -> str:
    """An event time for people: UTC, to the second.

    >>> event_time(1_704_067_230_000), event_time(None)
    ('2024-01-01 00:00:30Z', '-')
    """
    if ts_ms is None:
        return "-"
    return datetime.fromtimestamp(ts_ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def summary_line(summary: PublishSummary, resumable: bool = True) -> str:
    """The line that ends a run: events, seconds, rate, streams, and where a stopped run stopped.

    >>> print(summary_line(PublishSummary(1500, ("tocsin:events",), 0.5, start=500, finished=False)))
    1,500 events to tocsin:events in 0.50 s (3,000 events/s), after 500 sent by an earlier run; stopped at event 2,000 (--resume goes on from there)
    """
    line = (f"{summary.events:,} events to {', '.join(summary.streams)} in {summary.seconds:.2f} s "
            f"({summary.events_per_s:,.0f} events/s)")
    if summary.start:
        line += f", after {summary.start:,} sent by an earlier run"
    if not summary.finished:
        line += f"; stopped at event {summary.position:,}" + (" (--resume goes on from there)" if resumable else "")
    return line


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "-/s")


class _EventTimeColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(event_time(task.fields.get("at_ms")))


class ReplayProgress:
    """A live bar on the console (events, events/s, event time reached, elapsed); nothing when not enabled.

    Call it with (events sent, event time of the last one) after each commit, as `play`'s `on_commit`.
    """

    def __init__(self, console: Console, total: int | None = None, *, enabled: bool = True,
                 label: str = "replaying") -> None:
        self.enabled = enabled and console.is_terminal
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=18), MofNCompleteColumn(), _RateColumn(),
                                  _EventTimeColumn(), TimeElapsedColumn(), console=console, transient=True,
                                  disable=not self.enabled, redirect_stdout=False, redirect_stderr=False)
        self._task = self._progress.add_task(label, total=total, at_ms=None)

    def __enter__(self) -> "ReplayProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, events: int, at_ms: int | None) -> None:
        """Move the bar to `events` sent, reaching event time `at_ms`."""
        self._progress.update(self._task, completed=events, at_ms=at_ms)
