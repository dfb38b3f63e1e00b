"""An ensemble detector: several registered detectors scoring every reading, the most surprised one wins."""

from __future__ import annotations

from river import base

# Members must score on one scale for the largest score to mean something: these are in spreads.
SAME_SCALE = ("zscore", "forecast", "sad")


class Ensemble(base.AnomalyDetector):
    """The largest score of its member detectors, all learning every reading.

    A spike or a jump is caught by the multi-scale z-score, a break from a drift or trend by the
    forecaster: each member sees what it is good at, and the largest of their scores is the
    ensemble's. Members are registered detector names whose scores are in spreads (standard
    deviations): zscore, forecast and sad, so one member's scale cannot drown another's. Ready when
    every member is. The cost is the sum of the members'.

    Parameters
    ----------
    members
        Names of the member detectors, each with its default parameters.

    Examples
    --------

    >>> import random
    >>> rng = random.Random(42)
    >>> detector = Ensemble()
    >>> for i in range(500):
    ...     detector.learn_one({"value": rng.gauss(20.0, 0.5)})
    >>> round(detector.score_one({"value": 20.3}), 1), round(detector.score_one({"value": 35.0}), 1)
    (0.7, 31.2)
    """

    score_resolution = 1.0  # every member scores in standard deviations

    def __init__(self, members: tuple[str, ...] = ("zscore", "forecast")) -> None:
        if isinstance(members, str) or not isinstance(members, (tuple, list)) or not members:
            raise ValueError(f"Ensemble: members must be a non-empty list of detector names, got {members!r}")
        for name in members:
            if name not in SAME_SCALE:
                raise ValueError(f"Ensemble: member {name!r} is not one of {', '.join(SAME_SCALE)}")
        self.members = tuple(members)
        from models.registry import build  # the registry lists this class: import it when first built

        self._detectors = [build(name) for name in self.members]

    @property
    def ready(self) -> bool:
        """Whether every member's scores mean something."""
        return all(getattr(detector, "ready", True) for detector in self._detectors)

    def learn_one(self, x: dict) -> None:
        """Every member learns `x`."""
        for detector in self._detectors:
            detector.learn_one(x)

    def score_one(self, x: dict) -> float:
        """The largest of the members' scores."""
        return max(detector.score_one(x) for detector in self._detectors)

    def expected_one(self, feature: object) -> tuple[float, float] | None:
        """The first member's (expected value, spread) of a feature, or None."""
        expected_one = getattr(self._detectors[0], "expected_one", None)
        return expected_one(feature) if expected_one is not None else None

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"members": ("zscore", "sad")}
