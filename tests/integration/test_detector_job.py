"""The whole path, real at every hop: simulator -> Redis Streams -> Spark -> River -> rules -> Redis -> Slack."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import zlib

import pytest
from typer.testing import CliRunner

from alerts.notifier import Notifier, slack_client
from alerts.rules import default_rules, parse_rules
from alerts.transition import ACTIVE_HASH, ALERT_STREAM, DEADLETTER_STREAM, FIRING, RESOLVED, AlertTransition
from detector.cli import app as cli_app
from detector.events import shard_of, stream_names
from detector.job import DetectorConfig
from detector.runner import run_detector
from detector.sink import SENSOR_STATS_HASH
from models import reasons
from simulator.generator import generate, labels
from simulator.plan import resolve
from simulator.publisher import publish_events, publish_scenario, write_registry
from simulator.scenario_file import find_scenario, parse_scenario
from tests.integration.polling import wait_for
from tests.slack_api import TOKEN, FakeSlack

pytestmark = pytest.mark.integration

SHARDS = 2


def run_job(spark, redis_url, tmp_path, name="job", max_records=None):
    """Run the detector query over everything on the streams (availableNow) on a fresh checkpoint."""
    config = DetectorConfig(redis_url=redis_url, streams=stream_names(SHARDS), checkpoint=str(tmp_path / name),
                            trigger="availableNow", max_records_per_trigger=max_records)
    run_detector(config, default_rules(), master="local[2]", log_dir=tmp_path / "log", spark=spark)


def alerts_in(client) -> list[AlertTransition]:
    """Every transition on the alert stream, in order."""
    return [AlertTransition.from_fields(fields) for _, fields in client.xrange(ALERT_STREAM)]


def counts_in(client) -> dict[str, int]:
    """Per-sensor event counts, as the models in Spark state report them."""
    return {k.decode(): json.loads(v)["count"] for k, v in client.hgetall(SENSOR_STATS_HASH).items()}


def deliver_to_slack(redis_client, slack: FakeSlack) -> int:
    """Run the real notifier (slack_sdk against the local Slack API) until the alert stream is drained."""
    notifier = Notifier(client=redis_client, slack=slack_client(TOKEN, slack.url), default_channel="#alerts")
    notifier.start()
    return notifier.run(max_idle_s=1)


def test_one_injected_spike_gives_exactly_the_expected_alert_and_one_slack_message(
        spark, redis_url, redis_client, tmp_path):
    scenario = find_scenario("spike")
    [label] = labels(resolve(scenario))
    summary = publish_scenario(redis_client, scenario, shards=SHARDS)

    run_job(spark, redis_url, tmp_path)

    transitions = alerts_in(redis_client)
    [fired] = [t for t in transitions if t.state == FIRING]
    assert (fired.rule, fired.sensor_id, fired.site, fired.channel) == ("anomaly", label.sensors[0], "lab", "#lab")
    assert label.start_ms <= fired.ts <= label.start_ms + 5_000, "fired within a few readings of the spike"
    assert fired.value > 21.0 + 20, "the alert reports the spike's own reading"
    assert fired.score >= 0.99 and "normal range" in fired.expected
    assert fired.reason == reasons.WORDS[reasons.SPIKE], "the alert says which of the model's tests found it"
    resolved = [t for t in transitions if t.state == RESOLVED]
    assert [r.fired_event_id for r in resolved] == [fired.event_id]
    assert redis_client.hlen(ACTIVE_HASH) == 0
    assert sum(counts_in(redis_client).values()) == summary.events

    with FakeSlack(channels={"#alerts": "C0ALERTS", "#lab": "C0LAB"}) as slack:
        deliver_to_slack(redis_client, slack)
        posts = slack.calls_to("chat.postMessage")
        top_level = [p for p in posts if not p.get("thread_ts")]
        assert len(top_level) == 1, "exactly one Slack message; the resolve is a reply in its thread"
        assert top_level[0]["channel"] == "#lab", "routed to the owners' channel from the sensor registry"
        assert label.sensors[0] in top_level[0]["text"]
        assert f"why: {reasons.WORDS[reasons.SPIKE]}" in top_level[0]["text"]
        assert all(p.get("thread_ts") for p in posts[1:])


def test_a_clean_scenario_gives_no_alert_and_no_slack_message(spark, redis_url, redis_client, tmp_path):
    clean = parse_scenario("extends: spike\nname: spike-clean\nanomalies: []\n", directory=None)
    summary = publish_scenario(redis_client, clean, shards=SHARDS)

    run_job(spark, redis_url, tmp_path)

    assert redis_client.xlen(ALERT_STREAM) == 0
    assert sum(counts_in(redis_client).values()) == summary.events
    with FakeSlack(channels={"#alerts": "C0ALERTS", "#lab": "C0LAB"}) as slack:
        deliver_to_slack(redis_client, slack)
        assert slack.calls_to("chat.postMessage") == []


def test_a_replayed_run_adds_no_alert(spark, redis_url, redis_client, tmp_path):
    publish_scenario(redis_client, find_scenario("spike"), shards=SHARDS)
    run_job(spark, redis_url, tmp_path, name="first")
    first = [fields for _, fields in redis_client.xrange(ALERT_STREAM)]
    assert first, "the spike fired"

    run_job(spark, redis_url, tmp_path, name="replay", max_records=500)  # same events, fresh state, new batches

    assert [fields for _, fields in redis_client.xrange(ALERT_STREAM)] == first


def test_a_sensor_that_goes_silent_alerts_once_in_slack_and_resolves_when_it_reports_again(
        spark, redis_url, redis_client, tmp_path):
    # Two sensors in different state buckets: the silent one's bucket gets no entry, only the clock tick.
    door, hall = "lab/door", "lab/hall"
    assert zlib.crc32(door.encode()) % 64 != zlib.crc32(hall.encode()) % 64
    minute, t0 = 60_000, 1_704_067_200_000

    def publish(readings):  # (sensor, minute): arrival and event time alike, one entry id each
        for sensor, m in sorted(readings, key=lambda reading: reading[1]):
            stream = stream_names(SHARDS)[shard_of(sensor, SHARDS)]
            ms = t0 + m * minute
            redis_client.xadd(stream, {"sensor_id": sensor, "ts": str(ms), "value": str(20.0 + (m % 3) / 10)},
                              id=f"{ms}-{0 if sensor == door else 1}")

    publish([(door, m) for m in range(60)] + [(hall, m) for m in range(90)])
    run_job(spark, redis_url, tmp_path)

    [fired] = alerts_in(redis_client)
    assert (fired.rule, fired.sensor_id, fired.state) == ("silence", door, FIRING)
    assert fired.event_id == f"{t0 + 59 * minute}-0", "pinned to the door's last reading"
    assert fired.ts == t0 + 69 * minute, "ten of its one-minute gaps after it"
    assert fired.reason == "silent: no reading for 30m; usually a reading every 1m"

    publish([(door, 90), (hall, 90)])
    run_job(spark, redis_url, tmp_path)  # the same checkpoint: the alert's state is in Spark state

    transitions = alerts_in(redis_client)
    assert [(t.rule, t.state, t.fired_event_id) for t in transitions] == [
        ("silence", FIRING, ""), ("silence", RESOLVED, fired.event_id)]
    assert redis_client.hlen(ACTIVE_HASH) == 0
    with FakeSlack(channels={"#alerts": "C0ALERTS"}) as slack:
        deliver_to_slack(redis_client, slack)
        [post, *replies] = slack.calls_to("chat.postMessage")
        assert "lab/door is silent: no reading for 30m" in post["text"] and "nan" not in post["text"]
        assert replies and all(reply.get("thread_ts") for reply in replies)


def test_sensors_registered_after_the_job_started_get_their_registry_entry(
        spark, redis_url, redis_client, tmp_path, caplog):
    # As the README's first steps go: `tocsin detect`, then `tocsin simulate run`, which registers the fleet.
    plan = resolve(find_scenario("spike"))
    [label] = labels(plan)
    events = list(generate(plan))
    before = [e for e in events if e.emit_ms < label.start_ms - 30_000]
    publish_events(redis_client, before, shards=SHARDS)  # no registry yet: the channel is unknown
    config = DetectorConfig(redis_url=redis_url, streams=stream_names(SHARDS), checkpoint=str(tmp_path / "job"),
                            trigger="200 milliseconds", registry_check_s=0.5)
    stop, done = threading.Event(), []
    scored = lambda: sum(counts_in(redis_client).values())  # noqa: E731
    job = threading.Thread(target=lambda: done.append(run_detector(config, default_rules(), master="local[2]",
                                                                   log_dir=tmp_path / "log", spark=spark, stop=stop)))
    with caplog.at_level(logging.INFO, logger="tocsin.detector"):
        job.start()
        try:
            wait_for(lambda: scored() == len(before), "the job to score the first events")
            write_registry(redis_client, plan.sensors)
            wait_for(lambda: "the sensor registry changed (6 sensors, was 0)" in caplog.text, "the registry check")
            publish_events(redis_client, events[len(before):], shards=SHARDS)
            wait_for(lambda: scored() == len(events), "the job to score the rest")
        finally:
            stop.set()
            job.join(60)
    assert done == [0], "stopped cleanly, no outage"
    [fired] = [t for t in alerts_in(redis_client) if t.state == FIRING]
    assert (fired.sensor_id, fired.channel) == (label.sensors[0], "#lab"), "routed by the registry entry"
    assert len({t.id for t in alerts_in(redis_client)}) == len(alerts_in(redis_client)), "nothing doubled"


def test_a_bus_gone_silent_as_a_whole_alerts_once_and_resolves_when_anything_arrives(
        spark, redis_url, redis_client, tmp_path):
    # No micro-batch runs while nothing arrives: the driver itself judges the bus, on Redis's clock.
    rules = parse_rules('rules: [{name: bus-down, match: {sensor: "tocsin:events*"}, when: {silent_for: 3s}}]')
    streams = stream_names(SHARDS)

    def publish(count):
        for i in range(count):
            sensor = f"lab/s{i % 4}"
            redis_client.xadd(streams[shard_of(sensor, SHARDS)], {"sensor_id": sensor, "value": "20.5",
                                                                  "ts": str(int(time.time() * 1000))})
        return max(found[0][0].decode() for name in streams if (found := redis_client.xrevrange(name, count=1)))

    config = DetectorConfig(redis_url=redis_url, streams=streams, checkpoint=str(tmp_path / "job"),
                            trigger="200 milliseconds")
    stop, reports = threading.Event(), []
    job = threading.Thread(target=run_detector, args=(config, rules), kwargs=dict(
        master="local[2]", log_dir=tmp_path / "log", spark=spark, stop=stop, on_batch=reports.append))
    last = publish(8)
    job.start()
    try:
        wait_for(lambda: len(alerts_in(redis_client)) == 1, "the bus alert")
        publish(1)
        wait_for(lambda: len(alerts_in(redis_client)) == 2, "its resolve")
    finally:
        stop.set()
        job.join(60)
    fired, resolved = alerts_in(redis_client)
    assert (fired.rule, fired.state, fired.sensor_id) == ("bus-down", FIRING, ", ".join(streams))
    assert fired.event_id == last and re.fullmatch(r"silent: no reading for \d+s", fired.reason)
    assert (resolved.state, resolved.fired_event_id) == (RESOLVED, last)
    assert redis_client.hlen(ACTIVE_HASH) == 0
    between = [alert for report in reports if report.batch_id is None for alert in report.new_alerts]
    assert [alert.id for alert in between] == [fired.id, resolved.id], "reported as they happened, outside any batch"


def test_a_retired_sensor_s_silence_resolves_and_the_job_forgets_it(spark, redis_url, redis_client, tmp_path):
    door, hall = "lab/door", "lab/hall"
    minute, t0 = 60_000, 1_704_067_200_000

    def publish(readings):
        for sensor, m in sorted(readings, key=lambda reading: reading[1]):
            ms = t0 + m * minute
            redis_client.xadd(stream_names(SHARDS)[shard_of(sensor, SHARDS)],
                              {"sensor_id": sensor, "ts": str(ms), "value": "20.5"}, id=f"{ms}-{0 if sensor == door else 1}")

    publish([(door, m) for m in range(60)] + [(hall, m) for m in range(90)])
    run_job(spark, redis_url, tmp_path)
    [fired] = alerts_in(redis_client)
    assert (fired.sensor_id, fired.state) == (door, FIRING) and redis_client.hexists(SENSOR_STATS_HASH, door)

    said = CliRunner().invoke(cli_app, ["retire", door], env={"REDIS_URL": redis_url})
    assert said.exit_code == 0 and f"1 sensor(s) retired in tocsin:sensors at {redis_url}: {door}" in said.output
    publish([(hall, 90), (door, 91)])  # the door sends one last reading after all
    run_job(spark, redis_url, tmp_path)

    fired_again, resolved = alerts_in(redis_client)
    assert fired_again.id == fired.id
    assert (resolved.state, resolved.fired_event_id, resolved.reason) == (RESOLVED, fired.event_id,
                                                                          "retired in the sensor registry")
    assert redis_client.hlen(ACTIVE_HASH) == 0 and not redis_client.hexists(SENSOR_STATS_HASH, door)
    [(_, letter)] = redis_client.xrange(DEADLETTER_STREAM)
    assert letter[b"sensor_id"] == door.encode() and b"tocsin retire --undo lab/door" in letter[b"_reason"]
    with FakeSlack(channels={"#alerts": "C0ALERTS"}) as slack:
        deliver_to_slack(redis_client, slack)
        [post, reply] = slack.calls_to("chat.postMessage")
        assert reply["thread_ts"] and "retired in the sensor registry" in reply["text"]

    back = CliRunner().invoke(cli_app, ["retire", "--undo", door], env={"REDIS_URL": redis_url})
    assert back.exit_code == 0 and redis_client.hget("tocsin:sensors", door) is None, "the entry only said retired"


def test_a_run_over_what_is_there_does_not_call_an_old_recording_a_silent_bus(spark, redis_url, redis_client, tmp_path):
    rules = parse_rules('rules: [{name: bus-down, when: {silent_for: 1s}}]')
    publish_scenario(redis_client, find_scenario("spike"), shards=SHARDS)
    time.sleep(1.5)  # the recording is older than the rule's limit by the time the job starts
    config = DetectorConfig(redis_url=redis_url, streams=stream_names(SHARDS), checkpoint=str(tmp_path / "job"),
                            trigger="availableNow")
    run_detector(config, rules, master="local[2]", log_dir=tmp_path / "log", spark=spark)
    assert [a.sensor_id for a in alerts_in(redis_client) if a.sensor_id.startswith("tocsin:")] == []
