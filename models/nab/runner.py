"""Run one tocsin sensor model over a NAB corpus online, the way the streaming job does, and score it."""

from __future__ import annotations

import csv
import multiprocessing
import os
import pickle
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from models.model_config import ModelConfig
from models.nab.corpus import NabSeries, load_corpus
from models.nab.onsets import OnsetRule, onset_scores
from models.nab.scorer import ProfileResult, score_corpus

# NAB names result files '<detector>_<file>' and splits on the first '_' to find the data file again.
DETECTOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")
# The columns of NAB's <detector>_<profile>_scores.csv.
SCORE_COLUMNS = ("Detector", "Profile", "File", "Threshold", "Score", "TP", "TN", "FP", "FN", "Total_Count")


@dataclass(frozen=True)
class SeriesRun:
    """One series through one fresh model: anomaly scores, seconds spent in process(), pickled model size."""

    series: NabSeries
    anomaly_scores: tuple[float, ...]
    process_seconds: float
    model_bytes: int


@dataclass(frozen=True)
class NabResult:
    """A model's NAB run: every series' scores, the three profile results, and cost figures."""

    detector: str  # the name its results are filed under: the detector's, or the model config file's stem
    params: dict
    runs: tuple[SeriesRun, ...]
    profiles: dict[str, ProfileResult] = field(repr=False)
    results_dir: Path
    wall_seconds: float
    sensor: dict = field(default_factory=dict)  # the SensorModel settings the model config gave

    @property
    def records(self) -> int:
        """Records processed over the whole corpus."""
        return sum(len(run.anomaly_scores) for run in self.runs)

    @property
    def us_per_record(self) -> float:
        """Mean time of one process() call (score, then learn), in microseconds."""
        return 1e6 * sum(run.process_seconds for run in self.runs) / max(self.records, 1)

    @property
    def bytes_per_model(self) -> float:
        """Mean pickled size of a model after its whole series."""
        return sum(run.model_bytes for run in self.runs) / max(len(self.runs), 1)

    def categories(self) -> dict[str, list[str]]:
        """Series names by NAB category, in corpus order."""
        grouped: dict[str, list[str]] = {}
        for run in self.runs:
            grouped.setdefault(run.series.category, []).append(run.series.name)
        return grouped


def check_result_name(name: str, what: str = "detector name") -> str:
    """The name NAB files results under, or a ValueError when its result layout cannot take it."""
    if not DETECTOR_NAME.fullmatch(name):
        raise ValueError(
            f"{what} {name!r}: use letters, digits, '.' and '-' only "
            "(NAB result files are '<detector>_<file>', so '_' and '/' cannot appear)"
        )
    return name


def evaluate_nab(
    data_dir: Path, model: ModelConfig, out_dir: Path, *, name: str | None = None, processes: int | None = None
) -> NabResult:
    """Run `model` over every series of the NAB corpus at `data_dir`, write results under out_dir/name, score it.

    `name` (default: the model's detector) names the results; a ModelConfig was checked when it was made,
    so bad settings fail before any series runs.
    """
    started = time.perf_counter()
    name = check_result_name(name or model.detector)
    corpus = load_corpus(Path(data_dir))
    results_dir = Path(out_dir) / name
    tasks = [(series, model, name, results_dir) for series in corpus.series]
    runs = sorted(_map(_run_task, tasks, processes), key=lambda run: run.series.name)
    profiles = score_corpus([run.series.scored(list(run.anomaly_scores)) for run in runs], corpus.profiles)
    result = NabResult(name, dict(model.params), tuple(runs), profiles, results_dir, time.perf_counter() - started,
                       dict(model.sensor))
    write_score_files(result)
    return result


def run_series(series: NabSeries, model_config: ModelConfig, name: str, results_dir: Path) -> SeriesRun:
    """One fresh model over one series, score first then learn, and its NAB result file filed under `name`.

    The anomaly scores are the onsets of the job's default alert rule over the model's likelihoods
    (`onset_scores`): a detection is an alert, as the streaming job would raise it.
    """
    model = model_config.build()
    process = model.process
    likelihoods = []
    # One timer around the loop: a timer per call would cost about as much as a cheap model's process().
    began = time.perf_counter()
    for value, ts_ms in zip(series.values, series.ts_ms):
        likelihoods.append(process(value, ts_ms).likelihood)
    elapsed = time.perf_counter() - began
    anomaly_scores = onset_scores(likelihoods, OnsetRule.default())
    run = SeriesRun(series, tuple(anomaly_scores), elapsed, len(pickle.dumps(model)))
    write_series_file(run, name, results_dir)
    return run


def write_series_file(run: SeriesRun, detector: str, results_dir: Path) -> Path:
    """NAB's result file: <dir>/<category>/<detector>_<file> with timestamp,value,anomaly_score,label."""
    path = results_dir / run.series.category / f"{detector}_{run.series.file}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score", "label"])
        series = run.series
        writer.writerows(zip(series.timestamps, series.values, run.anomaly_scores, series.labels()))
    return path


def write_score_files(result: NabResult) -> list[Path]:
    """NAB's per-profile score tables: <dir>/<detector>_<profile>_scores.csv, one row per file plus Totals."""
    paths = []
    for profile, outcome in result.profiles.items():
        path = result.results_dir / f"{result.detector}_{profile}_scores.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(SCORE_COLUMNS)
            for name, row in outcome.per_series.items():
                counts = (row.tp, row.tn, row.fp, row.fn)
                writer.writerow([result.detector, profile, name, outcome.threshold, row.score, *counts, sum(counts)])
            totals = [sum(getattr(row, key) for row in outcome.per_series.values()) for key in ("tp", "tn", "fp", "fn")]
            writer.writerow(["Totals", "", "", "", outcome.raw, *totals, sum(totals)])
        paths.append(path)
    return paths


def _run_task(task: tuple) -> SeriesRun:
    """run_series over one pickled task tuple (what a pool worker receives)."""
    return run_series(*task)


def _map(function, tasks: list[tuple], processes: int | None) -> list:
    """function over tasks, on a pool of processes when more than one is asked for (default: every core)."""
    processes = min(processes or os.cpu_count() or 1, len(tasks))
    if processes <= 1:
        return [function(task) for task in tasks]
    # Longest series first, so no worker is left with a big one at the end.
    ordered = sorted(tasks, key=lambda task: len(task[0].values), reverse=True)
    with multiprocessing.Pool(processes) as pool:
        return list(pool.imap_unordered(function, ordered))
