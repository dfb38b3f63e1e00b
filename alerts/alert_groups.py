"""Alerts that fired together, gathered into one Slack message: the storm a dead gateway or a site-wide event raises.

When many sensors fire the same rule at once (every sensor behind a gateway goes silent, a power cut
upsets a whole site), one message per sensor buries the channel and says less than one message that
lists them. The notifier reads the alert stream in batches; the firings of a batch that share a rule,
a Slack channel and a severity become one message once there are `minimum` of them. That message
takes in later firings of the storm for a while (GROUP_JOIN_MS after the last one it took); when the
storm passes, the resolves read together whose alerts share a message become one reply in its thread.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerts.slack_posts import SlackPost
from alerts.transition import FIRING, RESOLVED, AlertTransition

# Firings of one rule, channel and severity read together that share one message; fewer are posted one by one.
GROUP_MIN = 3
# After a read that brings a firing, how long the notifier waits for the rest of a storm before posting (ms).
GROUP_WAIT_MS = 2_000
# How long a storm's message takes in later firings of its rule at its sites, after the last one it took (ms).
GROUP_JOIN_MS = 300_000


def fired_together(transitions: Sequence[AlertTransition | None], default_channel: str,
                   minimum: int = GROUP_MIN) -> dict[int, list[int]]:
    """Groups of at least `minimum` firings with the same rule, channel and severity, as indexes into `transitions`.

    Keyed by the index of each group's first member, where its message goes in the order of the stream;
    None (an entry not to be posted, or already posted) and resolves take no part. `minimum` 0 groups nothing.

    >>> def fire(rule, sensor, channel=""):
    ...     return AlertTransition.create(rule=rule, sensor_id=sensor, state="firing", event_id="1-0",
    ...                                   severity="warning", value=1.0, score=1.0, ts=0, summary="", channel=channel)
    >>> batch = [fire("silence", "a"), fire("anomaly", "x"), fire("silence", "b"), None, fire("silence", "c"),
    ...          fire("silence", "d", channel="#ops")]
    >>> fired_together(batch, "#alerts")
    {0: [0, 2, 4]}
    >>> fired_together(batch, "#ops")
    {0: [0, 2, 4, 5]}
    """
    if minimum <= 0:
        return {}
    by_key: dict[tuple[str, str, str], list[int]] = {}
    for index, transition in enumerate(transitions):
        if transition is not None and transition.state == FIRING:
            key = (transition.rule, transition.channel or default_channel, transition.severity)
            by_key.setdefault(key, []).append(index)
    return {members[0]: members for members in by_key.values() if len(members) >= minimum}


def resolved_together(transitions: Sequence[AlertTransition | None],
                      firing_posts: Sequence[SlackPost | None]) -> dict[int, list[int]]:
    """Resolves whose alerts fired in one shared message (`SlackPost.group`), grouped by that message.

    `firing_posts[i]` is the post of the firing that transition i resolves (None: not found, or not
    a resolve). Keyed by the index of each group's first member; a single resolve makes a group too,
    since it also marks its line in the shared message.

    >>> def back(sensor):
    ...     return AlertTransition.create(rule="silence", sensor_id=sensor, state="resolved", event_id="9-0",
    ...                                   severity="warning", value=1.0, score=0.0, ts=0, summary="")
    >>> shared, alone = SlackPost("C1", "100.1", group=3), SlackPost("C1", "100.2")
    >>> resolved_together([back("a"), back("x"), None, back("b")], [shared, alone, None, shared])
    {0: [0, 3]}
    """
    by_message: dict[tuple[str, str], list[int]] = {}
    for index, (transition, post) in enumerate(zip(transitions, firing_posts, strict=True)):
        if transition is not None and transition.state == RESOLVED and post is not None and post.group:
            by_message.setdefault((post.channel, post.root), []).append(index)
    return {members[0]: members for members in by_message.values()}
