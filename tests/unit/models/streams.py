"""Seeded sensor streams that more than one test module feeds to the detectors."""

from __future__ import annotations

import math
import random


def supply_air(rng: random.Random, drift_from: int | None = None, over: int = 360, by: float = 3.0):
    """A CRAC unit's supply air (deg C) read each minute: 18, a 0.4 daily swing, noise that wanders; then a filter clogs."""
    wander = [0.0]

    def value_at(i: int) -> float:
        wander[0] = 0.9 * wander[0] + rng.gauss(0.0, 0.07)  # about 0.15 deg C, slow to change
        clogged = 0.0 if drift_from is None or i < drift_from else by * min(1.0, (i - drift_from) / over)
        return 18.0 + 0.4 * math.sin(2 * math.pi * i / 1440) + wander[0] + rng.gauss(0.0, 0.03) + clogged

    return value_at
