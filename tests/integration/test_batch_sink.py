"""The job's foreachBatch sink against a real redis-server: what lands, and that a replay adds nothing."""

from __future__ import annotations

import json

import pytest

from alerts.transition import ACTIVE_HASH, ALERT_STREAM, DEADLETTER_STREAM, AlertTransition
from detector.sink import DETECTOR_HASH, SENSOR_STATS_HASH, RedisBatchSink

pytestmark = pytest.mark.integration


def rows():
    fired = AlertTransition.create(rule="anomaly", sensor_id="t1", state="firing", event_id="5-0",
                                   severity="warning", value=9.0, score=1.0, ts=1_704_067_200_000, summary="t1 hot")
    letter = {"stream": "tocsin:events", "id": "6-0", "fields": {"sensor_id": "t1", "value": "nan"},
              "reason": "value: 'nan' is not finite"}
    stats = {"count": 42, "duplicates": 0, "late": 0, "last_ts": 1, "likelihood": 1.0, "last_id": "6-0"}
    return [("alert", "t1", json.dumps(fired.to_fields())), ("deadletter", "t1", json.dumps(letter)),
            ("stats", "t1", json.dumps(stats))]


def test_a_batch_lands_once_and_its_replay_adds_nothing(redis_client):
    sink = RedisBatchSink(redis_client)
    first = sink.write(0, rows())
    assert [a.sensor_id for a in first.new_alerts] == ["t1"] and len(first.new_dead_letters) == 1
    replay = sink.write(0, rows())
    assert replay.new_alerts == [] and replay.new_dead_letters == []

    assert redis_client.xlen(ALERT_STREAM) == 1 and redis_client.hlen(ACTIVE_HASH) == 1
    [(_, letter)] = redis_client.xrange(DEADLETTER_STREAM)
    assert letter[b"value"] == b"nan" and letter[b"_reason"] == b"value: 'nan' is not finite"
    assert letter[b"_source_id"] == b"6-0"
    assert json.loads(redis_client.hget(SENSOR_STATS_HASH, "t1"))["count"] == 42
    assert redis_client.hget(DETECTOR_HASH, "last_batch") == b"0"
