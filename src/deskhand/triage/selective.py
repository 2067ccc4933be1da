"""Selective prediction: route a ticket only when the classifier is sure enough to be right.

For each intent, a confidence threshold is *certified* on held-out history: the tickets predicted
as that intent at or above it must be right at least ``target`` of the time, not just on the
history (choosing thresholds on the point estimate broke the promise out of sample: 94.4% and
94.9% routed precision against a 95% target) but by the one-sided Clopper-Pearson lower
confidence bound. Below its threshold a ticket escalates as ``low_confidence``.

The thresholds tested are fixed by the scores alone, never by the labels: after the top
tickets, then each time 20% more. The ``risk`` (5%) is split in two halves, each spent by one
test of those candidates, and the lower threshold either certifies is used:

- a *fixed sequence*: from the highest candidate down, each at the whole half (2.5%), stopping
  at the first that fails. The first candidate routes the fewest tickets that could ever
  certify the target at that risk (72, all right, for 95%), so a small intent gets one test
  at 2.5% instead of many at a fraction of it;
- *Bonferroni*: every candidate at the half shared among them, so an intent with a few wrong
  among its most confident tickets can still be certified lower down.

Either test alone is wrong at most 2.5% of the time, so the lower of the two thresholds is
below the target precision with at most a 5% chance, per intent, for tickets like the history.
(The fixed sequence alone at 5% certified 10.3% of Endava's tickets by category, against 58.2%
with Bonferroni: one wrong among a large intent's top 59 stopped it at once.) An intent whose
precision cannot be certified is never routed, and its ``Certificate`` says why: too few
held-out predictions, or too many wrong among its most confident.

Pure functions over arrays: no model, no I/O, so the arithmetic can be checked by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# An intent whose precision cannot be certified on held-out history is never routed.
NEVER = float("inf")
RISK = 0.05  # chance that a certified threshold is, in truth, below the target precision
GRID_STEP = 1.2  # each threshold tested routes 20% more held-out tickets than the one before

Scores = Sequence[float] | np.ndarray[Any, Any]


@dataclass(frozen=True)
class Coverage:
    """How many tickets a set of thresholds routes, and how many of those are right."""

    tickets: int
    routed: int
    correct: int

    @property
    def coverage(self) -> float:
        """Share of all tickets routed automatically."""
        return self.routed / self.tickets if self.tickets else 0.0

    @property
    def precision(self) -> float:
        """Share of routed tickets whose intent was right (1.0 when none is routed)."""
        return self.correct / self.routed if self.routed else 1.0

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Two-sided Clopper-Pearson interval of the routed precision."""
        return precision_interval(self.correct, self.routed, confidence)


@dataclass(frozen=True)
class Certificate:
    """What the held-out tickets predicted as one intent say about routing it."""

    threshold: float  # lowest confidence routed; NEVER: not routed
    tickets: int  # held-out tickets predicted as the intent
    routed: int  # of those, at or above the threshold
    correct: int  # of the routed, right
    lower_bound: float  # certified precision of the routed (or of the best tested)
    reason: str  # why not routed; "" when routed

    @property
    def routes(self) -> bool:
        return self.threshold != NEVER


def lower_bound(correct: int, tickets: int, risk: float = RISK) -> float:
    """One-sided Clopper-Pearson lower bound of a precision: true precision is at least this
    with probability ``1 - risk``. 0 when nothing is right (or nothing was tried)."""
    from scipy.stats import beta

    if correct <= 0 or tickets <= 0:
        return 0.0
    return float(beta.ppf(risk, correct, tickets - correct + 1))


