"""Multi-scale features of a reading: its value, its change since the last one, and its recent mean."""

from __future__ import annotations

from models.params import finite_value

CHANGE = "change"
MEAN = "mean"


class ScaleFeatures:
    """Each feature of a River dict seen at three time scales: now, one step, and a fast moving mean.

    For a feature `f` the derived dict holds `f` itself, `(f, "change")`: the step from the previous
    finite value, and `(f, "mean")`: an exponential moving mean at `fast` with the new value folded
    in. A spike shows on the value, a jump on the change even when the level is noisy, and a small
    shift that lasts on the mean, where averaging has shrunk the noise. NaN and inf values are left
    out and leave the state alone; a non-number is refused naming the feature.

    >>> scales = ScaleFeatures("example", fast=0.5)
    >>> scales.update({"value": 10.0})
    >>> scales.features({"value": 14.0})
    {'value': 14.0, ('value', 'change'): 4.0, ('value', 'mean'): 12.0}
    >>> scales.features({"value": float("nan")})
    {}
    """

    __slots__ = ("owner", "fast", "last", "mean")

    def __init__(self, owner: str, fast: float) -> None:
        self.owner = owner
        self.fast = fast
        self.last: dict = {}
        self.mean: dict = {}

    def features(self, x: dict) -> dict:
        """The derived features of `x` against the state so far; the state is not changed."""
        derived = {}
        for feature, value in x.items():
            if not finite_value(self.owner, feature, value):
                continue
            value = float(value)
            derived[feature] = value
            last = self.last.get(feature)
            if last is not None:
                derived[(feature, CHANGE)] = value - last
                mean = self.mean[feature]
                derived[(feature, MEAN)] = mean + self.fast * (value - mean)
        return derived

    def update(self, x: dict) -> None:
        """Move the state on by the finite features of `x`."""
        for feature, value in x.items():
            if not finite_value(self.owner, feature, value):
                continue
            value = float(value)
            mean = self.mean.get(feature)
            self.mean[feature] = value if mean is None else mean + self.fast * (value - mean)
            self.last[feature] = value
