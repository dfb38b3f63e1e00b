"""NAB anomaly scores from what the streaming job alerts on: the onsets of the default alert rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class OnsetRule:
    """The parts of a 'score_above T for N events, resolve after M' rule that decide when it fires."""

    threshold: float
    hold: int
    resolve_after: int

    @classmethod
    def default(cls) -> "OnsetRule":
        """The job's default rule (alerts/default_rules.yaml), so NAB measures what runs."""
        from alerts.rules import default_rules  # an evaluation tool may look at the alert rules

        rule = default_rules().rules[0]
        if rule.when.score_above is None or not rule.for_.events:
            raise ValueError("the default rule must be 'score_above' held for a number of events")
        return cls(rule.when.score_above, rule.for_.events, rule.resolve_after)


def onset_scores(likelihoods: Sequence[float], rule: OnsetRule) -> list[float]:
    """Per reading: the score a new alert would fire at, and 0.0 while the rule's alert is firing.

    While no alert fires, a reading's score is the least likelihood of the last `hold` readings:
    the rule fires here exactly when that reaches its threshold, and a lower threshold would fire
    wherever the score reaches it. The firing reading keeps its score; the readings after it score
    0.0 until `resolve_after` readings in a row fall below the threshold, so one alert is one
    detection, as an operator sees it.

    >>> rule = OnsetRule(threshold=0.99, hold=2, resolve_after=2)
    >>> onset_scores([0.2, 0.995, 1.0, 1.0, 0.5, 0.999, 0.4, 0.3, 0.999, 0.999], rule)
    [0.2, 0.2, 0.995, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.999]
    """
    scores = []
    firing, clears = False, 0
    hold, threshold = rule.hold, rule.threshold
    for row, likelihood in enumerate(likelihoods):
        if firing:
            clears = clears + 1 if likelihood < threshold else 0
            firing = clears < rule.resolve_after
            scores.append(0.0)
            continue
        score = min(likelihoods[max(0, row - hold + 1) : row + 1])
        scores.append(score)
        firing, clears = score >= threshold, 0
    return scores
