"""The Slack notifier end to end: a real redis-server, the real slack_sdk client, a local fake Slack Web API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from typer.testing import CliRunner

from alerts.cli import app
from alerts.notifier import GROUP, UNDELIVERABLE_STREAM, Notifier, NotifierRefused, slack_client
from alerts.notifier_settings import NotifierSettings
from alerts.redis_sink import AlertSink
from alerts.slack_message import firing_message, group_message, resolved_original, resolved_reply
from alerts.transition import ALERT_STREAM, AlertTransition
from detector.redis_server import connect
from tests.slack_api import TOKEN, slack_api  # noqa: F401  (slack_api is a fixture)

pytestmark = pytest.mark.integration


def _alert(state: str = "firing", event_id: str = "1-0", **rest) -> AlertTransition:
    values = dict(rule="spike", sensor_id="t1", state=state, event_id=event_id, severity="critical",
                  value=42.0, score=0.99, ts=1700000000000, summary="value jumped", site="plant-a")
    values.update(rest)
    return AlertTransition.create(**values)


@pytest.fixture
def notifier(redis_url, slack_api):  # noqa: F811
    """Makes started notifiers on the test Redis and the fake Slack; closes their clients after the test."""
    clients = []

    def make(consumer: str = "n1", claim_idle_ms: int = 60_000, token: str = TOKEN) -> Notifier:
        client = connect(redis_url)
        clients.append(client)
        made = Notifier(client=client, slack=slack_client(token, slack_api.url), default_channel="#alerts",
                        consumer=consumer, claim_idle_ms=claim_idle_ms)
        made.start()
        return made

    yield make
    for client in clients:
        client.close()


def _pending(redis_client) -> int:
    return redis_client.xpending(ALERT_STREAM, GROUP)["pending"]


def test_one_firing_alert_becomes_exactly_one_slack_message(redis_client, slack_api, notifier):  # noqa: F811
    alert = _alert()
    AlertSink(redis_client).write([alert])
    delivering = notifier()
    assert delivering.process_once() == 1
    assert delivering.process_once() == 0
    [posted] = slack_api.calls_to("chat.postMessage")
    expected = firing_message(alert)
    assert (posted["channel"], posted["text"], posted["blocks"]) == ("#alerts", expected.text, list(expected.blocks))
    assert "thread_ts" not in posted
    assert _pending(redis_client) == 0


def test_the_rule_channel_wins_over_the_default(redis_client, slack_api, notifier):  # noqa: F811
    AlertSink(redis_client).write([_alert(channel="#ops")])
    notifier().process_once()
    assert [call["channel"] for call in slack_api.calls_to("chat.postMessage")] == ["#ops"]


def test_resolve_replies_in_the_thread_and_marks_the_original(redis_client, slack_api, notifier):  # noqa: F811
    firing, resolved = _alert(), _alert("resolved", "7-0", value=3.0, ts=1700000060000, fired_event_id="1-0")
    AlertSink(redis_client).write([firing, resolved])
    assert notifier().process_once() == 2
    _, reply = slack_api.calls_to("chat.postMessage")
    [update] = slack_api.calls_to("chat.update")
    original_ts = slack_api.answers_to("chat.postMessage")[0]["ts"]
    assert (reply["channel"], reply["thread_ts"]) == ("C0ALERTS", original_ts)
    assert reply["text"] == resolved_reply(resolved).text
    assert (update["channel"], update["ts"]) == ("C0ALERTS", original_ts)
    edited = resolved_original(firing, resolved)
    assert slack_api.message("C0ALERTS", original_ts)["blocks"] == list(edited.blocks)


def test_entries_a_crashed_consumer_left_pending_are_delivered_once(redis_client, slack_api, notifier):  # noqa: F811
    AlertSink(redis_client).write([_alert()])
    notifier(consumer="crashed")
    redis_client.xreadgroup(GROUP, "crashed", {ALERT_STREAM: ">"})  # read, then "crash" before any XACK
    successor = notifier(consumer="successor", claim_idle_ms=20)
    time.sleep(0.05)  # let the entry become idle for longer than claim_idle_ms
    assert successor.process_once() == 1
    assert successor.process_once() == 0
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert _pending(redis_client) == 0


def test_a_pending_entry_trimmed_from_the_stream_is_acked_without_a_post(redis_client, slack_api, notifier):  # noqa: F811
    AlertSink(redis_client).write([_alert(), _alert(sensor_id="t2")])
    notifier(consumer="crashed")
    [[_, read]] = redis_client.xreadgroup(GROUP, "crashed", {ALERT_STREAM: ">"})
    redis_client.xdel(ALERT_STREAM, read[0][0])  # as MAXLEN trimming does to an old entry
    successor = notifier(consumer="successor", claim_idle_ms=20)
    time.sleep(0.05)
    assert successor.process_once() == 2
    assert [call["text"].split(":")[0] for call in slack_api.calls_to("chat.postMessage")] == [
        "[CRITICAL] spike on t2 (plant-a)"]
    assert _pending(redis_client) == 0


def test_an_alert_already_posted_is_only_acked(redis_client, slack_api, notifier):  # noqa: F811
    alert = _alert()
    # The same transition twice on the stream, as after a crash between the Slack post and the XACK.
    redis_client.xadd(ALERT_STREAM, alert.to_fields())
    redis_client.xadd(ALERT_STREAM, alert.to_fields())
    assert notifier().process_once() == 2
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert _pending(redis_client) == 0


def test_rate_limited_then_accepted_is_delivered_once(redis_client, slack_api, notifier):  # noqa: F811
    delivering = notifier()
    AlertSink(redis_client).write([_alert()])
    slack_api.fail_next(1, status=429, retry_after=0)
    assert delivering.process_once() == 1
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert slack_api.state.failures == []


def test_slack_down_beyond_retries_leaves_the_alert_pending_until_a_later_claim(
        redis_client, slack_api, notifier):  # noqa: F811
    delivering = notifier(claim_idle_ms=20)
    AlertSink(redis_client).write([_alert(), _alert(sensor_id="t2")])
    slack_api.fail_next(3, status=500)  # the first try and both retries
    assert delivering.process_once() == 0
    assert _pending(redis_client) == 2 and redis_client.xlen(UNDELIVERABLE_STREAM) == 0
    time.sleep(0.05)
    assert delivering.process_once() == 2
    assert [call["text"].split(": ")[0] for call in slack_api.calls_to("chat.postMessage")] == [
        "[CRITICAL] spike on t1 (plant-a)", "[CRITICAL] spike on t2 (plant-a)"]


def test_a_permanent_error_parks_the_alert_and_the_stream_moves_on(redis_client, slack_api, notifier):  # noqa: F811
    lost, fine = _alert(channel="#nowhere"), _alert(sensor_id="t2")
    AlertSink(redis_client).write([lost, fine])
    assert notifier().process_once() == 2
    [(_, parked)] = redis_client.xrange(UNDELIVERABLE_STREAM)
    assert parked[b"_error"] == b"channel_not_found"
    assert AlertTransition.from_fields({k: v for k, v in parked.items() if not k.startswith(b"_")}) == lost
    assert [call["channel"] for call in slack_api.calls_to("chat.postMessage")] == ["#alerts"]
    assert _pending(redis_client) == 0


def test_the_metrics_count_deliveries_by_state_and_failures_by_kind(redis_client, slack_api, notifier):  # noqa: F811
    delivering = notifier(claim_idle_ms=20)
    fired = _alert()
    AlertSink(redis_client).write([fired, _alert(sensor_id="t2", channel="#nowhere")])
    slack_api.fail_next(3, status=500)  # the first alert: the first try and both retries
    assert delivering.process_once() == 0
    time.sleep(0.05)
    assert delivering.process_once() == 2
    AlertSink(redis_client).write([_alert(state="resolved", event_id="2-0", fired_event_id=fired.event_id)])
    assert delivering.process_once() == 1
    metrics = delivering.metrics
    assert metrics.value("tocsin_slack_posts_total", {"state": "firing"}) == 1.0
    assert metrics.value("tocsin_slack_posts_total", {"state": "resolved"}) == 1.0
    assert metrics.value("tocsin_slack_failures_total", {"kind": "transient"}) == 1.0
    assert metrics.value("tocsin_slack_failures_total", {"kind": "undeliverable"}) == 1.0
    assert metrics.value("tocsin_slack_last_delivery_timestamp_seconds") > time.time() - 60


def _silence(sensor: str, event_id: str = "1-0", **rest) -> AlertTransition:
    values = dict(rule="silence", sensor_id=sensor, event_id=event_id, severity="warning", value=float("nan"),
                  score=float("nan"), summary="", reason="silent: no reading for 1m", site="hall")
    return _alert(**{**values, **rest})


def test_a_storm_of_one_rule_becomes_one_message_whose_thread_takes_the_resolves(
        redis_client, slack_api, notifier):  # noqa: F811
    storm = [_silence(f"gw-1/t{i}") for i in range(5)]
    AlertSink(redis_client).write([*storm[:2], _alert(), *storm[2:]])  # a spike elsewhere, in the middle
    delivering = notifier()
    assert delivering.process_once() == 6
    group, spike = slack_api.calls_to("chat.postMessage")
    assert (group["channel"], group["text"]) == ("#alerts", group_message(storm).text)
    assert group["text"].startswith("[WARNING] silence on 5 sensors at hall: gw-1/t0, gw-1/t1, gw-1/t2")
    assert spike["text"] == firing_message(_alert()).text
    assert _pending(redis_client) == 0
    group_ts = slack_api.answers_to("chat.postMessage")[0]["ts"]
    assert {delivering.posts.posted(alert.id).ts for alert in storm} == {group_ts}

    back = _silence("gw-1/t3", "9-0", state="resolved", fired_event_id="1-0", reason="reporting again")
    AlertSink(redis_client).write([back])
    assert delivering.process_once() == 1
    reply = slack_api.calls_to("chat.postMessage")[-1]
    assert (reply["thread_ts"], reply["text"]) == (group_ts, resolved_reply(back).text + "; 4 still firing")
    [edit] = slack_api.calls_to("chat.update")  # the line of the sensor that came back, marked in the message
    assert (edit["ts"], edit["text"]) == (group_ts, group_message(storm, {back.key: back}).text)
    assert edit["text"].startswith("[WARNING] silence on 5 sensors at hall, 1 resolved: gw-1/t0")
    for alert in storm:  # the same transitions on the stream again (AlertSink would refuse them): acked only
        redis_client.xadd(ALERT_STREAM, alert.to_fields())
    assert delivering.process_once() == 5 and len(slack_api.calls_to("chat.postMessage")) == 3
    assert _pending(redis_client) == 0


def _storm_posted(redis_client, notifier, sensors: int = 4):  # noqa: F811
    storm = [_silence(f"gw-1/t{i}") for i in range(sensors)]
    AlertSink(redis_client).write(storm)
    delivering = notifier()
    assert delivering.process_once() == sensors
    return delivering, storm


def _back(sensor: str) -> AlertTransition:
    return _silence(sensor, "9-0", state="resolved", fired_event_id="1-0", reason="reporting again", value=20.5)


def test_a_storm_that_passes_is_one_reply_and_the_message_says_resolved(
        redis_client, slack_api, notifier):  # noqa: F811
    delivering, storm = _storm_posted(redis_client, notifier)
    group_ts = slack_api.answers_to("chat.postMessage")[0]["ts"]
    backs = [_back(alert.sensor_id) for alert in storm]
    AlertSink(redis_client).write(backs[:1])
    assert delivering.process_once() == 1
    AlertSink(redis_client).write(backs[1:])
    assert delivering.process_once() == 3
    first, rest = slack_api.calls_to("chat.postMessage")[1:]
    assert first["text"].endswith("; 3 still firing") and first["thread_ts"] == group_ts
    assert rest["text"].startswith("[RESOLVED] silence on 3 sensors at ")
    assert rest["text"].endswith(": gw-1/t1, gw-1/t2, gw-1/t3; none still firing") and rest["thread_ts"] == group_ts
    assert "`gw-1/t2`: value 20.5; reporting again" in rest["blocks"][0]["text"]["text"]
    last = slack_api.calls_to("chat.update")[-1]
    assert last["text"] == group_message(storm, {back.key: back for back in backs}).text
    assert last["text"].startswith("[RESOLVED, was WARNING] silence on 4 sensors at hall: ")
    assert last["blocks"][0]["text"]["text"].startswith(":white_check_mark: RESOLVED (was WARNING)")
    assert _pending(redis_client) == 0
    for back in backs:  # delivered again after a crash: acked, not posted again
        redis_client.xadd(ALERT_STREAM, back.to_fields())
    assert delivering.process_once() == 4 and len(slack_api.calls_to("chat.postMessage")) == 3


def test_the_resolves_of_a_storm_slack_could_not_take_are_posted_once_later(
        redis_client, slack_api, notifier):  # noqa: F811
    delivering, storm = _storm_posted(redis_client, notifier, sensors=3)
    delivering.claim_idle_ms = 20
    AlertSink(redis_client).write([_back(alert.sensor_id) for alert in storm])
    slack_api.fail_next(3, status=500)  # the edit's first try and both retries
    assert delivering.process_once() == 0
    assert _pending(redis_client) == 3
    time.sleep(0.05)
    assert delivering.process_once() == 3
    [reply] = slack_api.calls_to("chat.postMessage")[1:]
    assert reply["text"].startswith("[RESOLVED] silence on 3 sensors") and reply["text"].endswith("none still firing")
    assert _pending(redis_client) == 0


def test_later_firings_of_a_storm_at_its_site_join_its_message_until_it_has_passed(
        redis_client, slack_api, notifier):  # noqa: F811
    delivering, storm = _storm_posted(redis_client, notifier, sensors=3)
    group_ts = slack_api.answers_to("chat.postMessage")[0]["ts"]
    late = [_silence(f"gw-1/t{i}", "5-0", reason="silent: no reading for 5m") for i in (3, 4)]
    elsewhere = _silence("gw-9/t0", "5-0", site="lab")
    AlertSink(redis_client).write([late[0], elsewhere, late[1]])
    assert delivering.process_once() == 3
    [joined] = [call for call in slack_api.calls_to("chat.postMessage")[1:] if "thread_ts" in call]
    [alone] = [call for call in slack_api.calls_to("chat.postMessage")[1:] if "thread_ts" not in call]
    assert joined["thread_ts"] == group_ts
    assert joined["text"] == "[WARNING] silence on 2 more sensors at hall: gw-1/t3, gw-1/t4; 5 in this storm"
    assert alone["text"] == firing_message(elsewhere).text, "at another site: a message of its own"
    [edit] = slack_api.calls_to("chat.update")
    assert (edit["ts"], edit["text"]) == (group_ts, group_message(storm + late).text)
    assert {delivering.posts.posted(alert.id).root for alert in late} == {group_ts}

    again = _silence("gw-1/t0", "6-0")  # a sensor of the storm back, and silent again while the rest still are
    AlertSink(redis_client).write([_back("gw-1/t0")])
    assert delivering.process_once() == 1
    AlertSink(redis_client).write([again])
    assert delivering.process_once() == 1
    assert slack_api.calls_to("chat.update")[-1]["text"] == group_message([again, *storm[1:], *late]).text
    assert "resolved" not in slack_api.calls_to("chat.update")[-1]["text"]

    AlertSink(redis_client).write([
        _silence(f"gw-1/t{i}", "10-0", state="resolved", fired_event_id=fired, reason="reporting again")
        for i, fired in enumerate(("6-0", "1-0", "1-0", "5-0", "5-0"))])
    assert delivering.process_once() == 5
    [reply] = [call for call in slack_api.calls_to("chat.postMessage")[3:] if "5 sensors" in call["text"]]
    assert reply["thread_ts"] == group_ts and reply["text"].endswith("none still firing")
    assert slack_api.calls_to("chat.update")[-1]["text"].startswith("[RESOLVED, was WARNING] silence on 5 sensors")
    after = _silence("gw-1/t7", "20-0")  # the storm has passed: a new firing is news again
    AlertSink(redis_client).write([after])
    posts = len(slack_api.calls_to("chat.postMessage"))
    assert delivering.process_once() == 1
    last = slack_api.calls_to("chat.postMessage")[posts]
    assert last["text"] == firing_message(after).text and "thread_ts" not in last
    assert _pending(redis_client) == 0


def test_two_storms_of_one_rule_at_two_sites_each_take_their_own_late_firings(
        redis_client, slack_api, notifier):  # noqa: F811
    delivering, _ = _storm_posted(redis_client, notifier, sensors=3)
    AlertSink(redis_client).write([_silence(f"gw-9/t{i}", site="lab") for i in range(3)])
    assert delivering.process_once() == 3
    hall_ts, lab_ts = (answer["ts"] for answer in slack_api.answers_to("chat.postMessage"))
    AlertSink(redis_client).write([_silence("gw-1/t7", "5-0"), _silence("gw-9/t7", "5-0", site="lab")])
    assert delivering.process_once() == 2
    replies = {call["thread_ts"]: call["text"] for call in slack_api.calls_to("chat.postMessage")[2:]}
    assert replies == {hall_ts: "[WARNING] silence on 1 more sensor at hall: gw-1/t7; 4 in this storm",
                       lab_ts: "[WARNING] silence on 1 more sensor at lab: gw-9/t7; 4 in this storm"}


def test_group_join_0_posts_later_firings_of_a_storm_alone(redis_url, redis_client, slack_api, notifier):  # noqa: F811
    _storm_posted(redis_client, notifier, sensors=3)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_CHANNEL": "#alerts", "SLACK_API_URL": slack_api.url, "REDIS_URL": redis_url}
    settings = NotifierSettings.from_env(env, consumer="n2", group_join_s=0.0)  # as `tocsin notify --group-join 0`
    alone = Notifier.from_settings(settings)
    AlertSink(redis_client).write([_silence("gw-1/t3", "5-0")])
    try:
        assert alone.process_once() == 1
    finally:
        alone.client.close()
    assert "thread_ts" not in slack_api.calls_to("chat.postMessage")[-1]
    assert slack_api.calls_to("chat.update") == []


def test_resolves_of_a_message_posted_before_groups_were_kept_reply_without_an_edit(
        redis_client, slack_api, notifier):  # noqa: F811
    delivering, storm = _storm_posted(redis_client, notifier, sensors=3)
    for key in redis_client.scan_iter("tocsin:slack:group:*"):  # as an older notifier left it
        redis_client.delete(key)
    AlertSink(redis_client).write([_back(alert.sensor_id) for alert in storm[:2]])
    assert delivering.process_once() == 2
    reply = slack_api.calls_to("chat.postMessage")[-1]
    assert reply["text"].startswith("[RESOLVED] silence on 2 sensors") and "still firing" not in reply["text"]
    assert slack_api.calls_to("chat.update") == []


def test_a_storm_arriving_over_a_few_seconds_is_gathered_before_posting(
        redis_client, slack_api, notifier):  # noqa: F811
    AlertSink(redis_client).write([_silence("gw-1/t0")])
    rest = threading.Timer(0.5, lambda: AlertSink(redis_client).write([_silence(f"gw-1/t{i}") for i in (1, 2, 3)]))
    rest.start()
    delivering = notifier()
    assert delivering.process_once(block_ms=100) == 4  # the next micro-batch's firings come within the wait
    rest.join()
    [group] = slack_api.calls_to("chat.postMessage")
    assert group["text"].startswith("[WARNING] silence on 4 sensors at hall")


def test_too_few_firings_and_group_min_0_are_posted_one_by_one(redis_client, slack_api, notifier):  # noqa: F811
    AlertSink(redis_client).write([_silence("gw-1/t0"), _silence("gw-1/t1")])
    assert notifier().process_once() == 2
    AlertSink(redis_client).write([_silence(f"gw-2/t{i}") for i in range(4)])
    alone = notifier(consumer="n2")
    alone.group_min = 0
    assert alone.process_once() == 4
    assert [call["text"].split(": ")[0] for call in slack_api.calls_to("chat.postMessage")] == [
        f"[WARNING] silence on {sensor} (hall)" for sensor in ("gw-1/t0", "gw-1/t1", *(f"gw-2/t{i}" for i in range(4)))]


def test_a_storm_slack_could_not_take_is_posted_once_as_one_message_later(
        redis_client, slack_api, notifier):  # noqa: F811
    delivering = notifier(claim_idle_ms=20)
    AlertSink(redis_client).write([_silence(f"gw-1/t{i}") for i in range(3)])
    slack_api.fail_next(3, status=500)  # the first try and both retries
    assert delivering.process_once() == 0
    assert _pending(redis_client) == 3
    time.sleep(0.05)
    assert delivering.process_once() == 3
    [group] = slack_api.calls_to("chat.postMessage")
    assert group["text"].startswith("[WARNING] silence on 3 sensors")
    assert delivering.metrics.value("tocsin_slack_posts_total", {"state": "firing"}) == 3.0


def test_a_malformed_entry_is_parked_with_the_reason(redis_client, slack_api, notifier):  # noqa: F811
    redis_client.xadd(ALERT_STREAM, {"rule": "spike", "ts": "yesterday"})
    assert notifier().process_once() == 1
    [(_, parked)] = redis_client.xrange(UNDELIVERABLE_STREAM)
    assert parked[b"_error"].startswith(b"malformed alert entry: invalid literal for int()")
    assert slack_api.calls_to("chat.postMessage") == []


def test_a_rejected_token_refuses_to_start(slack_api, notifier):  # noqa: F811
    with pytest.raises(NotifierRefused, match=r"rejected the bot token \(invalid_auth\): check SLACK_BOT_TOKEN"):
        notifier(token="xoxb-wrong")


def _cli_env(**changes: str | None) -> dict[str, str | None]:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_BOT_TOKEN_FILE": None, "SLACK_CHANNEL": "#alerts",
           "SLACK_API_URL": None, "REDIS_URL": None}
    env.update(changes)
    return env


def test_cli_without_a_token_refuses_clearly():
    result = CliRunner().invoke(app, [], env=_cli_env(SLACK_BOT_TOKEN=None, REDIS_URL="redis://127.0.0.1:1/0"))
    assert result.exit_code == 2
    assert "no Slack token: the notifier is off. Set SLACK_BOT_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_cli_without_redis_url_says_where_to_get_one():
    result = CliRunner().invoke(app, [], env=_cli_env())
    assert result.exit_code == 2
    assert "REDIS_URL is not set" in result.output and "tocsin demo" in result.output


def test_cli_with_a_wrong_token_refuses_without_showing_it(redis_url, slack_api):  # noqa: F811
    env = _cli_env(SLACK_BOT_TOKEN="xoxb-wrong-secret", SLACK_API_URL=slack_api.url, REDIS_URL=redis_url)
    result = CliRunner().invoke(app, [], env=env)
    assert result.exit_code == 2
    assert "invalid_auth" in result.output and "xoxb-wrong-secret" not in result.output


def test_cli_delivers_and_exits_when_idle(redis_url, redis_client, slack_api):  # noqa: F811
    AlertSink(redis_client).write([_alert()])
    env = _cli_env(SLACK_API_URL=slack_api.url, REDIS_URL=redis_url)
    result = CliRunner().invoke(app, ["--max-idle", "0", "--consumer", "cli"], env=env)
    assert result.exit_code == 0, result.output
    assert "stopped after 1 alerts" in result.output
    assert len(slack_api.calls_to("chat.postMessage")) == 1


def test_cli_stops_cleanly_on_sigterm(redis_url, slack_api):  # noqa: F811
    env = dict(os.environ)
    for name, value in _cli_env(SLACK_API_URL=slack_api.url, REDIS_URL=redis_url).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    process = subprocess.Popen([sys.executable, "-c", "from alerts.cli import app; app()"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert "Ctrl-C to stop" in process.stderr.readline()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "stopped after 0 alerts" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
