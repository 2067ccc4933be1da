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
    fixed_sequence,
    lower_bound,
    precision_interval,
)

# Each of the two tests (fixed sequence, Bonferroni) spends half the 5% risk; at 2.5% the
# fewest tickets that certify 95% are 72, all right.
HALF = 0.025


def test_59_right_out_of_59_is_the_least_evidence_that_certifies_95_percent() -> None:
    # 0.95^59 < 0.05 <= 0.95^58: a perfect record of 58 could still come from 95% precision.
    assert fewest_to_certify(0.95) == 59
    assert lower_bound(59, 59) >= 0.95
    assert lower_bound(58, 58) < 0.95
    assert lower_bound(0, 10) == 0.0
    assert fewest_to_certify(0.95, HALF) == 72


def test_an_intent_with_too_little_evidence_is_not_routed_and_says_why() -> None:
    perfect = certify([0.99] * 40, [True] * 40, 0.95)
    assert perfect.threshold == NEVER
    assert not perfect.routes
    assert perfect.reason == "too few: 40 predicted, needs 72"
    assert certify([], [], 0.95).reason == "too few: 0 predicted, needs 72"


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


def test_a_small_intent_the_bonferroni_split_cannot_certify_is_certified_in_sequence() -> None:
    # 75 tickets, all right. Bonferroni over the candidates after 59, 71 and 75 tickets needs a
    # bound at 5%/3, and over 72 and 75 at 2.5%/2: neither reaches 95%. The fixed sequence
    # tests 72 and then 75 at the whole 2.5%, and both pass.
    assert lower_bound(75, 75, 0.05 / 3) < 0.95
    assert lower_bound(75, 75, HALF / 2) < 0.95
    confidence = np.linspace(0.99, 0.5, 75)
    certificate = certify(confidence, [True] * 75, 0.95)
    assert certificate.routes
    assert (certificate.routed, certificate.correct) == (75, 75)
    assert certificate.threshold == pytest.approx(0.5)
    assert certificate.lower_bound == pytest.approx(lower_bound(75, 75, HALF))


def test_the_fixed_sequence_stops_at_the_first_candidate_that_fails() -> None:
    # Candidates after 72, 87, 105, 126 and 130 tickets; the 80th most confident is wrong.
    # 86 of 87 fails at 2.5%, so the sequence ends there, though 125 of 126 and 129 of 130
    # would pass at 2.5% (and fail at Bonferroni's 2.5%/5): the threshold stays at the 72nd.
    assert lower_bound(86, 87, HALF) < 0.95 <= lower_bound(129, 130, HALF)
    assert lower_bound(129, 130, HALF / 5) < 0.95
    confidence = np.linspace(0.99, 0.2, 130)
    correct = np.ones(130, dtype=bool)
    correct[79] = False
    certificate = certify(confidence, correct, 0.95)
    assert (certificate.routed, certificate.correct) == (72, 72)
    assert certificate.threshold == pytest.approx(confidence[71])
    passed = fixed_sequence(
        np.array([72, 87, 105, 126, 130]), np.array([72, 86, 104, 125, 129]), 0.95, HALF
    )
    assert passed == [lower_bound(72, 72, HALF)]


def test_an_intent_whose_most_confident_candidates_fail_is_not_routed() -> None:
    # Its most confident ticket is wrong and the 129 after it right: the first candidate (71
    # of 72) fails, which ends the sequence; Bonferroni's 2.5%/5 certifies none either.
    confidence = np.linspace(0.99, 0.2, 130)
    correct = np.ones(130, dtype=bool)
    correct[0] = False
    certificate = certify(confidence, correct, 0.95)
    assert not certificate.routes
    assert certificate.reason.startswith("certified at best ")
    assert certificate.lower_bound < 0.95


def test_the_candidates_are_placed_by_the_scores_never_by_the_labels() -> None:
    # 300 tickets: the thresholds tried route the top 72 (the fewest that can pass at 2.5%),
    # then each time 20% more, and all 300, whether the wrong ones are at the top or not.
    grid = {72, 87, 105, 126, 152, 183, 220, 264, 300}
    confidence = np.linspace(0.99, 0.01, 300)
    chosen = []
    for wrong_at_top in ([], [3], [3, 11]):
        for wrong_from in (190, 230):
            correct = np.ones(300, dtype=bool)
            correct[wrong_at_top] = False
            correct[wrong_from::3] = False
            certificate = certify(confidence, correct, 0.95)
            if certificate.routes:
                chosen.append(certificate.routed)
    assert chosen == [183, 220, 183, 220, 220]
    assert set(chosen) <= grid


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
