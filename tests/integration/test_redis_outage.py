"""A Redis outage: the detector job and the notifier wait for Redis and carry on, losing and doubling nothing."""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import urllib.request

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from alerts.notifier import GROUP, Notifier, slack_client
from alerts.redis_sink import AlertSink
from alerts.transition import ALERT_STREAM
from detector.redis_outage import RedisRefused
from detector.redis_server import EmbeddedRedis, connect, free_port
from simulator.publisher import publish_scenario
from simulator.scenario_file import find_scenario
from tests.integration.polling import wait_for
from tests.integration.test_detector_job import alerts_in, counts_in
from tests.integration.test_notifier import _alert
from tests.integration.test_restart import (
    SHARDS,
    assert_same_as_one_uninterrupted_run,
    start_detector,
)
from tests.slack_api import TOKEN, slack_api  # noqa: F401  (slack_api is a fixture)

pytestmark = pytest.mark.integration


def scored(client) -> int:
    """Events the models have counted so far; 0 while Redis is down."""
    try:
        return sum(counts_in(client).values())
    except redis.ConnectionError:
        return 0


def output(tmp_path) -> str:
    return (tmp_path / "detector.out").read_text(errors="replace")


def stop_detector(process, tmp_path) -> str:
    """SIGTERM, a clean exit, and what it printed (with the console's line wrapping undone)."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0, output(tmp_path)[-3000:]
    return " ".join(output(tmp_path).split())


def test_the_detector_waits_out_a_redis_outage_and_goes_on_from_its_checkpoint(own_redis, tmp_path):
    client = connect(own_redis.url)
    total = publish_scenario(client, find_scenario("spike"), shards=SHARDS).events
    port = free_port()
    detector = start_detector(own_redis.url, tmp_path, "--metrics-port", str(port))
    try:
        wait_for(lambda: scored(client) >= 300, "the detector to score some events")
        own_redis.stop()  # a restart for maintenance, a failover: the job sees a refused connection
        wait_for(lambda: "is unreachable" in output(tmp_path), "the detector to notice the outage")
        assert detector.poll() is None, output(tmp_path)[-3000:]
        own_redis.start()
        wait_for(lambda: scored(client) == total, "the detector to catch up after the outage")
        wait_for(lambda: scrape(port).get("tocsin_input_rows_total", 0) >= total, "the metrics to count it all", 30)
        figures = scrape(port)
    finally:
        printed = stop_detector(detector, tmp_path)
    assert "answers again" in printed and "restarting the detector query from its checkpoint" in printed
    assert "restarted after 1 Redis outage" in printed
    assert_same_as_one_uninterrupted_run(client)
    assert figures["tocsin_redis_outages_total"] == 1.0
    assert figures['tocsin_query_restarts_total{why="outage"}'] == 1.0
    assert figures["tocsin_lag_seconds"] == 0.0, "caught up"
    assert sum(value for name, value in figures.items() if name.startswith("tocsin_alert_transitions_total")) \
        == len(alerts_in(client))
    client.close()


def scrape(port: int) -> dict[str, float]:
    """The detector's /metrics as {'name{label="value"}': value}, as Prometheus would read them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {sample.name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items())) + "}"
                           if sample.labels else ""): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_the_detector_restarts_its_embedded_redis_when_it_dies(tmp_path):
    detector = start_detector(None, tmp_path)  # no REDIS_URL: the detector starts its own redis-server
    client = None
    try:
        wait_for(lambda: "embedded redis-server at" in output(tmp_path), "the embedded Redis to start", 60)
        url = re.search(r"embedded redis-server at (redis://\S+)", output(tmp_path)).group(1)
        client = connect(url)
        total = publish_scenario(client, find_scenario("spike"), shards=SHARDS).events
        wait_for(lambda: scored(client) >= 300, "the detector to score some events")
        os.kill(int(client.info("server")["process_id"]), signal.SIGTERM)  # the embedded server goes away
        wait_for(lambda: "answers again" in output(tmp_path), "the detector to start its Redis again")
        wait_for(lambda: scored(client) == total, "the detector to catch up after the outage")
        assert_same_as_one_uninterrupted_run(client)
    finally:
        printed = stop_detector(detector, tmp_path)
        if client is not None:
            client.close()
    assert "restarted after 1 Redis outage" in printed


def _notifier(url: str, slack, claim_idle_ms: int = 60_000) -> Notifier:
    made = Notifier(client=connect(url), slack=slack_client(TOKEN, slack.url), default_channel="#alerts",
                    claim_idle_ms=claim_idle_ms)
    made.start()
    return made


