"""The "redis_streams" Spark data source: stream entries as a streaming DataFrame, offsets = entry ids.

Spark checkpoints `{"streams": {name: last_id_read}}`, so a restarted query replays exactly the range it
had not committed. Nothing is trimmed here: producers trim with MAXLEN/MINID (DESIGN decision 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import redis
from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadLimit, ReadMaxRows, SupportsTriggerAvailableNow

from detector.redis_server import SOCKET_TIMEOUT_S, redacted
from detector.stream_entries import SCHEMA, clock_batch, record_batch
from detector.stream_offsets import (
    NOTHING_READ, as_offset, batch_clock, batch_pause, is_after, later, limited_end, positions,
)

NAME = "redis_streams"
STARTING_OFFSETS = ("earliest", "latest")
DEFAULT_READ_BATCH_SIZE = 10_000

# Counts the entries in (after, upto], at most ARGV[3], and returns the count and the last id: finding where
# a row limit ends costs no transfer of the entries themselves. Chunks of 1000 bound the script's memory.
COUNT_AHEAD_LUA = """
local after, last, left, total = '(' .. ARGV[1], ARGV[1], tonumber(ARGV[3]), 0
while left > 0 do
  local got = redis.call('XRANGE', KEYS[1], after, ARGV[2], 'COUNT', math.min(left, 1000))
  if #got == 0 then break end
  last = got[#got][1]
  total, left, after = total + #got, left - #got, '(' .. last
end
return {total, last}
"""


class InvalidSourceOption(ValueError):
    """A redis_streams option is missing or malformed; the message names the option and its value."""


@dataclass(frozen=True)
class SourceOptions:
    """The redis_streams options, validated; the URL (which may hold a password) stays out of the repr."""

    url: str = field(repr=False)
    streams: tuple[str, ...]
    max_records_per_trigger: int | None = None
    starting_offsets: str = "earliest"
    read_batch_size: int = DEFAULT_READ_BATCH_SIZE

    @classmethod
    def parse(cls, options: Mapping[str, str]) -> "SourceOptions":
        """Validate Spark's string options (names are case-insensitive, as Spark treats them)."""
        given = {str(name).lower(): value for name, value in options.items()}
        unknown = sorted(set(given) - _OPTION_NAMES.keys())
        if unknown:
            known = ", ".join(_OPTION_NAMES.values())
            raise InvalidSourceOption(f"{NAME}: unknown option(s) {', '.join(unknown)}; known options: {known}")
        starting = str(given.get("startingoffsets", "earliest")).strip().lower()
        if starting not in STARTING_OFFSETS:
            raise InvalidSourceOption(
                f"{NAME} option startingOffsets={given['startingoffsets']!r}: expected 'earliest' or 'latest'")
        limit = given.get("maxrecordspertrigger")
        return cls(
            url=_redis_url(given.get("url")),
            streams=_stream_names(given.get("streams")),
            max_records_per_trigger=None if limit is None else _positive_int("maxRecordsPerTrigger", limit),
            starting_offsets=starting,
            read_batch_size=_positive_int("readBatchSize", given.get("readbatchsize", DEFAULT_READ_BATCH_SIZE)),
        )

    def client(self) -> redis.Redis:
        """A new client; text responses, with undecodable bytes replaced so one bad entry cannot stop a read."""
        return redis.Redis.from_url(self.url, decode_responses=True, encoding_errors="replace",
                                    socket_connect_timeout=5, socket_timeout=SOCKET_TIMEOUT_S, socket_keepalive=True)


_OPTION_NAMES = {name.lower(): name for name in
                 ("url", "streams", "maxRecordsPerTrigger", "startingOffsets", "readBatchSize")}


def _redis_url(raw: str | None) -> str:
    if raw is None or not str(raw).strip():
        raise InvalidSourceOption(f"{NAME} option url is required (e.g. redis://127.0.0.1:6379/0)")
    url = str(raw).strip()
    try:
        redis.connection.parse_url(url)
    except ValueError as exc:
        raise InvalidSourceOption(f"{NAME} option url={redacted(url)!r} is not a Redis URL: {exc}") from None
    return url


def _stream_names(raw: str | None) -> tuple[str, ...]:
    names = [name.strip() for name in str(raw or "").split(",") if name.strip()]
    if not names:
        raise InvalidSourceOption(f"{NAME} option streams={raw!r}: give one or more comma-separated stream names")
    if len(set(names)) != len(names):
        raise InvalidSourceOption(f"{NAME} option streams={raw!r}: a stream is named twice")
    return tuple(names)


def _positive_int(name: str, raw: object) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidSourceOption(f"{NAME} option {name}={raw!r}: not an integer") from None
    if value < 1:
        raise InvalidSourceOption(f"{NAME} option {name}={raw!r}: must be at least 1")
    return value


@dataclass(frozen=True)
class StreamRange(InputPartition):
    """The entries of one stream after `after` up to and including `upto`: one Spark task."""

    stream: str
    after: str
    upto: str


@dataclass(frozen=True)
class ClockTick(InputPartition):
    """One row saying how far the micro-batch has read, and after what pause (`stream_entries.CLOCK_STREAM`)."""

    clock_ms: int
    pause_ms: int


class RedisStreamsReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Plans micro-batches over entry ids and reads them; pickled to workers, so it holds no client."""

    def __init__(self, options: SourceOptions) -> None:
        self.options = options
        self.available_now_target: dict[str, str] | None = None

    def initialOffset(self) -> dict:
        """Nothing read ("earliest") or each stream's current last entry ("latest")."""
        if self.options.starting_offsets == "latest":
            return as_offset(self.last_ids())
        return as_offset({name: NOTHING_READ for name in self.options.streams})

    def getDefaultReadLimit(self) -> ReadLimit:
        """ReadMaxRows(maxRecordsPerTrigger) when that option is set, else everything available."""
        limit = self.options.max_records_per_trigger
        return ReadMaxRows(limit) if limit else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        """Freeze the last ids now: an availableNow query ends once it has read up to them."""
        self.available_now_target = self.last_ids()

    def latestOffset(self, start: dict, limit: ReadLimit) -> dict:
        """Where the next micro-batch ends: everything up to the target, or at most `limit.max_rows` entries."""
        begin = positions(start, self.options.streams)
        target = self.available_now_target or self.last_ids()
        if isinstance(limit, ReadMaxRows):
            return as_offset(limited_end(begin, target, limit.max_rows, self.count_ahead))
        if not isinstance(limit, ReadAllAvailable):
            raise TypeError(f"{NAME}: unsupported read limit {limit!r}")
        # A stream trimmed or recreated behind our position must not move the offset backwards.
        return as_offset({name: later(begin[name], target[name]) for name in begin})

    def reportLatestOffset(self) -> dict:
        """The streams' current last ids, for the query's progress report."""
        return as_offset(self.last_ids())

    def partitions(self, start: dict, end: dict) -> Sequence[InputPartition]:
        """One partition per stream with entries in (start, end], and a clock tick."""
        begin = positions(start, self.options.streams)
        stop = positions(end, self.options.streams)
        ranges: list[InputPartition] = [StreamRange(name, begin[name], stop[name])
                                        for name in self.options.streams if is_after(stop[name], begin[name])]
        if not ranges:
            return ranges
        clock_ms = batch_clock(begin, stop, limited=self.options.max_records_per_trigger is not None)
        return ranges + [ClockTick(clock_ms, batch_pause(begin, self.first_ids(ranges)))]

    def read(self, partition: StreamRange | ClockTick):
        """The partition's entries as Arrow record batches of at most readBatchSize rows (a tick: its one row)."""
        if isinstance(partition, ClockTick):
            yield clock_batch(partition.clock_ms, partition.pause_ms)
            return
        client = self.options.client()
        # Keep XRANGE's raw reply, [id, [field, value, ...]]: Arrow reads it directly, dicts would double the cost.
        client.set_response_callback("XRANGE", _unparsed)
        try:
            after, size = partition.after, self.options.read_batch_size
            while True:
                entries = client.xrange(partition.stream, min=f"({after}", max=partition.upto, count=size)
                if not entries:
                    return
                yield record_batch(partition.stream, entries)
                if len(entries) < size:
                    return
                after = entries[-1][0]
        finally:
            client.close()

    def commit(self, end: dict) -> None:
        """Nothing to do: producers trim the streams (MAXLEN/MINID), never the reader."""

    def last_ids(self) -> dict[str, str]:
        """Each stream's newest entry id, "0-0" for an empty or missing stream."""
        with self.options.client() as client:
            pipe = client.pipeline(transaction=False)
            for name in self.options.streams:
                pipe.xrevrange(name, max="+", min="-", count=1)
            newest = _replies(self.options.streams, pipe)
        return {name: found[0][0] if found else NOTHING_READ for name, found in zip(self.options.streams, newest)}

    def first_ids(self, ranges: Sequence[StreamRange]) -> list[str]:
        """The first entry id in each range (a range whose entries were trimmed since has none)."""
        with self.options.client() as client:
            pipe = client.pipeline(transaction=False)
            for part in ranges:
                pipe.xrange(part.stream, min=f"({part.after}", max=part.upto, count=1)
            found = _replies([part.stream for part in ranges], pipe)
        return [entries[0][0] for entries in found if entries]

    def count_ahead(self, asks: dict[str, tuple[str, str, int]]) -> dict[str, tuple[int, str]]:
        """For each stream: how many entries (at most the ask) follow `after` up to `upto`, and the last one."""
        with self.options.client() as client:
            script = client.register_script(COUNT_AHEAD_LUA)
            pipe = client.pipeline(transaction=False)
            for name, (after, upto, at_most) in asks.items():
                script(keys=[name], args=[after, upto, at_most], client=pipe)
            replies = _replies(list(asks), pipe)
        return {name: (int(count), str(last)) for name, (count, last) in zip(asks, replies)}


def _unparsed(response, **options):
    return response


def _replies(streams: Sequence[str], pipe) -> list:
    """The pipeline's replies, one per stream; a failure names its stream (e.g. a key that is not a stream)."""
    replies = pipe.execute(raise_on_error=False)
    for name, reply in zip(streams, replies):
        if isinstance(reply, Exception):
            raise RuntimeError(f"{NAME}: reading stream {name!r} failed: {reply}") from reply
    return replies


class RedisStreamsDataSource(DataSource):
    """Spark data source "redis_streams"; options: url, streams, maxRecordsPerTrigger, startingOffsets,
    readBatchSize."""

    @classmethod
    def name(cls) -> str:
        """The format name used in `spark.readStream.format(...)`."""
        return NAME

    def schema(self) -> str:
        """The row schema; options are validated here because Spark calls this at load(), on the driver."""
        SourceOptions.parse(self.options)
        return SCHEMA

    def streamReader(self, schema) -> RedisStreamsReader:
        """The stream reader for these options."""
        return RedisStreamsReader(SourceOptions.parse(self.options))


def read_events(spark, url: str, streams: str | Sequence[str], max_records_per_trigger: int | None = None,
                starting_offsets: str = "earliest", read_batch_size: int | None = None):
    """A streaming DataFrame of the entries of `streams` (names, or one comma-separated string) at `url`."""
    options = {"url": url, "streams": streams if isinstance(streams, str) else ",".join(streams),
               "startingOffsets": starting_offsets}
    if max_records_per_trigger is not None:
        options["maxRecordsPerTrigger"] = str(max_records_per_trigger)
    if read_batch_size is not None:
        options["readBatchSize"] = str(read_batch_size)
    SourceOptions.parse(options)  # fail here, in plain Python, before Spark wraps the error
    spark.dataSource.register(RedisStreamsDataSource)
    return spark.readStream.format(NAME).options(**options).load()
