"""SensorModel: warm-up, calibrated likelihoods, the learning policy and bad input, on seeded streams."""

from __future__ import annotations

import copy
import math
import pickle
import random

import pytest

from models import Score, SensorModel, names, reasons, sensor
from models.routine import DAY_MS
from tests.unit.models.streams import supply_air

T0 = 1_700_000_000_000


def gaussian(n: int, seed: int, mean: float = 100.0, sd: float = 5.0) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


def run(model: SensorModel, values: list[float]) -> list[Score]:
    return [model.process(value, T0 + 1000 * i) for i, value in enumerate(values)]


def firings(likelihoods: list[float], threshold: float = 0.99, consecutive: int = 3) -> int:
    """How often the default rule (`consecutive` readings in a row at or above `threshold`) fires."""
    fired, streak = 0, 0
    for likelihood in likelihoods:
        streak = streak + 1 if likelihood >= threshold else 0
        fired += streak == consecutive
    return fired


def test_no_likelihood_during_warmup_then_calibrated_likelihoods():
    scores = run(SensorModel(warmup=200), gaussian(600, seed=1))
    assert all(s.likelihood == 0.0 and s.warming_up for s in scores[:200])
    assert not any(s.warming_up for s in scores[-300:])
    assert all(0.0 <= s.likelihood <= 1.0 for s in scores)
    assert max(s.likelihood for s in scores[-300:]) > 0.0


def test_even_a_huge_spike_during_warmup_is_not_reported():
    values = gaussian(300, seed=2)
    values[50] = 1e9
    scores = run(SensorModel(warmup=200), values)
    assert all(s.likelihood == 0.0 for s in scores[:200])


@pytest.mark.parametrize("seed", range(5))
def test_a_single_large_spike_is_likely_for_at_least_3_readings_then_falls_back(seed):
    values = gaussian(1200, seed)
    values[1000] = 100.0 + 20 * 5.0  # 20 sigma
    model = SensorModel()
    likelihoods = [s.likelihood for s in run(model, values)]
    assert max(likelihoods[900:1000]) < 0.99
    assert all(likelihood >= 0.99 for likelihood in likelihoods[1000:1003])
    assert firings(likelihoods) == 1
    assert max(likelihoods[1000 + model.window :]) < 0.99


@pytest.mark.parametrize("seed", [11, 12])
def test_stationary_gaussian_noise_almost_never_reaches_099_and_never_fires(seed):
    likelihoods = [s.likelihood for s in run(SensorModel(), gaussian(20_000, seed))]
    above = sum(likelihood >= 0.99 for likelihood in likelihoods)
    assert above / len(likelihoods) < 5e-4
    assert firings(likelihoods) == 0


def test_heavy_tailed_noise_rarely_fires():
    rng = random.Random(5)

    def student_t4() -> float:
        return rng.gauss(0.0, 1.0) / math.sqrt(sum(rng.gauss(0.0, 1.0) ** 2 for _ in range(4)) / 4)

    values = [round(2.5 + 0.3 * student_t4(), 3) for _ in range(20_000)]
    likelihoods = [s.likelihood for s in run(SensorModel(), values)]
    # A t(4) extreme now and then is not hidden (the default is tuned to NAB's sensitivity), but it is
    # rare: about one alert per 2,500 readings.
    assert firings(likelihoods) <= 10


@pytest.mark.parametrize("sd", [0.2, 0.3, 0.5])
def test_a_quantized_sensor_does_not_fire_on_its_one_step_changes(sd):
    rng = random.Random(8)
    values = [float(round(rng.gauss(10.0, sd))) for _ in range(20_000)]
    likelihoods = [s.likelihood for s in run(SensorModel(), values)]
    assert firings(likelihoods) <= 1


