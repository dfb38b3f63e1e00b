"""Each injected anomaly changes exactly the readings its label covers, the way its kind says."""

import numpy as np
import pytest

from simulator.fleet import BUILTIN_TYPES

TOLERANCE = 0.011  # published values are rounded to 2 or 3 decimals


def split(label, events, clean):
    """Per target sensor: (readings inside the window, clean twin inside) after checking the rest is unchanged."""
    inside = {}
    for sensor_id, clean_events in clean.items():
        outside = [e for e in events.get(sensor_id, []) if not label.covers(sensor_id, e.ts_ms)]
        assert outside == [e for e in clean_events if not label.covers(sensor_id, e.ts_ms)], sensor_id
        if sensor_id in label.sensors:
            inside[sensor_id] = (np.array([e.value for e in events[sensor_id] if label.covers(sensor_id, e.ts_ms)]),
                                 np.array([e.value for e in clean_events if label.covers(sensor_id, e.ts_ms)]))
        else:
            assert events[sensor_id] == clean_events
    return inside


def anomaly(kind: str, extra: str = "", targets: str = "sensors: [pump-1/pressure]", at="5m", duration="5m"):
    duration_line = f"\n    duration: {duration}" if duration else ""
    return f"anomalies:\n  - kind: {kind}\n    at: {at}{duration_line}\n    {targets}\n    {extra}\n"


@pytest.mark.parametrize("kind, sign", [("spike", 1), ("dip", -1), ("level_shift", 1)])
def test_offsets_move_every_covered_reading_by_the_magnitude(injected, kind, sign):
    label, events, clean = injected(anomaly(kind, "magnitude: 2.5", duration="30s"))
    (window, twin), = split(label, events, clean).values()
    assert len(window) == 3
    assert np.allclose(window - twin, sign * 2.5, atol=TOLERANCE)


def test_a_spike_without_a_duration_hits_one_reading(injected):
    label, events, clean = injected(anomaly("spike", "magnitude: 9", duration=None))
    (window, twin), = split(label, events, clean).values()
    assert (label.end_ms - label.start_ms, len(window)) == (10_000, 1)
    assert abs(window[0] - twin[0] - 9) < TOLERANCE


def test_a_level_shift_without_a_duration_lasts_to_the_end(injected):
    label, events, clean = injected(anomaly("level_shift", "magnitude: -1", duration=None))
    (window, twin), = split(label, events, clean).values()
    assert len(window) == 90  # 15 of the 20 minutes at one reading per 10 s
    assert np.allclose(window - twin, -1, atol=TOLERANCE)


def test_a_drift_grows_from_nothing_to_the_magnitude(injected):
    label, events, clean = injected(anomaly("drift", "magnitude: 3"))
    (window, twin), = split(label, events, clean).values()
    gap = window - twin
    assert abs(gap[0]) < TOLERANCE and 2.9 < gap[-1] <= 3 + TOLERANCE
    assert np.all(np.diff(gap) > -2 * TOLERANCE)


def test_a_variance_burst_widens_the_noise(injected):
    label, events, clean = injected(anomaly("variance_burst", "magnitude: 6"))
    (window, twin), = split(label, events, clean).values()
    assert window.std() > 3 * twin.std()
    assert abs(window.mean() - twin.mean()) < 0.2


def test_a_stuck_sensor_repeats_its_first_reading(injected):
    label, events, clean = injected(anomaly("stuck", targets="devices: [pump-1]"))
    inside = split(label, events, clean)
    assert set(inside) == {"pump-1/pressure", "pump-1/flow", "pump-1/vibration"}
    for window, twin in inside.values():
        assert len(set(window.tolist())) == 1 and window[0] == twin[0] and len(set(twin.tolist())) > 1


def test_a_dropout_sends_nothing_in_its_window(injected):
    label, events, clean = injected(anomaly("dropout", targets="sensors: ['pump-*/pressure']"))
    inside = split(label, events, clean)
    assert set(inside) == {"pump-1/pressure", "pump-2/pressure"}
    assert all(len(window) == 0 and len(twin) == 30 for window, twin in inside.values())


@pytest.mark.parametrize("magnitude", [3.0, -3.0])
def test_out_of_range_readings_leave_the_physical_range(injected, magnitude):
    label, events, clean = injected(anomaly("out_of_range", f"magnitude: {magnitude}"))
    (window, _), = split(label, events, clean).values()
    low, high = BUILTIN_TYPES["pressure"].range
    assert np.all(window > high) if magnitude > 0 else np.all(window < low)


def test_an_oscillation_swings_by_its_amplitude_at_its_period(injected):
    label, events, clean = injected(anomaly("oscillation", "magnitude: 2\n    period: 2m"))
    (window, twin), = split(label, events, clean).values()
    gap = window - twin
    assert np.allclose(gap[::12], 0, atol=TOLERANCE)  # 12 readings per period: back at zero
    assert abs(gap.max() - 2) < 0.05 and abs(gap.min() + 2) < 0.05


def test_a_device_failure_moves_all_its_sensors_by_their_own_sigmas(injected):
    label, events, clean = injected(anomaly("device_failure", "magnitude: 8\n    ramp: 1m", targets="devices: [pump-1]"))
    inside = split(label, events, clean)
    assert set(inside) == {"pump-1/pressure", "pump-1/flow", "pump-1/vibration"}
    for sensor_id, (window, twin) in inside.items():
        sigma = BUILTIN_TYPES[sensor_id.split("/")[1]].noise.sigma
        gap = window - twin
        assert abs(gap[0]) < TOLERANCE  # the ramp starts from nothing
        assert np.allclose(gap[6:], 8 * sigma, atol=TOLERANCE)
