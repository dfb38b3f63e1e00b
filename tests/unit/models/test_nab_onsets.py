"""onset_scores: one score per alert onset, zeros while the rule's alert is firing."""

from __future__ import annotations

from models.nab.onsets import OnsetRule, onset_scores

RULE = OnsetRule(threshold=0.99, hold=3, resolve_after=3)


def test_below_the_threshold_a_reading_scores_the_least_of_its_hold():
    assert onset_scores([0.1, 0.5, 0.3, 0.9], RULE) == [0.1, 0.1, 0.1, 0.3]


def test_a_run_fires_once_at_its_third_reading_and_is_silent_until_resolved():
    likelihoods = [0.2, 0.995, 0.999, 0.992, 1.0, 0.5, 0.4, 0.3, 0.2]
    assert onset_scores(likelihoods, RULE) == [0.2, 0.2, 0.2, 0.992, 0.0, 0.0, 0.0, 0.0, 0.2]


def test_a_dip_shorter_than_resolve_after_does_not_make_a_second_onset():
    likelihoods = [0.1] + [0.999] * 3 + [0.5, 0.5] + [0.999] * 3 + [0.1] * 3 + [0.999] * 3
    scores = onset_scores(likelihoods, RULE)
    assert [row for row, score in enumerate(scores) if score >= 0.99] == [3, 14]


def test_the_onset_score_ranks_by_the_weakest_reading_of_the_hold():
    strong = onset_scores([0.1, 0.9999, 0.99999, 0.9999], RULE)[-1]
    weak = onset_scores([0.1, 0.9999, 0.991, 0.9999], RULE)[-1]
    assert weak == 0.991 and strong == 0.9999


def test_the_default_rule_is_read_from_the_jobs_rules():
    rule = OnsetRule.default()
    assert (rule.threshold, rule.hold, rule.resolve_after) == (0.99, 3, 3)
