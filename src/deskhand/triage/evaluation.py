"""How well a classifier would have triaged the MSP's own history, measured on held-out folds.

k-fold cross-validation, stratified and seeded, so deskhand's model and the baseline see the same
splits in the same run. Every ticket is predicted once by a model that never saw it. Coverage
at the target precision is *cross-fitted*: the thresholds applied to fold i are certified on the
held-out predictions of the other folds (``selective.certify``), so the routed precision
reported, and its interval, is measured on tickets the threshold choice never saw: it is the
check that the promise holds out of sample. Both models get thresholds the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from deskhand.triage.classifier import (
    BASELINE,
    DESKHAND,
    VIEW_WEIGHTS,
    Scorer,
    cross_fit,
    train_baseline,
)
from deskhand.triage.dataset import LabelledTickets
from deskhand.triage.selective import (
    NEVER,
    RISK,
    Coverage,
    certify_intents,
    choose_thresholds,
    coverage,
)

Progress = Callable[[str, int, int], None]  # what is being done, steps done, steps in all
Trainer = Callable[[Sequence[str], Sequence[str]], Scorer]
WORST_CONFUSIONS = 5
LARGE_HISTORY = 20_000  # tickets past which fewer held-out folds are fitted: at most 3,
HUGE_HISTORY = 60_000  # and past this, at most 2 (each still learns from 30,000 tickets)


@dataclass(frozen=True)
class HeldOut:
    """Each ticket's prediction by the model of the fold that held it out."""

    predicted: list[str]
    confidence: np.ndarray
    fold: np.ndarray  # each group's thresholds are certified on the others (``groups``)


@dataclass(frozen=True)
class IntentFigures:
    intent: str
    support: int
    precision: float
    recall: float
    threshold: float | None  # None: not routed, its precision cannot be certified
    predicted: int = 0  # held-out tickets predicted as this intent
    certified_precision: float = 0.0  # lower confidence bound of the routed ones' precision
    not_routed: str = ""  # why it is not routed; "" when it is


@dataclass(frozen=True)
class Confusion:
    actual: str
    predicted: str
    count: int


@dataclass(frozen=True)
class Figures:
    """One model's held-out figures."""

    model: str
    accuracy: float
    macro_f1: float
    coverage: float  # share routed automatically at the target precision
    routed_precision: float  # how precise those routed tickets actually were (held out)
    routed_interval: tuple[float, float]  # 95% Clopper-Pearson interval of routed_precision
    intents: list[IntentFigures]
    confusions: list[Confusion]
    calibration_error: float | None = None  # expected calibration error; None: not a probability

    def thresholds(self) -> dict[str, float]:
        return {i.intent: NEVER if i.threshold is None else i.threshold for i in self.intents}


@dataclass(frozen=True)
class Evaluation:
    tickets: int
    folds: int
    target_precision: float
    deskhand: Figures
    baseline: Figures
    set_aside: dict[str, int]
    unlabelled: int
    risk: float = RISK  # per intent, the chance a certified threshold misses the target

    @property
    def coverage_gain(self) -> float:
        """Points of coverage deskhand's model routes beyond the baseline, at the target."""
        return self.deskhand.coverage - self.baseline.coverage

    def json_document(self) -> dict[str, Any]:
        return asdict(self)


def folds_for(tickets: int, asked: int) -> int:
    """The held-out folds used: as asked, but at most 3 past ``LARGE_HISTORY`` tickets and
    at most 2 past ``HUGE_HISTORY``. Every ticket is held out once whatever the folds, so the
    thresholds have the same evidence; each fold fitted is one more pair of SVMs on most of
    the history, and past 20,000 tickets a model learning from half or two thirds of them
    ranks tickets about as well as one learning from four fifths. On 100,000 tickets: 4 SVM
    fits on 50,000 tickets instead of 10 on 80,000. (Each fold's model learns from fewer
    tickets than the final one, so the held-out figures are, if anything, pessimistic.)"""
    if tickets > HUGE_HISTORY:
        return min(asked, 2)
    return min(asked, 3) if tickets > LARGE_HISTORY else asked


def groups(labels: Sequence[str], fold: np.ndarray, fitted: int, asked: int, seed: int) -> Any:
    """The groups the coverage figure certifies each group's thresholds on the others for: the
    folds, or, when a large history was fitted in fewer folds than asked (``folds_for``), as
    many stratified groups as asked. Every score is held out either way; with 2 or 3 folds
    the thresholds would be certified on only a half or two thirds of the tickets, and the
    looser bounds cost coverage (100% against 97% on 50,000 synthetic tickets)."""
    if fitted >= asked:
        return fold
    grouped = np.zeros(len(labels), dtype=int)
    for number, (_, test) in enumerate(folds_of(labels, asked, seed)):
        grouped[test] = number
    return grouped


