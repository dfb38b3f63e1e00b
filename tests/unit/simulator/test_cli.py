"""`tocsin simulate`: list, refuse what cannot run with a clear message, record identical files."""

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from simulator.cli import app
from simulator.generator import generate, labels
from simulator.labels import Label
from simulator.scenario_file import builtin_names, find_scenario

runner = CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


def test_list_shows_every_builtin_scenario_with_its_description():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == builtin_names()
    assert all(find_scenario(line.split()[0]).description in line for line in lines)


def test_run_without_a_redis_url_says_where_to_get_one():
    result = runner.invoke(app, ["run", "spike"], env={"REDIS_URL": ""})
    assert result.exit_code == 2
    assert "no Redis to publish to: set REDIS_URL or pass --redis-url" in flat(result.output)
    assert "tocsin demo" in result.output


def test_run_refuses_speed_and_fast_together():
    result = runner.invoke(app, ["run", "spike", "--fast", "--speed", "2", "--redis-url", "redis://127.0.0.1:1"])
    assert result.exit_code == 2 and "choose --speed X or --fast, not both" in result.output


def test_run_names_the_file_line_and_field_of_a_bad_scenario(tmp_path):
    bad = tmp_path / "pump.yaml"
    bad.write_text("name: pump\nduration: 1m\nfleet: []\n")
    result = runner.invoke(app, ["run", str(bad), "--redis-url", "redis://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "pump.yaml:3: fleet: must have at least 1 item(s), got 0" in flat(result.output)


def test_run_says_when_redis_cannot_be_reached():
    result = runner.invoke(app, ["run", "spike", "--fast", "--redis-url", "redis://127.0.0.1:1/0"])
    assert result.exit_code == 1 and "cannot reach Redis at redis://127.0.0.1:1/0" in flat(result.output)


def test_record_writes_the_same_bytes_every_time(tmp_path):
    for attempt in ("a", "b"):
        result = runner.invoke(app, ["record", "default", "--out", str(tmp_path / attempt / "run.jsonl")])
        assert result.exit_code == 0, result.output
    for name in ("run.jsonl", "run.labels.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    scenario = find_scenario("default")
    lines = (tmp_path / "a" / "run.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [e.to_fields() for e in generate(scenario)]
    truth = (tmp_path / "a" / "run.labels.jsonl").read_text().splitlines()
    assert [Label.from_fields(json.loads(line)) for line in truth] == labels(scenario)


def test_record_parquet_when_asked(tmp_path):
    for attempt in ("a", "b"):
        result = runner.invoke(app, ["record", "spike", "--parquet", "--out", str(tmp_path / attempt / "run.parquet")])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "run.parquet").read_bytes() == (tmp_path / "b" / "run.parquet").read_bytes()
    table = pq.read_table(tmp_path / "a" / "run.parquet")
    events = list(generate(find_scenario("spike")))
    assert table.num_rows == len(events)
    assert table.column("value").to_pylist() == [e.value for e in events]
    assert (tmp_path / "a" / "run.labels.jsonl").exists()
