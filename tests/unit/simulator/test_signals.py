"""The signal maths: shapes at known times, noise of the promised size, seeded determinism."""

import numpy as np
import pytest

from simulator.signals import (DAY_MS, HOUR_MS, baseline, daily_cycle, device_load, gaussian_noise,
                               heavy_tailed_noise, seeded, trend, weekly_cycle)

START = 1_704_067_200_000  # 2024-01-01T00:00:00Z, a Monday


def test_daily_cycle_repeats_every_day_and_peaks_at_the_peak_hour():
    hours = START + np.arange(0, 48) * HOUR_MS
    cycle = daily_cycle(hours, 2.0, peak_hour=15.0)
    assert np.allclose(cycle[:24], cycle[24:])
    assert int(np.argmax(cycle[:24])) == 15
    assert int(np.argmin(cycle[:24])) == 3


def test_weekly_cycle_repeats_every_week_and_peaks_mid_week():
    days = START + np.arange(0, 14) * DAY_MS + 12 * HOUR_MS
    cycle = weekly_cycle(days, 1.0)
    assert np.allclose(cycle[:7], cycle[7:])
    assert int(np.argmax(cycle[:7])) == 2  # Wednesday noon, 2.5 days after Monday 00:00


def test_trend_grows_linearly_from_the_start():
    assert trend(START + np.array([0, HOUR_MS, 10 * HOUR_MS]), START, 0.5).tolist() == [0.0, 0.5, 5.0]


def test_baseline_adds_its_parts():
    t = START + np.arange(0, 7 * 24) * HOUR_MS
    whole = baseline(t, start_ms=START, base=10.0, trend_per_hour=0.1, daily_amplitude=2.0, weekly_amplitude=1.0)
    parts = 10.0 + trend(t, START, 0.1) + daily_cycle(t, 2.0) + weekly_cycle(t, 1.0)
    assert np.allclose(whole, parts)


@pytest.mark.parametrize("draw", [lambda rng: gaussian_noise(rng, 0.5, 100_000),
                                  lambda rng: heavy_tailed_noise(rng, 0.5, 100_000, df=5.0)])
def test_noise_has_the_requested_spread_and_is_seeded(draw):
    noise = draw(seeded(11, "s1"))
    assert abs(noise.mean()) < 0.01
    assert 0.47 < noise.std() < 0.53
    assert np.array_equal(noise, draw(seeded(11, "s1")))
    assert not np.array_equal(noise, draw(seeded(12, "s1")))


def test_heavy_tailed_noise_has_more_extremes_than_gaussian():
    gauss = gaussian_noise(seeded(3, "g"), 1.0, 200_000)
    heavy = heavy_tailed_noise(seeded(3, "h"), 1.0, 200_000, df=3.0)
    assert (np.abs(heavy) > 5).sum() > 10 * max(1, (np.abs(gauss) > 5).sum())


def test_heavy_tailed_noise_refuses_an_infinite_variance():
    with pytest.raises(ValueError, match="df must be above 2"):
        heavy_tailed_noise(seeded(1, "x"), 1.0, 10, df=2.0)


def test_device_load_is_smooth_and_shared_by_name():
    t = START + np.arange(0, 3600) * 1000
    load = device_load(t, 5, "pump-1")
    assert np.abs(np.diff(load)).max() < 0.02  # slow next to one-second sampling
    assert np.array_equal(load, device_load(t, 5, "pump-1"))
    assert not np.array_equal(load, device_load(t, 5, "pump-2"))
