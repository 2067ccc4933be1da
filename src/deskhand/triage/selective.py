"""Selective prediction: route a ticket only when the classifier is sure enough to be right.

For each intent, a confidence threshold is chosen on held-out history so that the tickets
predicted as that intent at or above it are right at least ``target`` of the time. Below its
threshold a ticket escalates as ``low_confidence`` instead of being routed. The figure that
matters is *coverage*: the share of tickets routed while staying that precise.

Pure functions over arrays: no model, no I/O, so the arithmetic can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# An intent that never reaches the target precision on held-out history is never routed.
NEVER = float("inf")


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


def threshold_for(
    confidence: Sequence[float] | np.ndarray[Any, Any], correct: Sequence[bool], target: float
) -> float:
    """The lowest confidence at which the predictions at or above it are right ``target`` of
    the time, or ``NEVER`` when no threshold gets there.

    ``confidence`` and ``correct`` describe the held-out tickets predicted as one intent. The
    lowest such threshold routes the most tickets; ties in confidence are taken together,
    because a threshold cannot split tickets that scored the same.
    """
    if len(confidence) != len(correct):
        raise ValueError(f"{len(confidence)} confidences but {len(correct)} outcomes")
    if not 0.0 < target <= 1.0:
        raise ValueError(f"the target precision must be in (0, 1], not {target}")
    scores = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=bool)
    order = np.argsort(-scores, kind="stable")
    scores, right = scores[order], right[order]
    hits = np.cumsum(right)
    counts = np.arange(1, len(scores) + 1)
    # Only the last of a run of equal scores is a place where a threshold can sit.
    ends = np.append(scores[1:] != scores[:-1], True) if len(scores) else np.array([], bool)
    reaching = ends & (hits >= target * counts - 1e-12)
    if not reaching.any():
        return NEVER
    return float(scores[np.flatnonzero(reaching)[-1]])


def choose_thresholds(
    predicted: Sequence[str],
    confidence: Sequence[float] | np.ndarray[Any, Any],
    actual: Sequence[str],
    target: float,
    intents: Sequence[str],
) -> dict[str, float]:
    """A threshold per intent, from held-out predictions (see ``threshold_for``)."""
    predicted_ = np.asarray(predicted, dtype=object)
    confidence_ = np.asarray(confidence, dtype=float)
    correct = predicted_ == np.asarray(actual, dtype=object)
    thresholds = {}
    for intent in intents:
        mine = predicted_ == intent
        thresholds[intent] = threshold_for(confidence_[mine], correct[mine], target)
    return thresholds


def routed(
    predicted: Sequence[str],
    confidence: Sequence[float] | np.ndarray[Any, Any],
    thresholds: Mapping[str, float],
) -> np.ndarray:
    """Which tickets the thresholds route (True) rather than escalate as low confidence."""
    limits = np.array([thresholds.get(p, NEVER) for p in predicted], dtype=float)
    return np.asarray(confidence, dtype=float) >= limits


def coverage(
    predicted: Sequence[str],
    confidence: Sequence[float] | np.ndarray[Any, Any],
    actual: Sequence[str],
    thresholds: Mapping[str, float],
) -> Coverage:
    """Coverage and precision of ``thresholds`` on labelled tickets."""
    sent = routed(predicted, confidence, thresholds)
    right = np.asarray(predicted, dtype=object) == np.asarray(actual, dtype=object)
    return Coverage(len(sent), int(sent.sum()), int((sent & right).sum()))
