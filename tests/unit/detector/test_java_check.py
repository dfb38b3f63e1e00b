"""Where Java is missing, tocsin says so and how to get it, before anything starts."""

import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.spark import JavaMissing, check_java


def no_java(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `java` anywhere


def test_check_java_names_the_fix(monkeypatch, tmp_path):
    no_java(monkeypatch, tmp_path)
    with pytest.raises(JavaMissing, match="openjdk-17"):
        check_java()


@pytest.mark.parametrize("command", ["demo", "detect"])
def test_the_commands_that_need_spark_refuse_clearly(monkeypatch, tmp_path, command):
    no_java(monkeypatch, tmp_path)
    result = CliRunner().invoke(app, [command])
    assert result.exit_code == 2
    assert "Java is needed by Spark" in result.output
