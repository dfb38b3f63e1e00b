"""The redis_streams source against a real redis-server, and through a real local Spark session."""

from __future__ import annotations

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadMaxRows

from detector.source import ClockTick, InvalidSourceOption, RedisStreamsReader, SourceOptions, StreamRange, read_events
from detector.stream_entries import CLOCK_STREAM
from detector.stream_offsets import NOTHING_READ, parse_entry_id

pytestmark = pytest.mark.integration


def add_events(client, stream: str, count: int, first: int = 0, **extra) -> list[str]:
    """XADD `count` events to `stream`; returns their entry ids."""
    pipe = client.pipeline(transaction=False)
    for i in range(first, first + count):
        fields = {"sensor_id": f"{stream}/s{i % 3}", "ts": str(1_700_000_000_000 + i), "value": str(i)}
        pipe.xadd(stream, {**fields, **extra})
    return [entry_id.decode() for entry_id in pipe.execute()]


def reader(url: str, streams: str, **options) -> RedisStreamsReader:
    return RedisStreamsReader(SourceOptions.parse({"url": url, "streams": streams, **options}))


def read_all_rows(source: RedisStreamsReader, start: dict, end: dict) -> list[dict]:
    return [row for part in source.partitions(start, end) for batch in source.read(part) for row in batch.to_pylist()]


def read_range(source: RedisStreamsReader, start: dict, end: dict) -> list[dict]:
    """The entries of the batch, without its clock tick."""
    return [row for row in read_all_rows(source, start, end) if row["stream"] != CLOCK_STREAM]


# --- the reader alone, on a real redis-server ---------------------------------------------------------

def test_row_limit_batches_cover_every_entry_once(redis_url, redis_client):
    written = {(stream, entry_id) for stream, count in (("a", 10), ("b", 10), ("c", 2))
               for entry_id in add_events(redis_client, stream, count)}
    source = reader(redis_url, "a,b,c,empty", readBatchSize="3")
    position, sizes, seen = source.initialOffset(), [], []
    while (end := source.latestOffset(position, ReadMaxRows(9))) != position:
        rows = read_range(source, position, end)
        sizes.append(len(rows))
        seen += [(row["stream"], row["id"]) for row in rows]
        position = end
    assert sizes == [9, 9, 4]
    assert len(seen) == len(written) and set(seen) == written
    assert position["streams"]["empty"] == NOTHING_READ


def test_partitions_are_one_per_stream_with_new_entries(redis_url, redis_client):
    add_events(redis_client, "a", 3)
    add_events(redis_client, "b", 2)
    source = reader(redis_url, "a,b")
    start = source.latestOffset(source.initialOffset(), ReadAllAvailable())
    add_events(redis_client, "b", 2, first=2)
    end = source.latestOffset(start, ReadAllAvailable())
    parts = source.partitions(start, end)
    assert [(p.stream, p.after) for p in parts if isinstance(p, StreamRange)] == [("b", start["streams"]["b"])]
    assert [row["value"] for row in read_range(source, start, end)] == ["2", "3"]


def test_a_batch_ends_with_one_clock_tick_at_its_newest_entry_and_an_empty_one_has_none(redis_url, redis_client):
    add_events(redis_client, "a", 3)
    newest = add_events(redis_client, "b", 2)[-1]
    source = reader(redis_url, "a,b")
    start = source.initialOffset()
    end = source.latestOffset(start, ReadAllAvailable())
    ticks = [row for row in read_all_rows(source, start, end) if row["stream"] == CLOCK_STREAM]
    assert [(tick["id_ms"], tick["sensor_id"], tick["value"]) for tick in ticks] == [
        (parse_entry_id(newest)[0], None, None)]
    assert source.partitions(end, end) == []
    assert isinstance(source.partitions(start, end)[-1], ClockTick)


def test_available_now_stops_at_the_entries_present_when_prepared(redis_url, redis_client):
    before = add_events(redis_client, "a", 4)
    source = reader(redis_url, "a", maxRecordsPerTrigger="3")
    source.prepareForTriggerAvailableNow()
    add_events(redis_client, "a", 5, first=4)
    first = source.latestOffset(source.initialOffset(), source.getDefaultReadLimit())
    last = source.latestOffset(first, source.getDefaultReadLimit())
    assert first["streams"]["a"] == before[2] and last["streams"]["a"] == before[-1]
    assert source.latestOffset(last, ReadAllAvailable()) == last


def test_latest_start_skips_existing_entries_and_a_new_stream_starts_at_the_beginning(redis_url, redis_client):
    existing = add_events(redis_client, "a", 3)
    source = reader(redis_url, "a,later", startingOffsets="latest")
    start = source.initialOffset()
    assert start == {"streams": {"a": existing[-1], "later": NOTHING_READ}}
    new = add_events(redis_client, "later", 2)
    assert [row["id"] for row in read_range(source, start, source.latestOffset(start, ReadAllAvailable()))] == new


