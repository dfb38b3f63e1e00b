"""Where published records go: the Redis streams of the event contract, a JSON-lines file, stdout, or Kafka.

Every sink has the same small contract, used by `tocsin simulate run` and `tocsin replay` alike:

    open()                 get ready (connect, open the file); a sink is also a context manager
    write(records)         queue a batch of records (dicts of string fields, in arrival order)
    flush(position)        make everything written so far durable; `position` is the count of source
                           records published once it returns (the Redis sink stores it atomically)
    close()                release resources; what was written but not flushed may be dropped

Kafka: install the client (`pip install confluent-kafka`, not a tocsin dependency) and pass the broker
list. Topic names are the stream names with `:` replaced by `.` (Kafka forbids `:`): `tocsin.events`, or
`tocsin.events.<i>` for N shards. Each message is keyed by sensor id, so a sensor stays in one partition,
in order; its value is the record's fields as a JSON object.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

import redis

from detector.events import shard_of, stream_names
from detector.redis_outage import OUTAGE_ERRORS, RedisRefused, address, wait_for_redis
from simulator.replay import Checkpoint

EVENT_PREFIX = "tocsin:events"
DEFAULT_MAXLEN = 10_000_000  # per stream; approximate, so trimming stays cheap
KAFKA_FLUSH_TIMEOUT_S = 30.0
# A run that keeps no replay checkpoint still stores its position with each batch, under this prefix, for a day:
# after a dropped connection it says whether the batch landed.
PUBLISH_PREFIX = "tocsin:publish:"
PUBLISH_MARK_TTL_S = 86_400

log = logging.getLogger("tocsin.redis")


class SinkError(RuntimeError):
    """A sink that is misconfigured or cannot deliver; the message says what to set or install."""


class Sink(Protocol):
    """The sink contract (see the module docstring); `streams` names where records go, for summaries."""

    streams: tuple[str, ...]

    def open(self) -> None:
        """Get ready to write."""

    def write(self, records: Sequence[dict[str, str]]) -> None:
        """Queue a batch of records, in arrival order."""

    def flush(self, position: int) -> None:
        """Make what was written durable; `position` source records are then published."""

    def close(self) -> None:
        """Release resources, dropping what was written but not flushed."""


class _Managed:
    """`with sink:` opens it and closes it, whatever happens in between."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ShardRouter:
    """The stream of each record: `shard_of(sensor_id)` among the N stream names, cached per sensor."""

    def __init__(self, shards: int = 1, prefix: str = EVENT_PREFIX) -> None:
        self.streams = tuple(stream_names(shards, prefix))
        self._shards = shards
        self._stream_of: dict[str, str] = {}

    def __call__(self, fields: dict[str, str]) -> str:
        """The stream name for a record (a record without a sensor id still goes somewhere: shard of "")."""
        sensor_id = fields.get("sensor_id", "")
        stream = self._stream_of.get(sensor_id)
        if stream is None:
            stream = self._stream_of[sensor_id] = self.streams[shard_of(sensor_id, self._shards)]
        return stream