@pytest.mark.parametrize("seed", range(6))
def test_a_quantized_sensor_flat_through_its_warmup_alerts_on_its_first_moves_only(seed):
    rng = random.Random(seed)
    # 100 with the odd 99 or 101 (about 1 reading in 80); flat for its first 300 readings, so no step was learned
    values = [100.0] * 300 + [float(round(rng.gauss(100.0, 0.2))) for _ in range(10_000)]
    likelihoods = [s.likelihood for s in run(SensorModel(), values)]
    first = next(i for i in range(300, len(values)) if values[i] != 100.0)
    assert min(likelihoods[first : first + 3]) >= 0.99  # the first move after a flatline is news
    assert firings(likelihoods) <= 2  # was 18 to 51: each move scored as infinitely rare, and never learned


@pytest.mark.parametrize("value", [42.0, 0.0, -17.5, 1e9])
def test_a_flatline_never_alarms_and_never_divides_by_zero(value):
    scores = run(SensorModel(), [value] * 3000)
    assert all(s.raw == 0.0 and math.isfinite(s.likelihood) and s.likelihood < 0.99 for s in scores)
    assert scores[-1].expected == value and scores[-1].low <= value <= scores[-1].high


def test_nan_and_inf_are_skipped_with_a_neutral_score_and_not_learned():
    model = SensorModel()
    run(model, gaussian(400, seed=3))
    state = pickle.dumps(model.detector), pickle.dumps(model.calibration)
    for bad in (float("nan"), float("inf"), float("-inf"), "nan"):
        score = model.process(bad, T0)
        assert (score.raw, score.likelihood, score.warming_up) == (0.0, 0.0, False)
        assert score.expected == pytest.approx(100.0, abs=2.0)
    assert (pickle.dumps(model.detector), pickle.dumps(model.calibration)) == state
    assert (model.count, model.skipped) == (404, 4)


def test_score_first_the_score_of_a_reading_never_depends_on_that_reading():
    model = SensorModel()
    run(model, gaussian(500, seed=4))
    before = copy.deepcopy(model)
    score = model.process(160.0, T0)
    assert score.raw == before.detector.score_one({"value": 160.0})
    level, spread = before.detector.expected_one("value")
    assert (score.expected, score.low, score.high) == (level, level - 3 * spread, level + 3 * spread)


def test_gaps_and_irregular_timestamps_do_not_change_the_scores():
    values = gaussian(500, seed=6)
    regular = [s.likelihood for s in run(SensorModel(), values)]
    rng = random.Random(0)
    gappy_model = SensorModel()
    gappy = [gappy_model.process(v, T0 + i * 1000 + rng.choice([0, 10**8])) for i, v in enumerate(values)]
    assert [s.likelihood for s in gappy] == regular


def test_a_short_anomaly_is_not_learned():
    normal = gaussian(1500, seed=7)
    model = SensorModel()
    run(model, normal[:1000])
    level, spread = model.detector.expected_one("value")
    scores = run(model, [v + 50.0 for v in normal[1000:1015]])  # 10 sigma, 15 readings
    assert all(s.likelihood >= 0.99 for s in scores[1:])
    assert model.detector.expected_one("value")[0] == pytest.approx(level)  # nothing was learned
    after = [s.likelihood for s in run(model, normal[1015:])]
    assert max(after[10:]) < 0.99
    assert model.detector.expected_one("value")[0] == pytest.approx(level, abs=0.5 * spread)
    assert model.rebaselines == 0


def test_a_persisting_level_shift_becomes_the_new_normal_after_a_bounded_number_of_readings():
    values = gaussian(4000, seed=8)
    shifted = values[:1000] + [v + 50.0 for v in values[1000:]]
    model = SensorModel(rebaseline_after=30, settle=30)
    likelihoods = [s.likelihood for s in run(model, shifted)]
    assert all(likelihood >= 0.99 for likelihood in likelihoods[1002:1030])  # it alarms at once
    bound = 1000 + 30 + 30 + model.window  # held readings, then the probation, then the window
    assert max(likelihoods[bound:]) < 0.99  # and stops alarming: the shift is the new normal
    assert firings(likelihoods[bound:]) == 0
    assert model.rebaselines == 1
    assert model.detector.expected_one("value")[0] == pytest.approx(150.0, abs=1.0)


