"""A NAB run for people: one PNG per series and a summary page next to NAB's published scoreboard."""

from __future__ import annotations

import html
import multiprocessing
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: no global backend or display, safe in pool workers

from models.nab.runner import NabResult, SeriesRun
from models.nab.scorer import probation_length

# The three profiles in the order of NAB's published scoreboard, with their column titles.
PROFILE_TITLES = {"standard": "Standard", "reward_low_FP_rate": "Low FP", "reward_low_FN_rate": "Low FN"}
# NAB README scoreboard (standard / low FP / low FN), numenta/NAB at ea702d7.
PUBLISHED_SCOREBOARD = (
    ("ARTime", 74.9, 65.1, 80.4),
    ("Numenta HTM", 70.5, 62.6, 75.2),
    ("CAD OSE", 69.9, 67.0, 73.2),
    ("earthgecko Skyline", 58.2, 46.2, 63.9),
    ("KNN CAD", 58.0, 43.4, 64.8),
    ("Relative Entropy", 54.6, 47.6, 58.8),
    ("Random Cut Forest", 51.7, 38.4, 59.7),
    ("Twitter ADVec", 47.1, 33.6, 53.5),
    ("Windowed Gaussian", 39.6, 20.9, 47.4),
    ("Etsy Skyline", 35.7, 27.1, 44.5),
    ("Bayesian Changepoint", 17.7, 3.2, 32.2),
    ("EXPoSE", 16.4, 3.2, 26.9),
    ("Random", 11.0, 1.2, 19.5),
    ("Null", 0.0, 0.0, 0.0),
)
STANDARD = "standard"


def scoreboard(result: NabResult) -> list[tuple[str, list[float | None], bool]]:
    """Published rows plus this run's, ranked by the standard profile: (name, scores, is_this_run)."""
    titles = list(PROFILE_TITLES)
    ours = [result.profiles[key].score if key in result.profiles else None for key in titles]
    rows = [(name, list(scores), False) for name, *scores in PUBLISHED_SCOREBOARD]
    rows.append((f"tocsin {result.detector}", ours, True))
    return sorted(rows, key=lambda row: -(row[1][0] if row[1][0] is not None else float("-inf")))


def plot_path(result: NabResult, run: SeriesRun) -> Path:
    """Where a series' PNG goes: <results>/plots/<category>/<file stem>.png."""
    return result.results_dir / "plots" / run.series.category / f"{Path(run.series.file).stem}.png"