def folds_of(labels: Sequence[str], folds: int, seed: int = 0) -> list[tuple[Any, Any]]:
    """Stratified (train, test) index pairs, the same for every model in a run."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), np.asarray(labels, dtype=object)))


def cross_predict(
    texts: Sequence[str],
    labels: Sequence[str],
    splits: Sequence[tuple[Any, Any]],
    trainer: Trainer,
    step: Callable[[], None] = lambda: None,
) -> HeldOut:
    """Train on each fold's training part and predict its held-out part."""
    text_array = np.asarray(texts, dtype=object)
    label_array = np.asarray(labels, dtype=object)
    predicted = np.empty(len(texts), dtype=object)
    confidence = np.zeros(len(texts))
    fold = np.zeros(len(texts), dtype=int)
    for number, (train, test) in enumerate(splits):
        model = trainer(list(text_array[train]), list(label_array[train]))
        names, scores = model.best(list(text_array[test]))
        predicted[test] = names
        confidence[test] = scores
        fold[test] = number
        step()
    return HeldOut([str(p) for p in predicted], confidence, fold)


def figures(
    model: str, held: HeldOut, labels: Sequence[str], target: float, *, probabilities: bool
) -> Figures:
    """Accuracy, macro-F1, cross-fitted coverage, per-intent figures and worst confusions."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    intents = sorted(set(labels))
    precision, recall, _, support = precision_recall_fscore_support(
        labels, held.predicted, labels=intents, zero_division=0
    )
    routed = correct = 0
    for number in np.unique(held.fold):
        mine = held.fold == number
        others = ~mine
        thresholds = choose_thresholds(
            _pick(held.predicted, others),
            held.confidence[others],
            _pick(labels, others),
            target,
            intents,
        )
        part = coverage(
            _pick(held.predicted, mine), held.confidence[mine], _pick(labels, mine), thresholds
        )
        routed += part.routed
        correct += part.correct
    overall = certify_intents(held.predicted, held.confidence, labels, target, intents)
    found = Coverage(len(labels), routed, correct)
    return Figures(
        model=model,
        accuracy=float(accuracy_score(labels, held.predicted)),
        macro_f1=float(f1_score(labels, held.predicted, labels=intents, average="macro")),
        coverage=routed / len(labels),
        routed_precision=found.precision,
        routed_interval=found.interval(),
        intents=[
            IntentFigures(
                intent,
                int(support[i]),
                float(precision[i]),
                float(recall[i]),
                None if not overall[intent].routes else overall[intent].threshold,
                overall[intent].tickets,
                overall[intent].lower_bound,
                overall[intent].reason,
            )
            for i, intent in enumerate(intents)
        ],
        confusions=worst_confusions(labels, held.predicted),
        calibration_error=calibration_error(held, labels) if probabilities else None,
    )


def worst_confusions(
    actual: Sequence[str], predicted: Sequence[str], top: int = WORST_CONFUSIONS
) -> list[Confusion]:
    """The most frequent (actual, predicted) mistakes, most frequent first."""
    mistakes = Counter((a, p) for a, p in zip(actual, predicted, strict=True) if a != p)
    ranked = sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))
    return [Confusion(a, p, n) for (a, p), n in ranked[:top]]


def calibration_error(held: HeldOut, labels: Sequence[str], bins: int = 10) -> float:
    """Expected calibration error: how far stated confidence is from the share right, averaged
    over ten confidence bins weighted by their size. 0 is perfectly calibrated."""
    right = np.asarray(held.predicted, dtype=object) == np.asarray(labels, dtype=object)
    which = np.minimum((held.confidence * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.sum() * abs(right[inside].mean() - held.confidence[inside].mean())
    return float(gap / len(labels))


def evaluate(
    history: LabelledTickets,
    *,
    folds: int = 5,
    target: float = 0.95,
    seed: int = 0,
    progress: Progress | None = None,
) -> Evaluation:
    """deskhand's model against the baseline, on the same stratified folds of ``history``."""
    usable = history.without_rare(max(folds, 3))
    usable.require_learnable(max(folds, 3))
    asked, folds = folds, folds_for(len(usable.labels), folds)
    splits = folds_of(usable.labels, folds, seed)
    done = 0

    def step(what: str) -> Callable[[], None]:
        def advance() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(what, done, (len(VIEW_WEIGHTS) + 1) * folds)

        return advance

    if progress is not None:
        progress("training deskhand's model", 0, (len(VIEW_WEIGHTS) + 1) * folds)
    fitted = cross_fit(
        usable.texts, usable.labels, splits, final=False, step=step("training deskhand's model")
    )
    grouped = groups(usable.labels, fitted.fold, folds, asked, seed)
    ours = HeldOut(fitted.predicted, fitted.confidence, grouped)
    theirs = cross_predict(
        usable.texts, usable.labels, splits, train_baseline, step("training the baseline")
    )
    theirs = HeldOut(theirs.predicted, theirs.confidence, grouped)
    return Evaluation(
        tickets=len(usable.labels),
        folds=folds,
        target_precision=target,
        deskhand=figures(DESKHAND, ours, usable.labels, target, probabilities=True),
        baseline=figures(BASELINE, theirs, usable.labels, target, probabilities=False),
        set_aside=usable.set_aside,
        unlabelled=usable.unlabelled,
    )


def _pick(values: Sequence[str], mask: np.ndarray) -> list[str]:
    return [v for v, keep in zip(values, mask, strict=True) if keep]
