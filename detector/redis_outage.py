"""Riding out a Redis outage: telling one from other failures, and waiting until Redis answers again.

The detector job and the notifier run for weeks; Redis restarts, fails over or drops off the network
now and then. Neither loses anything by waiting (the job's offsets and state are in its checkpoint,
the notifier's pending alerts in the consumer group), so both wait for Redis and carry on.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

# The errors that mean "Redis cannot be reached right now" (BusyLoadingError, a Redis loading its data
# after a restart, is a ConnectionError); every other Redis error is a property of the request. An
# AuthenticationError is a ConnectionError too, but no wait mends a wrong password: see RedisRefused.
OUTAGE_ERRORS = (redis.ConnectionError, redis.TimeoutError)
# How a Spark query's failure names them: its text carries the Python traceback of the source or sink.
_NAMED = re.compile(r"redis\.exceptions\.(?:ConnectionError|TimeoutError|BusyLoadingError)(?::[ \t]*([^\n]*))?")
_REFUSED = re.compile(r"redis\.exceptions\.AuthenticationError(?::[ \t]*([^\n]*))?")
# While waiting, a line every this many seconds says the wait goes on.
REPORT_EVERY_S = 60.0

log = logging.getLogger("tocsin.redis")


class RedisRefused(RuntimeError):
    """Redis answers but refuses the credentials (a wrong or missing password): waiting would not mend it."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"Redis at {where} refuses the credentials ({reason}): set the right password in "
                         "REDIS_URL and start again")


def outage_in(text: str) -> str | None:
    """The reason given by the last Redis connection error a failure's text names, or None if it names none.

    >>> outage_in("...\\nredis.exceptions.ConnectionError: Error 111 connecting to 127.0.0.1:6399. Connection refused.\\n")
    'Error 111 connecting to 127.0.0.1:6399. Connection refused.'
    >>> outage_in("ValueError: bad value") is None
    True
    """
    return _last(_NAMED, text, "connection lost")


def refusal_in(text: str) -> str | None:
    """The reason given by the last refused authentication a failure's text names, or None if it names none.

    >>> refusal_in("redis.exceptions.AuthenticationError: invalid username-password pair or user is disabled.")
    'invalid username-password pair or user is disabled.'
    """
    return _last(_REFUSED, text, "authentication failed")


def _last(pattern: re.Pattern, text: str, default: str) -> str | None:
    found = pattern.findall(text)
    if not found:
        return None
    return found[-1].strip() or default


@dataclass
class Backoff:
    """Delays between attempts: `first`, doubling up to `cap` seconds.

    >>> backoff = Backoff(first=0.5, cap=4.0)
    >>> [backoff.next() for _ in range(6)]
    [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    """

    first: float = 0.5
    cap: float = 10.0
    _delay: float = 0.0

    def next(self) -> float:
        """The delay before the next attempt."""
        self._delay = self.first if self._delay == 0.0 else min(self.cap, 2.0 * self._delay)
        return self._delay


def address(client: redis.Redis) -> str:
    """host:port/db of a client, without credentials, for log lines."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix:{kwargs['path']}"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def wait_for_redis(probe: Callable[[], object], stop: threading.Event, *, where: str, reason: str,
                   backoff: Backoff | None = None, clock: Callable[[], float] = time.monotonic) -> bool:
    """Call `probe` (a Redis read) until it stops raising an outage error; False if `stop` was set first.

    Raises RedisRefused when Redis answers but refuses the credentials.

    Logs when the wait begins (with `reason`), every REPORT_EVERY_S while it lasts, and when Redis answers.
    """
    backoff = backoff or Backoff()
    began = reported = clock()
    log.warning("Redis at %s is unreachable (%s); waiting for it to come back", where, reason)
    while not stop.wait(backoff.next()):
        try:
            probe()
        except redis.AuthenticationError as exc:  # it is back, with another password
            raise RedisRefused(where, str(exc)) from None
        except OUTAGE_ERRORS as exc:
            now = clock()
            if now - reported >= REPORT_EVERY_S:
                reported = now
                log.warning("Redis at %s still unreachable after %.0f s (%s); still waiting", where, now - began, exc)
            continue
        log.warning("Redis at %s answers again after %.0f s", where, clock() - began)
        return True
    return False