def test_pickled_state_is_small_and_restarts_where_it_stopped():
    model = SensorModel()
    values = gaussian(10_000, seed=9)
    run(model, values[:5000])
    blob = pickle.dumps(model)
    assert len(blob) < 6000  # the default detector's weekly profile is 336 slots of 8 bytes
    restored = pickle.loads(blob)
    assert run(restored, values[5000:]) == run(model, values[5000:])
    assert restored.count == model.count == 10_000


def test_score_is_a_frozen_value():
    score = SensorModel().process(1.0, T0)
    with pytest.raises(AttributeError):
        score.likelihood = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("value", ["high", None, [1.0]])
def test_a_value_that_is_not_a_number_is_refused(value):
    with pytest.raises(ValueError, match="SensorModel.process: value must be a number, got"):
        SensorModel().process(value, T0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"detector": "prophet"}, "unknown detector 'prophet'"),
        ({"params": {"fit": 2.0}}, r"RunningZScore: fit must be in \(0, 1\]"),
        ({"single": 0.0}, r"SensorModel: single must be in \(0, 1\]"),
        ({"range_margin": -1.0}, "SensorModel: range_margin must be above 0"),
        ({"unrest": 0.0}, r"SensorModel: unrest must be in \(0, 1\]"),
        ({"escalate": -1.0}, "SensorModel: escalate must be above 0"),
        ({"routine": 0}, "SensorModel: routine must be an integer >= 1"),
        ({"stuck": 0.0}, "SensorModel: stuck must be above 0"),
        ({"lean": 1.0}, r"SensorModel: lean must be above 1 \(a factor over the record\), got 1.0"),
        ({"min_run": 0}, "SensorModel: min_run must be an integer >= 1"),
        ({"params": [("rate", 0.1)]}, "SensorModel: params must be a dict"),
        ({"warmup": -1}, "SensorModel: warmup must be an integer >= 0"),
        ({"window": 0}, "SensorModel: window must be an integer >= 1"),
        ({"horizon": 5}, "SensorModel: horizon must be an integer >= 10"),
        ({"threshold": 1.5}, r"SensorModel: threshold must be in \(0, 1\]"),
        ({"rebaseline_after": 0}, "SensorModel: rebaseline_after must be an integer >= 1"),
        ({"band": 0.0}, "SensorModel: band must be above 0"),
    ],
)
def test_bad_settings_are_refused_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SensorModel(**kwargs)


@pytest.mark.parametrize("name", names())
def test_every_detector_goes_through_the_same_model(name):
    values = gaussian(1500, seed=10)
    values += [v + 50.0 for v in gaussian(60, seed=11)]  # a 10 sigma shift
    values += [float("nan")]
    model = SensorModel(detector=name)
    scores = run(model, values)
    assert all(0.0 <= s.likelihood <= 1.0 and math.isfinite(s.raw) for s in scores)
    assert max(s.likelihood for s in scores[600:1500]) < 0.99
    assert firings([s.likelihood for s in scores[1500:1560]]) >= 1
    restored = pickle.loads(pickle.dumps(model))
    assert restored.process(100.0, T0) == model.process(100.0, T0)


@pytest.mark.parametrize("name", names())
def test_every_detector_stays_quiet_on_a_flatline(name):
    scores = run(SensorModel(detector=name), [3.5] * 1200)
    assert max(s.likelihood for s in scores) < 0.99


def test_a_flickering_anomaly_raises_one_alert():
    values = gaussian(600, seed=11, sd=1.0)
    for start in (400, 440, 480):  # three bursts, each a few readings, within the quiet period
        values[start : start + 4] = [values[start] + 40.0] * 4
    scores = run(SensorModel(quiet=200), values)
    likelihoods = [s.likelihood for s in scores]
    assert firings(likelihoods) == 1
    assert any(s.muted for s in scores[430:])
    assert all(s.likelihood < 0.99 for s in scores if s.muted)


def test_after_the_quiet_period_a_new_anomaly_alerts_again():
    values = gaussian(1200, seed=12, sd=1.0)
    for start in (400, 900):
        values[start : start + 4] = [values[start] + 40.0] * 4
    likelihoods = [s.likelihood for s in run(SensorModel(quiet=200), values)]
    assert firings(likelihoods) == 2


