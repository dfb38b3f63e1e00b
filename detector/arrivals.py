"""How often a sensor's readings arrive, and how long a silence must last before it is unusual.

Arrival times are the stream entry ids' milliseconds: Redis stamps them as entries arrive, so a
sensor's wrong clock cannot make it, or its neighbours, look silent. A gap is the time between two
arrivals of one sensor's readings, a silence the time since its last one; time in which nothing
arrived from any sensor (a stopped publisher, a paused bus: `pause`) counts in neither.
"""

from __future__ import annotations

from dataclasses import dataclass

# Gaps a sensor must have shown before its usual gap is trusted.
SETTLE = 20
# The mean gap follows the last about 32 gaps (an exponentially weighted mean after the first 32).
MEMORY = 32
# A learned silence lasts at least this many mean gaps ...
MEAN_GAPS = 10
# ... twice the longest ordinary gap (one under half the limit in force: the limit cannot ratchet up) ...
LONGEST_GAPS = 2
# ... and this long: a micro-batch's lag between streams is not a silence.
MIN_SILENCE_MS = 10_000


@dataclass(slots=True)
class Arrivals:
    """One sensor's arrivals: the last one, the mean gap between them and the longest ordinary gap.

    >>> arrivals = Arrivals()
    >>> for second in range(0, 1_500, 60):  # a reading a minute
    ...     arrivals.note(second * 1_000, f"{second * 1_000}-0")
    >>> arrivals.usual_limit()  # ten minutes without a reading is a silence
    600000
    >>> arrivals.silence(1_440_000 + 30_000)
    30000
    """

    last_ms: int = -1  # arrival of the last reading; -1 before the first
    last_id: str = ""  # its entry id: what a silence after it is pinned to
    paused: int = 0  # time since it in which nothing arrived from any sensor
    gaps: int = 0  # ordinary gaps learned
    mean_gap: float = 0.0
    longest: int = 0  # the longest ordinary gap

    def note(self, arrival_ms: int, entry_id: str) -> None:
        """Learn one reading's arrival; a gap that was itself a silence does not teach what is usual."""
        last = self.last_ms
        self.last_id = entry_id
        if arrival_ms <= last:  # the same millisecond: no gap to learn
            return
        gap = arrival_ms - last - self.paused
        self.last_ms, self.paused = arrival_ms, 0
        if last < 0 or gap <= 0:
            return
        limit = self.usual_limit()
        if limit is not None and 2 * gap > limit:
            return
        gaps = self.gaps = self.gaps + 1
        self.mean_gap += (gap - self.mean_gap) / (gaps if gaps < MEMORY else MEMORY)
        if gap > self.longest:
            self.longest = gap

    def usual_limit(self) -> int | None:
        """How long a silence must last to be unusual for this sensor; None until SETTLE gaps are known."""
        if self.gaps < SETTLE:
            return None
        return int(max(MEAN_GAPS * self.mean_gap, LONGEST_GAPS * self.longest, MIN_SILENCE_MS))

    def pause(self, idle_ms: int) -> bool:
        """Note `idle_ms` after the last reading in which nothing arrived from any sensor; whether it was forgiven.

        Only a pause longer than half the silence this sensor may keep counts: a fleet whose sensors
        all report on the minute is idle between minutes, and that is no reason to forgive a silence.
        Before its usual gap is known nothing is forgiven (its gaps are all learned then).
        """
        limit = self.usual_limit()
        if self.last_ms < 0 or limit is None or 2 * idle_ms <= limit:
            return False
        self.paused += idle_ms
        return True

    def silence(self, clock_ms: int) -> int:
        """How long the sensor has been silent at `clock_ms`, pauses of the whole stream aside (0 before its first reading)."""
        silent = clock_ms - self.last_ms - self.paused
        return silent if self.last_ms >= 0 and silent > 0 else 0
