"""One contract, every registered detector: River's estimator checks and tocsin's own."""

from __future__ import annotations

import functools
import math
import pickle
import random

import pytest
from river import checks

from models import build, names


def labelled_rows(n: int = 600, seed: int = 0) -> list[tuple[dict, bool]]:
    """Five Gaussian features; every 50th row is an anomaly far out on one of them."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        x = {f"f{j}": rng.gauss(10.0 * j, 1.0 + j) for j in range(5)}
        anomalous = i % 50 == 25
        if anomalous:
            x["f2"] += 40.0
        rows.append((x, anomalous))
    return rows


def river_checks(detector):
    """River's checks for `detector`, on in-memory rows instead of its downloadable CreditCard set."""
    rows = labelled_rows()
    for check in checks.yield_checks(detector):
        if isinstance(check, functools.partial) and "dataset" in check.keywords:
            check = functools.update_wrapper(functools.partial(check.func, dataset=rows), check.func)
        yield check


def readings(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [{"value": rng.gauss(50.0, 2.0)} for _ in range(n)]


def trained(name: str, n: int = 400):
    detector = build(name)
    for x in readings(n):
        detector.learn_one(x)
    return detector


@pytest.mark.parametrize("name", names())
def test_river_estimator_checks(name):
    detector_class = type(build(name))
    ran = set()
    for params in detector_class._unit_test_params():
        detector = detector_class(**params)
        for check in river_checks(detector):
            if check.__name__ not in detector._unit_test_skips():
                check(detector.clone())
                ran.add(check.__name__)
    assert {"check_roc_auc", "check_pickling", "check_predict_one_pure", "check_emerging_features"} <= ran


@pytest.mark.parametrize("name", names())
def test_scores_are_finite_floats_from_the_first_reading(name):
    detector = build(name)
    for x in readings(400) + [{"value": 1e300}, {"value": -1e300}, {"value": 0.0}]:
        score = detector.score_one(x)
        assert isinstance(score, float) and math.isfinite(score)
        detector.learn_one(x)


@pytest.mark.parametrize("name", names())
def test_score_one_changes_nothing_so_a_score_never_depends_on_its_own_reading(name):
    detector = trained(name)
    state = pickle.dumps(detector)
    first = detector.score_one({"value": 80.0})
    assert pickle.dumps(detector) == state
    assert detector.score_one({"value": 80.0}) == first


@pytest.mark.parametrize("name", names())
def test_a_far_reading_scores_higher_than_a_typical_one(name):
    detector = trained(name)
    assert detector.score_one({"value": 90.0}) > detector.score_one({"value": 50.0})


@pytest.mark.parametrize("name", names())
def test_pickle_round_trip_keeps_the_scores_and_the_learning(name):
    detector = trained(name)
    copy = pickle.loads(pickle.dumps(detector))
    for x in readings(50, seed=2):
        assert copy.score_one(x) == detector.score_one(x)
        copy.learn_one(x)
        detector.learn_one(x)


@pytest.mark.parametrize("name", names())
def test_flatline_scores_zero_or_stay_flat_without_errors(name):
    detector = build(name)
    scores = []
    for _ in range(600):
        scores.append(detector.score_one({"value": 7.25}))
        detector.learn_one({"value": 7.25})
    assert all(math.isfinite(score) for score in scores)
    assert len(set(scores[-100:])) == 1  # nothing moves on a flatline


@pytest.mark.parametrize("name", names())
def test_nan_and_inf_are_neither_learned_nor_a_crash(name):
    detector = trained(name)
    state = pickle.dumps(detector)
    for bad in (float("nan"), float("inf"), float("-inf")):
        assert math.isfinite(detector.score_one({"value": bad}))
        detector.learn_one({"value": bad})
    assert pickle.dumps(detector) == state


@pytest.mark.parametrize("name", names())
def test_a_non_number_is_refused_naming_the_feature(name):
    detector = trained(name)
    with pytest.raises(ValueError, match="feature 'value' is 'high', not a number"):
        detector.learn_one({"value": "high"})