@pytest.mark.parametrize("seed", [13, 14, 15])
def test_a_blip_too_short_to_alert_does_not_mute_the_anomaly_that_follows(seed):
    # With a one-reading window a 20 sigma reading stays at the threshold for that reading alone:
    # the default rule (3 in a row) raises nothing for it, so the burst 50 readings later must alert.
    values = gaussian(1200, seed=seed, sd=1.0)
    values[600] = 120.0
    values[650:654] = [120.0] * 4  # as large as the blip: escalation does not unmute it
    blip_mutes = run(SensorModel(window=1, min_run=1), values)
    assert [s.likelihood >= 0.99 for s in blip_mutes[599:602]] == [False, True, False]
    assert firings([s.likelihood for s in blip_mutes]) == 0
    assert all(s.muted for s in blip_mutes[650:654])
    scores = run(SensorModel(window=1), values)
    assert scores[600].likelihood >= 0.99
    assert firings([s.likelihood for s in scores]) == 1
    assert not any(s.muted for s in scores)


def test_the_alert_rule_s_threshold_caps_a_muted_run_and_its_hold_decides_what_mutes():
    values = gaussian(600, seed=11, sd=1.0)
    for start in (400, 440, 480):  # three bursts within the quiet period, as in the flickering test
        values[start : start + 4] = [values[start] + 40.0] * 4
    model = SensorModel(quiet=200)
    model.alerting(0.95, 3)  # the job's rules fire at 0.95
    scores = run(model, values)
    muted = [s for s in scores if s.muted]
    assert muted and all(s.likelihood < 0.95 for s in muted), "below the rule's threshold, not just below 0.99"
    assert firings([s.likelihood for s in scores[395:500]], threshold=0.95) == 1
    unaware = run(SensorModel(quiet=200), values)
    assert firings([s.likelihood for s in unaware[395:500]], threshold=0.95) == 3, "0.98999 still fires a rule at 0.95"

    blip = gaussian(1200, seed=13, sd=1.0)
    blip[600] = 120.0
    blip[650:654] = [120.0] * 4
    held_once = SensorModel(window=1)
    held_once.alerting(0.99, 1)  # a rule that fires on one reading: the blip was an alert, so it mutes
    assert all(s.muted for s in run(held_once, blip)[650:654])


def test_a_time_aware_detector_is_told_each_readings_time():
    model = SensorModel(detector="seasonal")
    model.process(1.0, 5 * 3_600_000 + 1)
    assert model.detector._hour == 5


def test_a_lone_reading_far_in_the_tail_fires_through_the_single_reading_test():
    values = gaussian(1200, seed=21)
    values[1000] = 100.0 + 9 * 5.0  # 9 sigma once: the short average alone dilutes it below 0.99
    average_only = [s.likelihood for s in run(SensorModel(single=None, range_margin=None), values)]
    with_single = [s.likelihood for s in run(SensorModel(range_margin=None), values)]
    assert firings(average_only) == 0
    assert firings(with_single) == 1
    window = SensorModel().window
    assert all(likelihood >= 0.99 for likelihood in with_single[1000 : 1000 + window])  # held for `window` readings
    assert max(with_single[1000 + window :]) < 0.99


def test_a_new_extreme_fires_through_the_range_test_only_once_the_range_is_set():
    def run_with_extreme(at: int, **settings) -> list[float]:
        values = gaussian(1200, seed=22)
        values[at] = 100.0 + 7 * 5.0
        return [s.likelihood for s in run(SensorModel(single=None, **settings), values)]

    assert firings(run_with_extreme(1000, range_margin=None)) == 0  # the average test alone misses it
    assert firings(run_with_extreme(1000)) == 1
    assert firings(run_with_extreme(600)) == 0  # before `range_after` readings the range says nothing
    assert firings(run_with_extreme(1000, range_score=8.0)) == 0  # a new extreme must also be far from the mean


def frozen_at(at: int, seed: int, readings: int = 1200) -> list[float]:
    """Gaussian noise that repeats its reading at `at` from there on: a frozen probe."""
    values = gaussian(readings, seed=seed, sd=1.0)
    return values[:at] + [values[at]] * (readings - at)


