"""Publishing through a Redis outage: `tocsin replay` and `tocsin simulate run` wait, and lose or double nothing."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from detector.redis_server import connect
from simulator.generator import generate
from simulator.plan import resolve
from simulator.replay import play
from simulator.scenario_file import find_scenario
from simulator.sinks import RedisSink, SinkError
from simulator.sources import open_source
from tests.integration.cutting_proxy import CuttingProxy
from tests.integration.polling import wait_for
from tests.integration.test_redis_outage import require_password
from tests.integration.test_replay import entries, recorded

pytestmark = pytest.mark.integration


def tocsin(*args: str, tmp_path) -> subprocess.Popen:
    """A tocsin command as a user runs it, its output in tmp_path/out."""
    return subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "tocsin"), *args],
                            stdout=open(tmp_path / "out", "ab"), stderr=subprocess.STDOUT, cwd=tmp_path)


def printed(tmp_path) -> str:
    return " ".join((tmp_path / "out").read_text(errors="replace").split())


def test_a_paced_replay_waits_out_a_redis_outage_and_publishes_every_event_once_in_order(own_redis, recording,
                                                                                      tmp_path):
    client = connect(own_redis.url)
    # 20 minutes of events at 150x: about 8 s.
    replay = tocsin("replay", str(recording.events_path), "--speed", "150", "--redis-url", own_redis.url, "-q",
                    tmp_path=tmp_path)
    try:
        wait_for(lambda: client.exists("tocsin:events") and client.xlen("tocsin:events") > 500, "some events", 30)
        own_redis.stop()
        wait_for(lambda: "is unreachable" in printed(tmp_path), "the replay to notice the outage")
        time.sleep(1.0)
        assert replay.poll() is None, printed(tmp_path)
        own_redis.start()
        assert replay.wait(60) == 0, printed(tmp_path)
    finally:
        if replay.poll() is None:
            replay.kill()
    assert entries(client, "tocsin:events") == recorded(recording), "every event once, in order"
    out = printed(tmp_path)
    assert "answers again" in out and f"{recording.events:,} events to tocsin:events" in out
    client.close()


def test_a_scenario_run_waits_out_a_redis_outage_and_publishes_every_event_once(own_redis, tmp_path):
    client = connect(own_redis.url)
    run = tocsin("simulate", "run", "spike", "--speed", "60", "--redis-url", own_redis.url, "-q", tmp_path=tmp_path)
    try:  # 6 minutes of six sensors at 60x: about 6 s
        wait_for(lambda: client.exists("tocsin:events") and client.xlen("tocsin:events") > 300, "some events", 30)
        own_redis.stop()
        wait_for(lambda: "is unreachable" in printed(tmp_path), "the run to notice the outage")
        own_redis.start()
        assert run.wait(120) == 0, printed(tmp_path)
    finally:
        if run.poll() is None:
            run.kill()
    expected = [event.to_fields() for event in generate(resolve(find_scenario("spike")))]
    assert entries(client, "tocsin:events") == expected, "every event once, in order"
    assert f"{len(expected):,} events to tocsin:events" in printed(tmp_path)
    client.close()


def _publish_through(proxy: CuttingProxy, recording, retries: int) -> None:
    # tocsin's own client does not retry; one that does (redis-py's `retry`) must not send the batch twice either.
    client = connect(proxy.url) if not retries else redis.Redis.from_url(
        proxy.url, retry=Retry(NoBackoff(), retries), retry_on_error=[redis.ConnectionError])
    try:
        with RedisSink(client) as sink:
            play(open_source(recording.events_path).records, sink, batch=1000)
    finally:
        client.close()
        proxy.close()


@pytest.mark.parametrize("retries", [0, 3], ids=["tocsin-client", "retrying-client"])
@pytest.mark.parametrize("applied", [True, False], ids=["applied", "discarded"])
def test_a_batch_whose_connection_drops_at_exec_is_on_the_streams_once(redis_server, redis_client, recording,
                                                                       applied, retries):
    uncut = CuttingProxy(redis_server.port, at=10**9, applied=True)
    _publish_through(uncut, recording, retries)
    redis_client.delete("tocsin:events")
    proxy = CuttingProxy(redis_server.port, at=3, applied=applied)  # the third batch
    _publish_through(proxy, recording, retries)
    assert proxy.cut == 1
    # Applied, the batch is found on the streams and not sent again; discarded, it is sent once more.
    assert proxy.execs == uncut.execs + (0 if applied else 1)
    assert entries(redis_client, "tocsin:events") == recorded(recording)


def test_without_waiting_an_outage_is_an_error_that_keeps_what_was_published(own_redis, recording):
    client = connect(own_redis.url)
    records = list(open_source(recording.events_path).records)
    with RedisSink(client, wait=False) as sink:
        play(records[:1000], sink, batch=500)
        own_redis.stop()
        with pytest.raises(SinkError, match="publishing the events up to 1,500 failed: .*Connection refused"):
            play(records[:1500], sink, start=1000)
    own_redis.start()
    assert client.xlen("tocsin:events") == 1000
    client.close()


def test_a_redis_that_comes_back_asking_for_another_password_is_an_error_not_a_wait(own_redis, recording, caplog):
    client = connect(own_redis.url)
    records = list(open_source(recording.events_path).records)
    with caplog.at_level(logging.WARNING), RedisSink(client) as sink:
        play(records[:1000], sink, batch=500)
        admin = connect(own_redis.url)
        require_password(admin, "n3w-s3cret")  # drops the sink's connection, as a restart would
        with pytest.raises(SinkError, match=r"Redis at 127\.0\.0\.1:\d+/0 refuses the credentials \(.+\): set the "
                                            "right password in REDIS_URL") as refused:
            play(records[:1500], sink, start=1000)
    assert "is unreachable" not in caplog.text and "n3w-s3cret" not in str(refused.value)
    admin.close()
    client.close()
