"""DailyRoutine: which earlier days' anomalies make one at this time of day a routine."""

from __future__ import annotations

import pickle

from models.routine import DAY_MS, DailyRoutine

MINUTE = 60_000
HOUR = 60 * MINUTE


def test_two_earlier_days_make_a_routine_and_the_peak_is_the_largest_of_them():
    routine = DailyRoutine(days=2)
    routine.note(1 * DAY_MS + 3 * HOUR, 10.0)
    assert routine.match(2 * DAY_MS + 3 * HOUR) is None  # one earlier day is a coincidence
    routine.note(2 * DAY_MS + 3 * HOUR, 25.0)
    routine.note(2 * DAY_MS + 3 * HOUR + 10 * MINUTE, 20.0)  # the same day's peak stays the larger
    assert routine.match(3 * DAY_MS + 3 * HOUR) == 25.0


def test_the_same_day_does_not_count_as_an_earlier_one():
    routine = DailyRoutine(days=2)
    for minutes in (0, 5, 10):
        routine.note(DAY_MS + 3 * HOUR + minutes * MINUTE, 10.0)
    assert routine.match(DAY_MS + 3 * HOUR + 20 * MINUTE) is None


def test_neighbouring_half_hours_match_and_midnight_wraps():
    routine = DailyRoutine(days=2)
    routine.note(1 * DAY_MS + 23 * HOUR + 50 * MINUTE, 10.0)  # 23:50, the last slot
    routine.note(2 * DAY_MS + 23 * HOUR + 59 * MINUTE, 10.0)
    assert routine.match(4 * DAY_MS + 10 * MINUTE) == 10.0  # 00:10, the first slot, on a later day
    assert routine.match(3 * DAY_MS + 22 * HOUR) is None  # 22:00 is two slots away


def test_days_too_long_ago_are_forgotten():
    routine = DailyRoutine(days=2)
    for day in (1, 2):
        routine.note(day * DAY_MS + 3 * HOUR, 10.0)
    assert routine.match(4 * DAY_MS + 3 * HOUR) == 10.0  # days 1 and 2 are among the 3 days before day 4
    assert routine.match(5 * DAY_MS + 3 * HOUR) is None  # day 2 alone is among those before day 5
    routine.note(9 * DAY_MS + 3 * HOUR, 10.0)
    assert routine._peaks[6] == [[9, 10.0]]  # the slot keeps only what can still count


def test_a_routine_pickles_with_what_it_has_seen():
    routine = DailyRoutine(days=1)
    routine.note(DAY_MS + HOUR, 7.5)
    restored = pickle.loads(pickle.dumps(routine))
    assert restored.match(2 * DAY_MS + HOUR) == 7.5
    assert repr(restored) == "DailyRoutine(days=1, slots_seen=1)"
