"""The event contract: one Redis stream entry in, one validated `Event` out, or the reason it is refused."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime

REQUIRED = ("sensor_id", "ts", "value")
OPTIONAL = ("device_id", "site", "unit", "labels")
MAX_SENSOR_ID = 200
REPLACEMENT = "\ufffd"  # what the reader puts in place of bytes that are not UTF-8
# Event times outside [2000-01-01, 2100-01-01) are almost always a unit mistake (seconds, microseconds).
MIN_TS_MS = 946_684_800_000
MAX_TS_MS = 4_102_444_800_000


class InvalidEvent(ValueError):
    """An entry that breaks the event contract; `reason` names the field and what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Event:
    """One validated sensor reading."""

    sensor_id: str
    ts_ms: int
    value: float
    device_id: str | None = None
    site: str | None = None
    unit: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


def parse_ts(raw: str) -> int:
    """Event time as epoch milliseconds, from epoch milliseconds or ISO-8601 with a zone.

    >>> parse_ts("1700000000000")
    1700000000000
    >>> parse_ts("2023-11-14T22:13:20Z")
    1700000000000
    """
    text = raw.strip()
    if not text:
        raise InvalidEvent("ts: empty")
    if text.lstrip("-").isdigit():
        ts_ms = int(text)
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InvalidEvent(f"ts: {raw!r} is neither epoch milliseconds nor ISO-8601") from None
        if moment.tzinfo is None:
            raise InvalidEvent(f"ts: {raw!r} has no time zone")
        ts_ms = round(moment.timestamp() * 1000)
    if not MIN_TS_MS <= ts_ms < MAX_TS_MS:
        raise InvalidEvent(f"ts: {raw!r} is outside 2000-2100 (epoch milliseconds expected)")
    return ts_ms


def parse_value(raw: str) -> float:
    """A finite float reading."""
    try:
        value = float(raw)
    except ValueError:
        raise InvalidEvent(f"value: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidEvent(f"value: {raw!r} is not finite")
    return value


def parse_labels(raw: str) -> dict[str, str]:
    """The optional `labels` field: a JSON object of strings."""
    try:
        labels = json.loads(raw)
    except ValueError:
        raise InvalidEvent("labels: not valid JSON") from None
    if not isinstance(labels, dict):
        raise InvalidEvent("labels: must be a JSON object")
    return {str(k): str(v) for k, v in labels.items()}


def parse_event(fields: dict[str, str]) -> Event:
    """Validate one stream entry's fields against the event contract.

    >>> parse_event({"sensor_id": "t1", "ts": "1700000000000", "value": "21.5"}).value
    21.5
    >>> parse_event({"sensor_id": "t1", "ts": "1700000000000", "value": "nan"})
    Traceback (most recent call last):
    ...
    detector.events.InvalidEvent: value: 'nan' is not finite
    """
    missing = [name for name in REQUIRED if name not in fields or fields[name] is None]
    if missing:
        raise InvalidEvent(f"missing field(s): {', '.join(missing)}")
    undecodable = [name for name, text in fields.items() if REPLACEMENT in str(text)]
    if undecodable:
        raise InvalidEvent(f"{', '.join(sorted(undecodable))}: not valid UTF-8")
    sensor_id = fields["sensor_id"].strip()
    if not sensor_id:
        raise InvalidEvent("sensor_id: empty")
    if len(sensor_id) > MAX_SENSOR_ID or not sensor_id.isprintable():
        raise InvalidEvent(f"sensor_id: longer than {MAX_SENSOR_ID} characters or not printable")
    labels = parse_labels(fields["labels"]) if fields.get("labels") else {}
    return Event(
        sensor_id=sensor_id,
        ts_ms=parse_ts(fields["ts"]),
        value=parse_value(fields["value"]),
        device_id=fields.get("device_id") or None,
        site=fields.get("site") or None,
        unit=fields.get("unit") or None,
        labels=labels,
    )


def shard_of(sensor_id: str, shards: int) -> int:
    """The shard a sensor's events go to: crc32(sensor_id) mod N, so one sensor stays ordered.

    >>> shard_of("pump-1/pressure", 1)
    0
    """
    import zlib

    return zlib.crc32(sensor_id.encode()) % shards


def stream_names(shards: int, prefix: str = "tocsin:events") -> list[str]:
    """The event stream names for N shards: the bare prefix for one, `prefix:i` for several."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    return [prefix] if shards == 1 else [f"{prefix}:{i}" for i in range(shards)]
