"""The Redis alert sink on a real redis-server: once-only appends, active alerts, live publishes."""

from __future__ import annotations

import json

import pytest

from alerts.redis_sink import AlertSink, append_once
from alerts.transition import ACTIVE_HASH, ALERT_STREAM, LIVE_CHANNEL, AlertTransition

pytestmark = pytest.mark.integration


def _transition(state: str, event_id: str, sensor: str = "t1", **rest) -> AlertTransition:
    return AlertTransition.create(rule="spike", sensor_id=sensor, state=state, event_id=event_id,
                                  severity="warning", value=9.5, score=0.97, ts=1700000000000,
                                  summary="jump", **rest)


@pytest.fixture
def live(redis_client):
    """A pubsub subscribed to LIVE_CHANNEL; `drain()` returns what was published since."""
    pubsub = redis_client.pubsub()
    pubsub.subscribe(LIVE_CHANNEL)
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"

    def drain() -> list[dict]:
        messages = []
        while (message := pubsub.get_message(timeout=0.3)) is not None:
            messages.append(json.loads(message["data"]))
        return messages

    yield drain
    pubsub.close()


def test_append_once_adds_each_dedup_id_once(redis_client):
    entries = [("a", {"x": "1"}), ("b", {"x": "2"}), ("a", {"x": "3"})]
    assert append_once(redis_client, "s", entries, dedup_prefix="seen:") == [True, True, False]
    assert append_once(redis_client, "s", entries, dedup_prefix="seen:") == [False, False, False]
    assert [fields for _, fields in redis_client.xrange("s")] == [{b"x": b"1"}, {b"x": b"2"}]
    assert 0 < redis_client.ttl("seen:a") <= 7 * 86400


def test_append_once_refuses_an_entry_without_fields(redis_client):
    with pytest.raises(ValueError, match="entry 'seen:a' has no fields"):
        append_once(redis_client, "s", [("a", {})], dedup_prefix="seen:")


def test_replaying_transitions_changes_nothing(redis_client, live):
    sink = AlertSink(redis_client)
    batch = [_transition("firing", "1-0"), _transition("firing", "2-0", sensor="t2")]
    assert sink.write(batch) == batch
    assert sink.write(batch) == []
    entries = redis_client.xrange(ALERT_STREAM)
    assert [AlertTransition.from_fields(fields) for _, fields in entries] == batch
    assert [message["id"] for message in live()] == [t.id for t in batch]


def test_firing_sets_the_active_alert_and_resolve_removes_it(redis_client, live):
    sink = AlertSink(redis_client)
    firing = _transition("firing", "1-0", site="plant-a")
    sink.write([firing])
    active = redis_client.hgetall(ACTIVE_HASH)
    assert list(active) == [firing.key.encode()]
    assert AlertTransition.from_fields(json.loads(active[firing.key.encode()])) == firing
    resolved = _transition("resolved", "5-0", fired_event_id="1-0")
    sink.write([resolved])
    assert redis_client.hgetall(ACTIVE_HASH) == {}
    assert [(m["state"], m["event_id"]) for m in live()] == [("firing", "1-0"), ("resolved", "5-0")]
    sink.write([firing, resolved])  # a replay of both must not bring the alert back
    assert redis_client.hgetall(ACTIVE_HASH) == {} and live() == []
    assert redis_client.xlen(ALERT_STREAM) == 2


def test_an_unknown_state_is_refused_before_anything_is_written(redis_client):
    with pytest.raises(ValueError, match="state 'pending' is neither"):
        AlertSink(redis_client).write([_transition("firing", "1-0"), _transition("pending", "2-0")])
    assert redis_client.xlen(ALERT_STREAM) == 0
