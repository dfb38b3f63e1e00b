"""Data faults: what goes wrong between a sensor and the bus, not in the physics it measures.

A fault changes a sensor's records inside its window: when they arrive (late, out of order), how many
times (duplicates), what time they claim (clock skew) or whether they can be parsed at all (malformed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from simulator.anomalies import Episode
from simulator.quantities import Fraction, PositiveDuration, SignedDuration

# How a malformed record is broken; the index + 1 is the defect code a record carries (0: intact).
DEFECTS = ("value_not_a_number", "value_nan", "ts_missing", "ts_in_seconds", "ts_not_a_time", "sensor_id_empty")


@dataclass(slots=True)
class Records:
    """One sensor's records as columns: nominal sample time, claimed time, arrival time, value, defect."""

    t_ms: np.ndarray
    ts_ms: np.ndarray
    emit_ms: np.ndarray
    values: np.ndarray
    defects: np.ndarray

    def take(self, index: np.ndarray) -> "Records":
        """The records at `index` (a mask or positions, repeats allowed), in that order."""
        return Records(self.t_ms[index], self.ts_ms[index], self.emit_ms[index], self.values[index], self.defects[index])

    def then(self, later: "Records") -> "Records":
        """These records followed by `later`."""
        return Records(*(np.concatenate((getattr(self, name), getattr(later, name))) for name in self.__slots__))


def _chosen(inside: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of the records in the window that a fault of this rate hits."""
    candidates = np.flatnonzero(inside)
    return candidates[rng.random(len(candidates)) < rate]


class Late(Episode):
    """A share (`rate`) of the records arrive `delay` after their event time."""

    kind: Literal["late"]
    delay: PositiveDuration
    rate: Fraction = 0.1

    def disturb(self, rec: Records, inside: np.ndarray, rng: np.random.Generator) -> Records:
        """Delay the chosen records' arrival."""
        rec.emit_ms[_chosen(inside, self.rate, rng)] += self.delay
        return rec


class OutOfOrder(Episode):
    """A share of the records arrive up to `delay` late, so they overtake one another."""

    kind: Literal["out_of_order"]
    delay: PositiveDuration
    rate: Fraction = 0.3

    def disturb(self, rec: Records, inside: np.ndarray, rng: np.random.Generator) -> Records:
        """Delay the chosen records by a random amount each."""
        chosen = _chosen(inside, self.rate, rng)
        rec.emit_ms[chosen] += rng.integers(1, self.delay + 1, len(chosen))
        return rec


class Duplicate(Episode):
    """A share of the records is sent twice."""

    kind: Literal["duplicate"]
    rate: Fraction = 0.1

    def disturb(self, rec: Records, inside: np.ndarray, rng: np.random.Generator) -> Records:
        """Repeat the chosen records right after themselves."""
        counts = np.ones(len(rec.values), dtype=np.int64)
        counts[_chosen(inside, self.rate, rng)] = 2
        return rec.take(np.repeat(np.arange(len(counts)), counts))


class Malformed(Episode):
    """A share of the records is broken so that it breaks the event contract (see `DEFECTS`)."""

    kind: Literal["malformed"]
    rate: Fraction = 0.1

    def disturb(self, rec: Records, inside: np.ndarray, rng: np.random.Generator) -> Records:
        """Give each chosen record one defect."""
        chosen = _chosen(inside, self.rate, rng)
        rec.defects[chosen] = rng.integers(1, len(DEFECTS) + 1, len(chosen))
        return rec


class ClockSkew(Episode):
    """The sensor's clock is off by `skew` (negative: behind): its records claim the wrong time."""

    kind: Literal["clock_skew"]
    skew: SignedDuration

    def disturb(self, rec: Records, inside: np.ndarray, rng: np.random.Generator) -> Records:
        """Shift the claimed time of every record in the window."""
        rec.ts_ms[inside] += self.skew
        return rec


Fault = Annotated[Late | OutOfOrder | Duplicate | Malformed | ClockSkew, Field(discriminator="kind")]
FAULT_KINDS = ("late", "out_of_order", "duplicate", "malformed", "clock_skew")


def broken_fields(fields: dict[str, str], defect: int) -> dict[str, str]:
    """The fields of a record with defect number `defect` (1-based index into `DEFECTS`) applied.

    >>> broken_fields({"sensor_id": "a", "ts": "1704067200000", "value": "1.5"}, 4)
    {'sensor_id': 'a', 'ts': '1704067200', 'value': '1.5'}
    """
    name = DEFECTS[defect - 1]
    broken = dict(fields)
    if name == "value_not_a_number":
        broken["value"] = "n/a"
    elif name == "value_nan":
        broken["value"] = "NaN"
    elif name == "ts_missing":
        del broken["ts"]
    elif name == "ts_in_seconds":
        broken["ts"] = str(int(fields["ts"]) // 1000)
    elif name == "ts_not_a_time":
        broken["ts"] = "yesterday"
    else:
        broken["sensor_id"] = ""
    return broken
