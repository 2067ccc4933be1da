"""``deskhand triage train``: a model fitted on all the history, with thresholds and figures
from held-out folds of that same history.

The thresholds have to come from tickets the model did not learn from, or every intent would
look certain: so the history is first cross-validated (giving each ticket a held-out
prediction, on which the thresholds are certified and the figures computed), and the model kept
is fitted on all of it, alongside the folds, with its sigmoids fitted on the folds' held-out
margins.
"""

from __future__ import annotations

from dataclasses import dataclass

from deskhand.triage.classifier import DESKHAND, VIEW_WEIGHTS, TriageModel, cross_fit
from deskhand.triage.dataset import LabelledTickets
from deskhand.triage.evaluation import (
    Figures,
    HeldOut,
    Progress,
    figures,
    folds_for,
    folds_of,
    groups,
)


@dataclass(frozen=True)
class Trained:
    """A model ready to store: the fitted classifier, its thresholds and held-out figures."""

    model: TriageModel
    thresholds: dict[str, float]  # intent -> lowest probability routed (inf: not certified)
    figures: Figures
    tickets: int
    folds: int
    target_precision: float
    set_aside: dict[str, int]


def train(
    history: LabelledTickets,
    *,
    folds: int = 5,
    target: float = 0.95,
    seed: int = 0,
    progress: Progress | None = None,
) -> Trained:
    """Cross-validate for thresholds and figures, then fit on all of ``history``. Past
    20,000 tickets, at most 3 folds are fitted, 2 past 60,000 (``folds_for``);
    ``Trained.folds`` says how many were."""
    usable = history.without_rare(max(folds, 3))
    usable.require_learnable(max(folds, 3))
    asked, folds = folds, folds_for(len(usable.labels), folds)  # fewer on a large history
    total = len(VIEW_WEIGHTS) * (folds + 1)  # an SVM per view, per fold and on everything
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("fitting the held-out folds and the final model", done, total)

    if progress is not None:
        progress("fitting the held-out folds and the final model", 0, total)
    splits = folds_of(usable.labels, folds, seed)
    fitted = cross_fit(usable.texts, usable.labels, splits, final=True, step=step)
    assert fitted.model is not None
    grouped = groups(usable.labels, fitted.fold, folds, asked, seed)
    held = HeldOut(fitted.predicted, fitted.confidence, grouped)
    measured = figures(DESKHAND, held, usable.labels, target, probabilities=True)
    if progress is not None:
        progress("fitted", total, total)
    return Trained(
        model=fitted.model,
        thresholds=measured.thresholds(),
        figures=measured,
        tickets=len(usable.labels),
        folds=folds,
        target_precision=target,
        set_aside=usable.set_aside,
    )
