"""The detector registry: names, building by name, and refusing bad names and parameters."""

from __future__ import annotations

import pytest

from models import DEFAULT_DETECTOR, build, names


def test_names_list_the_default_first_and_every_required_detector():
    assert names()[0] == DEFAULT_DETECTOR == "running"
    assert {"running", "zscore", "hst", "sad", "loda", "forecast", "ensemble"} <= set(names())


@pytest.mark.parametrize("name", names())
def test_every_name_builds_a_river_style_detector(name):
    detector = build(name)
    assert callable(detector.score_one) and callable(detector.learn_one)
    assert build(name) is not detector  # a fresh one each time


def test_params_reach_the_detector():
    assert build("zscore", rate=0.1, clip=2.5).rate == 0.1
    assert build("hst", n_trees=3, height=4, window_size=20, seed=1).n_trees == 3


def test_an_unknown_name_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown detector 'ztest'; known: running, zscore, hst"):
        build("ztest")


def test_an_unknown_parameter_is_refused_naming_it_and_the_accepted_ones():
    message = r"detector 'hst' has no parameters 'depth', 'trees'; it takes: n_trees"
    with pytest.raises(ValueError, match=message):
        build("hst", depth=3, trees=2)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("zscore", {"rate": 0.0}, r"RobustZScore: rate must be in \(0, 1\], got 0.0"),
        ("zscore", {"rate": "fast"}, r"RobustZScore: rate must be a finite number, got 'fast'"),
        ("zscore", {"clip": -1}, r"RobustZScore: clip must be above 0, got -1"),
        ("hst", {"n_trees": 0}, r"ScaledHalfSpaceTrees: n_trees must be an integer >= 1, got 0"),
        ("hst", {"height": 2.5}, r"ScaledHalfSpaceTrees: height must be an integer >= 1, got 2.5"),
        ("hst", {"seed": "x"}, r"ScaledHalfSpaceTrees: seed must be an integer or None, got 'x'"),
        ("sad", {"sub_stat": "mode"}, r"StandardAbsoluteDeviation: sub_stat must be one of mean, median"),
        ("loda", {"n_bins": 1}, r"Loda: n_bins must be an integer >= 2, got 1"),
        ("loda", {"n_random_cuts": True}, r"Loda: n_random_cuts must be an integer >= 1, got True"),
    ],
)
def test_bad_parameter_values_are_refused_naming_detector_and_parameter(name, params, message):
    with pytest.raises(ValueError, match=message):
        build(name, **params)
