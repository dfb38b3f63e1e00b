"""Detectors measured on simulator scenarios with ground truth: per anomaly kind, beside a batch baseline."""

from models.scenario_eval.metrics import Alert, DetectorScore, KindScore, Matching, score_detector
from models.scenario_eval.runner import ScenarioReport, evaluate_scenario

__all__ = ["Alert", "DetectorScore", "KindScore", "Matching", "ScenarioReport", "evaluate_scenario",
           "score_detector"]
