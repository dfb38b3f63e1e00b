"""Bad input: every malformed event is dead-lettered with its reason and the job goes on; bad options refused."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from alerts.rules import default_rules
from alerts.transition import DEADLETTER_STREAM
from detector.cli import app
from detector.job import DetectorConfig
from detector.runner import run_detector
from tests.integration.test_detector_job import counts_in

pytestmark = pytest.mark.integration

T0 = 1_704_067_200_000
GOOD = {"sensor_id": "good-1", "ts": str(T0), "value": "20.0"}

# (fields of the bad entry, the words its reason must contain)
MALFORMED = [
    ({"junk": "1"}, "missing field(s): sensor_id, ts, value"),
    ({"ts": str(T0), "value": "1"}, "missing field(s): sensor_id"),
    ({"sensor_id": "s", "value": "1"}, "missing field(s): ts"),
    ({"sensor_id": "s", "ts": str(T0)}, "missing field(s): value"),
    ({"sensor_id": "   ", "ts": str(T0), "value": "1"}, "sensor_id: empty"),
    ({"sensor_id": "x" * 300, "ts": str(T0), "value": "1"}, "sensor_id: longer than 200"),
    ({"sensor_id": "bad\nline", "ts": str(T0), "value": "1"}, "not printable"),
    ({"sensor_id": b"\xff\xfe", "ts": str(T0), "value": "1"}, "sensor_id: not valid UTF-8"),
    ({"sensor_id": "s", "ts": str(T0), "value": "abc"}, "value: 'abc' is not a number"),
    ({"sensor_id": "s", "ts": str(T0), "value": ""}, "value: '' is not a number"),
    ({"sensor_id": "s", "ts": str(T0), "value": "nan"}, "value: 'nan' is not finite"),
    ({"sensor_id": "s", "ts": str(T0), "value": "-Infinity"}, "is not finite"),
    ({"sensor_id": "s", "ts": str(T0), "value": "1e999"}, "is not finite"),
    ({"sensor_id": "s", "ts": "yesterday", "value": "1"}, "ts: 'yesterday' is neither"),
    ({"sensor_id": "s", "ts": "2024-01-01T00:00:00", "value": "1"}, "has no time zone"),
    ({"sensor_id": "s", "ts": "1704067200", "value": "1"}, "outside 2000-2100"),
    ({"sensor_id": "s", "ts": "", "value": "1"}, "ts: empty"),
    ({"sensor_id": "s", "ts": str(T0), "value": "1", "labels": "{oops"}, "labels: not valid JSON"),
    ({"sensor_id": "s", "ts": str(T0), "value": "1", "labels": "[1, 2]"}, "labels: must be a JSON object"),
]


def test_every_kind_of_malformed_event_is_dead_lettered_and_the_job_goes_on(spark, redis_url, redis_client,
                                                                            tmp_path):
    bad_ids = []
    for i in range(60):  # good readings before, between and after the bad ones
        redis_client.xadd("tocsin:events", {**GOOD, "ts": str(T0 + i * 1000), "value": str(20 + i % 3)})
        if i % 3 == 0 and i // 3 < len(MALFORMED):
            bad_ids.append(redis_client.xadd("tocsin:events", MALFORMED[i // 3][0]).decode())
    config = DetectorConfig(redis_url=redis_url, streams=["tocsin:events"], checkpoint=str(tmp_path / "cp"),
                            trigger="availableNow", max_records_per_trigger=25)
    run_detector(config, default_rules(), master="local[2]", log_dir=tmp_path / "log", spark=spark)

    letters = [{k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in fields.items()}
               for _, fields in redis_client.xrange(DEADLETTER_STREAM)]
    by_source = {letter["_source_id"]: letter for letter in letters}
    assert len(letters) == len(by_source) == len(MALFORMED)
    for bad_id, (fields, reason) in zip(bad_ids, MALFORMED):
        letter = by_source[bad_id]
        assert reason in letter["_reason"], (fields, letter["_reason"])
        assert letter["_source_stream"] == "tocsin:events"
        for name, value in fields.items():  # the original fields travel with the reason
            expected = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            assert letter[name] == expected
    assert counts_in(redis_client) == {"good-1": 60}, "every good reading scored, before and after the bad ones"


runner = CliRunner()


def test_a_bad_rules_file_is_refused_with_file_line_and_field(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: hot\n    when: {value_above: 80}\n    sevrity: critical\n")
    result = runner.invoke(app, ["detect", "--rules", str(rules)])
    assert result.exit_code == 2
    assert f"{rules}:4" in result.output and "sevrity" in result.output


@pytest.mark.parametrize("args, message", [
    (["--trigger", "soon"], "--trigger: 'soon' is not an interval"),
    (["--model", "crystal-ball"], "--model: unknown detector 'crystal-ball'"),
    (["--shards", "0"], "--shards"),
    (["--max-records-per-trigger", "0"], "--max-records-per-trigger"),
    (["--starting-offsets", "middle"], "--starting-offsets"),
])
def test_bad_detect_options_are_refused_naming_the_option(args, message):
    result = runner.invoke(app, ["detect", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreachable_redis_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["detect"])
    assert result.exit_code == 2
    assert "cannot reach Redis at redis://:***@127.0.0.1:1/0" in result.output
    assert "hunter2" not in result.output
