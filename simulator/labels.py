"""Ground truth: one `Label` per injected anomaly or data fault, saying what happened where and when.

Format (the same in the `tocsin:labels` stream, in JSON-lines files and in recordings):

    kind      anomaly or fault kind: spike, dip, level_shift, drift, variance_burst, stuck, dropout,
              out_of_range, oscillation, device_failure, late, out_of_order, duplicate, malformed, clock_skew
    sensors   the sensor ids it hits (a JSON array in stream entries)
    start_ms  first event time of the window, epoch milliseconds (inclusive)
    end_ms    end of the window, epoch milliseconds (exclusive)
    scenario  the scenario name

Windows are in nominal sample time: with jitter, a labelled reading's `ts` may lie up to the jitter
outside its window; a late record arrives after its window but claims a time inside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

LABEL_FIELDS = ("kind", "sensors", "start_ms", "end_ms", "scenario")


@dataclass(frozen=True, slots=True)
class Label:
    """One injected anomaly or fault: its kind, the sensors it hits and its event-time window."""

    kind: str
    sensors: tuple[str, ...]
    start_ms: int
    end_ms: int
    scenario: str

    def covers(self, sensor_id: str, ts_ms: int) -> bool:
        """Whether a reading of `sensor_id` at `ts_ms` falls under this label."""
        return sensor_id in self.sensors and self.start_ms <= ts_ms < self.end_ms

    def to_dict(self) -> dict[str, object]:
        """The label as a JSON-ready mapping."""
        return {"kind": self.kind, "sensors": list(self.sensors), "start_ms": self.start_ms,
                "end_ms": self.end_ms, "scenario": self.scenario}

    def to_json(self) -> str:
        """One compact JSON line, keys in a fixed order.

        >>> Label("spike", ("a/t",), 10, 20, "demo").to_json()
        '{"kind":"spike","sensors":["a/t"],"start_ms":10,"end_ms":20,"scenario":"demo"}'
        """
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    def to_fields(self) -> dict[str, str]:
        """Flat string fields for a stream entry; `sensors` is a JSON array."""
        return {"kind": self.kind, "sensors": json.dumps(list(self.sensors)), "start_ms": str(self.start_ms),
                "end_ms": str(self.end_ms), "scenario": self.scenario}

    @classmethod
    def from_fields(cls, raw: dict) -> "Label":
        """Parse a stream entry (str or bytes keys and values) or a decoded JSON line.

        >>> label = Label("dropout", ("a/t", "b/t"), 10, 20, "demo")
        >>> Label.from_fields(label.to_fields()) == Label.from_fields(json.loads(label.to_json())) == label
        True
        """
        text = {_text(k): (v.decode() if isinstance(v, bytes) else v) for k, v in raw.items()}
        missing = [name for name in LABEL_FIELDS if name not in text]
        if missing:
            raise ValueError(f"label: missing field(s) {', '.join(missing)}")
        sensors = text["sensors"]
        sensors = json.loads(sensors) if isinstance(sensors, str) else sensors
        return cls(str(text["kind"]), tuple(map(str, sensors)), int(text["start_ms"]), int(text["end_ms"]),
                   str(text["scenario"]))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
