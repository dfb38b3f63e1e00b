"""Restart: SIGKILL the detector mid-stream, start it again on the same checkpoint; nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from alerts.rules import default_rules
from detector.events import stream_names
from detector.local_run import LocalDetector, read_all
from detector.registry import load_registry
from simulator.publisher import publish_scenario
from simulator.scenario_file import find_scenario
from tests.integration.polling import wait_for
from tests.integration.test_detector_job import alerts_in, counts_in

pytestmark = pytest.mark.integration

SHARDS = 2


def start_detector(redis_url: str | None, tmp_path, *options: str) -> subprocess.Popen:
    """`tocsin detect` as a user runs it, in its own process group (Python driver + its JVM).

    With no `redis_url`, REDIS_URL is unset and the detector starts its embedded redis-server.
    """
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    log = open(tmp_path / "detector.out", "ab")
    return subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "tocsin"), "detect", "--master", "local[2]",
         "--shards", str(SHARDS), "--checkpoint", str(tmp_path / "checkpoint"), "--log-dir", str(tmp_path / "log"),
         "--trigger", "500ms", "--max-records-per-trigger", "150", *options],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def assert_same_as_one_uninterrupted_run(client) -> None:
    """The alerts and model counts are those of one plain-Python run over the same events, each alert once."""
    reference = LocalDetector(default_rules(), load_registry(client))
    expected = reference.process(read_all(client, stream_names(SHARDS)))
    alerts = alerts_in(client)
    assert sorted(a.id for a in alerts) == sorted(t.id for t in expected.transitions), "no alert lost"
    assert len({a.id for a in alerts}) == len(alerts), "none duplicated"
    assert any(a.state == "firing" for a in alerts), "the spike fired"
    assert counts_in(client) == {sensor: state.count for sensor, state in reference.states.items()}


def test_sigkill_mid_stream_then_restart_loses_nothing_and_doubles_nothing(redis_url, redis_client, tmp_path):
    summary = publish_scenario(redis_client, find_scenario("spike"), shards=SHARDS)
    total = summary.events
    scored = lambda: sum(counts_in(redis_client).values())  # noqa: E731

    first = start_detector(redis_url, tmp_path)
    try:
        wait_for(lambda: scored() >= 300, "the first run to score some events")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the driver and its JVM, no goodbye
        first.wait(30)
    at_kill = scored()
    assert at_kill < total, "killed mid-stream"

    second = start_detector(redis_url, tmp_path)
    try:
        wait_for(lambda: scored() == total, "the restarted run to catch up")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0, (tmp_path / "detector.out").read_text()[-2000:]

    # Each model continued from its state: its count covers the events before and after the kill.
    assert_same_as_one_uninterrupted_run(redis_client)
