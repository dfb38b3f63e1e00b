"""Offsets of the redis_streams source: entry ids, per-stream positions, and how a row limit is shared.

An offset is `{"streams": {stream_name: last_entry_id_read}}`; "0-0" means nothing read yet (Redis never
hands out 0-0, so every real entry is after it). Everything here is pure: reaching Redis is the caller's
job, passed in as a `probe` where it is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

NOTHING_READ = "0-0"

# probe({stream: (after_id, upto_id, at_most)}) -> {stream: (entries_found, last_id_found)}
Probe = Callable[[dict[str, tuple[str, str, int]]], dict[str, tuple[int, str]]]


def parse_entry_id(text: str) -> tuple[int, int]:
    """The (milliseconds, sequence) parts of a stream entry id, for ordering.

    >>> parse_entry_id("1700000000000-3")
    (1700000000000, 3)
    >>> parse_entry_id("17-x")
    Traceback (most recent call last):
    ...
    ValueError: entry id '17-x' is not <milliseconds>-<sequence>
    """
    ms, _, seq = str(text).partition("-")
    if not (ms.isdigit() and seq.isdigit()):
        raise ValueError(f"entry id {text!r} is not <milliseconds>-<sequence>")
    return int(ms), int(seq)


def is_after(entry_id: str, other: str) -> bool:
    """Whether `entry_id` comes strictly after `other` in a stream.

    >>> is_after("10-0", "9-5"), is_after("9-5", "9-5")
    (True, False)
    """
    return parse_entry_id(entry_id) > parse_entry_id(other)


def later(entry_id: str, other: str) -> str:
    """The later of two entry ids.

    >>> later("2-0", "10-0")
    '10-0'
    """
    return entry_id if is_after(entry_id, other) else other


def positions(offset: Mapping | None, streams: Iterable[str]) -> dict[str, str]:
    """Each stream's last id read in `offset`, "0-0" for a stream it does not name (one that appeared later).

    >>> positions({"streams": {"a": "5-1", "gone": "9-0"}}, ["a", "b"])
    {'a': '5-1', 'b': '0-0'}
    """
    known = (offset or {}).get("streams") or {}
    if not isinstance(known, Mapping):
        raise ValueError(f"offset {offset!r}: 'streams' must map stream names to entry ids")
    found = {name: str(known.get(name, NOTHING_READ)) for name in streams}
    for name, entry_id in found.items():
        try:
            parse_entry_id(entry_id)
        except ValueError as exc:
            raise ValueError(f"offset for stream {name!r}: {exc}") from None
    return found


def as_offset(stream_positions: Mapping[str, str]) -> dict:
    """The offset dict Spark checkpoints for these positions."""
    return {"streams": dict(stream_positions)}


def fair_shares(total: int, streams: list[str]) -> dict[str, int]:
    """Split `total` rows between `streams` as evenly as possible; the first ones get the remainder.

    >>> fair_shares(10, ["a", "b", "c"])
    {'a': 4, 'b': 3, 'c': 3}
    >>> fair_shares(1, ["a", "b"])
    {'a': 1, 'b': 0}
    """
    if not streams:
        return {}
    each, extra = divmod(total, len(streams))
    return {name: each + (1 if i < extra else 0) for i, name in enumerate(streams)}


def limited_end(start: Mapping[str, str], target: Mapping[str, str], max_rows: int, probe: Probe) -> dict[str, str]:
    """End positions that take at most `max_rows` entries in total from (start, target], shared fairly.

    Rounds: each stream with a backlog asks for its fair share of what is left; a stream that had fewer
    entries than it asked for is done and the rest is shared again among the others. The streams furthest
    behind (smallest position) get the remainder first, so a small limit cannot starve a stream.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows}")
    end = dict(start)
    active = [name for name in start if is_after(target[name], start[name])]
    left = max_rows
    while left > 0 and active:
        active.sort(key=lambda name: parse_entry_id(end[name]))
        asks = {name: (end[name], target[name], n) for name, n in fair_shares(left, active).items() if n > 0}
        found = probe(asks)
        done = set()
        for name, (_, upto, wanted) in asks.items():
            count, last = found[name]
            left -= count
            # Fewer than asked means the range is used up: jump to the target, past any deleted tail.
            end[name] = upto if count < wanted else last
            if count < wanted:
                done.add(name)
        active = [name for name in active if name not in done]
    return end


def batch_clock(start: Mapping[str, str], end: Mapping[str, str], limited: bool) -> int:
    """How far a micro-batch from `start` to `end` has read the streams, as entry-id milliseconds.

    Every stream is read up to its newest entry when nothing limits the batch: the newest end is then
    the time the batch has reached. Under a row limit a stream may be left behind the others; the
    batch has read all of them only up to the earliest end among the streams it advanced (a stream
    with no new entries may simply be idle, so it does not hold the clock back).

    >>> batch_clock({"a": "0-0", "b": "0-0"}, {"a": "5000-0", "b": "9000-2"}, limited=False)
    9000
    >>> batch_clock({"a": "0-0", "b": "0-0", "c": "7000-0"}, {"a": "5000-0", "b": "9000-2", "c": "7000-0"}, True)
    5000
    """
    moved = [parse_entry_id(end[name])[0] for name in end if is_after(end[name], start.get(name, NOTHING_READ))]
    if limited and moved:
        return min(moved)
    return max(parse_entry_id(entry_id)[0] for entry_id in end.values()) if end else 0


def batch_pause(start: Mapping[str, str], firsts: Iterable[str]) -> int:
    """How long nothing arrived at all before a micro-batch: from the newest entry read before it to its first.

    `firsts` are the first entry ids the batch reads in each stream it advances.

    >>> batch_pause({"a": "5000-0", "b": "7000-0"}, ["30000-0", "31000-4"])
    23000
    >>> batch_pause({"a": "0-0"}, ["30000-0"]), batch_pause({"a": "9000-0", "b": "5000-0"}, ["8000-0"])
    (0, 0)
    """
    before = max((parse_entry_id(entry_id)[0] for entry_id in start.values() if entry_id != NOTHING_READ), default=None)
    first = min((parse_entry_id(entry_id)[0] for entry_id in firsts), default=None)
    if before is None or first is None:
        return 0
    return max(0, first - before)
