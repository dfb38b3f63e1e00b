"""`evaluate_scenario`: a simulator scenario through the detector's own per-sensor logic, scored on its labels."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from alerts.rules import RuleSet, SensorInfo, default_rules
from alerts.transition import FIRING
from detector.events import InvalidEvent, parse_event
from detector.local_run import LocalDetector
from detector.registry import SensorRegistry
from detector.sensor_state import RawEntry
from models import reasons
from models.model_config import ModelConfig
from models.scenario_eval.isolation import CONTAMINATION, NAME as BASELINE, isolation_alerts
from models.scenario_eval.metrics import DAY_MS, Alert, DetectorScore, Matching, score_detector
from simulator.generator import SimEvent, generate, labels
from simulator.plan import Plan, resolve
from simulator.scenario_file import find_scenario
from simulator.schema import Scenario

# An alert up to this many sample intervals after a label's window still explains it: the default
# rule holds for 3 readings and the model holds a likelihood for 10, and the return to normal is part of the anomaly.
GRACE_SAMPLES = 10
BATCH = 50_000  # entries per micro-batch at most, as a trigger's admission limit would cut them
BATCH_MS = 10_000  # and at most this much arrival time, as a live trigger would (silences are judged per batch)
STREAM = "tocsin:events"


@dataclass
class ScenarioReport:
    """What one scenario gave: its size and labels, the data-fault figures, and each detector's scores."""

    scenario: str
    events: int
    sensors: int
    sensor_days: float
    labels: dict[str, int]  # kind -> labels (anomalies and data faults)
    malformed_records: int  # records the simulator broke on purpose
    dead_letters: int  # records the detector refused (the same for every detector)
    matching: Matching
    scores: list[DetectorScore] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # detector -> wall time to run it

    def to_dict(self) -> dict:
        """The report as JSON-ready data."""
        return asdict(self)


def evaluate_scenario(scenario: str | Path | Scenario, models: dict[str, ModelConfig], *,
                      rules: RuleSet | None = None, baseline: bool = True, grace_samples: int = GRACE_SAMPLES,
                      contamination: float = CONTAMINATION) -> ScenarioReport:
    """Run each model as the job does (LocalDetector + rules), and the batch baseline; score them by name."""
    plan = resolve(scenario if isinstance(scenario, Scenario) else find_scenario(scenario))
    events = list(generate(plan))
    truth = labels(plan)
    entries = list(stream_entries(events))
    interval = max(spec.interval_ms for spec in plan.sensors)
    matching = Matching(lead_ms=max(spec.jitter_ms for spec in plan.sensors),
                        grace_ms=grace_samples * interval)
    sensor_days = len(plan.sensors) * plan.scenario.duration / DAY_MS
    counts: dict[str, int] = defaultdict(int)
    for label in truth:
        counts[label.kind] += 1
    report = ScenarioReport(plan.scenario.name, len(events), len(plan.sensors), sensor_days, dict(counts),
                            sum(1 for event in events if event.defect), 0, matching)
    for name, model in models.items():
        started = time.perf_counter()
        alerts, dead = run_detector(model, entries, rules or default_rules(), registry_of(plan))
        report.seconds[name] = time.perf_counter() - started
        report.scores.append(score_detector(name, alerts, truth, matching, sensor_days))
        report.dead_letters = dead
    if baseline:
        started = time.perf_counter()
        alerts = isolation_alerts(valid_series(entries), seed=plan.scenario.seed, contamination=contamination)
        report.seconds[BASELINE] = time.perf_counter() - started
        report.scores.append(score_detector(BASELINE, alerts, truth, matching, sensor_days))
    return report


def stream_entries(events: list[SimEvent]) -> list[RawEntry]:
    """The events as stream entries in arrival order, with entry ids from their arrival times."""
    entries, last_ms, seq = [], None, 0
    for event in events:
        seq = seq + 1 if event.emit_ms == last_ms else 0
        last_ms = event.emit_ms
        entries.append(RawEntry(STREAM, f"{event.emit_ms}-{seq}", event.emit_ms, seq, event.to_fields()))
    return entries


def registry_of(plan: Plan) -> SensorRegistry:
    """The sensor registry the simulator would publish for this plan."""
    return SensorRegistry({spec.sensor_id: SensorInfo(spec.sensor_id, spec.type, spec.site, spec.device_id,
                                                      spec.unit, spec.channel) for spec in plan.sensors})


def run_detector(model: ModelConfig, entries: list[RawEntry], rules: RuleSet,
                 registry: SensorRegistry) -> tuple[list[Alert], int]:
    """The firing alerts and the dead-letter count of one model config over every entry, batch by batch."""
    local = LocalDetector(rules, registry, model=model)
    alerts, dead = [], 0
    for batch in micro_batches(entries):
        result = local.process(batch)
        alerts += [Alert(t.sensor_id, t.ts, reasons.name(t.reason)) for t in result.transitions if t.state == FIRING]
        dead += len(result.dead_letters)
    return alerts, dead


def micro_batches(entries: list[RawEntry]) -> list[list[RawEntry]]:
    """The entries cut, in arrival order, into batches of at most BATCH entries and BATCH_MS of arrival time."""
    batches: list[list[RawEntry]] = []
    start_ms = None
    for entry in entries:
        if start_ms is None or len(batches[-1]) >= BATCH or entry.id_ms - start_ms >= BATCH_MS:
            batches.append([])
            start_ms = entry.id_ms
        batches[-1].append(entry)
    return batches


def valid_series(entries: list[RawEntry]) -> dict[str, list[tuple[int, float]]]:
    """Each sensor's valid readings (ts_ms, value), duplicates once, for the batch baseline."""
    series: dict[str, set[tuple[int, float]]] = defaultdict(set)
    for entry in entries:
        try:
            event = parse_event(entry.fields)
        except InvalidEvent:
            continue
        series[event.sensor_id].add((event.ts_ms, event.value))
    return {sensor: sorted(readings) for sensor, readings in series.items()}
