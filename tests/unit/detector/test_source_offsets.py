"""The pure offset arithmetic of the redis_streams source: entry ids, positions, and the row-limit split."""

from __future__ import annotations

import pytest

from detector.stream_offsets import (
    NOTHING_READ,
    fair_shares,
    is_after,
    later,
    limited_end,
    parse_entry_id,
    positions,
)


class InMemoryStreams:
    """Streams as sorted id lists, answering the same question the Redis probe answers."""

    def __init__(self, streams: dict[str, list[str]]) -> None:
        self.streams = streams
        self.asks: list[dict] = []

    def probe(self, asks):
        self.asks.append(asks)
        found = {}
        for name, (after, upto, at_most) in asks.items():
            ids = [i for i in self.streams[name] if is_after(i, after) and not is_after(i, upto)][:at_most]
            found[name] = (len(ids), ids[-1] if ids else after)
        return found

    def between(self, start, end):
        return sum(1 for name, ids in self.streams.items() for i in ids
                   if is_after(i, start[name]) and not is_after(i, end[name]))


def ids(ms_from: int, count: int) -> list[str]:
    return [f"{ms_from + i}-0" for i in range(count)]


@pytest.mark.parametrize("text, parts", [("0-0", (0, 0)), ("1700000000000-12", (1700000000000, 12)),
                                          ("18446744073709551615-18446744073709551615", (2**64 - 1, 2**64 - 1))])
def test_entry_ids_parse_into_numeric_parts(text, parts):
    assert parse_entry_id(text) == parts


@pytest.mark.parametrize("bad", ["", "5", "-", "5-", "-5", "a-1", "5-1-2", "+", "(5-0"])
def test_malformed_entry_id_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="is not <milliseconds>-<sequence>"):
        parse_entry_id(bad)


def test_entry_ids_order_numerically_not_as_text():
    assert is_after("10-0", "9-0") and is_after("5-10", "5-9")
    assert not is_after("5-0", "5-0")
    assert later("9-0", "10-0") == "10-0" and later("10-0", "9-0") == "10-0"


def test_positions_fill_new_streams_with_nothing_read_and_drop_unlisted_ones():
    offset = {"streams": {"a": "7-1", "retired": "9-0"}}
    assert positions(offset, ["a", "b"]) == {"a": "7-1", "b": NOTHING_READ}
    assert positions(None, ["a"]) == {"a": NOTHING_READ}


def test_positions_refuse_a_corrupt_offset_naming_the_stream():
    with pytest.raises(ValueError, match="stream 'a'"):
        positions({"streams": {"a": "latest"}}, ["a"])
    with pytest.raises(ValueError, match="'streams' must map"):
        positions({"streams": ["a"]}, ["a"])


def test_fair_shares_split_evenly_and_add_up():
    shares = fair_shares(50_000, ["a", "b", "c"])
    assert sum(shares.values()) == 50_000
    assert max(shares.values()) - min(shares.values()) <= 1
    assert fair_shares(7, []) == {}


def test_limited_end_takes_exactly_the_limit_when_the_backlog_is_larger():
    streams = InMemoryStreams({"a": ids(100, 40), "b": ids(100, 40), "c": ids(100, 40)})
    start = {name: NOTHING_READ for name in streams.streams}
    target = {name: found[-1] for name, found in streams.streams.items()}
    end = limited_end(start, target, 30, streams.probe)
    assert end == {"a": "109-0", "b": "109-0", "c": "109-0"}
    assert streams.between(start, end) == 30


def test_limited_end_gives_a_short_streams_share_to_the_others():
    streams = InMemoryStreams({"a": ids(100, 40), "b": ids(100, 2), "c": ids(100, 40)})
    start = {name: NOTHING_READ for name in streams.streams}
    target = {name: found[-1] for name, found in streams.streams.items()}
    end = limited_end(start, target, 31, streams.probe)
    assert end["b"] == target["b"]
    assert streams.between(start, end) == 31
    assert len(streams.asks) == 2  # one round of shares, one for what b could not use


def test_limited_end_walks_a_backlog_to_its_target_without_skipping_or_repeating():
    streams = InMemoryStreams({"a": ids(100, 23), "b": ids(500, 5), "c": []})
    target = {"a": "122-0", "b": "504-0", "c": NOTHING_READ}
    position = {name: NOTHING_READ for name in streams.streams}
    taken = []
    while position != (end := limited_end(position, target, 4, streams.probe)):
        taken.append(streams.between(position, end))
        position = end
    assert position == target
    assert taken == [4] * 7 and sum(taken) == 28


def test_limited_end_does_not_starve_a_stream_when_the_limit_is_below_the_stream_count():
    streams = InMemoryStreams({"a": ids(100, 5), "b": ids(100, 5)})
    target = {"a": "104-0", "b": "104-0"}
    first = limited_end({"a": NOTHING_READ, "b": NOTHING_READ}, target, 1, streams.probe)
    second = limited_end(first, target, 1, streams.probe)
    assert {first["a"], first["b"]} == {"100-0", NOTHING_READ}
    assert second == {"a": "100-0", "b": "100-0"}  # the one left behind goes next


def test_limited_end_jumps_to_the_target_past_deleted_entries():
    streams = InMemoryStreams({"a": ids(100, 3)})
    end = limited_end({"a": NOTHING_READ}, {"a": "200-0"}, 10, streams.probe)
    assert end == {"a": "200-0"}


def test_limited_end_never_moves_back_or_past_the_target():
    streams = InMemoryStreams({"a": ids(100, 5)})
    assert limited_end({"a": "104-0"}, {"a": "102-0"}, 10, streams.probe) == {"a": "104-0"}
    assert streams.asks == []
    with pytest.raises(ValueError, match="max_rows must be at least 1"):
        limited_end({"a": NOTHING_READ}, {"a": "104-0"}, 0, streams.probe)
