"""A whole bus gone silent: the driver's judgement, fed newest entry ids and Redis's clock by hand."""

from __future__ import annotations

import math

from alerts.rules import default_rules, parse_rules
from alerts.transition import FIRING, RESOLVED
from detector.bus_silence import BUS_MIN_SILENCE_MS, BusSilence
from detector.console import alert_line

STREAMS = ["tocsin:events:0", "tocsin:events:1"]
T0 = 1_704_067_200_000


def steady(bus: BusSilence, seconds: int, every_ms: int = 1_000) -> str:
    """Entries arriving every `every_ms`, the driver looking after each; the last entry id."""
    newest = ""
    for i in range(seconds * 1_000 // every_ms):
        newest = f"{T0 + i * every_ms}-3"
        assert bus.observe(newest, T0 + i * every_ms + 10) == []
    return newest


def test_a_steady_bus_that_stops_fires_once_after_the_floor_then_resolves_on_the_next_entry():
    bus = BusSilence(STREAMS, default_rules())
    last = steady(bus, 60)
    last_ms = int(last.split("-")[0])
    assert bus.observe(last, last_ms + BUS_MIN_SILENCE_MS - 1) == []
    [fired] = bus.observe(last, last_ms + BUS_MIN_SILENCE_MS)
    assert (fired.rule, fired.state, fired.sensor_id) == ("silence", FIRING, "tocsin:events:0, tocsin:events:1")
    assert fired.event_id == last and fired.ts == last_ms + BUS_MIN_SILENCE_MS
    assert fired.reason == "silent: no reading for 1m; usually a reading every 1s"
    assert math.isnan(fired.value) and "nan" not in alert_line(fired)
    assert bus.observe(last, last_ms + 10 * BUS_MIN_SILENCE_MS) == [], "fires once"
    [resolved] = bus.observe(f"{last_ms + 700_000}-0", last_ms + 700_001)
    assert (resolved.state, resolved.fired_event_id) == (RESOLVED, last)
    assert resolved.summary == "tocsin:events:0, tocsin:events:1 is reporting again"
    assert alert_line(resolved).endswith(f"[/bold]: reporting again  (id {resolved.id})")
    assert bus.observe(f"{last_ms + 701_000}-0", last_ms + 701_001) == []


def test_a_slow_bus_is_judged_by_its_own_pace():
    bus = BusSilence(STREAMS, default_rules())
    last = steady(bus, 30 * 60, every_ms=60_000)  # a fleet that reports together once a minute
    last_ms = int(last.split("-")[0])
    assert bus.observe(last, last_ms + 9 * 60_000) == [], "ten minutes at that pace"
    [fired] = bus.observe(last, last_ms + 10 * 60_000)
    assert fired.reason == "silent: no reading for 10m; usually a reading every 1m"


def test_nothing_is_judged_before_the_pace_is_learned_unless_a_rule_gives_a_limit():
    learning = BusSilence(STREAMS, default_rules())
    assert learning.observe(f"{T0}-0", T0) == []
    assert learning.observe(f"{T0}-0", T0 + 3_600_000) == [], "auto: no pace learned yet"
    fixed = BusSilence(STREAMS, parse_rules("rules: [{name: bus-down, when: {silent_for: 5m}}]"))
    assert fixed.observe(f"{T0}-0", T0 + 299_999) == []
    [fired] = fixed.observe(f"{T0}-0", T0 + 300_000)
    assert fired.rule == "bus-down"


def test_only_silence_rules_that_would_watch_a_sensor_named_after_the_streams_apply():
    rules = parse_rules("""
rules:
  - {name: anomaly, when: {score_above: 0.99}}
  - {name: pumps, match: {type: pump}, when: {silent_for: 1m}}
  - {name: lines, match: {sensor: "line-*"}, when: {silent_for: 1m}}
  - {name: bus, match: {sensor: "tocsin:events*"}, when: {silent_for: 2m}, severity: critical, channel: "#ops"}
""")
    bus = BusSilence(STREAMS, rules)
    assert [rule.name for rule in bus.rules] == ["bus"]
    [fired] = bus.observe(f"{T0}-0", T0 + 120_000)
    assert (fired.rule, fired.severity, fired.channel) == ("bus", "critical", "#ops")
    assert BusSilence(STREAMS, parse_rules("rules: [{name: a, when: {score_above: 0.9}}]")).observe(
        f"{T0}-0", T0 + 10**9) == [], "no silence rule: nothing to judge"


def test_an_alert_an_earlier_run_fired_is_resolved_by_an_entry_after_it_and_only_then():
    still = BusSilence(STREAMS, default_rules())
    still.firing("silence", f"{T0}-0")
    assert still.observe(f"{T0}-0", T0 + 3_600_000) == [], "the bus is still silent: not fired again"
    back = BusSilence(STREAMS, default_rules())
    back.firing("silence", f"{T0}-0")
    [resolved] = back.observe(f"{T0 + 5_000}-0", T0 + 5_001)
    assert (resolved.state, resolved.fired_event_id, resolved.event_id) == (RESOLVED, f"{T0}-0", f"{T0 + 5_000}-0")


def test_an_empty_bus_is_not_silent():
    assert BusSilence(STREAMS, default_rules()).observe(None, T0) == []


def test_a_pace_learned_by_an_earlier_run_judges_a_bus_silent_at_the_restart():
    before = BusSilence(STREAMS, default_rules())
    last = steady(before, 60)
    last_ms = int(last.split("-")[0])

    restarted = BusSilence(STREAMS, default_rules(), arrivals=before.arrivals)
    [fired] = restarted.observe(last, last_ms + 2 * BUS_MIN_SILENCE_MS)  # the first look, two minutes on
    assert (fired.state, fired.event_id) == (FIRING, last)
    fresh = BusSilence(STREAMS, default_rules())
    assert fresh.observe(last, last_ms + 2 * BUS_MIN_SILENCE_MS) == [], "without it, nothing to judge by"


def test_an_alert_left_firing_under_the_bus_name_for_other_shards_is_resolved_saying_why():
    rules = parse_rules("rules:\n  - {name: quiet, when: {silent_for: 2m}}\n  - {name: hot, when: {value_above: 1}}\n")
    bus = BusSilence(STREAMS, rules)
    resolved = bus.left_behind("tocsin:events", "quiet", "1000-0", T0)
    assert (resolved.rule, resolved.sensor_id, resolved.state) == ("quiet", "tocsin:events", RESOLVED)
    assert (resolved.event_id, resolved.fired_event_id, resolved.ts) == ("1000-0", "1000-0", T0)
    assert resolved.reason == "the job now reads tocsin:events:0, tocsin:events:1"
    assert bus.left_behind(", ".join(STREAMS), "quiet", "1000-0", T0) is None, "this bus takes it up instead"
    assert bus.left_behind("tocsin:events:1", "quiet", "1000-0", T0) is None, "a stream alone is no bus name"
    assert bus.left_behind("tocsin:events", "hot", "1000-0", T0) is None, "not a silence rule"
    assert bus.left_behind("tocsin:events", "gone", "1000-0", T0) is None
