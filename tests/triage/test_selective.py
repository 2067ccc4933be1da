"""Selective prediction: thresholds chosen for a target precision, worked out by hand."""

from __future__ import annotations

import pytest

from deskhand.triage.selective import NEVER, choose_thresholds, coverage, threshold_for

# Five held-out tickets predicted as one intent, most confident first. The precision of the
# top k is 1/1, 2/2, 2/3, 3/4, 3/5.
CONFIDENCE = [0.9, 0.8, 0.7, 0.6, 0.5]
CORRECT = [True, True, False, True, False]


@pytest.mark.parametrize(
    ("target", "expected"),
    [(0.75, 0.6), (0.6, 0.5), (0.9, 0.8), (1.0, 0.8)],
)
def test_threshold_is_the_lowest_confidence_that_keeps_the_target_precision(
    target: float, expected: float
) -> None:
    assert threshold_for(CONFIDENCE, CORRECT, target) == expected


def test_an_intent_that_is_never_precise_enough_is_never_routed() -> None:
    assert threshold_for([0.9, 0.4], [False, True], 0.95) == NEVER
    assert threshold_for([], [], 0.95) == NEVER


def test_tickets_with_the_same_confidence_are_taken_together() -> None:
    # 0.9 alone would be 1/1, but a threshold cannot keep one 0.8 ticket and drop the other.
    assert threshold_for([0.9, 0.8, 0.8], [True, True, False], 0.9) == 0.9


def test_coverage_counts_routed_tickets_and_their_precision() -> None:
    predicted = ["a", "a", "a", "b", "b"]
    confidence = [0.9, 0.6, 0.3, 0.95, 0.5]
    actual = ["a", "b", "a", "b", "b"]
    thresholds = {"a": 0.5, "b": NEVER}
    result = coverage(predicted, confidence, actual, thresholds)
    assert (result.tickets, result.routed, result.correct) == (5, 2, 1)
    assert result.coverage == pytest.approx(0.4)
    assert result.precision == pytest.approx(0.5)


def test_thresholds_are_chosen_per_intent() -> None:
    predicted = ["a", "a", "b", "b", "b"]
    confidence = [0.9, 0.7, 0.8, 0.6, 0.55]
    actual = ["a", "b", "b", "b", "a"]
    chosen = choose_thresholds(predicted, confidence, actual, 0.95, ["a", "b", "c"])
    assert chosen == {"a": 0.9, "b": 0.6, "c": NEVER}


def test_a_target_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="target precision"):
        threshold_for([0.5], [True], 1.5)