@pytest.mark.parametrize("seed", [60, 61, 62])
def test_a_frozen_probe_fires_the_stuck_test_once_it_repeats_for_a_window_until_it_varies_again(seed):
    model = SensorModel()
    thawed = 1400  # frozen for 400 readings (past `rebaseline_after` and `settle`), then noise again
    values = frozen_at(1000, seed, readings=thawed) + gaussian(300, seed=seed + 100, sd=1.0)
    likelihoods = [s.likelihood for s in run(model, values)]
    first = next(i for i, likelihood in enumerate(likelihoods) if likelihood >= 0.99)
    assert first == 1000 + model.window - 1  # the reading that repeats it for the window's length
    assert firings(likelihoods) == 1  # one alert, not one per repeat
    assert min(likelihoods[first:thawed]) >= 0.99  # it lasts as long as the probe is frozen
    assert max(likelihoods[thawed + model.window :]) < 0.99  # and ends once it varies again
    assert model.rebaselines == 0 and model._longest < model.window  # not a new normal, not a usual repeat
    assert firings([s.likelihood for s in run(SensorModel(stuck=None), frozen_at(1000, seed))]) == 0
    early = [s.likelihood for s in run(SensorModel(), frozen_at(300, seed))]
    assert max(early[:400]) < 0.99 and early[400] >= 0.99  # not within the first `stuck_after` readings, then at once
    assert firings(early) == 1
    # Frozen from reading 600 of a day read each minute (`everything`'s tank level): found by the stuck test itself.
    scores = run(SensorModel(), frozen_at(600, seed))
    assert scores[600 + 13].likelihood >= 0.99 and scores[600 + 15].reason == reasons.WORDS[reasons.STUCK]


def test_a_sensor_whose_readings_repeat_is_stuck_only_past_4_times_its_longest_repeat():
    values = [float(round(value)) for value in gaussian(1500, seed=63, sd=1.0)]  # whole units: short repeats are usual
    model = SensorModel()
    run(model, values)
    limit = 4 * model._longest + 1
    assert limit > model.window  # the longest usual repeat sets the limit here, not the window
    for repeats, fires in ((limit - 1, False), (limit, True)):
        frozen = values + [values[-1] + 1.0] * repeats + values[:20]  # then it varies again
        assert (firings([s.likelihood for s in run(SensorModel(), frozen)]) == 1) is fires
    for seed in range(64, 69):  # mostly 100: runs of about 80 readings are its normal, and some last 300
        quantized = [float(round(value)) for value in gaussian(20_000, seed=seed, sd=0.2)]
        model = SensorModel()
        with_stuck = firings([s.likelihood for s in run(model, quantized)])
        assert model._longest > 4 * model.window
        assert with_stuck == firings([s.likelihood for s in run(SensorModel(stuck=None), quantized)])


@pytest.mark.parametrize("seed", [103, 105, 107])
def test_a_sensor_that_varies_once_in_a_thousand_readings_is_not_stuck_between_its_moves(seed, monkeypatch):
    values = [float(round(value)) for value in gaussian(20_000, seed, sd=0.15)]  # 100, and 99 or 101 now and then
    model = SensorModel()
    assert reasons.WORDS[reasons.STUCK] not in {s.reason for s in run(model, values) if s.likelihood >= 0.99}
    assert model._longest > 1000  # its usual runs: the first few said less
    monkeypatch.setattr(sensor, "STUCK_RUNS", 1)  # the longest of the first few runs taken as the usual one
    assert reasons.WORDS[reasons.STUCK] in {s.reason for s in run(SensorModel(), values) if s.likelihood >= 0.99}


def noise_that_grows(at: int, factor: float, seed: int = 31) -> list[float]:
    """Gaussian noise whose deviation is multiplied by `factor` from reading `at` on, for 300 readings."""
    values = gaussian(at, seed=seed, sd=1.0)
    rng = random.Random(seed + 1)
    return values + [100.0 + factor * rng.gauss(0.0, 1.0) for _ in range(300)]


