"""Stream entries to Arrow rows: contract fields copied, the rest kept as JSON, ids split for ordering."""

from __future__ import annotations

import json

import pyarrow as pa

from detector.stream_entries import ARROW_SCHEMA, SCHEMA, extra_fields, record_batch


def test_schema_string_and_arrow_schema_name_the_same_columns():
    names = [part.split()[0] for part in SCHEMA.split(", ")]
    assert names == ARROW_SCHEMA.names
    assert ARROW_SCHEMA.field("id_ms").type == pa.int64() and ARROW_SCHEMA.field("labels").type == pa.string()


def test_contract_fields_are_copied_and_missing_ones_are_null():
    entries = [
        ("1700000000000-0", ["sensor_id", "t1", "ts", "1700000000000", "value", "21.5", "device_id", "d1",
                             "site", "lab", "unit", "C", "labels", '{"floor": "2"}']),
        ("1700000000000-1", ["sensor_id", "t2", "value", "oops"]),
    ]
    rows = record_batch("tocsin:events:0", entries).to_pylist()
    assert rows[0] == {
        "stream": "tocsin:events:0", "id": "1700000000000-0", "id_ms": 1700000000000, "id_seq": 0,
        "sensor_id": "t1", "ts": "1700000000000", "value": "21.5", "device_id": "d1", "site": "lab",
        "unit": "C", "labels": '{"floor": "2"}', "extra": None,
    }
    assert rows[1]["id_seq"] == 1 and rows[1]["value"] == "oops"
    assert [rows[1][name] for name in ("ts", "device_id", "site", "unit", "labels")] == [None] * 5


def test_fields_outside_the_contract_go_to_extra_as_json_only_on_their_rows():
    entries = [("1-0", ["sensor_id", "a"]), ("2-0", ["sensor_id", "b", "zone", "nord", "batch", "7"]),
               ("3-0", ["sensor_id", "c"])]
    extra = record_batch("s", entries).column("extra").to_pylist()
    assert extra[0] is None and extra[2] is None
    assert json.loads(extra[1]) == {"batch": "7", "zone": "nord"}


def test_a_repeated_field_name_keeps_its_last_value_as_a_dict_would():
    row = record_batch("s", [("1-0", ["value", "1", "value", "2"])]).to_pylist()[0]
    assert row["value"] == "2"


def test_replacement_characters_from_undecodable_bytes_pass_through_unchanged():
    text = b"t\xff1".decode("utf-8", errors="replace")
    row = record_batch("s", [("1-0", ["sensor_id", text, "note", text])]).to_pylist()[0]
    assert row["sensor_id"] == "t\ufffd1"
    assert json.loads(row["extra"]) == {"note": "t\ufffd1"}


def test_no_entries_make_an_empty_batch_with_the_schema():
    batch = record_batch("s", [])
    assert batch.num_rows == 0 and batch.schema == ARROW_SCHEMA
    assert extra_fields([]) is None
