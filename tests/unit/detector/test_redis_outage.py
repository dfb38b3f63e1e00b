"""Telling a Redis outage from other failures, and the waiting policy (a scripted probe, an injected clock)."""

from __future__ import annotations

import logging
import threading

import pytest
import redis

from detector.redis_outage import REPORT_EVERY_S, Backoff, RedisRefused, outage_in, refusal_in, wait_for_redis

# The tail of what str(StreamingQueryException) said when the source lost Redis (trimmed, real layout).
SPARK_FAILURE = """[STREAM_FAILED] Query [id = 0b22d82d, runId = 4c1e] terminated with exception: \
[PYTHON_DATA_SOURCE_ERROR] Failed to plan Python data source `redis_streams` in Python: ...
  File "/work/main/detector/source.py", line 240, in _replies
    replies = pipe.execute(raise_on_error=False)
redis.exceptions.ConnectionError: Error 111 connecting to 127.0.0.1:6399. Connection refused.

	at org.apache.spark.sql.errors.QueryExecutionErrors$.pythonDataSourceError(QueryExecutionErrors.scala:2710)
"""


def test_a_refused_connection_in_a_spark_failure_is_an_outage_with_its_reason():
    assert outage_in(SPARK_FAILURE) == "Error 111 connecting to 127.0.0.1:6399. Connection refused."


@pytest.mark.parametrize("line, reason", [
    ("redis.exceptions.TimeoutError: Timeout reading from socket", "Timeout reading from socket"),
    ("redis.exceptions.BusyLoadingError: Redis is loading the dataset in memory",
     "Redis is loading the dataset in memory"),
    ("redis.exceptions.ConnectionError", "connection lost"),
    ("redis.exceptions.ConnectionError: first\nthen\nredis.exceptions.TimeoutError: last", "last"),
])
def test_every_kind_of_unreachable_redis_is_an_outage(line, reason):
    assert outage_in(f"Traceback ...\n{line}\n") == reason


@pytest.mark.parametrize("text", [
    "redis.exceptions.ResponseError: WRONGTYPE Operation against a key holding the wrong kind of value",
    "ValueError: SensorModel: warmup must be a whole number",
    "java.lang.OutOfMemoryError: Java heap space",
])
def test_other_failures_are_not_outages(text):
    assert outage_in(text) is None


def test_backoff_doubles_up_to_its_cap():
    backoff = Backoff(first=0.5, cap=10.0)
    assert [backoff.next() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


class ScriptedRedis:
    """A probe that finds Redis down `down` times, then up; counts its calls."""

    def __init__(self, down: int, error: Exception | None = None) -> None:
        self.down, self.calls = down, 0
        self.error = error or redis.ConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.down:
            raise self.error
        return 1


def quick() -> Backoff:
    return Backoff(first=0.001, cap=0.001)


def test_waits_until_redis_answers_and_says_so(caplog):
    probe = ScriptedRedis(down=3)
    with caplog.at_level(logging.WARNING, logger="tocsin.redis"):
        assert wait_for_redis(probe, threading.Event(), where="127.0.0.1:6399/0", reason="refused", backoff=quick())
    assert probe.calls == 4
    assert [r.getMessage() for r in caplog.records] == [
        "Redis at 127.0.0.1:6399/0 is unreachable (refused); waiting for it to come back",
        "Redis at 127.0.0.1:6399/0 answers again after 0 s",
    ]


def test_a_long_wait_says_every_so_often_that_it_goes_on(caplog):
    ticks = iter(range(0, 10_000, 20))  # each look at the clock is 20 s later
    probe = ScriptedRedis(down=7)
    with caplog.at_level(logging.WARNING, logger="tocsin.redis"):
        wait_for_redis(probe, threading.Event(), where="r:1/0", reason="refused", backoff=quick(),
                       clock=lambda: float(next(ticks)))
    still = [r.getMessage() for r in caplog.records if "still unreachable" in r.getMessage()]
    assert len(still) == 2 and REPORT_EVERY_S == 60.0  # at 60 s and 120 s of the 140 s the 7 failures took
    assert still[0].startswith("Redis at r:1/0 still unreachable after 60 s (Error 111 connecting")


def test_a_stop_ends_the_wait_without_another_attempt():
    stop = threading.Event()
    stop.set()
    probe = ScriptedRedis(down=1)
    assert not wait_for_redis(probe, stop, where="r:1/0", reason="refused", backoff=quick())
    assert probe.calls == 0


def test_an_error_that_is_no_outage_is_not_waited_out():
    probe = ScriptedRedis(down=1, error=redis.ResponseError("NOAUTH Authentication required."))
    with pytest.raises(redis.ResponseError, match="NOAUTH"):
        wait_for_redis(probe, threading.Event(), where="r:1/0", reason="refused", backoff=quick())


def test_a_redis_back_with_another_password_ends_the_wait_with_a_clear_error():
    probe = ScriptedRedis(down=5, error=redis.AuthenticationError("invalid username-password pair"))
    with pytest.raises(RedisRefused) as refused:
        wait_for_redis(probe, threading.Event(), where="r:1/0", reason="refused", backoff=quick())
    assert probe.calls == 1, "not waited out: no wait mends a password"
    assert str(refused.value) == ("Redis at r:1/0 refuses the credentials (invalid username-password pair): "
                                  "set the right password in REDIS_URL and start again")


def test_a_refused_password_in_a_spark_failure_is_no_outage_but_a_refusal():
    text = ("org.apache.spark.api.python.PythonException: Traceback (most recent call last):\n"
            "redis.exceptions.AuthenticationError: invalid username-password pair or user is disabled.\n")
    assert outage_in(text) is None
    assert refusal_in(text) == "invalid username-password pair or user is disabled."
    assert refusal_in("redis.exceptions.ConnectionError: Error 111") is None
