"""Reading replay sources: recordings read back exactly as recorded, CSV by suffix, and what is refused."""

from pathlib import Path

import pytest

from simulator.csv_source import CsvMapping
from simulator.generator import generate
from simulator.recording import read_recording, record
from simulator.replay import BadRows, ReplayError
from simulator.sources import count_lines, open_source
from tests.unit.simulator.conftest import build

NAB = Path(__file__).parents[2] / "fixtures" / "replay" / "nab"
FAULTY = """
faults:
  - {kind: malformed, at: 2m, duration: 10m, rate: 0.3, sensors: [pump-1/flow]}
  - {kind: late, at: 5m, duration: 5m, delay: 1m, rate: 0.5, sensors: [pump-2/pressure]}
"""


@pytest.fixture(scope="module")
def faulty():
    return build(FAULTY)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_recording_reads_back_as_the_records_that_went_on_the_bus(tmp_path, faulty, fmt):
    done = record(faulty, tmp_path / f"run.{fmt}", fmt)
    events = list(generate(faulty))
    got = list(read_recording(done.events_path))
    assert [r.fields for r in got] == [e.to_fields() for e in events]
    assert sum(1 for e in events if e.defect) > 10, "malformed records stay malformed"
    if fmt == "parquet":
        assert [r.at_ms for r in got] == [e.emit_ms for e in events]
    else:  # paced by the latest event time seen: never behind it, never backwards
        assert [r.at_ms for r in got] == sorted(r.at_ms for r in got)
        assert all(r.at_ms >= e.ts_ms for r, e in zip(got, events) if not e.defect)


def test_a_broken_recording_line_is_named_or_skipped(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text('{"sensor_id":"a","ts":"1704067200000","value":"1"}\n{"sensor_id":\n\n{}\n[1]\n'
                    '{"sensor_id":"a","ts":"1704067201000","value":2}\n{"sensor_id":"a","value":"3"}\n')
    with pytest.raises(ReplayError, match=r"run\.jsonl:2: not JSON \(Expecting value\)"):
        list(read_recording(path))
    bad = BadRows(skip=True)
    got = list(read_recording(path, bad))
    assert [r.fields["value"] for r in got] == ["1", "3"] and bad.count == 4
    assert got[1].at_ms == 1_704_067_200_000, "a record without ts is paced with the one before it"


def test_a_parquet_file_that_is_not_a_recording_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"timestamp": [1], "value": [2.0]}), tmp_path / "other.parquet")
    with pytest.raises(ReplayError, match="not a tocsin recording: no column"):
        list(read_recording(tmp_path / "other.parquet"))
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(ReplayError, match=r"junk\.parquet: not a readable Parquet file"):
        list(read_recording(tmp_path / "junk.parquet"))


def test_sources_are_told_apart_by_suffix_and_know_about_how_many_records_they_hold(tmp_path, faulty):
    done = record(faulty, tmp_path / "run.jsonl")
    recording = open_source(done.events_path)
    assert (recording.kind, recording.files, recording.total) == ("recording", (done.events_path,), done.events)
    parquet = open_source(record(faulty, tmp_path / "run.parquet", "parquet").events_path)
    assert parquet.total == done.events
    folder = open_source(NAB)
    assert (folder.kind, len(folder.files), folder.total) == ("csv", 3, 90)
    assert len(list(folder.records)) == 90


def test_what_cannot_be_replayed_is_refused_with_the_reason(tmp_path, faulty):
    done = record(faulty, tmp_path / "run.jsonl")
    with pytest.raises(ReplayError, match="this is a labels file; replay the events file beside it"):
        open_source(done.labels_path)
    with pytest.raises(ReplayError, match="column options apply to CSV data only"):
        open_source(done.events_path, CsvMapping(time_column="t"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ReplayError, match=r"notes\.txt: cannot tell what this is"):
        open_source(tmp_path / "notes.txt")
    with pytest.raises(ReplayError, match="no such file or directory"):
        open_source(tmp_path / "missing.jsonl")


def test_lines_are_counted_with_or_without_a_final_newline(tmp_path):
    path = tmp_path / "x"
    for text, lines in [("", 0), ("a", 1), ("a\n", 1), ("a\nb", 2), ("a\n" * 3_000_000, 3_000_000)]:
        path.write_text(text)
        assert count_lines(path) == lines
