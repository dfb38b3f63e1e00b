"""The progress bar stays out of the way when no one watches; the summary line says where a run stopped."""

import io

from rich.console import Console

from simulator.progress import ReplayProgress, summary_line
from simulator.replay import PublishSummary


def test_no_bar_is_drawn_when_the_console_is_not_a_terminal():
    out = io.StringIO()
    console = Console(file=out, force_terminal=False)
    with ReplayProgress(console, 100) as progress:
        progress(50, 1_704_067_200_000)
        progress(100, 1_704_067_260_000)
    assert not progress.enabled and out.getvalue() == ""


def test_the_bar_shows_events_and_the_event_time_reached_on_a_terminal():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140)
    with ReplayProgress(console, 100, label="replaying") as progress:
        progress(50, 1_704_067_200_000)
        console.print(progress._progress)  # draw one frame now rather than waiting for the refresh thread
    assert progress.enabled
    frame = out.getvalue()
    assert "replaying" in frame and "50/100" in frame and "2024-01-01 00:00:00Z" in frame


def test_quiet_turns_the_bar_off_even_on_a_terminal():
    out = io.StringIO()
    with ReplayProgress(Console(file=out, force_terminal=True), 10, enabled=False) as progress:
        progress(10, None)
    assert out.getvalue() == ""


def test_the_summary_line_of_a_whole_run_and_of_a_stopped_one():
    whole = PublishSummary(2160, ("tocsin:events:0", "tocsin:events:1"), 0.25)
    assert summary_line(whole) == "2,160 events to tocsin:events:0, tocsin:events:1 in 0.25 s (8,640 events/s)"
    stopped = PublishSummary(10, ("out.jsonl",), 1.0, finished=False)
    assert summary_line(stopped, resumable=False) == "10 events to out.jsonl in 1.00 s (10 events/s); stopped at event 10"
