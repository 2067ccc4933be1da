"""The trained triage classifier, and the baseline it is measured against.

deskhand's model reads each ticket twice: as words and word pairs, and as character 4-grams
within words (which survive typos, inflections and compounds, as in the German, Dutch and
French tickets MSPs in Europe get). Each view is TF-IDF, a linear SVM and sigmoid (Platt)
calibration; their probabilities are averaged, words weighing twice. Measured on the real
ticket sets in shared/data at 95% certified precision (`make bench-triage`): the pair routed
13 and 16 points more tickets than plain TF-IDF + LinearSVC (58% against 45% of the Endava
tickets by category, 45% against 29% by topic), at the same or better accuracy; words alone
gained 14 and 9 points, character 3- to 5-grams (three times the terms a ticket) did no
better, and logistic regression took ten times as long for less. A softer margin (C = 0.25)
ranked tickets better than the default C = 1: 3 to 4 points of coverage on both sets. The
baseline is plain TF-IDF + LinearSVC, scored by its raw margin.

Training is cross-fitted (``cross_fit``): each view's SVM is fitted once per held-out fold and
once on everything, and the sigmoids are fitted on the held-out margins, the way
scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` does it: 2 x (k + 1) SVM fits in
all, run in parallel threads, the first view's fits overlapping the second view's
tokenising. The tickets are tokenised once per view; each fold then keeps only the terms its
own training part has, with its own IDF, which is exactly what a vectoriser fitted on that
part would produce.

scikit-learn is imported inside the functions: it takes over a second to import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

DESKHAND = "deskhand"
BASELINE = "baseline (TF-IDF + LinearSVC)"
MIN_TICKETS_PER_TERM = 2  # a term seen in one ticket cannot generalise; it only bloats the model
VIEW_WEIGHTS = (2.0, 1.0)  # words, characters: the words view ranks tickets better on its own
SVM_C = 0.25  # a softer margin ranked tickets better (see above)
PLATT_TICKETS = 10_000  # the most held-out margins a sigmoid is fitted on

Array = np.ndarray[Any, Any]


class Scorer(Protocol):
    """A fitted model that names its best intent for each text, with a score to threshold."""

    def best(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]: ...


@dataclass
class View:
    """One way of reading tickets, fitted: its terms, their weights, an SVM and its sigmoids."""

    terms: Any  # fitted CountVectorizer (words and word pairs, or character n-grams)
    weights: Any  # fitted TfidfTransformer (sublinear tf)
    svm: Any  # fitted LinearSVC
    sigmoids: Array  # Platt (a, b) per intent, or one row for two intents

    def probabilities(self, texts: Sequence[str]) -> Array:
        margins = self.svm.decision_function(self.weights.transform(self.terms.transform(texts)))
        return calibrated(margins, self.sigmoids)


@dataclass
class TriageModel:
    """A fitted deskhand classifier: intents and calibrated probabilities for ticket texts."""

    views: list[View]  # their probabilities are averaged

    @property
    def intents(self) -> list[str]:
        return [str(c) for c in self.views[0].svm.classes_]

    def probabilities(self, texts: Sequence[str]) -> Array:
        """Each text's probability of each intent (columns in ``intents`` order)."""
        texts = list(texts)
        weighted = zip(VIEW_WEIGHTS, self.views, strict=True)
        return np.asarray(sum(w * v.probabilities(texts) for w, v in weighted)) / sum(VIEW_WEIGHTS)

    def best(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The most probable intent of each text, and its probability."""
        probabilities = self.probabilities(list(texts))
        best = probabilities.argmax(axis=1)
        names = self.intents
        return [names[b] for b in best], probabilities.max(axis=1)


@dataclass(frozen=True)
class CrossFitted:
    """Each ticket's prediction by the fold model that held it out, and the final model."""

    predicted: list[str]
    confidence: Array  # calibrated probability of the predicted intent
    fold: Array  # which fold held each ticket out
    model: TriageModel | None  # fitted on every ticket; None when not asked for


def vectorisers() -> list[Any]:
    """The two ways deskhand reads a ticket: words and word pairs; character 4-grams."""
    from sklearn.feature_extraction.text import CountVectorizer

    return [
        CountVectorizer(ngram_range=(1, 2), min_df=MIN_TICKETS_PER_TERM, dtype=np.float32),
        CountVectorizer(
            analyzer="char_wb", ngram_range=(4, 4), min_df=MIN_TICKETS_PER_TERM, dtype=np.float32
        ),
    ]


def cross_fit(
    texts: Sequence[str],
    labels: Sequence[str],
    splits: Sequence[tuple[Array, Array]],
    *,
    final: bool,
    step: Callable[[], None] = lambda: None,
) -> CrossFitted:
    """Held-out calibrated predictions for every ticket and, when ``final``, the model fitted
    on all of them. Each fold's probabilities come from sigmoids fitted on the *other* folds'
    held-out margins, so no ticket's own label shapes its confidence; the final model's
    sigmoids are fitted on all the held-out margins. ``step`` is called as each fit ends."""
    y = np.asarray(labels, dtype=object)
    texts = list(texts)
    terms = vectorisers()
    per_view = len(splits) + (1 if final else 0)
    # liblinear releases the GIL, so threads fit in parallel without copying the counts; and
    # while the first view's SVMs fit, the main thread tokenises the second view (pure
    # Python, holding the GIL), so the two overlap on two cores. The vocabulary is fitted
    # once per view on every ticket, labels unseen: each fold then keeps only its own
    # training part's terms (``_fit_fold``), so no held-out ticket shapes its fold's model.
    workers = max(1, min(2 * per_view, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: list[Future[Any]] = []
        for vectoriser in terms:
            view = vectoriser.fit_transform(texts)
            pending += [pool.submit(_fit_fold, view, y, train, test) for train, test in splits]
            if final:
                pending.append(pool.submit(_fit_all, view, y))
        for _ in as_completed(pending):
            step()
        results = [future.result() for future in pending]
    classes = results[0][0]
    fold = np.zeros(len(y), dtype=int)
    for number, (_, test) in enumerate(splits):
        fold[test] = number
    probabilities = np.zeros((len(y), len(classes)))
    views = []
    for v, vectoriser in enumerate(terms):
        mine = results[v * per_view : (v + 1) * per_view]
        margins = _held_out_margins(mine[: len(splits)], splits, classes, len(y))
        for number in range(len(splits)):
            held = fold == number
            sigmoids = fit_sigmoids(margins[~held], y[~held], classes)
            probabilities[held] += VIEW_WEIGHTS[v] * calibrated(_squeeze(margins[held]), sigmoids)
        if final:
            weights, svm = mine[-1]
            views.append(View(vectoriser, weights, svm, fit_sigmoids(margins, y, classes)))
    probabilities /= sum(VIEW_WEIGHTS)
    best = probabilities.argmax(axis=1)
    model = TriageModel(views) if final else None
    return CrossFitted([str(classes[b]) for b in best], probabilities.max(axis=1), fold, model)


def _held_out_margins(
    results: Sequence[tuple[Array, Array]],
    splits: Sequence[tuple[Array, Array]],
    classes: Array,
    tickets: int,
) -> Array:
    margins = np.zeros((tickets, len(classes)))
    for (fold_classes, held), (_, test) in zip(results, splits, strict=True):
        if list(fold_classes) != list(classes):
            raise ValueError("every fold must hold tickets of every intent (stratify the folds)")
        margins[test] = _columns(held, len(classes))
    return margins


def fit_sigmoids(margins: Array, labels: Array, classes: Array) -> Array:
    """Platt's sigmoid per intent, fitted on held-out margins: P(intent) = 1 / (1 + e^(a m + b)).
    Two intents have one margin (positive for the second) and so one sigmoid. Past
    ``PLATT_TICKETS`` tickets, a seeded sample of that many fits them: two parameters need no
    more, and fitting them took longer than the SVMs on 100,000 tickets."""
    if len(labels) > PLATT_TICKETS:
        sample = np.random.default_rng(0).choice(len(labels), PLATT_TICKETS, replace=False)
        margins, labels = margins[sample], labels[sample]
    if len(classes) == 2:
        return np.array([_platt(margins[:, 1], labels == classes[1])])
    return np.array([_platt(margins[:, k], labels == c) for k, c in enumerate(classes)])


def calibrated(margins: Array, sigmoids: Array) -> Array:
    """Probabilities from SVM margins: each intent's sigmoid, normalised to sum to 1 (as
    scikit-learn's CalibratedClassifierCV does); all-zero rows become uniform."""
    from scipy.special import expit

    if margins.ndim == 1:  # two intents
        p = expit(-(sigmoids[0, 0] * margins + sigmoids[0, 1]))
        return np.column_stack([1.0 - p, p])
    p = expit(-(margins * sigmoids[:, 0] + sigmoids[:, 1]))
    total = p.sum(axis=1, keepdims=True)
    uniform = np.full_like(p, 1.0 / p.shape[1])
    return np.asarray(np.divide(p, total, out=uniform, where=total > 0))


def _platt(margin: Array, positive: Array) -> Array:
    """Platt (1999) with his smoothed targets: minimise the log loss of 1 / (1 + e^(a m + b)),
    by Newton's method with a backtracking line search (Lin, Lin and Weng 2007). Two
    parameters: a handful of steps, where a general minimiser spent most of the time of
    training 100,000 tickets in its own bookkeeping."""
    from scipy.special import expit

    ones = float(positive.sum())
    zeros = float(len(positive)) - ones
    target = np.where(positive, (ones + 1.0) / (ones + 2.0), 1.0 / (zeros + 2.0))
    m = margin.astype(float)

    def loss(ab: Array) -> float:
        z = ab[0] * m + ab[1]
        return float(np.sum(target * np.logaddexp(0, z) + (1 - target) * np.logaddexp(0, -z)))

    ab = np.array([0.0, np.log((zeros + 1.0) / (ones + 1.0))])
    value = loss(ab)
    for _ in range(100):
        p = expit(-(ab[0] * m + ab[1]))
        residual, weight = target - p, p * (1.0 - p)  # d loss / d z, d2 loss / d z2
        gradient = np.array([residual @ m, residual.sum()])
        if np.abs(gradient).max() < 1e-5 * max(len(m), 1):
            break
        wm = weight * m
        hessian = np.array([[wm @ m, wm.sum()], [wm.sum(), weight.sum()]]) + 1e-12 * np.eye(2)
        step = -np.linalg.solve(hessian, gradient)
        size = 1.0
        while size > 1e-10:
            tried = ab + size * step
            new = loss(tried)
            if new < value + 1e-4 * size * float(gradient @ step):
                ab, value = tried, new
                break
            size /= 2
        else:
            break  # no step lowers the loss: at the minimum, to rounding
    return ab


def _fit_svm(x: Any, y: Array) -> Any:
    from sklearn.svm import LinearSVC

    # dual=True: scikit-learn's "auto" picks the primal solver whenever tickets outnumber
    # terms, which was 10x slower on 20,000 synthetic tickets (5.7 s against 0.6 s a fit).
    return LinearSVC(dual=True, C=SVM_C).fit(x, y)


def _tfidf(counts: Any) -> Any:
    from sklearn.feature_extraction.text import TfidfTransformer

    return TfidfTransformer(sublinear_tf=True).fit(counts)


def _fit_fold(counts: Any, y: Array, train: Array, test: Array) -> tuple[Array, Array]:
    """One fold: the terms and IDF of its training part only, an SVM, held-out margins."""
    part = counts[train]
    kept = np.flatnonzero(np.asarray((part > 0).sum(axis=0)).ravel() >= MIN_TICKETS_PER_TERM)
    part = part[:, kept]
    weights = _tfidf(part)
    svm = _fit_svm(weights.transform(part), y[train])
    return svm.classes_, svm.decision_function(weights.transform(counts[test][:, kept]))


def _fit_all(counts: Any, y: Array) -> tuple[Any, Any]:
    weights = _tfidf(counts)
    return weights, _fit_svm(weights.transform(counts), y)


def _columns(margins: Array, classes: int) -> Array:
    """Margins as one column per intent; two intents' single margin m becomes (-m, m)."""
    if margins.ndim == 1:
        return np.column_stack([-margins, margins])
    return margins


def _squeeze(margins: Array) -> Array:
    """The inverse of ``_columns`` for two intents: the single margin again."""
    return margins[:, 1] if margins.shape[1] == 2 else margins


@dataclass
class BaselineModel:
    """TF-IDF + LinearSVC, the usual first text classifier; its score is the SVM's margin."""

    pipeline: Any

    def best(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The highest-scoring intent of each text, and its margin."""
        scores = self.pipeline.decision_function(list(texts))
        names = self.pipeline.classes_
        if scores.ndim == 1:  # two intents: one margin, positive for the second
            picked = (scores > 0).astype(int)
            return [str(names[p]) for p in picked], np.abs(scores)
        best = scores.argmax(axis=1)
        return [str(names[b]) for b in best], scores.max(axis=1)


def train_baseline(texts: Sequence[str], labels: Sequence[str]) -> BaselineModel:
    """Fit the baseline on the same texts, with scikit-learn's defaults."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    pipeline = make_pipeline(TfidfVectorizer(sublinear_tf=True), LinearSVC())
    pipeline.fit(list(texts), np.asarray(labels, dtype=object))
    return BaselineModel(pipeline)