@pytest.mark.parametrize("seed", [30, 31, 32])
def test_noise_that_grows_fires_through_the_unrest_test_once_averages_have_settled(seed):
    def likelihoods(values: list[float], **settings) -> list[float]:
        # The average tests alone.
        model = SensorModel(single=None, range_margin=None, spread=None, lean=None, **settings)
        return [s.likelihood for s in run(model, values)]

    grown = noise_that_grows(2500, 2.5, seed)
    assert firings(likelihoods(grown, unrest=None)) == 0  # the average never reaches the singles' 99th percentile
    assert firings(likelihoods(grown)) >= 1
    assert firings(likelihoods(noise_that_grows(800, 2.5, seed))) == 0  # fewer than `horizon` averages learned yet
    assert firings(likelihoods(noise_that_grows(2500, 1.1, seed))) == 0  # a little more noise is not unrest


def test_two_spikes_in_a_row_where_they_only_came_alone_fire_the_lean_test():
    # A counter at 0 that reads 20 every 100 readings: each spike, about 3.4 deviations, is routine.
    def spikes(pair: bool) -> list[float]:
        return [20.0 if i % 100 == 0 or (pair and i == 2001) else 0.0 for i in range(2400)]

    def fired(values: list[float], **settings) -> list[tuple[int, str]]:
        scores = run(SensorModel(**settings), values)
        return [(i, s.reason) for i, s in enumerate(scores) if s.likelihood >= 0.99 and not s.muted]

    assert fired(spikes(False)) == []
    assert fired(spikes(True))[0] == (2001, reasons.WORDS[reasons.LEAN])  # the two lean twice as far as one did
    assert fired(spikes(True), lean=None) == []


@pytest.mark.parametrize("seed", [30, 31, 33])
def test_noise_that_triples_fires_the_spread_test_before_the_unrest_test_can(seed):
    def fired(values: list[float], **settings) -> set[str]:
        model = SensorModel(single=None, range_margin=None, **settings)  # the one-reading tests aside
        return {score.reason for score in run(model, values) if score.likelihood >= 0.99 and not score.muted}

    # Three times the noise around the same level: too few averages yet for the unrest test, not for this one.
    # Measured over seeds 30-37, 300 readings after 800: x3 fires the spread test on 5 of 8, x5 on 4 of 8
    # (the shift test takes the rest), x0.1 (below) on 1 of 8 and x0.02 on 3 of 8. These seeds pin that it
    # can fire, and that it is the spread test which does; a quiet sensor is its weak side.
    assert not fired(noise_that_grows(800, 3.0, seed), spread=None)
    assert fired(noise_that_grows(800, 3.0, seed)) == {reasons.WORDS[reasons.SPREAD]}
    assert not fired(noise_that_grows(800, 1.2, seed))  # a little more noise is not a new spread


def test_a_sensor_that_goes_quiet_fires_the_spread_test():
    model = SensorModel(single=None, range_margin=None)
    reasons_fired = {s.reason for s in run(model, noise_that_grows(800, 0.1, seed=31)) if s.likelihood >= 0.99}
    assert reasons_fired == {reasons.WORDS[reasons.SPREAD]}


@pytest.mark.parametrize("seed", [30, 31, 32])
def test_a_spike_alone_does_not_fire_the_spread_test(seed):
    values = gaussian(1100, seed=seed, sd=1.0)
    values[800] = 130.0  # 30 sigma: the steps into and out of it do not count
    scores = run(SensorModel(), values)
    fired = {score.reason for score in scores if score.likelihood >= 0.99}
    assert fired and reasons.WORDS[reasons.SPREAD] not in fired  # a spike (or a new extreme), not a spread


def test_readings_only_the_spread_test_flags_are_learned_and_a_lasting_spread_becomes_normal():
    model = SensorModel(single=None, range_margin=None)
    scores = run(model, noise_that_grows(800, 3.0, seed=30) + gaussian(900, seed=34, sd=3.0))
    flagged = [i for i, score in enumerate(scores) if score.likelihood >= 0.99]
    assert flagged and flagged[0] < 850 and scores[flagged[0]].reason == reasons.WORDS[reasons.SPREAD]
    assert model.rebaselines == 0  # learned, not held back
    assert not any(score.likelihood >= 0.99 for score in scores[-600:])  # the wider noise is the new normal


