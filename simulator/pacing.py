"""Real-time pacing: when each record is due on the bus when a run is replayed at `speed` x real time."""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """Maps arrival times (epoch ms of event time) to wall-clock waits; the first record is due at once.

    The clock is injected so the schedule can be checked without sleeping:

    >>> now = [100.0]
    >>> pacer = Pacer(speed=60.0, clock=lambda: now[0])
    >>> pacer.wait_s(1_704_067_200_000), pacer.wait_s(1_704_067_230_000)
    (0.0, 0.5)
    >>> now[0] = 101.0
    >>> pacer.wait_s(1_704_067_230_000)
    0.0
    """

    def __init__(self, speed: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be above 0, got {speed}")
        self.speed = speed
        self.clock = clock
        self._anchor: tuple[float, int] | None = None

    def wait_s(self, emit_ms: int) -> float:
        """Seconds to wait before a record arriving at `emit_ms` is due (0 when it is due or late)."""
        if self._anchor is None:
            self._anchor = (self.clock(), emit_ms)
        wall0, emit0 = self._anchor
        due = wall0 + (emit_ms - emit0) / 1000.0 / self.speed
        return max(0.0, due - self.clock())