class Running:
    """A notifier's run() in a thread, stopped and joined on exit."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier, self.stop = notifier, threading.Event()
        self.thread = threading.Thread(target=notifier.run, kwargs={"stop_event": self.stop, "block_ms": 100})

    def __enter__(self) -> "Running":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)
        self.notifier.client.close()


def test_the_notifier_waits_out_a_redis_outage_and_delivers_what_comes_after(own_redis, slack_api, caplog):  # noqa: F811
    client = connect(own_redis.url)
    with caplog.at_level(logging.WARNING, logger="tocsin.redis"), Running(_notifier(own_redis.url, slack_api)) as run:
        AlertSink(client).write([_alert(event_id="1-0")])
        wait_for(lambda: len(slack_api.calls_to("chat.postMessage")) == 1, "the first alert in Slack", 30)
        own_redis.stop()
        wait_for(lambda: "is unreachable" in caplog.text, "the notifier to notice the outage", 30)
        own_redis.start()
        wait_for(lambda: "answers again" in caplog.text, "the notifier to see Redis back", 30)
        AlertSink(client).write([_alert(event_id="2-0", sensor_id="t2")])
        wait_for(lambda: len(slack_api.calls_to("chat.postMessage")) == 2, "the second alert in Slack", 30)
        assert run.thread.is_alive()
        assert run.notifier.metrics.value("tocsin_notifier_redis_outages_total") == 1.0
    assert client.xpending(ALERT_STREAM, GROUP)["pending"] == 0
    client.close()


def test_a_post_redis_could_not_record_is_recorded_once_it_is_back_and_not_posted_twice(own_redis, slack_api, caplog):  # noqa: F811
    client = connect(own_redis.url)
    AlertSink(client).write([_alert()])
    posted = threading.Event()

    def redis_dies_after_the_post(method: str) -> None:
        if method == "chat.postMessage" and not posted.is_set():
            posted.set()
            own_redis.stop()  # Slack has the message; the notifier has yet to record it

    slack_api.state.before_answer = redis_dies_after_the_post
    # A short claim time: without the record, the entry would be claimed and posted again at once.
    with caplog.at_level(logging.WARNING, logger="tocsin.redis"), \
            Running(_notifier(own_redis.url, slack_api, claim_idle_ms=50)):
        wait_for(lambda: "is unreachable" in caplog.text, "the notifier to notice the outage", 30)
        own_redis.start()
        wait_for(lambda: client.xpending(ALERT_STREAM, GROUP)["pending"] == 0, "the post to be recorded", 30)
        threading.Event().wait(0.5)  # a few claim rounds: nothing is left to claim
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    client.close()


def test_a_redis_that_comes_back_empty_gets_the_consumer_group_again(tmp_path, slack_api, caplog):  # noqa: F811
    with EmbeddedRedis(tmp_path / "redis", persist=False) as server:
        client = connect(server.url)
        with caplog.at_level(logging.WARNING), Running(_notifier(server.url, slack_api)) as run:
            server.stop()
            wait_for(lambda: "is unreachable" in caplog.text, "the notifier to notice the outage", 30)
            server.start()  # no persistence: the stream and its consumer group are gone
            wait_for(lambda: "created it again" in caplog.text, "the group to be made again", 30)
            AlertSink(client).write([_alert()])
            wait_for(lambda: len(slack_api.calls_to("chat.postMessage")) == 1, "the alert in Slack", 30)
            assert run.thread.is_alive()
        client.close()


def test_stopped_during_the_outage_it_names_the_posts_redis_could_not_record(own_redis, slack_api, caplog):  # noqa: F811
    client = connect(own_redis.url)
    [alert] = AlertSink(client).write([_alert()])
    client.close()
    slack_api.state.before_answer = lambda method: own_redis.stop() if method == "chat.postMessage" else None
    with caplog.at_level(logging.WARNING), Running(_notifier(own_redis.url, slack_api)):
        wait_for(lambda: "is unreachable" in caplog.text, "the notifier to notice the outage", 30)
    assert f"1 Slack post(s) Redis could not record (alerts {alert.id})" in caplog.text


def require_password(client, password: str) -> None:
    """Redis asks for a password from now on, and drops every connection made without one (as a restart would)."""
    client.config_set("requirepass", password)
    client.client_kill_filter(_type="normal", skipme=True)


def test_the_detector_stops_with_a_clear_error_when_redis_comes_back_asking_for_another_password(own_redis, tmp_path):
    client = connect(own_redis.url)
    publish_scenario(client, find_scenario("spike"), shards=SHARDS)
    detector = start_detector(own_redis.url, tmp_path)
    try:
        wait_for(lambda: scored(client) >= 300, "the detector to score some events")
        require_password(client, "n3w-s3cret")
        assert detector.wait(90) == 2, output(tmp_path)[-3000:]
    finally:
        if detector.poll() is None:
            os.killpg(detector.pid, signal.SIGKILL)
    printed = " ".join(output(tmp_path).split())
    assert re.search(r"error: Redis at redis://127\.0\.0\.1:\d+/0 refuses the credentials \(.+\): "
                     r"set the right password in REDIS_URL and start again", printed), printed[-3000:]
    assert "waiting for it to come back" not in printed and "n3w-s3cret" not in printed


def test_the_notifier_stops_with_a_clear_error_when_redis_asks_for_another_password(
        own_redis, slack_api, caplog):  # noqa: F811
    client = connect(own_redis.url)
    notifier = _notifier(own_redis.url, slack_api)
    AlertSink(client).write([_alert(event_id="1-0")])
    notifier.process_once(block_ms=100)
    require_password(client, "n3w-s3cret")
    AlertSink(client).write([_alert(event_id="2-0", sensor_id="t2")])
    with caplog.at_level(logging.WARNING), pytest.raises(RedisRefused) as refused:
        notifier.run(block_ms=100)
    assert re.fullmatch(r"Redis at 127\.0\.0\.1:\d+/0 refuses the credentials \(.+\): "
                        r"set the right password in REDIS_URL and start again", str(refused.value))
    assert "is unreachable" not in caplog.text, "no wait for what no wait mends"
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    notifier.client.close()
