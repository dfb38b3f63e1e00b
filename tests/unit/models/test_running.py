"""RunningZScore: the plain view over all history, and the weekly view when the time of week explains the stream."""

from __future__ import annotations

import math
import pickle
import random

import pytest

from models import running
from models.running import WEEK_MS, FeatureState, RunningMoments, RunningZScore
from tests.unit.models.streams import supply_air

HALF_HOUR = 1_800_000


def feed(detector: RunningZScore, value_at, weeks: int = 3) -> None:
    for i in range(weeks * 7 * 48):
        detector.at(i * HALF_HOUR)
        detector.learn_one({"value": value_at(i)})


def daily_cycle(rng: random.Random):
    return lambda i: 50.0 + 20.0 * math.sin(2 * math.pi * i / 48) + rng.gauss(0.0, 1.0)


def test_a_daily_cycle_judges_a_reading_by_its_time_of_week():
    weekly, plain = RunningZScore(), RunningZScore(season_ms=0)
    feed(weekly, daily_cycle(random.Random(1)))
    feed(plain, daily_cycle(random.Random(1)))
    evening = 3 * WEEK_MS + 36 * HALF_HOUR  # the bottom of the cycle, about 30
    for detector in (weekly, plain):
        detector.at(evening)
    assert weekly.score_one({"value": 70.0}) > 10.0  # the day's high, at night
    assert plain.score_one({"value": 70.0}) < 2.0  # within the range of all readings
    expected, spread = weekly.expected_one("value")
    assert abs(expected - 30.0) < 3.0 and spread < 3.0


def test_a_stream_without_rhythm_keeps_the_plain_view():
    rng = random.Random(2)
    detector = RunningZScore()
    feed(detector, lambda i: rng.gauss(10.0, 1.0))
    detector.at(3 * WEEK_MS)
    moments = detector._by_feature["value"].moments
    assert detector.expected_one("value") == (moments.mean, moments.scale)
    assert abs(detector.score_one({"value": 13.0}) - (13.0 - moments.mean) / moments.scale) < 1e-12


def test_a_wandering_sensor_read_every_minute_is_judged_by_its_plain_view_once_slots_come_round_again(monkeypatch):
    # A room temperature that wanders (AR(1), 0.99 a minute) read every minute: each half-hour slot's level
    # follows the 30 readings of its visit, so within visits the profile predicts far better than the plain
    # mean; from a week ago, at the first reading of the next visit, it predicts worse.
    def two_weeks() -> RunningZScore:
        rng, level, detector = random.Random(5), 0.0, RunningZScore()
        for minute in range(2 * 7 * 1440):
            level = 0.99 * level + rng.gauss(0.0, 0.3)
            detector.at(minute * 60_000)
            detector.learn_one({"value": 20.0 + level})
        detector.at(2 * 7 * 1440 * 60_000)
        return detector

    def uses_profile(detector: RunningZScore) -> bool:
        moments = detector._by_feature["value"].moments
        return detector.expected_one("value") != (moments.mean, moments.scale)

    judged = two_weeks()
    week, plain_error = judged._by_feature["value"].week, judged._by_feature["value"].error
    assert week.error < 0.5 * plain_error < plain_error < week.start_error  # fits within visits, not across
    assert not uses_profile(judged)
    monkeypatch.setattr(running, "START_FIT", 1e9)  # as before first readings were judged
    assert uses_profile(two_weeks())
    cycle = RunningZScore()
    feed(cycle, daily_cycle(random.Random(1)))
    cycle.at(3 * WEEK_MS)
    assert uses_profile(cycle), "a real rhythm still passes, visit to visit"


def test_the_one_value_path_gives_what_the_river_api_gives():
    fast, river = RunningZScore(), RunningZScore()
    cycle = daily_cycle(random.Random(5))
    for i in range(3 * 7 * 48):
        value = cycle(i)
        for detector in (fast, river):
            detector.at(i * HALF_HOUR)
        # bootstrapping (nothing expected yet), then the plain view, then the weekly one
        assert fast.judge("value", value) == (river.score_one({"value": value}), river.expected_one("value"))
        fast.learn_value("value", value)
        river.learn_one({"value": value})
    assert fast.judge("value", 70.0) == (river.score_one({"value": 70.0}), river.expected_one("value"))
    assert RunningZScore().judge("value", 1.0) == (0.0, None)  # nothing learned yet


