"""The replay loop: every record once, in order, committed with its position; paced by event time; resumable."""

import pytest

from simulator.replay import BadRows, BusRecord, Checkpoint, ReplayError, checkpoint_for, play

T0 = 1_704_067_200_000


class Ledger:
    """A sink that keeps what it was given: the batches written and the position of each flush."""

    streams = ("ledger",)

    def __init__(self):
        self.written, self.flushes, self.pending = [], [], []

    def open(self):
        pass

    def write(self, records):
        self.pending.extend(records)

    def flush(self, position):
        self.written.extend(self.pending)
        self.pending = []
        self.flushes.append(position)

    def close(self):
        self.pending = []


def records(count, step_ms=1000):
    return [BusRecord({"sensor_id": f"s{i % 3}", "ts": str(T0 + i * step_ms), "value": str(i)}, T0 + i * step_ms)
            for i in range(count)]


def values(fields):
    return [int(f["value"]) for f in fields]


def test_every_record_goes_once_in_order_and_each_batch_is_committed_with_its_position():
    sink, commits = Ledger(), []
    summary = play(records(2500), sink, batch=1000, on_commit=lambda sent, at: commits.append((sent, at)))
    assert values(sink.written) == list(range(2500))
    assert sink.flushes == [1000, 2000, 2500]
    assert commits == [(1000, T0 + 999_000), (2000, T0 + 1_999_000), (2500, T0 + 2_499_000)]
    assert (summary.events, summary.start, summary.finished, summary.streams) == (2500, 0, True, ("ledger",))


def test_a_limit_stops_the_run_and_a_start_goes_on_after_it():
    first, second = Ledger(), Ledger()
    stopped = play(records(25), first, batch=10, limit=12)
    assert (stopped.events, stopped.position, stopped.finished) == (12, 12, False)
    resumed = play(records(25), second, batch=10, start=stopped.position)
    assert (resumed.events, resumed.position, resumed.finished) == (13, 25, True)
    assert values(first.written + second.written) == list(range(25))
    assert second.flushes == [22, 25]


def test_a_limit_equal_to_what_is_left_finishes_the_run():
    assert play(records(5), Ledger(), limit=5).finished


def test_pacing_waits_by_event_time_and_commits_before_each_wait():
    now, slept, visible = [0.0], [], []
    sink = Ledger()

    def sleep(seconds):
        visible.append(len(sink.written))
        slept.append(seconds)
        now[0] += seconds

    play(records(4, step_ms=60_000), sink, speed=60.0, clock=lambda: now[0], sleep=sleep)
    assert slept == pytest.approx([1.0, 1.0, 1.0])
    assert visible == [1, 2, 3]


def test_records_without_an_event_time_go_at_once_with_their_neighbours():
    now, slept = [0.0], []
    stream = [BusRecord({"value": "0"}, T0), BusRecord({"value": "1"}, None), BusRecord({"value": "2"}, T0 + 2000)]
    summary = play(stream, Ledger(), speed=1.0, clock=lambda: now[0], sleep=slept.append)
    assert slept == [2.0] and summary.last_ms == T0 + 2000


def test_a_crash_leaves_only_whole_committed_batches_behind():
    def crashing():
        yield from records(25)[:15]
        raise MemoryError("the process dies here")

    sink = Ledger()
    with pytest.raises(MemoryError):
        play(crashing(), sink, batch=10)
    sink.close()
    assert values(sink.written) == list(range(10)) and sink.flushes == [10]


def test_a_bad_row_publishes_the_records_before_it_then_stops_the_run():
    def bad_at_16():
        yield from records(25)[:15]
        raise ReplayError("run.jsonl:16: not JSON")

    sink = Ledger()
    with pytest.raises(ReplayError, match="run.jsonl:16"):
        play(bad_at_16(), sink, batch=10)
    assert values(sink.written) == list(range(15)) and sink.flushes == [10, 15]


def test_bad_rows_are_counted_when_skipped_and_stop_the_run_otherwise():
    bad = BadRows(skip=True)
    bad.reject("a.csv:3", "first")
    bad.reject("a.csv:9", "second")
    assert (bad.count, bad.first) == (2, "a.csv:3: first")
    with pytest.raises(ReplayError, match=r"^a\.csv:3: first$"):
        BadRows().reject("a.csv:3", "first")


def test_a_checkpoint_is_named_by_the_source_and_its_shaping_options(tmp_path):
    data = tmp_path / "run.jsonl"
    data.write_text("{}\n")
    same = checkpoint_for(data, [data], {"shards": 2})
    assert same == checkpoint_for(data, [data], {"shards": 2})
    assert same.key.startswith("tocsin:replay:") and len(same.key) == len("tocsin:replay:") + 16
    assert same.key != checkpoint_for(data, [data], {"shards": 3}).key
    assert same.decode(same.encode(7)) == 7


def test_a_checkpoint_refuses_a_file_that_changed_since(tmp_path):
    data = tmp_path / "run.jsonl"
    data.write_text("{}\n")
    before = checkpoint_for(data, [data], {})
    data.write_text("{}\n{}\n")
    after = checkpoint_for(data, [data], {})
    assert after.key == before.key
    with pytest.raises(ReplayError, match="run.jsonl changed since its replay stopped at event 1: replay it without --resume"):
        after.decode(before.encode(1))
    assert Checkpoint(after.key, after.files).decode(None) == 0
