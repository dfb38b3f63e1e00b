"""Signal maths: the noise-free shape of a sensor's reading over time, and the noise on top of it.

Every function works on numpy arrays of epoch milliseconds and draws randomness only from the
`numpy.random.Generator` it is given, so a seeded generator always gives the same readings.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
# 1970-01-01 was a Thursday; shifting by 4 days puts Monday 00:00 at phase zero of the weekly cycle.
MONDAY_OFFSET_MS = 4 * DAY_MS


def seeded(seed: int, *names: str) -> np.random.Generator:
    """A generator for one named stream of randomness (a sensor, a device, an anomaly) of a run.

    Keyed by name rather than position, so adding a sensor to a fleet leaves the others unchanged.

    >>> float(seeded(7, "pump-1/flow").random()) == float(seeded(7, "pump-1/flow").random())
    True
    >>> float(seeded(7, "a").random()) == float(seeded(7, "b").random())
    False
    """
    return np.random.default_rng([seed, *(zlib.crc32(name.encode()) for name in names)])


def trend(t_ms: np.ndarray, start_ms: int, per_hour: float) -> np.ndarray:
    """A linear trend: `per_hour` units gained every hour since `start_ms`.

    >>> trend(np.array([0, 1_800_000]), 0, 2.0).tolist()
    [0.0, 1.0]
    """
    return (t_ms - start_ms) * per_hour / HOUR_MS


def daily_cycle(t_ms: np.ndarray, amplitude: float, peak_hour: float = 15.0) -> np.ndarray:
    """A sine with a 24 h period in UTC, at +amplitude at `peak_hour` and -amplitude twelve hours later.

    >>> daily_cycle(np.array([15 * HOUR_MS, 3 * HOUR_MS]), 2.0).round(6).tolist()
    [2.0, -2.0]
    """
    phase = (t_ms % DAY_MS) / DAY_MS - peak_hour / 24.0 + 0.25
    return amplitude * np.sin(2 * math.pi * phase)


def weekly_cycle(t_ms: np.ndarray, amplitude: float, peak_day: float = 2.5) -> np.ndarray:
    """A sine with a 7-day period, at +amplitude `peak_day` days after Monday 00:00 UTC.

    >>> weekly_cycle(np.array([MONDAY_OFFSET_MS + 2.5 * DAY_MS]), 3.0).round(6).tolist()
    [3.0]
    """
    phase = ((t_ms - MONDAY_OFFSET_MS) % WEEK_MS) / WEEK_MS - peak_day / 7.0 + 0.25
    return amplitude * np.sin(2 * math.pi * phase)


def baseline(t_ms: np.ndarray, *, start_ms: int, base: float, trend_per_hour: float = 0.0,
             daily_amplitude: float = 0.0, weekly_amplitude: float = 0.0) -> np.ndarray:
    """The noise-free reading: base level + trend + daily cycle + weekly cycle.

    >>> baseline(np.array([0]), start_ms=0, base=20.0).tolist()
    [20.0]
    """
    t_ms = np.asarray(t_ms, dtype=np.float64)
    shape = np.full(t_ms.shape, float(base))
    if trend_per_hour:
        shape += trend(t_ms, start_ms, trend_per_hour)
    if daily_amplitude:
        shape += daily_cycle(t_ms, daily_amplitude)
    if weekly_amplitude:
        shape += weekly_cycle(t_ms, weekly_amplitude)
    return shape


def gaussian_noise(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    """Independent normal noise with standard deviation `sigma`.

    >>> gaussian_noise(seeded(1, "x"), 0.0, 3).tolist()
    [0.0, 0.0, 0.0]
    """
    return rng.normal(0.0, sigma, size) if sigma > 0 else np.zeros(size)


def heavy_tailed_noise(rng: np.random.Generator, sigma: float, size: int, df: float = 3.0) -> np.ndarray:
    """Student-t noise rescaled to standard deviation `sigma`: mostly quiet, with rare large jolts.

    `df` must be above 2 for the variance to exist; smaller `df` means heavier tails.

    >>> noise = heavy_tailed_noise(seeded(1, "x"), 1.0, 200_000, df=4.0)
    >>> bool(0.95 < noise.std() < 1.05), bool(np.abs(noise).max() > 6)
    (True, True)
    """
    if df <= 2:
        raise ValueError(f"df must be above 2 for a finite variance, got {df}")
    if sigma <= 0:
        return np.zeros(size)
    return rng.standard_t(df, size) * (sigma * math.sqrt((df - 2) / df))


def device_load(t_ms: np.ndarray, seed: int, device_id: str,
                periods_ms: tuple[int, ...] = (600_000, 2_700_000, 10_800_000)) -> np.ndarray:
    """A slow, smooth common factor of unit variance shared by every sensor of one device.

    A sum of sines with seeded phases, so it can be evaluated at any sensor's own sampling times
    and sensors of one device sampled at different rates still move together.

    >>> t = np.arange(0, 86_400_000, 60_000)
    >>> load = device_load(t, 3, "pump-1")
    >>> bool(abs(load.mean()) < 0.1 and 0.8 < load.std() < 1.2)
    True
    >>> np.array_equal(load, device_load(t, 3, "pump-1"))
    True
    """
    rng = seeded(seed, "device-load", device_id)
    phases = rng.uniform(0, 2 * math.pi, len(periods_ms))
    t = np.asarray(t_ms, dtype=np.float64)
    total = sum(np.sin(2 * math.pi * t / period + phase) for period, phase in zip(periods_ms, phases))
    # each sine has variance 1/2: rescale the sum to variance 1
    return total * math.sqrt(2.0 / len(periods_ms))