def test_a_larger_event_in_the_quiet_period_alerts_again_through_escalation():
    values = gaussian(1200, seed=40, sd=1.0)
    values[400:404] = [108.0] * 4  # 8 sigma
    values[450:454] = [140.0] * 4  # 40 sigma, 50 readings later: inside the quiet period
    assert firings([s.likelihood for s in run(SensorModel(escalate=None), values)]) == 1
    scores = run(SensorModel(), values)
    assert firings([s.likelihood for s in scores]) == 2
    assert not any(s.muted for s in scores[450:454])


FIVE_MINUTES = 300_000
DAY0 = (T0 // DAY_MS + 1) * DAY_MS  # a UTC midnight


def nightly_spikes(days: int, seed: int, extra: dict[tuple[int, int], float] | None = None) -> list[float]:
    """Readings every 5 minutes from midnight, with a backup lifting them 60 (12 sigma) for 10 minutes
    at about 02:00 every night (a few minutes later each night); `extra` adds (day, hour) -> size spikes."""
    values = gaussian(days * 288, seed=seed)
    for day in range(days):
        at = day * 288 + 24 + day  # 02:00, then 02:05, 02:10 ...
        values[at : at + 2] = [values[at] + 60.0, values[at + 1] + 60.0]
    for (day, hour), size in (extra or {}).items():
        at = day * 288 + hour * 12
        values[at : at + 2] = [values[at] + size, values[at + 1] + size]
    return values


def alert_days(model: SensorModel, values: list[float]) -> list[tuple[int, int]]:
    """(day, hour) of each onset of the default rule, readings every 5 minutes from DAY0."""
    scores = [model.process(value, DAY0 + FIVE_MINUTES * i) for i, value in enumerate(values)]
    onsets, streak = [], 0
    for i, score in enumerate(scores):
        streak = streak + 1 if score.likelihood >= 0.99 else 0
        if streak == 3:
            onsets.append((i // 288, i % 288 // 12))
    return onsets


@pytest.mark.parametrize("seed", [50, 51])
def test_a_nightly_routine_alerts_on_its_first_two_nights_only(seed):
    values = nightly_spikes(7, seed)
    assert alert_days(SensorModel(routine=None), values) == [(day, 2) for day in range(1, 7)]
    assert alert_days(SensorModel(), values) == [(1, 2), (2, 2)]


@pytest.mark.parametrize("seed", [52, 53, 54])
def test_a_routine_hides_only_its_own_time_of_day_and_size(seed):
    values = nightly_spikes(7, seed=seed, extra={(5, 14): 80.0, (6, 2): 300.0})
    # 14:00 is not the routine's time; at 02:00 a spike 5 times the routine's is a new event. (A spike
    # of the routine's own size at 14:00 is borderline: the daily spikes taught the tail they are common.)
    assert alert_days(SensorModel(), values) == [(1, 2), (2, 2), (5, 14), (6, 2)]


def test_a_routine_survives_a_checkpoint():
    values = nightly_spikes(5, seed=53)
    model = SensorModel()
    alert_days(model, values[:700])  # into the third day: two nights noted
    restored = pickle.loads(pickle.dumps(model))
    rest = [restored.process(value, DAY0 + FIVE_MINUTES * (700 + i)) for i, value in enumerate(values[700:])]
    assert max(score.likelihood for score in rest) < 0.99
    assert any(score.muted for score in rest)


def _shifted(by: float) -> list[float]:
    values = gaussian(2000, seed=8)
    return values[:1000] + [value + by for value in values[1000:]]


def _spiked(at: int) -> list[float]:
    values = gaussian(1200, seed=4)
    values[at] = 200.0  # 20 sigma
    return values


def _extreme() -> list[float]:
    values = gaussian(1200, seed=22)
    values[1000] = 135.0  # 7 sigma: beyond the range, not rare enough for the single test at these settings
    return values


@pytest.mark.parametrize(
    ("values", "settings", "reason"),
    [
        (_spiked(600), {}, reasons.SPIKE),  # before `range_after`: the single test alone
        (_extreme(), {"single": None}, reasons.EXTREME),
        (_shifted(15.0), {}, reasons.SHIFT),  # 3 sigma, lasting
        (_shifted(100.0), {}, reasons.SHIFT),  # 20 sigma: its first reading is a spike, and the next ones show it lasts
        (noise_that_grows(2500, 2.5), {"single": None, "range_margin": None}, reasons.UNREST),
        (frozen_at(1000, seed=60), {}, reasons.STUCK),
    ],
    ids=["spike", "extreme", "shift", "large-shift", "unrest", "stuck"],
)
def test_a_score_at_the_threshold_names_the_test_that_put_it_there(values, settings, reason):
    scores = run(SensorModel(**settings), values)
    first = next(i for i, score in enumerate(scores) if score.likelihood >= 0.99)
    # The reading the default rule (`for: 3`) fires on, whose reason the alert reports.
    assert scores[first + 2].reason == reasons.WORDS[reason]
    assert {score.reason for score in scores if score.warming_up} == {""}
    assert set(reasons.WORDS) >= {score.reason for score in scores if not score.warming_up}


@pytest.mark.parametrize("seed", [9, 12])
def test_a_slow_drift_alerts_as_a_drift_from_the_long_run_level(seed):
    value_at = supply_air(random.Random(seed), drift_from=600, by=4.0)  # a filter clogs over six hours
    values = [value_at(i) for i in range(1000)]
    model = SensorModel()
    scores = [model.process(value, T0 + 60_000 * i) for i, value in enumerate(values)]
    first = next(i for i, score in enumerate(scores) if score.likelihood >= 0.99)
    assert 650 < first < 900
    fired = first + 2  # the reading the default rule fires on
    assert scores[fired].reason == reasons.WORDS[reasons.DRIFT]
    # It reports the level before the drift, and the reading far above its range; the profile expected it.
    assert abs(scores[fired].expected - 18.3) < 0.15 and values[fired] > scores[fired].high
    assert scores[fired].raw < 3.0
    # Held back and then taken as the new normal, as any lasting change is: one alert.
    assert firings([score.likelihood for score in scores]) == 1 and model.rebaselines == 1


def _daily_cycle_stuck_low(seed: int, spike_at: int | None = None) -> list[Score]:
    # Two weeks of a daily cycle read every 5 minutes, then 200 readings held near the cycle's low (the anomaly,
    # which the model accepts as a new normal), then the cycle again: its climb back is the old rhythm.
    rng = random.Random(seed)
    model, day, scores = SensorModel(), 288, []
    for i in range(16 * day):
        level = 50.0 + 30.0 * math.sin(2 * math.pi * i / day)
        if 14 * day <= i < 14 * day + 200:
            level = 20.0
        if i == spike_at:
            level += 60.0
        scores.append(model.process(level + rng.gauss(0.0, 1.0), 1_700_000_000_000 + 300_000 * i))
    return scores


def _alerts(scores: list[Score]) -> list[int]:
    high = [score.likelihood >= 0.99 for score in scores]
    return [i for i in range(3, len(high)) if high[i] and high[i - 1] and high[i - 2] and not high[i - 3]]


@pytest.mark.parametrize("seed", range(3))
def test_the_old_rhythm_coming_back_after_a_re_baseline_is_not_an_alert(seed):
    scores = _daily_cycle_stuck_low(seed)
    assert _alerts(scores) == [14 * 288 + 2]  # the anomaly only, not the cycle's return
    assert any(score.muted for score in scores[14 * 288 + 200 :])  # capped, and said so


@pytest.mark.parametrize("seed", range(3))
def test_a_spike_after_a_re_baseline_still_alerts(seed, monkeypatch):
    spike = 14 * 288 + 230
    scores = _daily_cycle_stuck_low(seed, spike_at=spike)
    assert spike + 2 in _alerts(scores)
    monkeypatch.setattr(sensor, "FORMER_SPAN", 0)
    assert 14 * 288 + 200 < max(_alerts(_daily_cycle_stuck_low(seed)))  # without it, the return alerts
