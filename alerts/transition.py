"""AlertTransition: one change of an alert's state, with a deterministic id, as it travels on Redis."""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, fields

ALERT_STREAM = "tocsin:alerts"
ACTIVE_HASH = "tocsin:alerts:active"
LIVE_CHANNEL = "tocsin:alerts:live"
DEADLETTER_STREAM = "tocsin:deadletter"

FIRING = "firing"
RESOLVED = "resolved"


def transition_id(rule: str, sensor_id: str, state: str, event_id: str) -> str:
    """Deterministic id: the same transition, caused by the same event, always gets the same id.

    >>> transition_id("spike", "t1", "firing", "1-0") == transition_id("spike", "t1", "firing", "1-0")
    True
    >>> len(transition_id("spike", "t1", "firing", "1-0"))
    20
    """
    digest = hashlib.sha1(f"{rule}\x1f{sensor_id}\x1f{state}\x1f{event_id}".encode()).hexdigest()
    return digest[:20]


@dataclass(frozen=True, slots=True)
class AlertTransition:
    """An alert going `firing` or `resolved` for one rule on one sensor."""

    id: str
    rule: str
    sensor_id: str
    state: str
    severity: str
    value: float
    score: float
    ts: int  # event time of the causing event, epoch ms
    event_id: str  # entry id of the causing event on the event stream
    summary: str
    site: str = ""
    channel: str = ""  # Slack route of the rule, "" for the notifier's default
    expected: str = ""  # explanation: expected value or range against the actual
    reason: str = ""  # on firing: why, in words (the model's test, or the rule's value condition)
    fired_event_id: str = ""  # on a resolve: the event id that fired it, to find the Slack thread

    @classmethod
    def create(cls, *, rule: str, sensor_id: str, state: str, event_id: str, **rest) -> "AlertTransition":
        """Build a transition, deriving its deterministic id."""
        return cls(
            id=transition_id(rule, sensor_id, state, event_id),
            rule=rule,
            sensor_id=sensor_id,
            state=state,
            event_id=event_id,
            **rest,
        )

    @property
    def key(self) -> str:
        """The key of this alert in the active hash: one entry per (rule, sensor)."""
        return f"{self.rule}|{self.sensor_id}"

    def to_fields(self) -> dict[str, str]:
        """Flat string fields for XADD / HSET."""
        return {name: _text(value) for name, value in asdict(self).items()}

    @classmethod
    def from_fields(cls, raw: dict) -> "AlertTransition":
        """Parse the fields of an alert stream entry (str or bytes keys and values)."""
        text = {_decode(k): _decode(v) for k, v in raw.items()}
        kwargs = {}
        for f in fields(cls):
            value = text.get(f.name, "")
            if f.name in ("value", "score"):
                kwargs[f.name] = float(value) if value else math.nan
            elif f.name == "ts":
                kwargs[f.name] = int(value) if value else 0
            else:
                kwargs[f.name] = value
        return cls(**kwargs)


def _text(value: object) -> str:
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _decode(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
