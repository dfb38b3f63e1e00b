"""Slack messages for alert transitions: Block Kit blocks plus the plain-text fallback Slack requires."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from alerts.transition import AlertTransition

SEVERITY_EMOJI = {
    "critical": ":red_circle:",
    "error": ":red_circle:",
    "warning": ":large_orange_circle:",
    "info": ":large_blue_circle:",
}
UNKNOWN_SEVERITY_EMOJI = ":bell:"
RESOLVED_EMOJI = ":white_check_mark:"
# Slack rejects a header over 150 characters and a section text over 3000.
HEADER_LIMIT = 150
TEXT_LIMIT = 3000
# A group's message lists this many of its alerts, one line each, and counts the rest.
GROUP_LISTED = 25
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What chat.postMessage / chat.update get: the fallback `text` and the Block Kit `blocks`."""

    text: str
    blocks: tuple[dict, ...]


def firing_message(alert: AlertTransition) -> SlackMessage:
    """The message posted when an alert starts firing.

    >>> alert = AlertTransition.create(rule="spike", sensor_id="t1", state="firing", event_id="1-0",
    ...     severity="critical", value=42.0, score=0.99, ts=1700000000000, summary="value jumped")
    >>> firing_message(alert).text
    '[CRITICAL] spike on t1: value 42 at 2023-11-14T22:13:20.000Z. value jumped'
    """
    return _alert_message(alert, resolved=None)


def resolved_original(firing: AlertTransition, resolved: AlertTransition) -> SlackMessage:
    """The firing message, edited in place (chat.update) to show the alert has resolved."""
    return _alert_message(firing, resolved=resolved)


def resolved_reply(resolved: AlertTransition) -> SlackMessage:
    """The short thread reply posted when an alert resolves.

    >>> alert = AlertTransition.create(rule="spike", sensor_id="t1", state="resolved", event_id="9-0",
    ...     severity="critical", value=11.5, score=0.1, ts=1700000060000, summary="back to normal")
    >>> resolved_reply(alert).text
    '[RESOLVED] spike on t1 at 2023-11-14T22:14:20.000Z: value 11.5'
    """
    # A silent bus's or a retired sensor's resolve has no reading; every resolve may say why it came.
    said = _said(resolved, expected=False)
    when = f"at {utc_iso(resolved.ts)}"
    text = f"[RESOLVED] {resolved.rule} on {resolved.sensor_id} {when}" + (f": {said}" if said else "")
    line = (f"{RESOLVED_EMOJI} *Resolved* `{escape(resolved.rule)}` on `{escape(resolved.sensor_id)}` {when}"
            + (f", {escape(said)}" if said else ""))
    return SlackMessage(text=text, blocks=(_section(line), _id_context(resolved)))


