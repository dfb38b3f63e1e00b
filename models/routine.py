"""When in the day a sensor's anomalies come: one that comes at the same time every day is a routine."""

from __future__ import annotations

DAY_MS = 86_400_000
# The day is cut into this many slots (half-hours); a run matches its own slot and the two beside it,
# so a job that starts a few minutes late, or crosses a slot's edge, still matches.
SLOTS = 48


class DailyRoutine:
    """The peak raw score of each day's anomalous readings, per half-hour of the day, for a few days.

    A nightly backup or an hourly cron job lifts a sensor at the same time every day; every time,
    the detector sees a spike far above its usual noise, and without this every day raises the
    same alert. `match(ts_ms)` answers whether anomalous readings came within about half an hour of
    this time of day on at least `days` of the `days + 1` days before (days are UTC days), and if
    so the largest raw score they reached; `note(ts_ms, raw)` records an anomalous reading. Only
    anomalous readings are recorded, so the state is empty for a sensor that never alerts and
    holds at most `days + 1` numbers per slot otherwise.

    >>> routine = DailyRoutine(days=2)
    >>> hour = 3_600_000
    >>> for day in range(3):  # a backup at 02:00 every night
    ...     print(day, routine.match(day * DAY_MS + 2 * hour))
    ...     routine.note(day * DAY_MS + 2 * hour + 5 * 60_000, 40.0 + day)
    0 None
    1 None
    2 41.0
    >>> routine.match(3 * DAY_MS + 14 * hour)  # the same spike at 14:00 is not the routine
    """

    __slots__ = ("_peaks", "days")

    def __init__(self, days: int) -> None:
        self.days = days
        self._peaks: dict[int, list[list[int | float]]] = {}  # slot -> [[day, peak raw], ...], oldest first

    def match(self, ts_ms: int) -> float | None:
        """The largest raw score of the earlier days' anomalies at this time of day, if they make a routine."""
        day, slot = divmod(int(ts_ms), DAY_MS)
        slot = slot * SLOTS // DAY_MS
        earliest = day - self.days - 1
        days: set[int] = set()
        peak = 0.0
        for near in (slot - 1, slot, slot + 1):
            for seen, raw in self._peaks.get(near % SLOTS, ()):
                if earliest <= seen < day:
                    days.add(seen)
                    peak = max(peak, raw)
        return peak if len(days) >= self.days else None

    def note(self, ts_ms: int, raw: float) -> None:
        """Record an anomalous reading's raw score at its time of day."""
        day, slot = divmod(int(ts_ms), DAY_MS)
        peaks = self._peaks.setdefault(slot * SLOTS // DAY_MS, [])
        if peaks and peaks[-1][0] == day:
            peaks[-1][1] = max(peaks[-1][1], raw)
            return
        peaks.append([day, raw])
        earliest = day - self.days - 1
        while peaks[0][0] < earliest:
            del peaks[0]

    def __repr__(self) -> str:
        return f"DailyRoutine(days={self.days}, slots_seen={len(self._peaks)})"
