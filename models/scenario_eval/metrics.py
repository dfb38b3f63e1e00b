"""Firing alerts matched to ground-truth labels: precision, recall, F1 and delay per anomaly kind.

Units, so the figures mean one thing:

- recall is per label: the share of a kind's labels that at least one alert explains;
- precision is per alert: of the alerts that could belong to a kind (on a sensor its labels hit) and
  explain no other label, the share that explain one of its labels; overall, of every alert;
- an alert explains a label when it is on one of the label's sensors, at an event time inside the
  label's window widened by `lead_ms` before (timestamp jitter) and `grace_ms` after (the rules'
  hold and the calibration's averaging, and the return to normal, come after the window);
- delay is the first explaining alert's event time minus the label's start (median over labels);
- found by counts the reasons (`models.reasons.name`) of those first alerts: which test found the kind;
- a false alert explains no anomaly label; alerts that only a data fault explains are false alerts
  too (a data fault is not an anomaly) and are counted per fault kind. Data faults are never misses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from statistics import median

from sklearn.metrics import precision_score, recall_score

from simulator.anomalies import ANOMALY_KINDS
from simulator.labels import Label

ALL = "all"  # the row over every anomaly kind
by_time = attrgetter("ts_ms")
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Alert:
    """One firing alert as the evaluation sees it: the sensor and the event time it fired at."""

    sensor_id: str
    ts_ms: int
    reason: str = ""  # why it fired, by name (`models.reasons.name`); "" for the batch baseline


@dataclass(frozen=True, slots=True)
class Matching:
    """Where alerts and labels may meet: the window widening before and after each label."""

    lead_ms: int
    grace_ms: int

    def explains(self, alert: Alert, label: Label) -> bool:
        """Whether `alert` lies on one of the label's sensors inside its widened window."""
        return (alert.sensor_id in label.sensors
                and label.start_ms - self.lead_ms <= alert.ts_ms < label.end_ms + self.grace_ms)


@dataclass(frozen=True, slots=True)
class KindScore:
    """One anomaly kind's figures for one detector; None where the figure has no unit to count."""

    kind: str
    labels: int
    detected: int
    alerts: int  # alerts counted for precision
    true_alerts: int
    precision: float | None
    recall: float | None
    f1: float | None
    delay_s: float | None  # median detection delay, seconds
    found_by: dict[str, int]  # reason -> labels whose first explaining alert gave it, most first


@dataclass(frozen=True)
class DetectorScore:
    """A detector's figures on one scenario: per anomaly kind, then overall, then false alerts."""

    detector: str
    kinds: tuple[KindScore, ...]  # one per anomaly kind in the labels, then ALL
    alerts: int
    false_alerts: int
    false_per_sensor_day: float
    fault_alerts: dict[str, int]  # data-fault kind -> alerts only such a fault explains


def score_detector(detector: str, alerts: Sequence[Alert], labels: Sequence[Label], matching: Matching,
                   sensor_days: float) -> DetectorScore:
    """Match `alerts` to `labels` and compute every figure of the module docstring."""
    anomalies = [label for label in labels if label.kind in ANOMALY_KINDS]
    faults = [label for label in labels if label.kind not in ANOMALY_KINDS]
    explained = [[label for label in anomalies if matching.explains(alert, label)] for alert in alerts]
    kinds = [kind for kind in ANOMALY_KINDS if any(label.kind == kind for label in anomalies)]
    rows = [_kind_score(kind, alerts, explained, anomalies, kind, matching) for kind in kinds]
    rows.append(_kind_score(ALL, alerts, explained, anomalies, None, matching))
    false = [alert for alert, hits in zip(alerts, explained) if not hits]
    fault_alerts: dict[str, int] = {}
    for alert in false:
        for kind in {label.kind for label in faults if matching.explains(alert, label)}:
            fault_alerts[kind] = fault_alerts.get(kind, 0) + 1
    per_day = len(false) / sensor_days if sensor_days > 0 else 0.0
    return DetectorScore(detector, tuple(rows), len(alerts), len(false), per_day, fault_alerts)


def _kind_score(name: str, alerts: Sequence[Alert], explained: list[list[Label]], anomalies: list[Label],
                kind: str | None, matching: Matching) -> KindScore:
    """One row; `kind` None scores every anomaly label and every alert."""
    targets = [label for label in anomalies if kind is None or label.kind == kind]
    sensors = {sensor for label in targets for sensor in label.sensors}
    counted = []  # per alert counted for precision: whether it explains one of the targets
    for alert, hits in zip(alerts, explained):
        ours = any(kind is None or label.kind == kind for label in hits)
        if ours or kind is None or (not hits and alert.sensor_id in sensors):
            counted.append(ours)
    firsts = [min((a for a in alerts if matching.explains(a, label)), key=by_time, default=None) for label in targets]
    detected = [first is not None for first in firsts]
    found_by = Counter(first.reason for first in firsts if first is not None and first.reason)
    precision = float(precision_score(counted, [True] * len(counted), zero_division=0)) if counted else None
    recall = float(recall_score([True] * len(targets), detected, zero_division=0)) if targets else None
    delays = [(first.ts_ms - label.start_ms) / 1000.0 for first, label in zip(firsts, targets) if first is not None]
    return KindScore(name, len(targets), sum(detected), len(counted), sum(counted), precision, recall,
                     _f1(precision, recall), median(delays) if delays else None, dict(found_by.most_common()))



def _f1(precision: float | None, recall: float | None) -> float | None:
    """The harmonic mean of the two (sklearn's F1 needs one unit for both; here they differ)."""
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0.0 else 2.0 * precision * recall / (precision + recall)