def group_message(alerts: Sequence[AlertTransition],
                  resolved: Mapping[str, AlertTransition] | None = None) -> SlackMessage:
    """One message for alerts of one rule that fired together (a dead gateway: many sensors silent at once).

    Each alert gets a line (the first GROUP_LISTED of them, by sensor); `resolved` (resolves by alert key)
    marks the lines of the alerts that have resolved and counts them, and once every alert has resolved
    the message says so in its header. The resolves themselves are posted in the message's thread.

    >>> alerts = [AlertTransition.create(rule="silence", sensor_id=f"gw-1/t{i}", state="firing", event_id=f"{i}-0",
    ...     severity="warning", value=float("nan"), score=float("nan"), ts=1700000000000, summary="", site="hall",
    ...     reason="silent: no reading for 1m") for i in range(3)]
    >>> message = group_message(alerts)
    >>> message.text
    '[WARNING] silence on 3 sensors at hall: gw-1/t0, gw-1/t1, gw-1/t2'
    >>> print(message.blocks[1]["text"]["text"])
    • `gw-1/t0`: silent: no reading for 1m
    • `gw-1/t1`: silent: no reading for 1m
    • `gw-1/t2`: silent: no reading for 1m
    >>> back = AlertTransition.create(rule="silence", sensor_id="gw-1/t1", state="resolved", event_id="9-0",
    ...     severity="warning", value=20.5, score=0.1, ts=1700000060000, summary="", reason="reporting again")
    >>> edited = group_message(alerts, {back.key: back})
    >>> edited.text
    '[WARNING] silence on 3 sensors at hall, 1 resolved: gw-1/t0, gw-1/t1, gw-1/t2'
    >>> print(edited.blocks[1]["text"]["text"].splitlines()[1])
    • :white_check_mark: `gw-1/t1`: resolved at 2023-11-14T22:14:20.000Z, value 20.5; reporting again
    """
    alerts = sorted(alerts, key=by_sensor)
    resolved = {key: back for key, back in (resolved or {}).items() if any(alert.key == key for alert in alerts)}
    first = alerts[0]
    severity = first.severity.upper() or "ALERT"
    sites = sorted({alert.site for alert in alerts if alert.site})
    where = f" at {', '.join(sites)}" if sites else ""
    sensors = [alert.sensor_id for alert in alerts]
    more = len(alerts) - GROUP_LISTED
    what = f"{first.rule} on {len(alerts)} sensors{where}"
    if len(resolved) == len(alerts):
        title, label = f"{RESOLVED_EMOJI} RESOLVED (was {severity}): {what}", f"RESOLVED, was {severity}"
    else:
        title, label = f"{severity_emoji(first.severity)} {severity}: {what}", severity
        what += f", {len(resolved)} resolved" if resolved else ""
    text = (f"[{label}] {what}: {', '.join(sensors[:GROUP_LISTED])}" + (f" and {more} more" if more > 0 else ""))
    lines = [_group_line(alert, resolved.get(alert.key)) for alert in alerts[:GROUP_LISTED]]
    if more > 0:
        lines.append(f"… and {more} more")
    since = f"since {utc_iso(min(alert.ts for alert in alerts))}"
    firing = len(alerts) - len(resolved)
    state = f"; {len(resolved)} resolved, {firing} still firing" if resolved and firing else ""
    blocks = (
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, HEADER_LIMIT), "emoji": True}},
        _section("\n".join(lines)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{len(alerts)} alerts {since}{state}; each "
                                                                    "resolve is posted in this thread"}]},
    )
    return SlackMessage(text=_cut(text, TEXT_LIMIT), blocks=blocks)


def group_resolved_reply(resolves: Sequence[AlertTransition], firing: int | None) -> SlackMessage:
    """The one thread reply, under a group's message, for resolves of its alerts read together.

    `firing` is how many of the group's alerts are still firing after these (None: not known).

    >>> backs = [AlertTransition.create(rule="silence", sensor_id=f"gw-1/t{i}", state="resolved", event_id="9-0",
    ...     severity="warning", value=20.5, score=0.1, ts=1700000060000, summary="", reason="reporting again")
    ...     for i in range(2)]
    >>> group_resolved_reply(backs, 45).text
    '[RESOLVED] silence on 2 sensors at 2023-11-14T22:14:20.000Z: gw-1/t0, gw-1/t1; 45 still firing'
    >>> group_resolved_reply(backs[:1], 0).text
    '[RESOLVED] silence on gw-1/t0 at 2023-11-14T22:14:20.000Z: value 20.5; reporting again; none still firing'
    """
    resolves = sorted(resolves, key=by_sensor)
    left = "" if firing is None else f"; {firing or 'none'} still firing"
    if len(resolves) == 1:
        alone = resolved_reply(resolves[0])
        return SlackMessage(text=alone.text + left, blocks=(*alone.blocks[:-1], _context(left[2:]), alone.blocks[-1])
                            if left else alone.blocks)
    first = resolves[0]
    when = f"at {utc_iso(max(back.ts for back in resolves))}"
    sensors = [back.sensor_id for back in resolves]
    more = len(resolves) - GROUP_LISTED
    text = (f"[RESOLVED] {first.rule} on {len(resolves)} sensors {when}: {', '.join(sensors[:GROUP_LISTED])}"
            + (f" and {more} more" if more > 0 else "") + left)
    lines = [f"{RESOLVED_EMOJI} *Resolved* `{escape(first.rule)}` on {len(resolves)} sensors {when}"]
    lines += [f"• `{escape(back.sensor_id)}`" + (f": {escape(said)}" if (said := _said(back, expected=False)) else "")
              for back in resolves[:GROUP_LISTED]]
    if more > 0:
        lines.append(f"… and {more} more")
    blocks = (_section("\n".join(lines)),) + ((_context(left[2:]),) if left else ())
    return SlackMessage(text=_cut(text, TEXT_LIMIT), blocks=blocks)


