"""The driver's bus watch against a real redis-server: what it keeps for the next run, and what it takes up."""

from __future__ import annotations

import math
import time

import pytest

from alerts.evaluation import Observation, transition
from alerts.redis_sink import AlertSink
from alerts.rules import SensorInfo, default_rules
from alerts.transition import ACTIVE_HASH, ALERT_STREAM, FIRING, RESOLVED, AlertTransition
from detector import bus_silence
from detector.bus_watch import ARRIVALS_KEY, BusWatch
from detector.events import stream_names

pytestmark = pytest.mark.integration


def redis_ms(client) -> int:
    seconds, micros = client.time()
    return seconds * 1_000 + micros // 1_000


def alerts_in(client) -> list[AlertTransition]:
    return [AlertTransition.from_fields(fields) for _, fields in client.xrange(ALERT_STREAM)]


def test_a_bus_silent_when_the_job_restarts_is_judged_by_the_pace_the_last_run_learned(redis_client, monkeypatch):
    monkeypatch.setattr(bus_silence, "BUS_MIN_SILENCE_MS", 5_000)  # the floor, so the test waits seconds, not a minute
    [stream] = stream_names(1)
    first = BusWatch(redis_client, [stream], default_rules())
    start = redis_ms(redis_client) - 11_000
    for i in range(30):  # an entry every 100 ms, the watch looking after each: the pace (10 s: the usual floor)
        redis_client.xadd(stream, {"sensor_id": "lab/s1", "value": "1"}, id=f"{start + 100 * i}-0")
        assert first.poll() == []
    first.save()  # as the job does when it stops
    assert redis_client.exists(ARRIVALS_KEY)
    last = f"{start + 2_900}-0"

    time.sleep(max(0.0, (start + 2_900 + 10_100 - redis_ms(redis_client)) / 1_000))  # silent for over 10 s
    restarted = BusWatch(redis_client, [stream], default_rules())
    [fired] = restarted.poll()
    assert (fired.rule, fired.state, fired.sensor_id, fired.event_id) == ("silence", FIRING, stream, last)
    assert fired.reason.startswith("silent: no reading for 1") and fired.reason.endswith("usually a reading every 0.1s")

    redis_client.delete(ARRIVALS_KEY)
    assert BusWatch(redis_client, [stream], default_rules()).poll() == [], "without the saved pace, nothing to judge by"


def test_an_alert_left_firing_on_the_bus_before_the_shards_changed_is_resolved_when_the_job_starts(redis_client):
    old = "tocsin:events"
    rule = default_rules().rules[-1]
    assert rule.when.silent_for is not None
    obs = Observation(old, "1700000000000-0", 1_700_000_090_000, math.nan, math.nan)
    [fired] = AlertSink(redis_client).write([transition(rule, obs, SensorInfo(sensor_id=old), FIRING)])
    redis_client.hset(ACTIVE_HASH, "silence|lab/door", "{}")  # a sensor's alert: not the bus's to resolve
    reports = []

    BusWatch(redis_client, stream_names(2), default_rules(), reports.append)

    [_, resolved] = alerts_in(redis_client)
    assert (resolved.state, resolved.sensor_id, resolved.fired_event_id) == (RESOLVED, old, fired.event_id)
    assert resolved.reason == "the job now reads tocsin:events:0, tocsin:events:1"
    assert redis_client.hkeys(ACTIVE_HASH) == [b"silence|lab/door"]
    assert [alert.id for report in reports for alert in report.new_alerts] == [resolved.id], "printed as it happens"
    BusWatch(redis_client, stream_names(2), default_rules(), reports.append)
    assert len(alerts_in(redis_client)) == 2, "resolved once"