class RedisSink(_Managed):
    """Pipelined XADD to the sharded event streams, with approximate MAXLEN trimming, riding out Redis outages.

    Each flush is one MULTI/EXEC holding the batch's XADDs and the SET of the position: under the
    replay's `checkpoint` (kept, so a later replay resumes from it), or under a key of this sink's own
    that expires after a day. So after a crash the stored position counts exactly the records that
    are on the streams, and when the connection drops during a flush (Redis restarts, fails over, the
    network goes), the sink waits for Redis to answer again (`detector.redis_outage`), reads the
    position back to learn whether the batch landed, and sends it again if it did not: nothing is
    lost or doubled. `wait=False` raises SinkError on an outage instead. A wrong password raises
    SinkError: no wait mends it.
    """

    def __init__(self, client: redis.Redis, *, shards: int = 1, prefix: str = EVENT_PREFIX,
                 maxlen: int = DEFAULT_MAXLEN, checkpoint: Checkpoint | None = None, wait: bool = True) -> None:
        self.client = client
        self.route = ShardRouter(shards, prefix)
        self.streams = self.route.streams
        self.maxlen = maxlen
        self.checkpoint = checkpoint
        self.wait = wait
        self._mark = checkpoint or Checkpoint(PUBLISH_PREFIX + uuid.uuid4().hex[:16], ())
        self._mark_ttl = None if checkpoint else PUBLISH_MARK_TTL_S  # a replay's checkpoint is kept for --resume
        self._queued: list[tuple[str, dict[str, str]]] | None = None
        self._run = uuid.uuid4().hex[:16]  # stored with the position: whose flush landed
        self._flushed: int | None = None  # the position this sink's last flush stored

    def open(self) -> None:
        """Start an empty batch."""
        self._queued = []

    def write(self, records: Sequence[dict[str, str]]) -> None:
        """Queue one XADD per record on its shard's stream."""
        route = self.route
        self._queued.extend((route(fields), fields) for fields in records)

    def flush(self, position: int) -> None:
        """Send the queued XADDs with the position, in one transaction; through an outage, once it ends."""
        while True:
            try:
                self._send(position)
                break
            except redis.RedisError as exc:
                dropped = isinstance(exc, (*OUTAGE_ERRORS, redis.WatchError))  # (a wrong password is no outage)
                if not self.wait or not dropped or isinstance(exc, redis.AuthenticationError):
                    raise self._failed(position, exc) from exc
            try:
                if self._landed(position):
                    break
            except (RedisRefused, redis.RedisError) as exc:
                raise self._failed(position, exc) from None
        self._queued.clear()
        self._flushed = position

    def _failed(self, position: int, exc: Exception) -> SinkError:
        """The error for a flush Redis refused: its credentials, or the events up to `position`."""
        if isinstance(exc, redis.AuthenticationError):
            exc = RedisRefused(address(self.client), str(exc))
        if isinstance(exc, RedisRefused):
            return SinkError(str(exc))
        return SinkError(f"redis: publishing the events up to {position:,} failed: {exc}")

    def _send(self, position: int) -> None:
        mark = self._mark
        with self.client.pipeline(transaction=True) as pipe:
            # Watched, a client that retries on a dropped connection (redis-py's `retry`) raises WatchError
            # instead of sending the batch a second time, since it cannot know whether the first one was applied.
            pipe.watch(mark.key)
            pipe.multi()
            maxlen = self.maxlen
            for stream, fields in self._queued:
                pipe.xadd(stream, fields, maxlen=maxlen, approximate=True)
            pipe.set(mark.key, mark.encode(position, self._run), ex=self._mark_ttl)
            pipe.execute()

    def _landed(self, position: int) -> bool:
        """After a flush failed midway: whether the batch up to `position` is on the streams (once Redis answers)."""
        where, key = address(self.client), self._mark.key
        try:
            raw = self.client.get(key)
        except OUTAGE_ERRORS as down:
            if isinstance(down, redis.AuthenticationError):
                raise
            wait_for_redis(lambda: self.client.get(key), threading.Event(), where=where,
                           reason=str(down) or type(down).__name__)
            raw = self.client.get(key)
        if Checkpoint.run_of(raw) == self._run:
            if self._mark.decode(raw) == position:
                return True
        elif self._flushed is not None:  # this run's mark is gone
            log.warning("Redis at %s no longer holds this publisher's progress (it restarted without its data, or "
                        "another replay of the same source ran meanwhile): the events before %s may be missing",
                        where, f"{self._flushed:,}")
        log.warning("Redis at %s: sending the events up to %s again", where, f"{position:,}")
        return False

    def close(self) -> None:
        """Drop anything queued but not flushed: it was never published, so a resume sends it."""
        self._queued = None

    def resume_position(self) -> int:
        """How many source records an earlier replay with the same checkpoint published (0: none)."""
        if self.checkpoint is None:
            raise SinkError("no checkpoint: this sink does not keep replay progress")
        return self.checkpoint.decode(self.client.get(self.checkpoint.key))