def group_joined_reply(joined: Sequence[AlertTransition], total: int) -> SlackMessage:
    """The thread reply, under a storm's message, for firings that joined it after it was posted (`total`: now in it).

    >>> late = [AlertTransition.create(rule="silence", sensor_id=f"gw-1/t{i}", state="firing", event_id=f"{i}-0",
    ...     severity="warning", value=float("nan"), score=float("nan"), ts=1700000090000, summary="", site="hall",
    ...     reason="silent: no reading for 5m") for i in (7, 5)]
    >>> group_joined_reply(late, 9).text
    '[WARNING] silence on 2 more sensors at hall: gw-1/t5, gw-1/t7; 9 in this storm'
    """
    joined = sorted(joined, key=by_sensor)
    first = joined[0]
    severity = first.severity.upper() or "ALERT"
    sites = sorted({alert.site for alert in joined if alert.site})
    where = f" at {', '.join(sites)}" if sites else ""
    more = len(joined) - GROUP_LISTED
    sensors = ", ".join(alert.sensor_id for alert in joined[:GROUP_LISTED]) + (f" and {more} more" if more > 0 else "")
    text = (f"[{severity}] {first.rule} on {len(joined)} more sensor{'s' if len(joined) > 1 else ''}{where}: "
            f"{sensors}; {total} in this storm")
    lines = [f"{severity_emoji(first.severity)} *{escape(severity)}* `{escape(first.rule)}` on {len(joined)} more "
             f"sensor{'s' if len(joined) > 1 else ''}{escape(where)} since {utc_iso(min(a.ts for a in joined))}"]
    lines += [_group_line(alert, None) for alert in joined[:GROUP_LISTED]]
    if more > 0:
        lines.append(f"… and {more} more")
    return SlackMessage(text=_cut(text, TEXT_LIMIT), blocks=(_section("\n".join(lines)),
                                                             _context(f"{total} alerts in this storm")))


def by_sensor(alert: AlertTransition) -> tuple:
    """A sort key that puts sensors in the order a person counts them: `t2` before `t10`, `gw-2/…` before `gw-10/…`.

    >>> ids = ["gw-10/t1", "gw-2/t10", "gw-2/t2", "pump", "gw-2/t2b"]
    >>> sorted(ids, key=lambda sensor_id: by_sensor(AlertTransition.create(rule="r", sensor_id=sensor_id,
    ...     state="firing", event_id="1-0", severity="info", value=1.0, score=1.0, ts=0, summary="")))
    ['gw-2/t2', 'gw-2/t2b', 'gw-2/t10', 'gw-10/t1', 'pump']
    """
    # Text and numbers alternate from a (possibly empty) text, so the pieces at each place compare alike.
    pieces = _DIGITS.split(alert.sensor_id)
    return tuple(int(piece) if index % 2 else piece for index, piece in enumerate(pieces)), alert.sensor_id


