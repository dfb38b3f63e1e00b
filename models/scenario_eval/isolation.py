"""The batch baseline: scikit-learn's IsolationForest fitted offline on each sensor's whole series.

It sees every reading at once, the future included, which no online detector can; it is reported
beside them to show what hindsight buys. Features per reading: the value and its change from the
previous reading (so steps and spikes stand out even inside the usual range).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.ensemble import IsolationForest

from models.scenario_eval.metrics import Alert

NAME = "iforest"  # the batch baseline
# Outlier runs closer than this many normal readings are one alert, as the default rule's
# `resolve_after: 3` keeps one alert open across short gaps.
MERGE_GAP = 3
# The share of readings the forest calls outliers. sklearn's "auto" flagged 19% of the readings of the
# `everything` scenario (88 false alerts per sensor-day); 1% is the usual round choice, not a tuned one.
CONTAMINATION = 0.01


def isolation_alerts(series: dict[str, list[tuple[int, float]]], *, seed: int = 0,
                     contamination: float | str = CONTAMINATION, trees: int = 100) -> list[Alert]:
    """One alert per run of outlier readings per sensor, at the run's first reading's event time."""
    alerts: list[Alert] = []
    for sensor_id, readings in series.items():
        if len(readings) < 2:
            continue
        readings = sorted(readings)
        values = np.array([value for _, value in readings])
        features = np.column_stack([values, np.diff(values, prepend=values[0])])
        forest = IsolationForest(n_estimators=trees, contamination=contamination, random_state=seed)
        outliers = forest.fit_predict(features) == -1
        alerts += [Alert(sensor_id, readings[i][0]) for i in run_starts(outliers.tolist())]
    return sorted(alerts, key=lambda alert: (alert.ts_ms, alert.sensor_id))


def run_starts(flags: Iterable[bool], gap: int = MERGE_GAP) -> list[int]:
    """Indexes where a run of True starts; runs separated by fewer than `gap` False are one run.

    >>> run_starts([False, True, True, False, True, False, False, False, True])
    [1, 8]
    """
    starts, quiet = [], gap  # `gap` quiet readings before the first: a run at 0 starts one
    for index, flag in enumerate(flags):
        if flag:
            if quiet >= gap:
                starts.append(index)
            quiet = 0
        else:
            quiet += 1
    return starts
