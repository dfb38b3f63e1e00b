"""The notifier's memory in Redis: which alerts are already in Slack, and where, so a resolve finds its thread."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from alerts.transition import FIRING, AlertTransition, transition_id

POSTED_PREFIX = "tocsin:slack:posted:"  # + alert id -> the post of that transition
THREAD_PREFIX = "tocsin:slack:thread:"  # + alert key (rule|sensor) -> the post of its latest firing
# + channel:ts of a message several alerts share -> hash of alert key -> the firing alert's fields (JSON);
# the same key + ":resolved" -> hash of alert key -> its resolve's fields, once it resolved.
GROUP_PREFIX = "tocsin:slack:group:"
# + rule|route|severity|site -> the post of the storm there now open to more firings (`storm_key`)
STORM_PREFIX = "tocsin:slack:storm:"
# Long enough for an alert that fires on Friday and resolves after a long weekend, and then some.
POST_TTL_S = 30 * 86400


@dataclass(frozen=True, slots=True)
class SlackPost:
    """Where one transition's message lives in Slack (channel id, message ts) and the alert it showed.

    `group` is how many alerts share the message (0: it is this alert's own); a transition posted in
    the thread of such a message (a resolve, or a firing that joined the storm) keeps that message's
    ts as `thread`.
    """

    channel: str
    ts: str
    alert: dict[str, str] = field(default_factory=dict)
    group: int = 0
    thread: str = ""

    def to_json(self) -> str:
        """The record as stored in Redis."""
        record = {"channel": self.channel, "ts": self.ts, "alert": self.alert}
        record.update({name: value for name, value in (("group", self.group), ("thread", self.thread)) if value})
        return json.dumps(record, sort_keys=True)

    @property
    def root(self) -> str:
        """The ts of the message at the root of this post's thread (its own, unless it is a reply there)."""
        return self.thread or self.ts

    @classmethod
    def from_json(cls, raw: bytes | str) -> "SlackPost":
        """Parse a stored record."""
        data = json.loads(raw)
        return cls(channel=data["channel"], ts=data["ts"], alert=data.get("alert", {}), group=data.get("group", 0),
                   thread=data.get("thread", ""))


class PostLog:
    """Records of Slack posts, one per alert transition id, written in the same transaction as the XACK."""

    def __init__(self, client, *, ttl_s: int = POST_TTL_S, default_channel: str = "", storm_ttl_ms: int = 0) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.default_channel = default_channel  # the route of alerts whose rule names no channel
        self.storm_ttl_ms = storm_ttl_ms  # how long a storm's message takes more firings after the last (0: never)

    def posted(self, alert_id: str) -> SlackPost | None:
        """The post already made for this transition, if any."""
        raw = self.client.get(POSTED_PREFIX + alert_id)
        return SlackPost.from_json(raw) if raw else None

    def posted_already(self, alert_ids: list[str]) -> list[bool]:
        """Whether each transition is already in Slack, in one round trip."""
        return [raw is not None for raw in self.client.mget([POSTED_PREFIX + alert_id for alert_id in alert_ids])]

    def firing_post(self, resolved: AlertTransition) -> SlackPost | None:
        """The post of the firing this resolve ends: by the firing's exact id, else the latest for its key."""
        return self.firing_posts([resolved])[0]

    def firing_posts(self, resolves: list[AlertTransition]) -> list[SlackPost | None]:
        """`firing_post` of each resolve, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for resolved in resolves:
            firing_id = transition_id(resolved.rule, resolved.sensor_id, FIRING, resolved.fired_event_id)
            pipe.get(POSTED_PREFIX + firing_id)  # (a resolve without fired_event_id finds nothing here)
            pipe.get(THREAD_PREFIX + resolved.key)
        found = pipe.execute()
        return [SlackPost.from_json(exact or latest) if (exact or latest) else None
                for exact, latest in zip(found[::2], found[1::2], strict=True)]

    def group(self, post: SlackPost) -> tuple[list[AlertTransition], dict[str, AlertTransition]]:
        """The alerts that share `post`'s message, and the resolves of those that resolved, by alert key.

        Both are empty for a message posted before the notifier kept them, or past their TTL.
        """
        key = _group_key(post.channel, post.root)
        pipe = self.client.pipeline(transaction=False)
        pipe.hvals(key)
        pipe.hvals(key + ":resolved")
        members, resolves = pipe.execute()
        alerts = [AlertTransition.from_fields(json.loads(raw)) for raw in members]
        return alerts, {back.key: back for back in (AlertTransition.from_fields(json.loads(raw)) for raw in resolves)}

    def open_storms(self, firings: list[AlertTransition]) -> list[SlackPost | None]:
        """For each firing, the message of an open storm of its rule, route and severity (None: none), in one MGET."""
        if not firings or not self.storm_ttl_ms:
            return [None] * len(firings)
        found = self.client.mget([STORM_PREFIX + self.storm_key(firing) for firing in firings])
        return [SlackPost.from_json(raw) if raw else None for raw in found]

    def storm_key(self, firing: AlertTransition) -> str:
        """What a storm shares: rule, route (the rule's channel, else the default), severity and site.

        Each member of a storm keeps its site's key open, so a storm over two sites takes later
        firings at both, and two storms of one rule at two sites each keep their own.
        """
        return f"{firing.rule}|{firing.channel or self.default_channel}|{firing.severity}|{firing.site}"

    def record(self, pipe, transition: AlertTransition, post: SlackPost) -> None:
        """Queue the record of `post` on `pipe` (the caller's transaction, which also XACKs).

        A firing that shares a message, and a resolve posted in such a message's thread, are also
        noted in that message's group, so its next edit shows them; such a firing also keeps the
        message open, `storm_ttl_ms` long, to later firings of the same storm.
        """
        pipe.set(POSTED_PREFIX + transition.id, post.to_json(), ex=self.ttl_s)
        if transition.state == FIRING:
            pipe.set(THREAD_PREFIX + transition.key, post.to_json(), ex=self.ttl_s)
        else:
            pipe.delete(THREAD_PREFIX + transition.key)
        if not post.group:
            return
        key = _group_key(post.channel, post.root)
        fields = json.dumps(transition.to_fields(), sort_keys=True)
        if transition.state == FIRING:
            pipe.hset(key, transition.key, fields)
            pipe.hdel(key + ":resolved", transition.key)  # (an alert of the group firing again)
            if self.storm_ttl_ms:
                root = SlackPost(channel=post.channel, ts=post.root, group=post.group)
                pipe.set(STORM_PREFIX + self.storm_key(transition), root.to_json(), px=self.storm_ttl_ms)
        else:
            key += ":resolved"
            pipe.hset(key, transition.key, fields)
        pipe.expire(key, self.ttl_s)


def _group_key(channel: str, ts: str) -> str:
    return f"{GROUP_PREFIX}{channel}:{ts}"
