"""Selective prediction: thresholds certified for a target precision, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from deskhand.triage.selective import (
    NEVER,
    certify,
    choose_thresholds,
    coverage,
    fewest_to_certify,
    lower_bound,
    precision_interval,
)


def test_59_right_out_of_59_is_the_least_evidence_that_certifies_95_percent() -> None:
    # 0.95^59 < 0.05 <= 0.95^58: a perfect record of 58 could still come from 95% precision.
    assert fewest_to_certify(0.95) == 59
    assert lower_bound(59, 59) >= 0.95
    assert lower_bound(58, 58) < 0.95
    assert lower_bound(0, 10) == 0.0


def test_an_intent_with_too_little_evidence_is_not_routed_and_says_why() -> None:
    perfect = certify([0.99] * 40, [True] * 40, 0.95)
    assert perfect.threshold == NEVER
    assert not perfect.routes
    assert perfect.reason == "too few: 40 predicted, needs 59"
    assert certify([], [], 0.95).reason == "too few: 0 predicted, needs 59"


def test_an_intent_right_95_percent_on_the_history_is_not_certified_95() -> None:
    # 190 of 200 right at every confidence: the point estimate meets 95%, its bound does not.
    confidence = np.linspace(0.99, 0.5, 200)
    correct = np.arange(200) % 20 != 0
    certificate = certify(confidence, correct, 0.95)
    assert certificate.threshold == NEVER
    assert certificate.reason.startswith("certified at best ")
    assert certificate.lower_bound < 0.95


def test_the_threshold_is_the_lowest_candidate_whose_bound_reaches_the_target() -> None:
    # 300 tickets, all right above confidence 0.5 (the top 200), then half wrong below.
    confidence = np.linspace(0.99, 0.01, 300)
    correct = np.ones(300, dtype=bool)
    correct[200::2] = False
    certificate = certify(confidence, correct, 0.95)
    assert certificate.routes
    assert certificate.lower_bound >= 0.95
    assert certificate.routed == certificate.correct  # nothing wrong is routed here
    assert 120 <= certificate.routed <= 200
    assert certificate.threshold == pytest.approx(confidence[certificate.routed - 1])
    # The tickets it routes are certified; one more candidate would not be.
    assert lower_bound(certificate.correct, certificate.routed) >= 0.95


def test_tickets_with_the_same_confidence_are_taken_together() -> None:
    # 100 right tickets at 0.9, then 50 tickets at 0.8 of which half are wrong: a threshold
    # cannot keep the right 0.8 tickets and drop the wrong ones.
    confidence = [0.9] * 100 + [0.8] * 50
    correct = [True] * 100 + [True, False] * 25
    assert certify(confidence, correct, 0.95).threshold == 0.9


def test_precision_interval_is_clopper_pearson() -> None:
    low, high = precision_interval(95, 100)
    assert low == pytest.approx(0.8872, abs=1e-4)
    assert high == pytest.approx(0.9836, abs=1e-4)
    assert precision_interval(0, 0) == (0.0, 1.0)
    assert precision_interval(10, 10)[1] == 1.0


def test_coverage_counts_routed_tickets_and_their_precision() -> None:
    predicted = ["a", "a", "a", "b", "b"]
    confidence = [0.9, 0.6, 0.3, 0.95, 0.5]
    actual = ["a", "b", "a", "b", "b"]
    thresholds = {"a": 0.5, "b": NEVER}
    result = coverage(predicted, confidence, actual, thresholds)
    assert (result.tickets, result.routed, result.correct) == (5, 2, 1)
    assert result.coverage == pytest.approx(0.4)
    assert result.precision == pytest.approx(0.5)
    assert result.interval() == precision_interval(1, 2)


def test_thresholds_are_certified_per_intent() -> None:
    predicted = ["a"] * 100 + ["b"] * 100
    confidence = [0.9] * 100 + [0.8] * 100
    actual = ["a"] * 100 + ["a"] * 30 + ["b"] * 70
    chosen = choose_thresholds(predicted, confidence, actual, 0.95, ["a", "b", "c"])
    assert chosen == {"a": 0.9, "b": NEVER, "c": NEVER}


def test_a_target_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="target precision"):
        certify([0.5], [True], 1.5)
