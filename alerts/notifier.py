"""The Slack notifier: alert transitions from the Redis alert stream to Slack, each delivered once.

It reads ALERT_STREAM in the consumer group "tocsin-notifier", posts each transition with slack_sdk and
XACKs it. A firing alert becomes a message; its resolve becomes a thread reply plus an edit of that
message. Records of every post (alerts.slack_posts) make a re-delivery after a crash a no-op, and
XAUTOCLAIM picks up entries a crashed consumer left pending. Transient Slack failures are retried by
slack_sdk's retry handlers, then left pending for a later claim; permanent ones go to UNDELIVERABLE_STREAM.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from alerts.alert_groups import GROUP_JOIN_MS, GROUP_MIN, GROUP_WAIT_MS, fired_together, resolved_together
from alerts.notifier_metrics import NotifierMetrics
from alerts.notifier_settings import NotifierSettings
from alerts.slack_message import (SlackMessage, firing_message, group_joined_reply, group_message,
                                  group_resolved_reply, resolved_original, resolved_reply)
from alerts.slack_posts import PostLog, SlackPost
from alerts.transition import ALERT_STREAM, FIRING, RESOLVED, AlertTransition
from detector.redis_outage import OUTAGE_ERRORS, RedisRefused, address, wait_for_redis
from detector.redis_server import connect

GROUP = "tocsin-notifier"
UNDELIVERABLE_STREAM = "tocsin:alerts:undeliverable"
UNDELIVERABLE_MAXLEN = 10_000
# Slack error codes that say "try again later"; every other error code is a property of the request.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout"})
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})

log = logging.getLogger("tocsin.notifier")


class NotifierRefused(RuntimeError):
    """The notifier will not start; the message says why and what to change."""


class TransientFailure(RuntimeError):
    """Slack or the network failed in a way worth retrying later; the entry stays pending."""


def slack_client(token: str, base_url: str, *, timeout_s: int = 10) -> WebClient:
    """A WebClient that retries rate limits, 500/503 answers and dropped connections by itself."""
    handlers = [RateLimitErrorRetryHandler(max_retry_count=3), ServerErrorRetryHandler(max_retry_count=2),
                ConnectionErrorRetryHandler(max_retry_count=2)]
    return WebClient(token=token, base_url=base_url, timeout=timeout_s, retry_handlers=handlers)


def is_transient(status: int | None, error_code: str) -> bool:
    """Whether a failed Slack call is worth retrying: no answer, a 429/5xx, or a "try later" error code.

    >>> is_transient(None, ""), is_transient(429, "ratelimited"), is_transient(200, "channel_not_found")
    (True, True, False)
    """
    return status is None or status == 429 or status >= 500 or error_code in TRANSIENT_ERRORS


def failure_of(exc: Exception) -> tuple[bool, str]:
    """(transient?, error text) for an exception a slack_sdk call raised."""
    if isinstance(exc, SlackApiError):
        code = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
        return is_transient(exc.response.status_code, code), code or f"HTTP {exc.response.status_code}"
    if isinstance(exc, OSError):  # URLError, timeouts, refused connections
        return True, f"{type(exc).__name__}: {exc}"
    return False, f"{type(exc).__name__}: {exc}"


class Notifier:
    """One consumer of the alert stream posting to Slack; `start()` once, then `run()` or `process_once()`."""

    def __init__(self, *, client: redis.Redis, slack: WebClient, default_channel: str,
                 consumer: str = "notifier-1", claim_idle_ms: int = 60_000, batch_size: int = 50,
                 metrics: NotifierMetrics | None = None, group_min: int = GROUP_MIN,
                 group_wait_ms: int = GROUP_WAIT_MS, group_join_ms: int = GROUP_JOIN_MS) -> None:
        self.client = client
        self.group_min = group_min  # firings of one rule read together that share a message (0: never)
        self.group_wait_ms = group_wait_ms  # after a read that brings a firing, how long to wait for the rest
        self.metrics = metrics or NotifierMetrics()  # kept even when nobody serves them: a few counters
        self.slack = slack
        self.default_channel = default_channel
        self.consumer = consumer
        self.claim_idle_ms = claim_idle_ms
        self.batch_size = batch_size
        # A storm's message stays open to later firings of its rule at its sites, group_join_ms after the last one.
        self.posts = PostLog(client, default_channel=default_channel, storm_ttl_ms=group_join_ms if group_min else 0)
        # Posted to Slack, but Redis went away before the post was recorded and the entry acked: these are
        # recorded first once Redis is back, so the entry is not claimed and posted again.
        self._unrecorded: list[tuple[bytes, AlertTransition, SlackPost]] = []

    @classmethod
    def from_settings(cls, settings: NotifierSettings, metrics: NotifierMetrics | None = None) -> "Notifier":
        """A notifier wired from validated settings (connects to Redis, fails clearly if unreachable)."""
        slack = slack_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        return cls(client=connect(settings.redis_url), slack=slack, default_channel=settings.slack_channel,
                   consumer=settings.consumer, claim_idle_ms=round(settings.claim_idle_s * 1000), metrics=metrics,
                   group_min=settings.group_min, group_wait_ms=round(settings.group_wait_s * 1000),
                   group_join_ms=round(settings.group_join_s * 1000))

    def start(self) -> None:
        """Check the token with auth.test and create the consumer group; NotifierRefused if Slack says no."""
        try:
            identity = self.slack.auth_test()
        except (SlackClientError, OSError) as exc:
            transient, error = failure_of(exc)
            if not transient and error in AUTH_ERRORS:
                raise NotifierRefused(f"Slack at {self.slack.base_url} rejected the bot token ({error}): "
                                      "check SLACK_BOT_TOKEN / SLACK_BOT_TOKEN_FILE") from None
            raise NotifierRefused(f"cannot check the bot token with Slack at {self.slack.base_url}: {error}") from None
        self._join_group()
        log.info("notifier %s posting as %s (team %s)", self.consumer, identity.get("user"), identity.get("team"))

    def _join_group(self) -> None:
        """Create the consumer group (reading the stream from its start) unless it exists."""
        try:
            self.client.xgroup_create(ALERT_STREAM, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def process_once(self, *, block_ms: int | None = None) -> int:
        """Deliver stale pending entries, then new ones (waiting up to `block_ms`); how many were settled.

        Firings of one rule read together share a message (`alerts.alert_groups`), and the resolves of
        alerts that share one are posted together in its thread: after a read that brings either, the
        notifier waits `group_wait_ms` for the rest of a storm before posting.
        """
        entries = self._claim()
        if not entries:
            entries = self._read(block_ms, self.batch_size)
            if self.group_min and self.group_wait_ms and 0 < len(entries) < self.batch_size and self._storm(entries):
                time.sleep(self.group_wait_ms / 1000)
                entries += self._read(None, self.batch_size - len(entries))
        transitions = [_parsed(fields) for _, fields in entries]
        plan = self._plan(transitions)
        planned = {index for members, _ in plan.values() for index in members}
        settled = 0
        for index, (entry_id, fields) in enumerate(entries):
            if index in planned and index not in plan:
                continue  # settled with the first of its group
            try:
                if index in plan:
                    members, shared = plan[index]
                    together = [(*entries[i], transitions[i]) for i in members]
                    if shared is None:
                        settled += self._settle_group(together)
                    elif transitions[index].state == FIRING:
                        settled += self._settle_join(together, shared)
                    else:
                        settled += self._settle_resolves(together, shared)
                    continue
                self._settle(entry_id, fields)
            except TransientFailure as exc:
                self.metrics.failed("transient")
                # Slack is struggling: the rest of the batch waits with this entry, in order, for a later claim.
                log.warning("alert entry %s not delivered yet, will retry after %d ms: %s",
                            _text(entry_id), self.claim_idle_ms, exc)
                break
            settled += 1
        return settled

    def _read(self, block_ms: int | None, count: int) -> list[tuple[bytes, dict]]:
        read = self.client.xreadgroup(GROUP, self.consumer, {ALERT_STREAM: ">"}, count=count, block=block_ms)
        return [entry for _, stream_entries in read or [] for entry in stream_entries]

    def _storm(self, entries: list[tuple[bytes, dict]]) -> bool:
        """Whether a read may be the start of a storm, or of its end: a firing, or a resolve of a shared message."""
        if any(fields.get(b"state") == FIRING.encode() for _, fields in entries):
            return True
        resolves = [t for t in (_parsed(fields) for _, fields in entries) if t is not None and t.state == RESOLVED]
        return any(post is not None and post.group for post in (self.posts.firing_posts(resolves) if resolves else []))

    def _plan(self, transitions: list[AlertTransition | None]) -> dict[int, tuple[list[int], SlackPost | None]]:
        """What to post together, keyed by each group's first index: (members, None) for a storm of firings
        (`fired_together`); (members, the storm's post) for firings that join a storm still open at their site;
        (members, the shared post) for resolves of alerts that share a message (`resolved_together`).

        Transitions already in Slack (a redelivery) take no part: with the rest, `_settle` takes them one by one.
        Three round trips at most.
        """
        joins = self.posts.storm_ttl_ms > 0  # then any firing may join an open storm
        candidates = [i for i, transition in enumerate(transitions) if transition is not None and (
            transition.state == RESOLVED or joins and transition.state == FIRING)]
        if not joins:
            candidates += [i for members in fired_together(transitions, self.default_channel, self.group_min).values()
                           for i in members]
        if not candidates:
            return {}
        unposted = list(transitions)
        for i, posted in zip(candidates, self.posts.posted_already([transitions[i].id for i in candidates]),
                             strict=True):
            if posted:
                unposted[i] = None
        plan: dict[int, tuple[list[int], SlackPost | None]] = {}
        if joins:  # firings of a storm whose message is still open join it
            firings = [i for i, transition in enumerate(unposted) if transition is not None
                       and transition.state == FIRING]
            joining: dict[tuple[str, str], list[int]] = {}
            storms: dict[tuple[str, str], SlackPost] = {}
            for i, storm in zip(firings, self.posts.open_storms([unposted[i] for i in firings]), strict=True):
                if storm is not None:
                    joining.setdefault((storm.channel, storm.ts), []).append(i)
                    storms[storm.channel, storm.ts] = storm
            for message, members in joining.items():
                plan[members[0]] = (members, storms[message])
            joined = {i for members in joining.values() for i in members}
            unposted = [None if i in joined else transition for i, transition in enumerate(unposted)]
        plan.update({first: (members, None) for first, members in fired_together(unposted, self.default_channel,
                                                                                 self.group_min).items()})
        resolves = [i for i, transition in enumerate(unposted) if transition is not None
                    and transition.state == RESOLVED]
        if resolves:
            firing_posts: list[SlackPost | None] = [None] * len(unposted)
            for i, post in zip(resolves, self.posts.firing_posts([unposted[i] for i in resolves]), strict=True):
                firing_posts[i] = post
            plan.update({first: (members, firing_posts[first])
                         for first, members in resolved_together(unposted, firing_posts).items()})
        return plan

    def _settle_group(self, members: list[tuple[bytes, dict, AlertTransition]]) -> int:
        """Post firings that came together as one message, record each as posted there and XACK them; how many."""
        alerts = [transition for _, _, transition in members]
        channel = alerts[0].channel or self.default_channel
        message = group_message(alerts)
        answer = self._deliver(members, f"{len(alerts)} {alerts[0].rule} alerts from {alerts[0].id}",
                               lambda: self.slack.chat_postMessage(channel=channel, text=message.text,
                                                                   blocks=list(message.blocks)))
        if answer is None:
            return len(members)
        log.info("%d alerts (%s firing on %s ...) posted as one message to %s", len(alerts), alerts[0].rule,
                 alerts[0].sensor_id, answer["channel"])
        self._keep([(entry_id, transition, SlackPost(channel=answer["channel"], ts=answer["ts"],
                                                     alert=transition.to_fields(), group=len(alerts)))
                    for entry_id, _, transition in members])
        return len(members)

    def _settle_join(self, members: list[tuple[bytes, dict, AlertTransition]], storm: SlackPost) -> int:
        """Firings of a storm whose message is still open: add them to it and say so in its thread; how many.

        They join only while some of its alerts still fire (the storm is open at their site:
        `PostLog.storm_key`); else they are posted as any others (together, or one by one).
        """
        alerts, resolved = self.posts.group(storm)
        still = {alert.key for alert in alerts} - resolved.keys()
        joining, apart = (members, []) if still else ([], members)
        settled = 0
        if apart:
            if len(apart) >= self.group_min:
                settled += self._settle_group(apart)
            else:
                for entry_id, fields, _ in apart:
                    self._settle(entry_id, fields)
                    settled += 1
        if not joining:
            return settled
        joined = [transition for _, _, transition in joining]
        keys = {transition.key for transition in joined}
        alerts = [alert for alert in alerts if alert.key not in keys] + joined
        resolved = {key: back for key, back in resolved.items() if key not in keys}
        reply = group_joined_reply(joined, len(alerts))

        def send():
            self._edit(storm, group_message(alerts, resolved))
            return self.slack.chat_postMessage(channel=storm.channel, text=reply.text, blocks=list(reply.blocks),
                                               thread_ts=storm.ts)

        answer = self._deliver(joining, f"{len(joined)} {joined[0].rule} alerts from {joined[0].id}", send)
        if answer is not None:
            log.info("%d alerts (%s firing on %s ...) joined the storm of %s in %s", len(joined), joined[0].rule,
                     joined[0].sensor_id, storm.ts, answer["channel"])
            self._keep([(entry_id, transition, SlackPost(channel=answer["channel"], ts=answer["ts"],
                                                         alert=transition.to_fields(), group=len(alerts),
                                                         thread=storm.ts))
                        for entry_id, _, transition in joining])
        return settled + len(joining)

    def _settle_resolves(self, members: list[tuple[bytes, dict, AlertTransition]], shared: SlackPost) -> int:
        """Resolves of alerts that share the message `shared`: mark them in it, reply once in its thread; how many.

        The edit comes first: it is idempotent, so a crash before the reply is recorded only repeats it.
        """
        root = SlackPost(channel=shared.channel, ts=shared.root, group=shared.group)
        resolves = [transition for _, _, transition in members]
        alerts, resolved = self.posts.group(root)
        resolved.update((transition.key, transition) for transition in resolves)
        firing = len({alert.key for alert in alerts} - resolved.keys()) if alerts else None
        reply = group_resolved_reply(resolves, firing)

        def send():
            if alerts:  # (a message posted before the notifier kept its group is left as it is)
                self._edit(root, group_message(alerts, resolved))
            return self.slack.chat_postMessage(channel=root.channel, text=reply.text, blocks=list(reply.blocks),
                                               thread_ts=root.ts)

        answer = self._deliver(members, f"{len(resolves)} {resolves[0].rule} resolves from {resolves[0].id}", send)
        if answer is None:
            return len(members)
        log.info("%d resolves (%s on %s ...) posted in the thread of %s in %s", len(resolves), resolves[0].rule,
                 resolves[0].sensor_id, root.ts, answer["channel"])
        self._keep([(entry_id, transition, SlackPost(channel=answer["channel"], ts=answer["ts"],
                                                     alert=transition.to_fields(), group=root.group, thread=root.ts))
                    for entry_id, _, transition in members])
        return len(members)

    def _deliver(self, members: list[tuple], what: str, send):
        """Slack's answer to `send()`; None once a permanent failure parked every member; TransientFailure else."""
        try:
            return send()
        except (SlackClientError, OSError) as exc:
            transient, error = failure_of(exc)
            if transient:
                raise TransientFailure(f"{what}: {error}") from None
            for entry_id, fields, *_ in members:
                self._undeliverable(entry_id, fields, error)
            return None

    def run(self, stop_event: threading.Event | None = None, max_idle_s: float | None = None,
            *, block_ms: int = 1000) -> int:
        """Deliver until `stop_event` is set or nothing arrived for `max_idle_s`; how many were settled.

        When Redis becomes unreachable, waits until it answers again and carries on (an outage is not idle time).
        Raises RedisRefused when Redis refuses the password: no wait mends that.
        """
        stop_event = stop_event or threading.Event()
        total, idle_since = 0, time.monotonic()
        try:
            while not stop_event.is_set():
                try:
                    settled = self._record_unrecorded() + self.process_once(block_ms=block_ms)
                except redis.AuthenticationError as exc:  # a wrong password: no wait mends it
                    raise RedisRefused(address(self.client), str(exc)) from None
                except OUTAGE_ERRORS as exc:
                    probe = lambda: self.client.exists(ALERT_STREAM)  # noqa: E731  (PING passes while Redis loads)
                    if not wait_for_redis(probe, stop_event, where=address(self.client), reason=str(exc)):
                        break
                    self.metrics.outages.inc()
                    idle_since = time.monotonic()
                    continue
                except redis.ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    # Redis came back without its data (no persistence): the group and the stream start over.
                    log.warning("the consumer group %s was gone from Redis at %s; created it again",
                                GROUP, address(self.client))
                    self._join_group()
                    continue
                total += settled
                if settled:
                    idle_since = time.monotonic()
                elif max_idle_s is not None and time.monotonic() - idle_since >= max_idle_s:
                    break
        finally:
            if self._unrecorded:  # stopped while Redis was away, or refused us: say what a later claim may post again
                log.warning("notifier %s stopping with %d Slack post(s) Redis could not record (alerts %s): the "
                            "notifier that claims them will post them again", self.consumer, len(self._unrecorded),
                            ", ".join(transition.id for _, transition, _ in self._unrecorded))
        log.info("notifier %s stopping after %d alerts", self.consumer, total)
        return total

    def _claim(self) -> list[tuple[bytes, dict]]:
        """Take over entries pending longer than claim_idle_ms; one trimmed from the stream comes with no fields."""
        # JUSTID, then XRANGE: Redis 6.2 answers a plain XAUTOCLAIM with no id at all for a trimmed entry,
        # which could then never be acked.
        ids = self.client.xautoclaim(ALERT_STREAM, GROUP, self.consumer, self.claim_idle_ms,
                                     start_id="0-0", count=self.batch_size, justid=True)
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for entry_id in ids:
            pipe.xrange(ALERT_STREAM, entry_id, entry_id)
        return [(entry_id, found[0][1] if found else {}) for entry_id, found in zip(ids, pipe.execute())]

    def _settle(self, entry_id, fields) -> None:
        """Post one entry (unless already posted) and XACK it, or move it to UNDELIVERABLE_STREAM."""
        if not fields:  # trimmed from the stream while pending: nothing left to deliver
            self.client.xack(ALERT_STREAM, GROUP, entry_id)
            return
        try:
            transition = AlertTransition.from_fields(fields)
            if transition.state not in (FIRING, RESOLVED):
                raise ValueError(f"state {transition.state!r} is neither {FIRING!r} nor {RESOLVED!r}")
        except ValueError as exc:
            self._undeliverable(entry_id, fields, f"malformed alert entry: {exc}")
            return
        # Looked up here, not taken from `_plan`'s lookup: a batch may hold the same transition twice (a crash
        # between the post and the XACK), and the first copy is posted after that lookup.
        if self.posts.posted(transition.id) is not None:
            self.client.xack(ALERT_STREAM, GROUP, entry_id)
            return
        post = self._deliver([(entry_id, fields)], f"alert {transition.id}", lambda: self._post(transition))
        if post is None:
            return
        log.info("alert %s (%s %s on %s) posted to %s", transition.id, transition.state, transition.rule,
                 transition.sensor_id, post.channel)
        self._keep([(entry_id, transition, post)])

    def _keep(self, posted: list[tuple[bytes, AlertTransition, SlackPost]]) -> None:
        """`_record` posts just made; if Redis is away, hold them to record first once it is back."""
        try:
            self._record(posted)
        except OUTAGE_ERRORS:
            self._unrecorded += posted
            raise

    def _record(self, posted: list[tuple[bytes, AlertTransition, SlackPost]]) -> None:
        """Record posts and XACK their entries, in one transaction."""
        pipe = self.client.pipeline(transaction=True)
        for entry_id, transition, post in posted:
            self.posts.record(pipe, transition, post)
            pipe.xack(ALERT_STREAM, GROUP, entry_id)
        pipe.execute()
        for _, transition, _ in posted:
            self.metrics.delivered(transition.state)

    def _record_unrecorded(self) -> int:
        """Record the posts Redis was not there to record (both writes are idempotent); how many."""
        done = len(self._unrecorded)
        if done:
            self._record(self._unrecorded)
            self._unrecorded = []
        return done

    def _post(self, transition: AlertTransition) -> SlackPost:
        """Post a firing alert; for a resolve, edit the firing message and reply in its thread."""
        firing = self.posts.firing_post(transition) if transition.state == RESOLVED else None
        if firing is None:
            message = firing_message(transition) if transition.state == FIRING else resolved_reply(transition)
            return self._send(transition, transition.channel or self.default_channel, message)
        if firing.alert and not firing.group:  # a message several alerts share stays as it is: the thread tells
            # First the edit: it is idempotent, so a crash before the reply is recorded only repeats it.
            edited = resolved_original(AlertTransition.from_fields(firing.alert), transition)
            self._edit(firing, edited)
        return self._send(transition, firing.channel, resolved_reply(transition), thread_ts=firing.root)

    def _send(self, transition: AlertTransition, channel: str, message: SlackMessage,
              thread_ts: str | None = None) -> SlackPost:
        answer = self.slack.chat_postMessage(channel=channel, text=message.text, blocks=list(message.blocks),
                                             thread_ts=thread_ts)
        return SlackPost(channel=answer["channel"], ts=answer["ts"], alert=transition.to_fields())

    def _edit(self, post: SlackPost, message: SlackMessage) -> None:
        try:
            self.slack.chat_update(channel=post.channel, ts=post.ts, text=message.text, blocks=list(message.blocks))
        except SlackApiError as exc:
            transient, error = failure_of(exc)
            if transient:
                raise
            # The original may have been deleted or be too old to edit: the thread reply still tells the story.
            log.warning("could not mark Slack message %s in %s resolved: %s", post.ts, post.channel, error)

    def _undeliverable(self, entry_id, fields, error: str) -> None:
        """Park the entry with its error on UNDELIVERABLE_STREAM and XACK it, so the stream moves on."""
        log.error("alert entry %s is undeliverable, moved to %s: %s", _text(entry_id), UNDELIVERABLE_STREAM, error)
        self.metrics.failed("undeliverable")
        parked = {_text(k): _text(v) for k, v in fields.items()}
        parked.update(_error=error, _entry_id=_text(entry_id), _consumer=self.consumer)
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(UNDELIVERABLE_STREAM, parked, maxlen=UNDELIVERABLE_MAXLEN, approximate=True)
        pipe.xack(ALERT_STREAM, GROUP, entry_id)
        pipe.execute()


def _parsed(fields) -> AlertTransition | None:
    """The transition an entry holds; None for a trimmed or malformed one (`_settle` acks or parks it, saying why)."""
    try:
        return AlertTransition.from_fields(fields) if fields else None
    except ValueError:
        return None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
