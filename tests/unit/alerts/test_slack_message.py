"""Slack messages built from alert transitions: content, Block Kit shape, escaping, limits."""

from __future__ import annotations

import json

from alerts.slack_message import (GROUP_LISTED, firing_message, group_joined_reply, group_message, group_resolved_reply,
                                  resolved_original, resolved_reply)
from alerts.transition import AlertTransition
from tests.slack_api import block_kit_problem


def _firing(**changes) -> AlertTransition:
    values = dict(rule="temp-high", sensor_id="boiler-7", state="firing", event_id="1700000000000-3",
                  severity="critical", value=97.25, score=0.987654, ts=1700000000000,
                  summary="temperature above 90 for 3 readings", site="plant-a", expected="<= 90",
                  reason="value above 90 & rising")
    values.update(changes)
    return AlertTransition.create(**values)


def _resolved(**changes) -> AlertTransition:
    values = dict(rule="temp-high", sensor_id="boiler-7", state="resolved", event_id="1700000300000-0",
                  severity="critical", value=71.5, score=0.2, ts=1700000300000, summary="back under 90",
                  site="plant-a", fired_event_id="1700000000000-3")
    values.update(changes)
    return AlertTransition.create(**values)


def _all_text(message) -> str:
    return json.dumps(message.blocks)


def test_firing_message_shows_every_fact_of_the_alert():
    message = firing_message(_firing())
    header = message.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == ":red_circle: CRITICAL: temp-high on boiler-7 (plant-a)"
    facts = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in message.blocks[2]["fields"]}
    assert facts == {
        "*Rule*": "`temp-high`", "*Sensor*": "`boiler-7`", "*Site*": "plant-a",
        "*Severity*": ":red_circle: critical", "*Value*": "97.25 (expected &lt;= 90)",
        "*Why*": "value above 90 &amp; rising", "*Score*": "0.987654", "*Event time*": "2023-11-14T22:13:20.000Z",
    }
    context = message.blocks[-1]
    assert context["type"] == "context"
    assert _firing().id in context["elements"][0]["text"]


def test_firing_fallback_text_reads_alone():
    assert firing_message(_firing()).text == (
        "[CRITICAL] temp-high on boiler-7 (plant-a): value 97.25 (expected <= 90) at 2023-11-14T22:13:20.000Z; "
        "why: value above 90 & rising. temperature above 90 for 3 readings")


def test_severity_picks_the_emoji_and_unknown_severity_gets_a_bell():
    assert firing_message(_firing(severity="warning")).blocks[0]["text"]["text"].startswith(":large_orange_circle:")
    assert firing_message(_firing(severity="info")).blocks[0]["text"]["text"].startswith(":large_blue_circle:")
    assert firing_message(_firing(severity="odd")).blocks[0]["text"]["text"].startswith(":bell: ODD:")


def test_missing_value_site_expected_and_reason_are_shown_as_such():
    message = firing_message(_firing(value=float("nan"), site="", expected="", summary="", reason=""))
    facts = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in message.blocks[1]["fields"]}
    assert facts["*Value*"] == "n/a" and facts["*Site*"] == "-" and facts["*Why*"] == "-"
    assert message.text == "[CRITICAL] temp-high on boiler-7: value n/a at 2023-11-14T22:13:20.000Z"


def test_slack_control_characters_in_names_are_escaped():
    message = firing_message(_firing(sensor_id="a<b>&c", summary="<!channel> look"))
    text = _all_text(message)
    assert "a&lt;b&gt;&amp;c" in text and "&lt;!channel&gt; look" in text
    assert "<!channel>" not in text


def test_resolved_reply_is_short():
    reply = resolved_reply(_resolved())
    assert reply.text == "[RESOLVED] temp-high on boiler-7 at 2023-11-14T22:18:20.000Z: value 71.5"
    assert [block["type"] for block in reply.blocks] == ["section", "context"]
    assert _resolved().id in reply.blocks[1]["elements"][0]["text"]


def test_a_resolve_without_a_reading_says_why_it_came_instead_of_a_value():
    back = AlertTransition.create(rule="silence", sensor_id="tocsin:events", state="resolved", event_id="9-0",
                                  severity="warning", value=float("nan"), score=float("nan"), ts=1700000060000,
                                  summary="tocsin:events is reporting again", reason="reporting again")
    reply = resolved_reply(back)
    assert reply.text == "[RESOLVED] silence on tocsin:events at 2023-11-14T22:14:20.000Z: reporting again"
    assert "nan" not in _all_text(reply) + reply.text and "n/a" not in _all_text(reply)
    assert block_kit_problem(json.dumps(list(reply.blocks)), reply.text) == ""


def test_resolved_original_keeps_the_firing_facts_and_says_resolved():
    edited = resolved_original(_firing(), _resolved())
    assert edited.blocks[0]["text"]["text"] == (
        ":white_check_mark: RESOLVED (was CRITICAL): temp-high on boiler-7 (plant-a)")
    assert "97.25" in _all_text(edited)
    assert "Resolved at 2023-11-14T22:18:20.000Z, value 71.5" in _all_text(edited)
    assert edited.text.startswith("[RESOLVED, was CRITICAL] temp-high on boiler-7")


