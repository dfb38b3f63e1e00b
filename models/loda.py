"""River's LODA with checked parameters, a fixed seed, a readiness signal and densities without holes."""

from __future__ import annotations

import math

from river import anomaly

from models import params

# LODA's histograms need some values before their densities mean anything.
READY_AFTER = 50


class Loda(anomaly.LODA):
    """LODA: average negative log-density of sparse random projections (River's `anomaly.LODA`).

    On one feature every projection is the reading times a random weight, so a few cuts carry all
    the information: 10 by default instead of River's 100, ten times cheaper. The projections are
    fixed on the first `learn_one`, later features are ignored. Scores are 0.0 until 50 readings.

    River's histograms give no density at all between two bins and beyond the outer ones, so a
    normal reading that falls in a gap scores like one never seen (about 27.6) and every far spike
    scores the same. Here a gap takes the density of its two neighbours merged, and beyond the
    outer bins the density decays exponentially with the distance in bin widths: the score grows
    with how far out a reading is.

    Parameters
    ----------
    n_bins, n_random_cuts
        As in `river.anomaly.LODA`.
    seed
        Random seed of the projections; fixed by default so that replays reproduce the same scores.

    Examples
    --------

    >>> import random
    >>> rng = random.Random(42)
    >>> detector = Loda()
    >>> for _ in range(500):
    ...     detector.learn_one({"value": rng.gauss(20.0, 0.5)})
    >>> normal = detector.score_one({"value": 20.1})
    >>> spike = detector.score_one({"value": 35.0})
    >>> round(normal, 2), round(spike, 2)
    (-0.7, 27.63)
    """

    score_resolution = 1.0  # scores are in nats: one is a factor e in density

    def __init__(self, n_bins: int = 10, n_random_cuts: int = 10, seed: int | None = 42) -> None:
        super().__init__(
            n_bins=params.count("Loda", "n_bins", n_bins, minimum=2),
            n_random_cuts=params.count("Loda", "n_random_cuts", n_random_cuts, minimum=1),
            seed=params.seed("Loda", seed),
        )
        self._learned = 0

    @property
    def ready(self) -> bool:
        """Whether the histograms have seen enough readings."""
        return self._learned >= READY_AFTER

    def learn_one(self, x: dict) -> None:
        """Learn the finite features of `x` into every projection's histogram."""
        finite = {f: float(v) for f, v in x.items() if params.finite_value("Loda", f, v)}
        if finite:
            super().learn_one(finite)
            self._learned += 1

    def score_one(self, x: dict) -> float:
        """Average negative log-density of the projections of `x`; 0.0 until ready."""
        if self._learned < READY_AFTER:
            return 0.0
        finite = {f: float(v) for f, v in x.items() if params.finite_value("Loda", f, v)}
        return super().score_one(finite)

    @staticmethod
    def _density(histogram, z: float) -> float:
        """Density of `z` under a streaming histogram, with gaps bridged and tails decaying."""
        bins = histogram.data
        n = histogram.n
        if not bins or n == 0:
            return 0.0
        first, last = bins[0], bins[-1]
        if z < first.left:
            return _tail(bins, 0, first.left - z, n)
        if z > last.right:
            return _tail(bins, len(bins) - 1, z - last.right, n)
        previous = None
        for i, b in enumerate(bins):
            if z > b.right:
                previous = b
                continue
            if z >= b.left:
                return (b.count / n) / _width(bins, i)
            return ((previous.count + b.count) / n) / (b.right - previous.left)  # in a gap
        return 0.0  # unreachable: z lies within the bins' span

    @classmethod
    def _unit_test_params(cls):
        yield {"n_random_cuts": 10}


def _width(bins: list, i: int) -> float:
    """A bin's width; a single-value bin borrows the gap to its nearest neighbour."""
    b = bins[i]
    width = b.right - b.left
    if width > 0.0:
        return width
    gaps = []
    if i > 0:
        gaps.append(b.left - bins[i - 1].right)
    if i + 1 < len(bins):
        gaps.append(bins[i + 1].left - b.right)
    return min(gaps) if gaps else 1.0  # one value seen: its own bin has all the mass


def _tail(bins: list, i: int, distance: float, n: int) -> float:
    """Density `distance` beyond the outer bin i: the bin's, decaying by e per bin width."""
    b = bins[i]
    width = _width(bins, i) if len(bins) > 1 or b.right > b.left else 0.0
    width = max(width, 1e-9 * abs(b.left) + 1e-12)  # a flatline's one bin: any step is far out
    return (b.count / n) / width * math.exp(-distance / width)
