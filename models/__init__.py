"""tocsin's online anomaly detectors: River-compatible, one per sensor, score first then learn."""

from models.registry import DEFAULT_DETECTOR, build, names
from models.sensor import Score, SensorModel

__all__ = ["DEFAULT_DETECTOR", "Score", "SensorModel", "build", "names"]