def _group_line(alert: AlertTransition, resolved: AlertTransition | None) -> str:
    """One alert's line in its group's message: why it fired, or when and how it resolved."""
    if resolved is None:
        return f"• `{escape(alert.sensor_id)}`: {escape(_said(alert) or alert.summary or '-')}"
    said = _said(resolved, expected=False)
    return (f"• {RESOLVED_EMOJI} `{escape(alert.sensor_id)}`: resolved at {utc_iso(resolved.ts)}"
            + (f", {escape(said)}" if said else ""))


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _said(alert: AlertTransition, expected: bool = True) -> str:
    """A transition in a line: its value (and, with `expected`, what was expected) and why, as far as it has them."""
    shown = f" (expected {alert.expected})" if expected and alert.expected else ""
    parts = [] if math.isnan(alert.value) else [f"value {number(alert.value)}{shown}"]
    return "; ".join(parts + ([alert.reason] if alert.reason else []))


def _alert_message(alert: AlertTransition, resolved: AlertTransition | None) -> SlackMessage:
    severity = alert.severity.upper() or "ALERT"
    where = f"{alert.sensor_id} ({alert.site})" if alert.site else alert.sensor_id
    if resolved is None:
        title = f"{severity_emoji(alert.severity)} {severity}: {alert.rule} on {where}"
        text = f"[{severity}] {alert.rule} on {where}: value {number(alert.value)}"
    else:
        title = f"{RESOLVED_EMOJI} RESOLVED (was {severity}): {alert.rule} on {where}"
        text = f"[RESOLVED, was {severity}] {alert.rule} on {where}: value {number(alert.value)}"
    text += (f" (expected {alert.expected})" if alert.expected else "") + f" at {utc_iso(alert.ts)}"
    text += f"; why: {alert.reason}" if alert.reason else ""
    text += f". {alert.summary}" if alert.summary else ""
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": _cut(title, HEADER_LIMIT), "emoji": True}}]
    if alert.summary:
        blocks.append(_section(escape(alert.summary)))
    blocks.append({"type": "section", "fields": _facts(alert)})
    if resolved is not None:
        blocks.append(_section(f"{RESOLVED_EMOJI} Resolved at {utc_iso(resolved.ts)}, "
                               f"value {number(resolved.value)}"))
    blocks.append(_id_context(alert))
    return SlackMessage(text=_cut(text, TEXT_LIMIT), blocks=tuple(blocks))


def _facts(alert: AlertTransition) -> list[dict]:
    """The two-column facts of a firing alert (Slack allows at most 10 fields)."""
    value = number(alert.value) + (f" (expected {escape(alert.expected)})" if alert.expected else "")
    facts = [
        ("Rule", f"`{escape(alert.rule)}`"),
        ("Sensor", f"`{escape(alert.sensor_id)}`"),
        ("Site", escape(alert.site) or "-"),
        ("Severity", f"{severity_emoji(alert.severity)} {escape(alert.severity) or '-'}"),
        ("Value", value),
        ("Why", escape(alert.reason) or "-"),
        ("Score", number(alert.score)),
        ("Event time", utc_iso(alert.ts)),
    ]
    return [{"type": "mrkdwn", "text": f"*{name}*\n{content}"} for name, content in facts]


def _id_context(alert: AlertTransition) -> dict:
    return {"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"alert id `{alert.id}` · event `{escape(alert.event_id)}`"}]}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, TEXT_LIMIT)}}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def severity_emoji(severity: str) -> str:
    """The Slack emoji code for a severity; unknown severities get a bell.

    >>> severity_emoji("Critical"), severity_emoji("page-me")
    (':red_circle:', ':bell:')
    """
    return SEVERITY_EMOJI.get(severity.lower(), UNKNOWN_SEVERITY_EMOJI)


def utc_iso(ts_ms: int) -> str:
    """Epoch milliseconds as UTC ISO-8601 with a Z.

    >>> utc_iso(1700000000123)
    '2023-11-14T22:13:20.123Z'
    """
    moment = datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def number(value: float) -> str:
    """A reading as people read it: 6 significant digits, "n/a" when missing.

    >>> number(3.14159265), number(float("nan")), number(1e9)
    ('3.14159', 'n/a', '1e+09')
    """
    return "n/a" if math.isnan(value) else f"{value:.6g}"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters.

    >>> escape("value < 3 & rising")
    'value &lt; 3 &amp; rising'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