def plot_series(run: SeriesRun, threshold: float, path: Path) -> Path:
    """Values and anomaly scores of one series, windows shaded, detections at `threshold` marked."""
    series = run.series
    times = np.array(series.ts_ms, dtype="datetime64[ms]")
    values, scores = np.array(series.values), np.array(run.anomaly_scores)
    probation = probation_length(len(values))
    detected = np.flatnonzero(scores >= threshold)
    detected = detected[detected >= probation]  # the probationary period is never scored
    figure = Figure(figsize=(12, 5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot(times, values, linewidth=0.6, color="tab:blue")
    top.plot(times[detected], values[detected], "o", markersize=3, color="tab:red", label="detection")
    bottom.plot(times, scores, linewidth=0.6, color="tab:purple")
    bottom.axhline(threshold, linestyle="--", linewidth=0.8, color="tab:red")
    for axis in (top, bottom):
        if probation:
            axis.axvspan(times[0], times[probation - 1], color="0.85", linewidth=0, label="probation")
        for number, (start, end) in enumerate(series.windows):
            label = "window" if number == 0 else None
            axis.axvspan(times[start], times[end], color="gold", alpha=0.35, linewidth=0, label=label)
    top.legend(loc="upper right", fontsize=8)
    top.set_title(f"{series.name}: {len(detected)} detections at threshold {threshold:.4f}", fontsize=10)
    top.set_ylabel("value")
    bottom.set_ylabel("anomaly score")
    bottom.set_ylim(-0.02, 1.02)
    figure.autofmt_xdate()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    return path


def _plot_task(task: tuple) -> Path:
    """plot_series over one pickled task tuple (what a pool worker receives)."""
    return plot_series(*task)


def write_report(result: NabResult, *, processes: int | None = None) -> Path:
    """Every series' PNG and the summary page <results>/index.html; returns the page's path."""
    threshold = result.profiles[STANDARD].threshold if STANDARD in result.profiles else 1.0
    tasks = [(run, threshold, plot_path(result, run)) for run in result.runs]
    if (processes or 2) > 1 and len(tasks) > 1:
        with multiprocessing.Pool(processes) as pool:
            list(pool.imap_unordered(_plot_task, tasks))
    else:
        for task in tasks:
            _plot_task(task)
    page = result.results_dir / "index.html"
    page.write_text(summary_html(result))
    return page


def summary_html(result: NabResult) -> str:
    """The summary page: scoreboard, thresholds and costs, per-category figures, links to every plot."""
    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>NAB: tocsin {_e(result.detector)}</title>",
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}tr.ours{font-weight:bold;background:#fff3b0}</style>",
        f"<h1>NAB: tocsin detector <code>{_e(result.detector)}</code></h1>",
        f"<p>params: <code>{_e(repr(result.params))}</code>; sensor settings: "
        f"<code>{_e(repr(result.sensor)) if result.sensor else 'the defaults'}</code>; {result.records} records in {len(result.runs)} series; "
        f"{result.us_per_record:.1f} µs per record; {result.bytes_per_model:.0f} bytes per model (pickled); "
        f"wall time {result.wall_seconds:.1f} s.</p>",
        "<h2>Scoreboard</h2>",
        _scoreboard_table(result),
        "<h2>Profiles</h2>",
        _profiles_table(result),
        "<h2>Per category (standard profile)</h2>",
        _category_table(result),
        "<h2>Series</h2>",
        _series_table(result),
    ]
    return "\n".join(parts) + "\n"


def _scoreboard_table(result: NabResult) -> str:
    """Published detectors and this run, ranked by the standard profile."""
    head = "<tr><th>Detector</th>" + "".join(f"<th>{title}</th>" for title in PROFILE_TITLES.values()) + "</tr>"
    rows = [
        f"<tr{' class=ours' if ours else ''}><td>{_e(name)}</td>"
        + "".join(f"<td>{_num(score)}</td>" for score in scores)
        + "</tr>"
        for name, scores, ours in scoreboard(result)
    ]
    return "<table>" + head + "".join(rows) + "</table>"


def _profiles_table(result: NabResult) -> str:
    """Each profile's threshold, raw, null and perfect totals, and normalised score."""
    head = "<tr><th>Profile</th><th>Threshold</th><th>Raw</th><th>Null</th><th>Perfect</th><th>Score</th></tr>"
    rows = [
        f"<tr><td>{_e(name)}</td><td>{p.threshold:.10g}</td><td>{p.raw:.2f}</td><td>{p.null:.2f}</td>"
        f"<td>{p.perfect:.2f}</td><td>{p.score:.1f}</td></tr>"
        for name, p in result.profiles.items()
    ]
    return "<table>" + head + "".join(rows) + "</table>"


def _category_table(result: NabResult) -> str:
    """Per category at the corpus threshold: windows hit, false-positive rows, raw and normalised score."""
    outcome = result.profiles.get(STANDARD) or next(iter(result.profiles.values()))
    head = "<tr><th>Category</th><th>Series</th><th>Windows hit</th><th>FP rows</th><th>Raw</th><th>Score</th></tr>"
    rows = []
    for category, names in result.categories().items():
        hit = sum(outcome.per_series[name].windows_hit for name in names)
        windows = sum(outcome.windows_per_series[name] for name in names)
        fp = sum(outcome.per_series[name].fp for name in names)
        raw = sum(outcome.per_series[name].score for name in names)
        rows.append(
            f"<tr><td>{_e(category)}</td><td>{len(names)}</td><td>{hit} / {windows}</td><td>{fp}</td>"
            f"<td>{raw:.2f}</td><td>{_num(outcome.subset_score(names))}</td></tr>"
        )
    return "<table>" + head + "".join(rows) + "</table>"


def _series_table(result: NabResult) -> str:
    """One row per series with its plot linked."""
    outcome = result.profiles.get(STANDARD) or next(iter(result.profiles.values()))
    head = "<tr><th>Series</th><th>Records</th><th>Windows hit</th><th>FP rows</th><th>Raw</th><th>Bytes</th></tr>"
    rows = []
    for run in result.runs:
        row, name = outcome.per_series[run.series.name], run.series.name
        link = plot_path(result, run).relative_to(result.results_dir).as_posix()
        rows.append(
            f"<tr><td><a href='{_e(link)}'>{_e(name)}</a></td><td>{len(run.anomaly_scores)}</td>"
            f"<td>{row.windows_hit} / {len(run.series.windows)}</td><td>{row.fp}</td><td>{row.score:.2f}</td>"
            f"<td>{run.model_bytes}</td></tr>"
        )
    return "<table>" + head + "".join(rows) + "</table>"


def _num(value: float | None) -> str:
    """A score to one decimal, or 'n/a'."""
    return "n/a" if value is None else f"{value:.1f}"


def _e(text: str) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)
