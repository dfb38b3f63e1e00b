"""The file, stdout and Kafka sinks (the Redis sink is tested against a real server in tests/integration)."""

import io
import json
import sys

import pytest

from detector.events import shard_of
from simulator.sinks import JsonLinesSink, KafkaSink, ShardRouter, SinkError, StdoutSink, kafka_message, kafka_topic

RECORDS = [{"sensor_id": "pump-1/flow", "ts": "1704067200000", "value": "61.25"},
           {"sensor_id": "", "ts": "yesterday", "value": "n/a"},
           {"sensor_id": "ofen/température", "ts": "1704067201000", "value": "812.0"}]


def test_the_file_sink_writes_compact_json_lines_in_order(tmp_path):
    out = tmp_path / "deep" / "out.jsonl"
    with JsonLinesSink(out) as sink:
        sink.write(RECORDS[:2])
        sink.flush(2)
        assert out.read_text(encoding="utf-8").count("\n") == 2, "a flush reaches the file"
        sink.write(RECORDS[2:])
        sink.flush(3)
    text = out.read_text(encoding="utf-8")
    assert [json.loads(line) for line in text.splitlines()] == RECORDS
    assert '{"sensor_id":"ofen/température","ts":"1704067201000","value":"812.0"}\n' in text
    assert sink.streams == (str(out),)


def test_the_stdout_sink_writes_the_same_lines_and_leaves_the_stream_open():
    stream = io.StringIO()
    with StdoutSink(stream) as sink:
        sink.write(RECORDS)
        sink.flush(3)
    assert [json.loads(line) for line in stream.getvalue().splitlines()] == RECORDS
    assert not stream.closed and sink.streams == ("stdout",)


def test_records_are_routed_to_their_sensors_shard():
    route = ShardRouter(3)
    assert route.streams == ("tocsin:events:0", "tocsin:events:1", "tocsin:events:2")
    for fields in RECORDS:
        assert route(fields) == f"tocsin:events:{shard_of(fields['sensor_id'], 3)}"
    assert route({"ts": "1"}) == f"tocsin:events:{shard_of('', 3)}"
    assert ShardRouter(1)({"sensor_id": "x"}) == "tocsin:events"


def test_kafka_topics_are_the_stream_names_that_kafka_allows():
    assert kafka_topic("tocsin:events") == "tocsin.events"
    assert KafkaSink("localhost:9092", shards=2).streams == ("tocsin.events.0", "tocsin.events.1")
    key, value = kafka_message(RECORDS[2])
    assert key == "ofen/température".encode() and json.loads(value) == RECORDS[2]
    assert kafka_message({"ts": "1"})[0] == b""


def test_kafka_without_brokers_says_what_to_set():
    with pytest.raises(SinkError, match="--kafka-bootstrap HOST:PORT.*KAFKA_BOOTSTRAP_SERVERS"):
        KafkaSink(None)
    with pytest.raises(SinkError):
        KafkaSink("")


def test_kafka_without_the_client_library_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)  # as if it were not installed
    sink = KafkaSink("localhost:9092")
    with pytest.raises(SinkError, match="pip install confluent-kafka"):
        sink.open()
