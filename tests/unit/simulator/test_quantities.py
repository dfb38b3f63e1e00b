"""Durations and start times as scenario files write them."""

import datetime as dt

import pytest

from simulator.quantities import parse_duration, parse_start


@pytest.mark.parametrize("text, ms", [("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000),
                                      ("1d", 86_400_000), ("1w", 604_800_000), ("1h30m", 5_400_000),
                                      ("1.5s", 1500), (" 10 s ", 10_000), (3, 3000), (0.25, 250), ("-2m", -120_000)])
def test_durations(text, ms):
    assert parse_duration(text) == ms


@pytest.mark.parametrize("bad", ["", "soon", "5", "5 minutes", "1h and 2m", True, None, [1]])
def test_bad_durations_say_what_a_duration_looks_like(bad):
    with pytest.raises(ValueError, match="must be a duration like 30s"):
        parse_duration(bad)


def test_start_times_from_iso_epoch_and_yaml_datetimes():
    assert parse_start("2024-01-01T01:00:00+01:00") == 1_704_067_200_000
    assert parse_start(dt.datetime(2024, 1, 1)) == 1_704_067_200_000  # YAML: no zone means UTC
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_start("noon")
