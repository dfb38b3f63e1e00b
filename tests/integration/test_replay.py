"""`tocsin replay` against a real redis-server: the recorded events exactly, in order; CSV data; resume."""

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from detector.events import parse_event, shard_of, stream_names
from detector.redis_server import connect
from simulator.cli import replay
from simulator.recording import record
from simulator.replay import CHECKPOINT_PREFIX, checkpoint_for, play
from simulator.sinks import RedisSink
from simulator.sources import open_source

pytestmark = pytest.mark.integration
NAB = Path(__file__).parents[1] / "fixtures" / "replay" / "nab"

app = typer.Typer(add_completion=False)
app.command()(replay)
runner = CliRunner()


def entries(client, stream):
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in client.xrange(stream)]


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result, " ".join(result.output.split())


def recorded(recording):
    return [json.loads(line) for line in recording.events_path.read_text(encoding="utf-8").splitlines()]


def test_a_replay_publishes_exactly_the_recorded_events_in_order(redis_url, redis_client, recording):
    result, out = invoke(recording.events_path, "--fast", "--redis-url", redis_url)
    assert result.exit_code == 0, result.output
    assert entries(redis_client, "tocsin:events") == recorded(recording)
    assert f"{recording.events:,} events to tocsin:events in" in out


def test_sharded_each_stream_holds_its_sensors_records_in_recorded_order(redis_url, redis_client, recording):
    result, _ = invoke(recording.events_path, "--fast", "--shards", 3, "--redis-url", redis_url)
    assert result.exit_code == 0, result.output
    expected = recorded(recording)
    for index, stream in enumerate(stream_names(3)):
        assert entries(redis_client, stream) == [f for f in expected if shard_of(f.get("sensor_id", ""), 3) == index]


def test_a_parquet_recording_replays_the_same_records(redis_url, redis_client, tmp_path, scenario, recording):
    parquet = record(scenario, tmp_path / "run.parquet", "parquet")
    result, _ = invoke(parquet.events_path, "--fast", "--redis-url", redis_url)
    assert result.exit_code == 0, result.output
    assert entries(redis_client, "tocsin:events") == recorded(recording)


def test_nab_csv_files_replay_one_sensor_per_file(redis_url, redis_client):
    result, out = invoke(NAB, "--fast", "--redis-url", redis_url, "--quiet")
    assert result.exit_code == 0, result.output
    events = [parse_event(f) for f in entries(redis_client, "tocsin:events")]
    assert len(events) == 90 and "90 events to tocsin:events" in out
    taxi = [e for e in events if e.sensor_id == "realKnownCause/nyc_taxi"]
    assert (taxi[0].ts_ms, taxi[0].value) == (1_404_172_800_000, 10844.0)  # 2014-07-01 00:00:00 UTC


def test_a_replay_stopped_halfway_resumes_and_publishes_nothing_twice(redis_url, redis_client, recording):
    half = recording.events // 2
    first, out = invoke(recording.events_path, "--fast", "--limit", half, "--redis-url", redis_url)
    assert first.exit_code == 0, first.output
    assert f"stopped at event {half:,} (--resume goes on from there)" in out
    assert redis_client.xlen("tocsin:events") == half
    second, out = invoke(recording.events_path, "--fast", "--resume", "--redis-url", redis_url)
    assert second.exit_code == 0, second.output
    assert f"resuming {recording.events_path} after event {half:,}" in out
    assert f"{recording.events - half:,} events to tocsin:events" in out
    assert entries(redis_client, "tocsin:events") == recorded(recording)
    third, out = invoke(recording.events_path, "--fast", "--resume", "--redis-url", redis_url)
    assert third.exit_code == 0 and out.startswith(f"resuming {recording.events_path} after event {recording.events:,} 0 events")
    assert redis_client.xlen("tocsin:events") == recording.events


def test_a_crash_mid_batch_loses_the_uncommitted_batch_whole_and_resume_sends_it(redis_client, recording):
    opened = open_source(recording.events_path)
    checkpoint = checkpoint_for(opened.path, opened.files, {"kind": "recording", "shards": 1})

    def crashing(records, after):
        for count, record_ in enumerate(records):
            if count == after:
                raise MemoryError("the process dies here")
            yield record_

    with pytest.raises(MemoryError), RedisSink(redis_client, checkpoint=checkpoint) as sink:
        play(crashing(opened.records, 2500), sink, batch=1000)
    assert redis_client.xlen("tocsin:events") == 2000, "the half-written third batch was never sent"
    resumed = RedisSink(redis_client, checkpoint=checkpoint)
    assert resumed.resume_position() == 2000
    with resumed:
        summary = play(open_source(recording.events_path).records, resumed, start=resumed.resume_position())
    assert summary.position == recording.events
    assert entries(redis_client, "tocsin:events") == recorded(recording)


