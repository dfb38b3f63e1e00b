"""The detector's per-sensor work in one plain Python process, without Spark.

It runs exactly what the Spark job runs per sensor (`advance`), so it is both the baseline the job's
throughput is compared with (`make bench`) and the reference its restart test compares against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from detector.sensor_group import SensorGroup
from detector.sensor_state import BatchResult, RawEntry
from detector.stream_offsets import parse_entry_id


def raw_entry(stream: str, entry_id, fields: dict) -> RawEntry:
    """A RawEntry from a redis-py reply, decoding bytes as the Spark source does (bad bytes replaced)."""
    text_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, seq = parse_entry_id(text_id)
    decoded = {_text(k): _text(v) for k, v in fields.items()}
    return RawEntry(stream=stream, entry_id=text_id, id_ms=ms, id_seq=seq, fields=decoded)


def read_all(client, streams: Iterable[str], chunk: int = 10_000) -> Iterator[RawEntry]:
    """Every entry of the streams, stream by stream, in entry-id order."""
    for stream in streams:
        after = "-"
        while True:
            got = client.xrange(stream, min=after, max="+", count=chunk)
            for entry_id, fields in got:
                yield raw_entry(stream, entry_id, fields)
            if len(got) < chunk:
                break
            last = got[-1][0]
            after = "(" + (last.decode() if isinstance(last, bytes) else last)


class LocalDetector(SensorGroup):
    """All sensors in one dict instead of Spark state: the job's per-sensor work without Spark."""

    def process(self, entries: Iterable[RawEntry]) -> BatchResult:
        """One batch, merged over every sensor."""
        return super().process(entries)[0]


def _text(value) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
