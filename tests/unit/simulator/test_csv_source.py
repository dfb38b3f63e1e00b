"""CSV data sets: the column mapping, time formats, one sensor per file, directories, and bad rows."""

import csv
from pathlib import Path

import pytest

from detector.events import parse_event
from simulator.csv_source import CsvMapping, parse_time, read_csv
from simulator.replay import BadRows, ReplayError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "replay"
NAB = FIXTURES / "nab"
APRIL_1_2014 = 1_396_310_400_000


@pytest.mark.parametrize("text, expected", [
    ("1396310400", APRIL_1_2014),
    ("1396310400000", APRIL_1_2014),
    ("1396310400.25", APRIL_1_2014 + 250),
    ("2014-04-01 00:00:00", APRIL_1_2014),
    ("2014-04-01T00:00:00Z", APRIL_1_2014),
    ("2014-04-01T01:00:00+01:00", APRIL_1_2014),
    (" 2014-04-01 00:00:00.500 ", APRIL_1_2014 + 500),
])
def test_times_are_read_in_any_usual_format_and_naive_ones_are_utc(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text, reason", [
    ("yesterday", "is neither epoch seconds or milliseconds nor an ISO-8601 time"),
    ("", "is neither"),
    ("1396310400000000", "outside the years 2000-2100"),
    ("1999-12-31 23:59:59", "outside the years 2000-2100"),
    ("nan", "is neither"),
])
def test_unreadable_times_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_time(text)


def test_a_nab_file_replays_as_one_sensor_named_after_it():
    path = NAB / "realKnownCause" / "nyc_taxi.csv"
    got = list(read_csv(path))
    with path.open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(got) == len(rows) == 30
    events = [parse_event(r.fields) for r in got]
    assert {e.sensor_id for e in events} == {"nyc_taxi"}
    assert [e.ts_ms for e in events] == [parse_time(r["timestamp"]) for r in rows] == [r.at_ms for r in got]
    assert [e.value for e in events] == [float(r["value"]) for r in rows]
    assert events[1].ts_ms - events[0].ts_ms == 30 * 60 * 1000


def test_a_fixed_sensor_id_replaces_the_file_name():
    got = read_csv(NAB / "realKnownCause" / "nyc_taxi.csv", CsvMapping(sensor_id="taxi/pickups"))
    assert {r.fields["sensor_id"] for r in got} == {"taxi/pickups"}


def test_other_column_names_and_a_sensor_column():
    mapping = CsvMapping(time_column="epoch_s", value_column="reading", sensor_column="probe")
    got = [r.fields for r in read_csv(FIXTURES / "many_sensors.csv", mapping)]
    assert got == [
        {"sensor_id": "room-1/temperature", "ts": "1704067200000", "value": "21.5"},
        {"sensor_id": "room-1/humidity", "ts": "1704067200000", "value": "40.0"},
        {"sensor_id": "room-1/temperature", "ts": "1704067260500", "value": "21.75"},
        {"sensor_id": "room-1/humidity", "ts": "1704067260000", "value": "41.0"},
    ]


def test_a_directory_replays_every_file_merged_by_time_with_category_and_stem_ids():
    got = list(read_csv(NAB))
    assert len(got) == 90
    assert [r.at_ms for r in got] == sorted(r.at_ms for r in got)
    per_sensor = {}
    for record in got:
        per_sensor.setdefault(record.fields["sensor_id"], []).append(record.at_ms)
    assert sorted(per_sensor) == ["artificialWithAnomaly/art_daily_jumpsdown", "artificialWithAnomaly/art_daily_jumpsup",
                                  "realKnownCause/nyc_taxi"]
    assert all(len(times) == 30 for times in per_sensor.values())
    # the two artificial files share their timestamps: they interleave, the first file first at each time
    assert [r.fields["sensor_id"].split("_")[-1] for r in got[:4]] == ["jumpsdown", "jumpsup", "jumpsdown", "jumpsup"]


def test_a_bad_row_stops_the_replay_with_its_file_and_line():
    rows = read_csv(FIXTURES / "bad_rows.csv")
    assert next(rows).fields["value"] == "1.5"
    with pytest.raises(ReplayError, match=r"bad_rows\.csv:3: column 'value': 'n/a' is not a number$"):
        next(rows)


def test_bad_rows_can_be_skipped_and_counted():
    bad = BadRows(skip=True)
    got = [r.fields["value"] for r in read_csv(FIXTURES / "bad_rows.csv", bad=bad)]
    assert got == ["1.5", "2.5", "4.5"]
    assert bad.count == 4
    assert bad.first.endswith("bad_rows.csv:3: column 'value': 'n/a' is not a number")


@pytest.mark.parametrize("line, reason", [
    (5, "column 'timestamp': 'yesterday' is neither epoch seconds or milliseconds nor an ISO-8601 time"),
    (6, "column 'value': 'inf' is not finite"),
    (7, "1 column(s), fewer than the header's"),
])
def test_each_kind_of_bad_row_is_named(tmp_path, line, reason):
    lines = (FIXTURES / "bad_rows.csv").read_text().splitlines()
    one_bad = tmp_path / "one.csv"
    one_bad.write_text("\n".join([lines[0], lines[line - 1]]) + "\n")
    with pytest.raises(ReplayError) as caught:
        list(read_csv(one_bad))
    assert str(caught.value) == f"{one_bad}:2: {reason}"


def test_a_missing_column_is_refused_before_any_row_is_read(tmp_path):
    with pytest.raises(ReplayError, match=r"nyc_taxi\.csv:1: no column 'time' \(columns: timestamp, value\)"):
        read_csv(NAB / "realKnownCause" / "nyc_taxi.csv", CsvMapping(time_column="time"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ReplayError, match=r"empty\.csv:1: empty file"):
        read_csv(empty)


def test_a_directory_without_csv_files_or_a_missing_path_is_refused(tmp_path):
    with pytest.raises(ReplayError, match="no .csv files in this directory"):
        read_csv(tmp_path)
    with pytest.raises(ReplayError, match="no such file or directory"):
        read_csv(tmp_path / "nothing.csv")


def test_a_sensor_column_and_a_fixed_sensor_id_are_exclusive():
    with pytest.raises(ReplayError, match="choose a sensor id column"):
        CsvMapping(sensor_column="probe", sensor_id="x")