def test_a_step_held_back_twice_sets_the_rounding_floor_of_a_sensor_flat_so_far():
    moments = RunningMoments()
    for _ in range(300):
        moments.update(100.0)
    assert moments.quantum == 0.0 and moments.scale < 1e-6  # no step learned: any move is news
    moments.hold(99.0)
    moments.hold(100.0)  # a usual reading held back with the anomaly: no step, forgets nothing
    assert moments.scale < 1e-6 and moments.held_step == 1.0
    moments.hold(101.0)  # the same step again: the sensor's resolution
    assert moments.quantum == 1.0 and moments.scale == moments.rounding == pytest.approx(12**-0.5, rel=1e-6)
    assert moments.n == 300 and moments.mean == 100.0  # held values are not learned


def test_steps_of_different_sizes_held_back_leave_the_floor_alone():
    moments = RunningMoments()
    for _ in range(300):
        moments.update(0.0)
    for spike in (1e6, 5000.0, 3.0):  # a spike, then smaller moves: each is judged on the flat history
        moments.hold(spike)
        assert moments.quantum == 0.0 and moments.z(spike) > 1e6


def test_an_older_pickled_running_moments_loads_without_a_held_step():
    moments = RunningMoments.__new__(RunningMoments)
    state = {name: getattr(RunningMoments(), name) for name in RunningMoments.__slots__ if name != "held_step"}
    moments.__setstate__((None, state))
    assert moments.held_step == 0.0


MINUTE = 60_000


def follow(detector: RunningZScore, value_at, readings: int, scores: list | None = None) -> list:
    """Feed one reading a minute; what `drifted` says before each (and each reading's score into `scores`)."""
    said = []
    for i in range(readings):
        detector.at(i * MINUTE)
        said.append(detector.drifted("value"))
        value = value_at(i)
        if scores is not None:
            scores.append(detector.judge("value", value)[0])
        detector.learn_value("value", value)
    return said


@pytest.mark.parametrize("seed", [7, 9, 12])
def test_a_slow_drift_the_weekly_profile_follows_is_reported_against_the_long_run_level(seed):
    detector = RunningZScore()
    said = follow(detector, supply_air(random.Random(seed), drift_from=600, by=4.0), 960)
    first = next(i for i, level in enumerate(said) if level is not None)
    assert all(level is None for level in said[:600])
    assert 650 < first < 900  # 6 long-run deviations (about 0.3, the daily swing included) into the 4 degree drift
    mean, sd = said[first]
    assert abs(mean - 18.3) < 0.15 and sd < 0.35  # the level before the drift: the moments stopped learning it
    assert detector._weekly(detector._by_feature["value"]) is not None  # the view that follows the drift
    # The score follows the time-of-week view, which follows the drift: without the test, nothing stands out.
    scores = []
    follow(RunningZScore(drift=None), supply_air(random.Random(seed), drift_from=600, by=4.0), 960, scores)
    assert max(scores[600:]) < 5.0


def test_a_daily_swing_and_a_spike_are_not_a_drift():
    detector = RunningZScore()
    said = follow(detector, supply_air(random.Random(8)), 3 * 1440)
    assert set(said) == {None}
    state = detector._by_feature["value"]
    assert detector._weekly(state) is not None and state.drift != 0.0  # the drift was followed all along
    before = state.drift
    detector.at(3 * 1440 * MINUTE)
    detector.learn_value("value", 1e6)  # a spike moves the average by its cap at most
    assert abs(state.drift - before) <= 1.5 * 6.0 / 14.0 + 1e-9
    assert detector.drifted("value") is None


def test_a_detector_pickled_before_the_drift_test_loads_with_it_off():
    detector = RunningZScore()
    follow(detector, supply_air(random.Random(9)), 600)
    state = dict(detector.__dict__)
    del state["drift"]
    for feature_state in state["_by_feature"].values():
        del feature_state.drift
    old = RunningZScore.__new__(RunningZScore)
    old.__setstate__(state)
    assert old.drift is None and old.drifted("value") is None
    restored = pickle.loads(pickle.dumps(old))
    assert restored.drift is None
    feature = FeatureState.__new__(FeatureState)
    feature.__setstate__((None, {"moments": RunningMoments(), "week": None, "error": 0.0}))
    assert feature.drift == 0.0