def test_undecodable_bytes_are_replaced_not_fatal(redis_url, redis_client):
    redis_client.xadd("a", {"sensor_id": b"t\xff1", "ts": "1700000000000", "value": "1", b"n\xfeote": b"\xc3"})
    source = reader(redis_url, "a")
    (row,) = read_range(source, source.initialOffset(), source.latestOffset(source.initialOffset(), ReadAllAvailable()))
    assert row["sensor_id"] == "t\ufffd1" and row["extra"] == '{"n\ufffdote": "\ufffd"}'


def test_commit_trims_nothing_and_a_wrong_key_type_is_named(redis_url, redis_client):
    add_events(redis_client, "a", 5)
    source = reader(redis_url, "a")
    source.commit(source.latestOffset(source.initialOffset(), ReadAllAvailable()))
    assert redis_client.xlen("a") == 5
    redis_client.set("not-a-stream", "x")
    with pytest.raises(RuntimeError, match="stream 'not-a-stream'.*WRONGTYPE"):
        reader(redis_url, "a,not-a-stream", startingOffsets="latest").initialOffset()


# --- through Spark ----------------------------------------------------------------------------------------

def run_available_now(spark, checkpoint, url, streams, **options) -> list[list]:
    """Run one availableNow query to its end; the entry rows of each micro-batch (its clock tick aside), in order."""
    batches: dict[int, list] = {}
    query = (read_events(spark, url, streams, **options).writeStream
             .foreachBatch(lambda frame, batch_id: batches.__setitem__(batch_id, frame.collect()))
             .option("checkpointLocation", str(checkpoint)).trigger(availableNow=True).start())
    query.awaitTermination()
    entries = []
    for i in sorted(batches):
        rows = batches[i]
        ticks = [row for row in rows if row.stream == CLOCK_STREAM]
        assert len(ticks) == (1 if rows else 0)  # every batch that read something says how far it read
        entries.append([row for row in rows if row.stream != CLOCK_STREAM])
    return entries


def test_spark_reads_every_entry_once_and_resumes_from_its_checkpoint(spark, redis_url, redis_client, tmp_path):
    written = {stream: add_events(redis_client, stream, 12, extra_field="x") for stream in ("e:0", "e:1", "e:2")}
    rows = [row for batch in run_available_now(spark, tmp_path, redis_url, ["e:0", "e:1", "e:2"]) for row in batch]
    assert sorted((r.stream, r.id) for r in rows) == sorted((s, i) for s, ids in written.items() for i in ids)
    first = next(r for r in rows if (r.stream, r.id) == ("e:1", written["e:1"][5]))
    assert (first.sensor_id, first.ts, first.value, first.unit, first.extra) == (
        "e:1/s2", "1700000000005", "5", None, '{"extra_field": "x"}')
    assert f"{first.id_ms}-{first.id_seq}" == first.id

    more = add_events(redis_client, "e:2", 5, first=12)
    again = [row for batch in run_available_now(spark, tmp_path, redis_url, ["e:0", "e:1", "e:2"]) for row in batch]
    assert sorted(r.id for r in again) == sorted(more)


def test_spark_batches_hold_at_most_max_records_per_trigger(spark, redis_url, redis_client, tmp_path):
    for stream, count in (("e:0", 10), ("e:1", 10), ("e:2", 5)):
        add_events(redis_client, stream, count)
    batches = run_available_now(spark, tmp_path, redis_url, "e:0,e:1,e:2", max_records_per_trigger=7)
    assert [len(batch) for batch in batches] == [7, 7, 7, 4]
    assert len({(r.stream, r.id) for batch in batches for r in batch}) == 25


def test_spark_latest_start_skips_what_was_there(spark, redis_url, redis_client, tmp_path):
    add_events(redis_client, "e:0", 6)
    assert sum(map(len, run_available_now(spark, tmp_path, redis_url, "e:0", starting_offsets="latest"))) == 0
    new = add_events(redis_client, "e:0", 3, first=6)
    rows = run_available_now(spark, tmp_path, redis_url, "e:0", starting_offsets="latest")
    assert sorted(r.id for batch in rows for r in batch) == sorted(new)


def test_spark_refuses_a_bad_option_at_load_naming_it(spark, redis_url):
    read_events(spark, redis_url, "a")  # registers the source
    with pytest.raises(AnalysisException, match="maxRecordsPerTrigger='ten': not an integer") as caught:
        (spark.readStream.format("redis_streams").option("url", "redis://:hunter2@127.0.0.1:1/0")
         .option("streams", "a").option("maxRecordsPerTrigger", "ten").load())
    assert "hunter2" not in str(caught.value)
    with pytest.raises(InvalidSourceOption, match="startingOffsets='newest'"):
        read_events(spark, redis_url, "a", starting_offsets="newest")