class JsonLinesSink(_Managed):
    """One compact JSON object per record, the format of `tocsin simulate record` (a replay re-records it)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.streams = (str(self.path),)
        self._out: IO[str] | None = None

    def open(self) -> None:
        """Create (or empty) the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = self.path.open("w", encoding="utf-8", newline="\n")

    def write(self, records: Sequence[dict[str, str]]) -> None:
        """Append the records as JSON lines."""
        self._out.write("".join(json.dumps(f, separators=(",", ":"), ensure_ascii=False) + "\n" for f in records))

    def flush(self, position: int) -> None:
        """Hand what was written to the operating system."""
        self._out.flush()

    def close(self) -> None:
        """Close the file."""
        if self._out is not None:
            self._out.close()
            self._out = None


class StdoutSink(JsonLinesSink):
    """JSON lines on standard output, for piping into other tools."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.path = Path("-")
        self.streams = ("stdout",)
        self._stream = stream
        self._out = None

    def open(self) -> None:
        """Write to the given stream, else to the current `sys.stdout`."""
        self._out = self._stream or sys.stdout

    def close(self) -> None:
        """Flush, but leave standard output open."""
        if self._out is not None:
            self._out.flush()
            self._out = None


def kafka_topic(stream: str) -> str:
    """The Kafka topic for an event stream name.

    >>> kafka_topic("tocsin:events:3")
    'tocsin.events.3'
    """
    return stream.replace(":", ".")


def kafka_message(fields: dict[str, str]) -> tuple[bytes, bytes]:
    """A record's Kafka key (its sensor id) and value (its fields as compact JSON).

    >>> kafka_message({"sensor_id": "p/t", "ts": "1", "value": "2.5"})
    (b'p/t', b'{"sensor_id":"p/t","ts":"1","value":"2.5"}')
    """
    value = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return fields.get("sensor_id", "").encode(), value.encode()


class KafkaSink(_Managed):
    """Produce each record to its shard's topic with confluent-kafka; flush waits for every delivery."""

    def __init__(self, bootstrap: str | None, *, shards: int = 1, prefix: str = EVENT_PREFIX) -> None:
        if not bootstrap:
            raise SinkError("the kafka sink needs a broker list: pass --kafka-bootstrap HOST:PORT[,HOST:PORT] "
                            "or set KAFKA_BOOTSTRAP_SERVERS")
        self.bootstrap = bootstrap
        self.route = ShardRouter(shards, prefix)
        self.streams = tuple(kafka_topic(s) for s in self.route.streams)
        self._producer = None
        self._failures: list[str] = []

    def open(self) -> None:
        """Create the producer (fails here, with what to install, when the client is missing)."""
        try:
            from confluent_kafka import Producer
        except ImportError:
            raise SinkError("the kafka sink needs the Kafka client: pip install confluent-kafka") from None
        self._producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True})

    def write(self, records: Sequence[dict[str, str]]) -> None:
        """Queue the records on the producer, waiting for room when its local queue is full."""
        for fields in records:
            key, value = kafka_message(fields)
            topic = kafka_topic(self.route(fields))
            while True:
                try:
                    self._producer.produce(topic, value=value, key=key, on_delivery=self._delivered)
                    break
                except BufferError:
                    self._producer.poll(0.5)
            self._producer.poll(0)

    def flush(self, position: int) -> None:
        """Wait until every queued record is acknowledged by the brokers, or fail saying why."""
        left = self._producer.flush(KAFKA_FLUSH_TIMEOUT_S)
        if left or self._failures:
            reason = self._failures[0] if self._failures else f"{left} record(s) still queued"
            raise SinkError(f"kafka at {self.bootstrap}: delivering the events up to {position:,} failed: {reason}")

    def close(self) -> None:
        """Forget the producer (confluent-kafka has nothing to close)."""
        self._producer = None

    def _delivered(self, error, message) -> None:
        if error is not None:
            self._failures.append(str(error))
