"""Training and evaluating on real tickets, and model versions kept in the database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from deskhand.errors import DeskhandError, InputError
from deskhand.store.db import Database
from deskhand.store.models import TriageModelVersion
from deskhand.triage.classifier import calibrated, fit_sigmoids
from deskhand.triage.dataset import LabelledTickets, load_labelled
from deskhand.triage.evaluation import evaluate
from deskhand.triage.models_store import activate, active_model, list_models, save_model
from deskhand.triage.training import Trained, train
from tests.support import postgres_database


@pytest.fixture(scope="module")
def history(endava_slice: Path) -> LabelledTickets:
    return load_labelled([endava_slice], label_column="category")


@pytest.fixture(scope="module")
def trained(history: LabelledTickets) -> Trained:
    return train(history, folds=3)


def test_evaluation_beats_guessing_the_commonest_intent_on_the_same_folds(
    history: LabelledTickets,
) -> None:
    result = evaluate(history, folds=3)
    majority = Counter(history.labels).most_common(1)[0][1] / len(history.labels)
    assert result.tickets == len(history.labels)
    assert result.deskhand.accuracy > majority
    assert result.baseline.accuracy > majority
    assert sum(i.support for i in result.deskhand.intents) == result.tickets
    assert [i.intent for i in result.deskhand.intents] == [
        i.intent for i in result.baseline.intents
    ]
    assert 0.0 < result.deskhand.coverage < 1.0
    # Thresholds certified on the other folds keep each fold's routed tickets over the target.
    assert result.deskhand.routed_precision >= 0.95
    low, high = result.deskhand.routed_interval
    assert low <= result.deskhand.routed_precision <= high
    assert result.deskhand.calibration_error is not None
    assert result.deskhand.calibration_error < 0.1
    assert all(c.actual != c.predicted for c in result.deskhand.confusions)


def test_rare_intents_are_set_aside_and_one_intent_is_refused() -> None:
    history = LabelledTickets(
        texts=["printer jam"] * 6 + ["vpn down"], labels=["printer"] * 6 + ["vpn"], sources=[]
    )
    usable = history.without_rare(5)
    assert usable.set_aside == {"vpn": 1}
    assert usable.labels == ["printer"] * 6
    with pytest.raises(InputError, match="A classifier needs at least two"):
        usable.require_learnable(5)


def check_round_trip(url: str, trained: Trained, history: LabelledTickets) -> None:
    database = Database(url)
    try:
        database.upgrade()
        with database.session() as session:
            assert active_model(session) is None
            first = save_model(session, trained, {"sources": ["slice"]}).id
            second = save_model(session, trained, {"sources": ["slice"]}).id
        with database.reading() as session:
            loaded = active_model(session)
            versions = [(row.id, row.active) for row in list_models(session)]
        assert versions == [(second, True), (first, False)]
        assert loaded is not None and loaded.version == second
        sample = history.texts[:50]
        assert loaded.model.best(sample)[0] == trained.model.best(sample)[0]
        assert loaded.model.best(sample)[1] == pytest.approx(trained.model.best(sample)[1])
        assert loaded.thresholds == trained.thresholds
        intent, probability, routed = loaded.classify(sample[0])
        assert routed == (probability >= trained.thresholds[intent])
        with database.session() as session:
            activate(session, first)
        with database.session() as session:
            reloaded = active_model(session)
            assert reloaded is not None and reloaded.version == first
            row = session.get(TriageModelVersion, first)
            assert row is not None
            row.blob = row.blob[:-1] + b"x"
        with database.reading() as session, pytest.raises(DeskhandError, match="damaged"):
            active_model(session)
    finally:
        database.dispose()


def test_model_versions_round_trip_on_sqlite(
    tmp_path: Path, trained: Trained, history: LabelledTickets
) -> None:
    check_round_trip(f"sqlite:///{tmp_path / 'deskhand.db'}", trained, history)


def test_model_versions_round_trip_on_postgresql(
    trained: Trained, history: LabelledTickets
) -> None:
    with postgres_database("deskhand_triage") as url:
        check_round_trip(url, trained, history)


def test_platt_sigmoids_turn_margins_into_probabilities_that_sum_to_one() -> None:
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b", "c"] * 200, dtype=object)
    classes = np.array(["a", "b", "c"], dtype=object)
    truth = (labels[:, None] == classes).astype(float)
    margins = 2 * truth - 1 + rng.normal(0, 0.8, truth.shape)  # right intent scores higher
    sigmoids = fit_sigmoids(margins, labels, classes)
    assert (sigmoids[:, 0] < 0).all()  # a higher margin means a higher probability
    probabilities = calibrated(margins, sigmoids)
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(len(labels)))
    assert (probabilities.argmax(axis=1) == truth.argmax(axis=1)).mean() > 0.8
    two = np.array(["x", "y"] * 100, dtype=object)
    margin = np.where(two == "y", 1.0, -1.0) + rng.normal(0, 0.5, len(two))
    pair = fit_sigmoids(np.column_stack([-margin, margin]), two, np.array(["x", "y"]))
    assert pair.shape == (1, 2)
    binary = calibrated(margin, pair)
    assert binary.sum(axis=1) == pytest.approx(np.ones(len(two)))
    assert binary[margin > 1.5, 1].min() > 0.9 > binary[margin < -1.5, 1].max()


def test_a_large_history_is_held_out_in_three_folds_and_progress_counts_every_fit(
    history: LabelledTickets, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskhand.triage import evaluation

    assert evaluation.folds_for(evaluation.LARGE_HISTORY, 5) == 5
    assert evaluation.folds_for(evaluation.LARGE_HISTORY + 1, 5) == 3
    assert evaluation.folds_for(evaluation.LARGE_HISTORY + 1, 2) == 2
    assert evaluation.folds_for(evaluation.HUGE_HISTORY, 5) == 3
    assert evaluation.folds_for(evaluation.HUGE_HISTORY + 1, 5) == 2
    monkeypatch.setattr(evaluation, "LARGE_HISTORY", len(history.labels) // 2)
    steps: list[tuple[int, int]] = []
    trained = train(
        history, folds=5, progress=lambda _what, done, total: steps.append((done, total))
    )
    assert trained.folds == 3
    assert steps[-1] == (8, 8)  # two views: 3 folds and the final fit each
    assert all(done <= total for done, total in steps)
    assert evaluate(history, folds=5).folds == 3


def test_a_history_fitted_in_fewer_folds_is_still_certified_in_as_many_groups_as_asked(
    history: LabelledTickets,
) -> None:
    from deskhand.triage.evaluation import folds_of, groups

    fold = np.zeros(len(history.labels), dtype=int)
    for number, (_, test) in enumerate(folds_of(history.labels, 3)):
        fold[test] = number
    assert groups(history.labels, fold, 3, 3, 0) is fold
    grouped = groups(history.labels, fold, 3, 5, 0)
    assert sorted(set(grouped.tolist())) == [0, 1, 2, 3, 4]
    # Stratified: each group holds about a fifth of the commonest intent.
    commonest = Counter(history.labels).most_common(1)[0][0]
    mine = np.asarray(history.labels) == commonest
    shares = [float(np.mean(grouped[mine] == g)) for g in range(5)]
    assert max(shares) - min(shares) < 0.05
