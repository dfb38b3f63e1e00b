"""Options of the redis_streams source: validated once, each bad one named with its value, no password shown."""

from __future__ import annotations

import pytest

from detector.source import InvalidSourceOption, SourceOptions

URL = "redis://127.0.0.1:6379/0"


def parse(**options):
    return SourceOptions.parse({"url": URL, "streams": "a", **options})


def test_defaults_and_comma_separated_streams():
    options = SourceOptions.parse({"url": URL, "streams": " a, b ,c,"})
    assert options.streams == ("a", "b", "c")
    assert options.max_records_per_trigger is None
    assert (options.starting_offsets, options.read_batch_size) == ("earliest", 10_000)


def test_option_names_are_case_insensitive_as_in_spark():
    options = SourceOptions.parse(
        {"URL": URL, "Streams": "a", "maxrecordspertrigger": "50", "STARTINGOFFSETS": "Latest"})
    assert options.max_records_per_trigger == 50 and options.starting_offsets == "latest"


@pytest.mark.parametrize("options, message", [
    ({"maxRecordsPerTrigger": "ten"}, "maxRecordsPerTrigger='ten': not an integer"),
    ({"maxRecordsPerTrigger": "0"}, "maxRecordsPerTrigger='0': must be at least 1"),
    ({"readBatchSize": "-5"}, "readBatchSize='-5': must be at least 1"),
    ({"startingOffsets": "newest"}, "startingOffsets='newest': expected 'earliest' or 'latest'"),
    ({"streams": " , "}, "streams=' , ': give one or more"),
    ({"streams": "a,b,a"}, "streams='a,b,a': a stream is named twice"),
    ({"maxRecordPerTrigger": "5"}, "unknown option\\(s\\) maxrecordpertrigger"),
])
def test_bad_option_names_option_and_value(options, message):
    with pytest.raises(InvalidSourceOption, match=message):
        parse(**options)


def test_missing_url_or_streams_is_named():
    with pytest.raises(InvalidSourceOption, match="option url is required"):
        SourceOptions.parse({"streams": "a"})
    with pytest.raises(InvalidSourceOption, match="option streams=None"):
        SourceOptions.parse({"url": URL})


def test_bad_url_error_hides_the_password():
    with pytest.raises(InvalidSourceOption) as caught:
        SourceOptions.parse({"url": "http://:hunter2@example:6379", "streams": "a"})
    assert "url='http://:***@example:6379'" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_repr_leaves_the_url_out():
    options = SourceOptions.parse({"url": "redis://:hunter2@example:6379/0", "streams": "a"})
    assert "hunter2" not in repr(options) and "streams=('a',)" in repr(options)