def test_the_progress_is_kept_under_a_key_named_by_source_and_options(redis_url, redis_client, recording):
    invoke(recording.events_path, "--fast", "--limit", 100, "--redis-url", redis_url)
    invoke(recording.events_path, "--fast", "--limit", 50, "--shards", 2, "--redis-url", redis_url)
    keys = sorted(k.decode() for k in redis_client.keys(CHECKPOINT_PREFIX + "*"))
    assert len(keys) == 2
    assert sorted(json.loads(redis_client.get(k))["position"] for k in keys) == [50, 100]


def test_resume_refuses_a_file_that_changed_since(redis_url, tmp_path, recording):
    copy = tmp_path / "run.jsonl"
    copy.write_bytes(recording.events_path.read_bytes())
    invoke(copy, "--fast", "--limit", 10, "--redis-url", redis_url)
    copy.write_bytes(recording.events_path.read_bytes()[:-200])
    result, out = invoke(copy, "--fast", "--resume", "--redis-url", redis_url)
    assert result.exit_code == 2
    assert "run.jsonl changed since its replay stopped at event 10: replay it without --resume" in out


def test_a_bad_row_stops_the_replay_and_skip_bad_resume_goes_on_past_it(redis_url, redis_client, tmp_path):
    data = tmp_path / "probe.csv"
    good = [f"2024-01-01 00:{m:02d}:00,{m}" for m in range(40)]
    data.write_text("\n".join(["timestamp,value"] + good[:25] + ["2024-01-01 00:25:30,oops"] + good[25:]) + "\n")
    result, out = invoke(data, "--fast", "--redis-url", redis_url)
    assert result.exit_code == 1
    assert "probe.csv:27: column 'value': 'oops' is not a number; the events before it are published" in out
    assert redis_client.xlen("tocsin:events") == 25
    result, out = invoke(data, "--fast", "--skip-bad", "--resume", "--redis-url", redis_url)
    assert result.exit_code == 0, result.output
    assert "skipped 1 bad row(s), the first" in out and "probe.csv:27" in out
    assert [float(f["value"]) for f in entries(redis_client, "tocsin:events")] == list(range(40))


def test_the_command_refuses_what_cannot_work(redis_url, recording, tmp_path):
    cases = [
        (["--fast", "--speed", "2"], "choose --speed X or --fast, not both"),
        (["--sink", "file"], "--sink file and --out PATH go together"),
        (["--sink", "stdout", "--resume"], "--resume needs the redis sink"),
        (["--sink", "kafka"], "the kafka sink needs a broker list"),
        (["--time-column", "t"], "column options apply to CSV data only"),
        (["--redis-url", ""], "no Redis to publish to: set REDIS_URL or pass --redis-url"),
    ]
    for args, message in cases:
        result, out = invoke(recording.events_path, *args)
        assert result.exit_code == 2 and message in out, (args, out)
    result, out = invoke(recording.events_path, "--redis-url", "redis://127.0.0.1:1/0")
    assert result.exit_code == 1 and "cannot reach Redis at redis://127.0.0.1:1/0" in out


def test_the_file_and_stdout_sinks_re_record_the_recording(tmp_path, recording):
    result, out = invoke(recording.events_path, "--fast", "--out", tmp_path / "again.jsonl")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again.jsonl").read_bytes() == recording.events_path.read_bytes()
    result = runner.invoke(app, [str(recording.events_path), "--fast", "--sink", "stdout", "--limit", "5"])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == recorded(recording)[:5]


def test_a_paced_replay_follows_event_time(redis_url, redis_client):
    result, out = invoke(NAB / "realKnownCause" / "nyc_taxi.csv", "--speed", 360_000, "--redis-url", redis_url)
    assert result.exit_code == 0, result.output
    # 30 readings half an hour apart: 14.5 hours of event time at 100 hours a second takes about 0.5 s
    assert redis_client.xlen("tocsin:events") == 30
    client = connect(redis_url)
    assert [parse_event(f).value for f in entries(client, "tocsin:events")][:2] == [10844.0, 8127.0]
    client.close()