def test_every_message_is_valid_block_kit_even_with_huge_text():
    huge = _firing(summary="x" * 5000, rule="r" * 300)
    for message in (firing_message(huge), resolved_reply(_resolved()), resolved_original(huge, _resolved())):
        assert block_kit_problem(list(message.blocks), message.text) == ""
    assert len(firing_message(huge).blocks[0]["text"]["text"]) == 150


def _storm(size: int) -> list[AlertTransition]:
    return [AlertTransition.create(rule="silence", sensor_id=f"gateway-7/sensor-{i:03d}", state="firing",
                                     event_id=f"{i}-0", severity="warning", value=float("nan"), score=float("nan"),
                                     ts=1_700_000_000_000 + i, summary="", site=f"hall-{i % 2}",
                                     reason="silent: no reading for 1m; usually a reading every 1s")
              for i in range(size)]


def test_a_large_storm_lists_the_first_sensors_and_counts_the_rest_within_slack_limits():
    alerts = _storm(60)
    message = group_message(alerts)
    header, listing, context = message.blocks
    assert header["text"]["text"] == ":large_orange_circle: WARNING: silence on 60 sensors at hall-0, hall-1"
    lines = listing["text"]["text"].split("\n")
    assert len(lines) == GROUP_LISTED + 1 and lines[-1] == f"… and {60 - GROUP_LISTED} more"
    assert lines[0] == "• `gateway-7/sensor-000`: silent: no reading for 1m; usually a reading every 1s"
    assert len(listing["text"]["text"]) <= 3000 and message.text.endswith(f"and {60 - GROUP_LISTED} more")
    assert context["elements"][0]["text"] == ("60 alerts since 2023-11-14T22:13:20.000Z; each resolve is posted "
                                              "in this thread")
    assert block_kit_problem(list(message.blocks), message.text) == ""


def _back(alert: AlertTransition, ts: int = 1_700_000_060_000) -> AlertTransition:
    return AlertTransition.create(rule=alert.rule, sensor_id=alert.sensor_id, state="resolved", event_id="99-0",
                                  severity=alert.severity, value=20.25, score=0.1, ts=ts, summary="",
                                  reason="reporting again", fired_event_id=alert.event_id)


def test_a_storm_message_counts_its_resolves_and_says_resolved_once_all_are():
    alerts = _storm(60)
    backs = {back.key: back for back in map(_back, alerts[:40])}
    partly = group_message(alerts, backs)
    header, listing, context = partly.blocks
    assert header["text"]["text"].startswith(":large_orange_circle: WARNING: silence on 60 sensors")
    assert partly.text.startswith("[WARNING] silence on 60 sensors at hall-0, hall-1, 40 resolved: ")
    assert listing["text"]["text"].split("\n")[0] == (
        "• :white_check_mark: `gateway-7/sensor-000`: resolved at 2023-11-14T22:14:20.000Z, value 20.25; "
        "reporting again")
    assert "; 40 resolved, 20 still firing;" in context["elements"][0]["text"]
    assert block_kit_problem(list(partly.blocks), partly.text) == ""
    other = _back(_firing())
    assert group_message(alerts, {**backs, other.key: other}).text == partly.text, "a resolve of another alert"
    done = group_message(alerts, {back.key: back for back in map(_back, alerts)})
    assert done.blocks[0]["text"]["text"].startswith(":white_check_mark: RESOLVED (was WARNING): silence on 60")
    assert done.text.startswith("[RESOLVED, was WARNING] silence on 60 sensors")
    assert "still firing" not in done.blocks[2]["elements"][0]["text"]


def test_the_reply_to_resolves_read_together_lists_them_within_slack_limits():
    backs = [_back(alert) for alert in _storm(60)]
    reply = group_resolved_reply(backs, 0)
    assert reply.text.startswith("[RESOLVED] silence on 60 sensors at 2023-11-14T22:14:20.000Z: gateway-7/sensor-000")
    assert reply.text.endswith(f"and {60 - GROUP_LISTED} more; none still firing")
    lines = reply.blocks[0]["text"]["text"].split("\n")
    assert len(lines) == 1 + GROUP_LISTED + 1
    assert lines[1] == "• `gateway-7/sensor-000`: value 20.25; reporting again"
    assert block_kit_problem(list(reply.blocks), reply.text) == ""
    alone = group_resolved_reply(backs[:1], None)
    assert alone == resolved_reply(backs[0]), "not knowing how many still fire, a lone resolve reads as always"
    counted = group_resolved_reply(backs[:1], 12)
    assert counted.text == resolved_reply(backs[0]).text + "; 12 still firing"
    assert block_kit_problem(list(counted.blocks), counted.text) == ""


def test_storm_messages_list_sensors_in_counting_order():
    alerts = [AlertTransition.create(rule="silence", sensor_id=f"gw-{gateway}/t{i}", state="firing",
                                     event_id=f"{gateway}-{i}", severity="warning", value=float("nan"),
                                     score=float("nan"), ts=1_700_000_000_000, summary="", site="hall")
              for gateway in (10, 2) for i in (10, 1, 2)]
    order = "gw-2/t1, gw-2/t2, gw-2/t10, gw-10/t1, gw-10/t2, gw-10/t10"
    assert group_message(alerts).text == f"[WARNING] silence on 6 sensors at hall: {order}"
    assert group_resolved_reply([_back(alert) for alert in alerts], 0).text.endswith(f": {order}; none still firing")
    joined = group_joined_reply(alerts, 9)
    assert joined.text == f"[WARNING] silence on 6 more sensors at hall: {order}; 9 in this storm"
