"""Job options that are pure: trigger intervals and the checkpoint's state layout."""

import pytest

from detector.job import BadOption, DetectorConfig, check_layout, trigger_args


def config(tmp_path, buckets):
    return DetectorConfig(redis_url="redis://x", streams=["s"], checkpoint=str(tmp_path / "cp"), state_buckets=buckets)


def test_a_checkpoint_keeps_its_state_bucket_count(tmp_path):
    check_layout(config(tmp_path, 64))
    check_layout(config(tmp_path, 64))  # the same count again is fine
    with pytest.raises(BadOption, match="made with 64, not 8"):
        check_layout(config(tmp_path, 8))


@pytest.mark.parametrize("text, expected", [
    ("0 seconds", {"processingTime": "0 milliseconds"}),
    ("2 seconds", {"processingTime": "2000 milliseconds"}),
    ("1.5 s", {"processingTime": "1500 milliseconds"}),
    ("1 minute", {"processingTime": "60000 milliseconds"}),
    ("availableNow", {"availableNow": True}),
])
def test_trigger_intervals(text, expected):
    assert trigger_args(text) == expected


@pytest.mark.parametrize("text", ["soon", "5", "-1 s", "2 hours"])
def test_bad_trigger_intervals_name_the_option(text):
    with pytest.raises(BadOption, match="--trigger"):
        trigger_args(text)


def test_the_redis_password_stays_out_of_the_config_repr():
    config = DetectorConfig(redis_url="redis://:s3cret@db:6379/0", streams=["s"], checkpoint="cp")
    assert "s3cret" not in repr(config)
