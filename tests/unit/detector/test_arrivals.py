"""A sensor's arrivals: the usual gap, the longest ordinary one, and when a silence is unusual."""

from __future__ import annotations

import pickle
import random

from detector.arrivals import MIN_SILENCE_MS, SETTLE, Arrivals


def arrived(times_ms) -> Arrivals:
    arrivals = Arrivals()
    for ms in times_ms:
        arrivals.note(ms, f"{ms}-0")
    return arrivals


def test_nothing_is_unusual_until_the_sensor_has_shown_enough_gaps():
    arrivals = arrived(range(0, SETTLE * 60_000, 60_000))  # SETTLE readings: SETTLE - 1 gaps
    assert arrivals.usual_limit() is None
    arrivals.note(SETTLE * 60_000, "last-0")
    assert arrivals.usual_limit() == 600_000 and arrivals.last_id == "last-0"


def test_a_jittery_sensor_is_judged_on_its_mean_gap_and_its_longest_ordinary_one():
    rng = random.Random(5)
    times, ms = [], 0
    for _ in range(500):
        ms += int(rng.uniform(30_000, 90_000))
        times.append(ms)
    arrivals = arrived(times)
    assert 55_000 < arrivals.mean_gap < 65_000
    assert 85_000 < arrivals.longest <= 90_000
    assert 550_000 < arrivals.usual_limit() < 650_000  # ten mean gaps, more than twice the longest


def test_a_sensor_that_delivers_in_bursts_is_not_silent_between_them():
    # Ten readings in the same millisecond every five minutes: the gaps that count are the five minutes.
    arrivals = arrived([burst * 300_000 for burst in range(40) for _ in range(10)])
    assert arrivals.mean_gap == 300_000
    assert arrivals.usual_limit() == 3_000_000


def test_a_fast_sensor_needs_ten_seconds_of_silence_at_least():
    arrivals = arrived(range(0, 10_000, 100))
    assert arrivals.usual_limit() == MIN_SILENCE_MS


def test_a_silence_is_not_learned_as_a_usual_gap_so_the_limit_cannot_ratchet_up():
    times = list(range(0, 30 * 60_000, 60_000))
    arrivals = arrived(times)
    before = arrivals.usual_limit()
    outage = times[-1] + 3_600_000  # an hour without a reading
    near_limit = outage + before - 1_000  # under the limit, but more than half of it: not ordinary either
    for ms in (outage, near_limit, near_limit + 60_000):
        arrivals.note(ms, f"{ms}-0")
    assert arrivals.usual_limit() == before and arrivals.longest == 60_000


def test_silence_is_measured_on_the_clock_from_the_last_arrival():
    arrivals = arrived([1_000, 2_000])
    assert (arrivals.silence(2_000), arrivals.silence(1_500), arrivals.silence(9_000)) == (0, 0, 7_000)
    assert Arrivals().silence(9_000) == 0  # no reading yet: nothing to be silent after


def test_arrivals_pickle_small():
    assert len(pickle.dumps(arrived(range(0, 100_000, 1_000)))) < 200


def test_a_pause_of_the_whole_stream_is_forgiven_only_when_it_is_long_for_this_sensor():
    arrivals = arrived(range(0, 30 * 60_000, 60_000))  # limit 10 minutes
    last = arrivals.last_ms
    arrivals.pause(59_000)  # the fleet is idle between its minutes: not forgiven
    assert arrivals.silence(last + 120_000) == 120_000
    arrivals.pause(1_800_000)  # half an hour with nothing from anyone
    assert arrivals.paused == 1_800_000
    assert arrivals.silence(last + 1_800_000 + 180_000) == 180_000
    arrivals.note(last + 1_860_000, "back-0")  # the gap it teaches leaves the pause out
    assert (arrivals.paused, arrivals.longest) == (0, 60_000)