def precision_interval(correct: int, tickets: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval of ``correct / tickets``; (0, 1) for no tickets."""
    from scipy.stats import beta

    tail = (1.0 - confidence) / 2
    low = float(beta.ppf(tail, correct, tickets - correct + 1)) if correct > 0 else 0.0
    high = float(beta.ppf(1 - tail, correct + 1, tickets - correct)) if correct < tickets else 1.0
    return low, high


def fewest_to_certify(target: float, risk: float = RISK) -> int:
    """The fewest held-out tickets that, all right, certify ``target`` (59 for 95%, 5%)."""
    return math.ceil(math.log(risk) / math.log(target))


def certify(
    confidence: Scores, correct: Sequence[bool], target: float, risk: float = RISK
) -> Certificate:
    """The lowest candidate confidence at which the held-out predictions at or above it are
    certified ``target`` precise: the lower of the thresholds certified by a fixed sequence and
    by Bonferroni, each at half the ``risk`` (see the module's docstring).

    ``confidence`` and ``correct`` describe the held-out tickets predicted as one intent. Ties
    in confidence are taken together: a threshold cannot split tickets that scored the same.
    """
    if len(confidence) != len(correct):
        raise ValueError(f"{len(confidence)} confidences but {len(correct)} outcomes")
    if not 0.0 < target < 1.0:
        raise ValueError(f"the target precision must be in (0, 1), not {target}")
    scores = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=bool)
    order = np.argsort(-scores, kind="stable")
    scores, right = scores[order], right[order]
    half = risk / 2
    fewest = fewest_to_certify(target, half)
    if len(scores) < fewest:
        return Certificate(
            NEVER, len(scores), 0, 0, 0.0, f"too few: {len(scores)} predicted, needs {fewest}"
        )
    candidates = _candidates(scores, fewest)
    counts = candidates + 1
    goods = np.cumsum(right)[candidates]
    in_sequence = fixed_sequence(counts, goods, target, half)
    bonferroni = [
        lower_bound(int(g), int(n), half / len(candidates))
        for n, g in zip(counts, goods, strict=True)
    ]
    passed = {i: bound for i, bound in enumerate(bonferroni) if bound >= target}
    for i, bound in enumerate(in_sequence):
        passed[i] = max(bound, passed.get(i, 0.0))
    if passed:
        lowest = max(passed)  # candidates run from the highest threshold down
        end = int(candidates[lowest])
        return Certificate(
            float(scores[end]), len(scores), end + 1, int(goods[lowest]), passed[lowest], ""
        )
    highest = max(lower_bound(int(goods[0]), int(counts[0]), half), *bonferroni)
    return Certificate(
        NEVER, len(scores), 0, 0, highest, f"certified at best {highest:.1%} precise"
    )


def fixed_sequence(
    counts: np.ndarray, goods: np.ndarray, target: float, risk: float
) -> list[float]:
    """The bounds of the candidates (highest threshold first) that pass in sequence: each is
    tested at the whole ``risk``, and the first that fails ends the sequence, so no lower
    candidate is used even if it would pass. The candidates' order is fixed before any label
    is looked at, which is what lets each be tested at the whole risk."""
    bounds = []
    for count, good in zip(counts, goods, strict=True):
        bound = lower_bound(int(good), int(count), risk)
        if bound < target:
            break
        bounds.append(bound)
    return bounds


def _candidates(scores: np.ndarray, fewest: int) -> np.ndarray:
    """Where thresholds are tested, highest first: after the top ``fewest`` tickets, then each
    time 20% more, and at the last ticket; chosen from the (sorted) scores alone, never from
    the labels, so the fixed sequence's order and its first candidate are set in advance."""
    ends = np.flatnonzero(np.append(scores[1:] != scores[:-1], True))
    counts = []
    count = fewest
    while count < len(scores):
        counts.append(count)
        count = math.ceil(count * GRID_STEP)
    counts.append(len(scores))
    # The first place a threshold can sit that routes at least each count.
    picked = ends[np.searchsorted(ends + 1, counts, side="left")]
    return np.unique(picked)


def certify_intents(
    predicted: Sequence[str],
    confidence: Scores,
    actual: Sequence[str],
    target: float,
    intents: Sequence[str],
    risk: float = RISK,
) -> dict[str, Certificate]:
    """A certificate per intent, from held-out predictions (see ``certify``)."""
    predicted_ = np.asarray(predicted, dtype=object)
    confidence_ = np.asarray(confidence, dtype=float)
    correct = predicted_ == np.asarray(actual, dtype=object)
    found = {}
    for intent in intents:
        mine = predicted_ == intent
        found[intent] = certify(confidence_[mine], correct[mine], target, risk)
    return found


def choose_thresholds(
    predicted: Sequence[str],
    confidence: Scores,
    actual: Sequence[str],
    target: float,
    intents: Sequence[str],
    risk: float = RISK,
) -> dict[str, float]:
    """A certified threshold per intent (``NEVER`` where none can be certified)."""
    certificates = certify_intents(predicted, confidence, actual, target, intents, risk)
    return {intent: c.threshold for intent, c in certificates.items()}


def routed(
    predicted: Sequence[str], confidence: Scores, thresholds: Mapping[str, float]
) -> np.ndarray:
    """Which tickets the thresholds route (True) rather than escalate as low confidence."""
    limits = np.array([thresholds.get(p, NEVER) for p in predicted], dtype=float)
    return np.asarray(confidence, dtype=float) >= limits


def coverage(
    predicted: Sequence[str],
    confidence: Scores,
    actual: Sequence[str],
    thresholds: Mapping[str, float],
) -> Coverage:
    """Coverage and precision of ``thresholds`` on labelled tickets."""
    sent = routed(predicted, confidence, thresholds)
    right = np.asarray(predicted, dtype=object) == np.asarray(actual, dtype=object)
    return Coverage(len(sent), int(sent.sum()), int((sent & right).sum()))
