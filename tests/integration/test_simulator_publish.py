"""Publishing to a real redis-server: every event once, in order, in its shard; registry and labels beside."""

import json
from collections import Counter, defaultdict

import pytest

from detector.events import parse_event, shard_of, stream_names
from detector.registry import SensorRegistry, set_retired
from simulator.generator import generate, labels
from simulator.labels import Label
from simulator.publisher import LABELS_STREAM, SENSORS_HASH, publish_events, publish_scenario
from simulator.scenario_file import find_scenario

pytestmark = pytest.mark.integration


def entries(client, stream):
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in client.xrange(stream)]


def test_the_spike_scenario_lands_once_in_order_and_in_its_shard(redis_client, tmp_path):
    scenario = find_scenario("spike")
    summary = publish_scenario(redis_client, scenario, shards=3, labels_out=tmp_path / "labels.jsonl")

    names = stream_names(3)
    published = {name: entries(redis_client, name) for name in names}
    expected = [e.to_fields() for e in generate(scenario)]
    assert Counter(json.dumps(f, sort_keys=True) for fs in published.values() for f in fs) == Counter(
        json.dumps(f, sort_keys=True) for f in expected)
    assert (summary.events, summary.streams, summary.labels) == (len(expected), tuple(names), 1)
    assert all(published.values()), "six sensors should spread over all three shards"
    for index, name in enumerate(names):
        times = defaultdict(list)
        for fields in published[name]:
            assert shard_of(fields["sensor_id"], 3) == index
            times[fields["sensor_id"]].append(parse_event(fields).ts_ms)
        assert all(stamps == sorted(stamps) for stamps in times.values())


def test_the_registry_and_labels_are_written_for_the_detector(redis_client, tmp_path):
    scenario = find_scenario("spike")
    publish_scenario(redis_client, scenario, labels_out=tmp_path / "labels.jsonl")

    registry = SensorRegistry.from_hash(redis_client.hgetall(SENSORS_HASH))
    assert len(registry) == 6
    info = registry.info("line-1/temperature")
    assert (info.type, info.site, info.device_id, info.unit, info.channel) == ("temperature", "lab", "line-1", "°C", "#lab")
    assert json.loads(redis_client.hget(SENSORS_HASH, "line-1/pressure"))["range"] == [0.0, 16.0]

    truth = labels(scenario)
    assert [Label.from_fields(f) for _, f in redis_client.xrange(LABELS_STREAM)] == truth
    lines = (tmp_path / "labels.jsonl").read_text().splitlines()
    assert [Label.from_fields(json.loads(line)) for line in lines] == truth


def test_paced_publishing_follows_event_time_and_flushes_before_waiting(redis_client):
    events = [e for e in generate(find_scenario("spike")) if e.ts_ms < 1_704_067_200_000 + 30_000]
    now, slept, visible = [0.0], [], []

    def sleep(seconds):
        visible.append(redis_client.xlen("tocsin:events"))
        slept.append(seconds)
        now[0] += seconds

    summary = publish_events(redis_client, events, speed=60.0, clock=lambda: now[0], sleep=sleep)
    assert summary.events == redis_client.xlen("tocsin:events") == len(events) == 180
    # six sensors read once a second: each wait comes after that second's six readings are on the stream
    assert visible == [6 * second for second in range(1, 30)]
    assert slept == pytest.approx([1 / 60] * 29)


def test_streams_are_trimmed_to_about_maxlen(redis_client):
    publish_events(redis_client, generate(find_scenario("spike")), maxlen=100)
    assert 100 <= redis_client.xlen("tocsin:events") < 300


def test_the_run_command_publishes_a_scenario_file(redis_url, redis_client, tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    scenario = tmp_path / "tiny.yaml"
    scenario.write_text("extends: spike\nname: tiny\nduration: 20s\nanomalies: []\n")
    result = CliRunner().invoke(app, ["run", str(scenario), "--fast", "--shards", "2", "--redis-url", redis_url,
                                      "--labels-out", str(tmp_path / "labels.jsonl")])
    assert result.exit_code == 0, result.output
    assert "120 events to tocsin:events:0, tocsin:events:1" in result.output
    assert sum(redis_client.xlen(name) for name in stream_names(2)) == 120
    assert (tmp_path / "labels.jsonl").read_text() == ""


def test_a_sensor_retired_by_hand_stays_retired_when_its_scenario_runs_again(redis_url, redis_client, tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    scenario = tmp_path / "tiny.yaml"
    scenario.write_text("extends: spike\nname: tiny\nduration: 20s\nanomalies: []\n")
    run = ["run", str(scenario), "--fast", "--redis-url", redis_url]
    assert CliRunner().invoke(app, run).exit_code == 0
    assert set_retired(redis_client, ["line-1/temperature"]) == ["line-1/temperature"]
    redis_client.hset(SENSORS_HASH, "line-2/vibration", json.dumps({"type": "old", "retired": False}))

    again = CliRunner().invoke(app, run)

    assert again.exit_code == 0, again.output
    assert ("1 sensor(s) stay retired in the registry, so the detector dead-letters their events: line-1/temperature"
            in again.output)
    registry = SensorRegistry.from_hash(redis_client.hgetall(SENSORS_HASH))
    assert registry.retired == {"line-1/temperature"}
    assert registry.info("line-1/temperature").type == "temperature", "the rest of the entry is rewritten"
    assert registry.info("line-2/vibration").type == "vibration"
    assert "retired" not in json.loads(redis_client.hget(SENSORS_HASH, "line-2/vibration"))
