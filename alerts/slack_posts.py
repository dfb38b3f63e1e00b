"""The notifier's memory in Redis: which alerts are already in Slack, and where, so a resolve finds its thread."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from alerts.transition import FIRING, AlertTransition, transition_id

POSTED_PREFIX = "tocsin:slack:posted:"  # + alert id -> the post of that transition
THREAD_PREFIX = "tocsin:slack:thread:"  # + alert key (rule|sensor) -> the post of its latest firing
# Long enough for an alert that fires on Friday and resolves after a long weekend, and then some.
POST_TTL_S = 30 * 86400


@dataclass(frozen=True, slots=True)
class SlackPost:
    """Where one transition's message lives in Slack (channel id, message ts) and the alert it showed.

    `group` is how many alerts share the message (0: it is this alert's own).
    """

    channel: str
    ts: str
    alert: dict[str, str] = field(default_factory=dict)
    group: int = 0

    def to_json(self) -> str:
        """The record as stored in Redis."""
        record = {"channel": self.channel, "ts": self.ts, "alert": self.alert}
        return json.dumps({**record, "group": self.group} if self.group else record, sort_keys=True)

    @classmethod
    def from_json(cls, raw: bytes | str) -> "SlackPost":
        """Parse a stored record."""
        data = json.loads(raw)
        return cls(channel=data["channel"], ts=data["ts"], alert=data.get("alert", {}), group=data.get("group", 0))


class PostLog:
    """Records of Slack posts, one per alert transition id, written in the same transaction as the XACK."""

    def __init__(self, client, *, ttl_s: int = POST_TTL_S) -> None:
        self.client = client
        self.ttl_s = ttl_s

    def posted(self, alert_id: str) -> SlackPost | None:
        """The post already made for this transition, if any."""
        raw = self.client.get(POSTED_PREFIX + alert_id)
        return SlackPost.from_json(raw) if raw else None

    def posted_already(self, alert_ids: list[str]) -> list[bool]:
        """Whether each transition is already in Slack, in one round trip."""
        return [raw is not None for raw in self.client.mget([POSTED_PREFIX + alert_id for alert_id in alert_ids])]

    def firing_post(self, resolved: AlertTransition) -> SlackPost | None:
        """The post of the firing this resolve ends: by the firing's exact id, else the latest for its key."""
        if resolved.fired_event_id:
            firing_id = transition_id(resolved.rule, resolved.sensor_id, FIRING, resolved.fired_event_id)
            post = self.posted(firing_id)
            if post is not None:
                return post
        raw = self.client.get(THREAD_PREFIX + resolved.key)
        return SlackPost.from_json(raw) if raw else None

    def record(self, pipe, transition: AlertTransition, post: SlackPost) -> None:
        """Queue the record of `post` on `pipe` (the caller's transaction, which also XACKs)."""
        pipe.set(POSTED_PREFIX + transition.id, post.to_json(), ex=self.ttl_s)
        if transition.state == FIRING:
            pipe.set(THREAD_PREFIX + transition.key, post.to_json(), ex=self.ttl_s)
        else:
            pipe.delete(THREAD_PREFIX + transition.key)
