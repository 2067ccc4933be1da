"""Selective prediction: thresholds certified for a target precision, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from deskhand.triage.selective import (
    NEVER,
    RISK,
    certify,
    certify_routes,
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


def test_thresholds_are_certified_per_intent_when_no_shared_one_is() -> None:
    # b's 100 tickets, the most confident, are 70% right: no threshold over every intent
    # certifies, so a (200 right) routes by its own and b by none.
    predicted = ["a"] * 200 + ["b"] * 100
    confidence = list(np.linspace(0.6, 0.5, 200)) + [0.95] * 100
    actual = ["a"] * 200 + ["a"] * 30 + ["b"] * 70
    routes = certify_routes(predicted, confidence, actual, 0.95, ["a", "b", "c"])
    assert not routes.shared.routes
    chosen = routes.thresholds()
    assert chosen["a"] <= 0.6
    assert (chosen["b"], chosen["c"]) == (NEVER, NEVER)
    assert chosen == choose_thresholds(predicted, confidence, actual, 0.95, ["a", "b", "c"])


def small_intents(
    count: int, each: int, wrong_every: int = 0
) -> tuple[list[str], list[float], list[str]]:
    """``count`` intents of ``each`` held-out tickets at confidences from 0.99 down to 0.6;
    with ``wrong_every``, one in that many is wrong, spread over the confidences."""
    predicted, confidence, actual = [], [], []
    for number in range(count):
        for ticket in range(each):
            wrong = wrong_every and (ticket + number) % wrong_every == 0
            predicted.append(f"intent{number}")
            confidence.append(0.99 - 0.39 * ticket / each - 0.001 * number)
            actual.append("other" if wrong else f"intent{number}")
    return predicted, confidence, actual


def test_many_small_intents_that_cannot_certify_alone_route_by_the_shared_threshold() -> None:
    predicted, confidence, actual = small_intents(30, 10)
    intents = sorted(set(predicted))
    assert not certify(confidence[:10], [True] * 10, 0.95).routes  # 10 are too few alone
    routes = certify_routes(predicted, confidence, actual, 0.95, intents)
    assert routes.shared.routes
    assert routes.shared.lower_bound >= 0.95
    assert all(routes.via_shared(intent) for intent in intents)
    assert set(routes.thresholds().values()) == {routes.shared.threshold}
    routed = coverage(predicted, confidence, actual, routes.thresholds())
    assert routed.routed == routes.shared.routed >= 150
    assert routed.precision == 1.0


def test_a_shared_pool_whose_precision_is_below_the_target_routes_nothing() -> None:
    # 30 intents of 10 tickets, 9 of each 10 right, at every confidence.
    predicted, confidence, actual = small_intents(30, 10, wrong_every=10)
    intents = sorted(set(predicted))
    routes = certify_routes(predicted, confidence, actual, 0.95, intents)
    assert not routes.shared.routes
    assert routes.shared.reason.startswith("certified at best ")
    assert set(routes.thresholds().values()) == {NEVER}


def test_the_shared_threshold_shares_the_risk_among_its_own_candidates() -> None:
    # 60 right tickets, then 200 wrong, over 20 intents: the top 59, all right, would certify
    # 95% at the full 5% risk, but not at 5% shared among the 9 thresholds tried.
    predicted = [f"intent{n % 20}" for n in range(260)]
    confidence = list(np.linspace(0.99, 0.01, 260))
    actual = [p if n < 60 else "other" for n, p in enumerate(predicted)]
    assert lower_bound(59, 59, RISK) >= 0.95
    routes = certify_routes(predicted, confidence, actual, 0.95, sorted(set(predicted)))
    assert not routes.shared.routes
    assert routes.shared.lower_bound == pytest.approx(lower_bound(59, 59, RISK / 9))


def test_an_intent_certified_alone_below_the_shared_threshold_routes_lower() -> None:
    # 300 right tickets of 30 small intents above 0.6; below it, "big"'s 200 tickets, all
    # right, interleaved with "mixed"'s 200, half wrong: only big's own threshold routes them.
    predicted, confidence, actual = small_intents(30, 10)
    below = np.linspace(0.59, 0.2, 400)
    predicted += ["big", "mixed"] * 200
    confidence += list(below)
    actual += ["big", "mixed", "big", "other"] * 100
    intents = sorted(set(predicted))
    routes = certify_routes(predicted, confidence, actual, 0.95, intents)
    assert routes.shared.routes and routes.shared.threshold >= 0.5
    assert not routes.via_shared("big")
    assert routes.threshold("big") < routes.shared.threshold
    assert routes.via_shared("mixed")
    big = routes.alone["big"]  # its own group: only its tickets below the shared threshold
    assert big.tickets < 200 and big.routed >= 100 and big.lower_bound >= 0.95
