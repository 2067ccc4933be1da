"""The themes' sparse rows give what SciPy's CSR products give, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix, random_array

from deskhand.history.sparse import Rows
from deskhand.history.textmodel import TICKET_NOISE, TextFeatures


@pytest.fixture(scope="module")
def matrix() -> csr_matrix:
    """40 rows of 25 columns, a few of them empty, rows of unit length as TF-IDF's are."""
    rng = np.random.default_rng(3)
    dense = random_array((40, 25), density=0.2, rng=rng).toarray()
    dense[[0, 7, 8, 39]] = 0.0  # empty rows, at the ends and side by side
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return csr_matrix(np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0))


def rows_of(matrix: csr_matrix) -> Rows:
    return Rows(
        matrix.indptr.astype(np.int64),
        matrix.indices.astype(np.int64),
        matrix.data,
        matrix.shape[1],
    )


def test_taking_rows_keeps_their_values_in_the_order_asked(matrix: csr_matrix) -> None:
    picked = np.array([5, 0, 39, 5, 12])
    taken = rows_of(matrix).take(picked)
    assert taken.height == 5
    assert np.array_equal(taken.dense(), matrix[picked].toarray())
    assert np.array_equal(taken.lengths, matrix[picked].getnnz(axis=1))


def test_products_equal_scipys_bit_for_bit(matrix: csr_matrix) -> None:
    rows = rows_of(matrix)
    rng = np.random.default_rng(4)
    centres = rng.random((6, 25))
    assert np.array_equal(rows.times(centres[0]), matrix @ centres[0])
    assert np.array_equal(rows.times_rows(centres), matrix @ centres.T)
    weights = rng.integers(1, 9, 40).astype(np.float64)
    assert np.array_equal(rows.weighted_sum(weights), matrix.T @ weights)
    groups = rng.integers(0, 6, 40)
    membership = csr_matrix((weights, (groups, np.arange(40))), shape=(6, 40))
    assert np.array_equal(rows.group_sums(groups, weights, 6), (membership @ matrix).toarray())


def test_text_rows_are_the_tf_idf_rows_scikit_learn_style() -> None:
    """``TextFeatures.rows`` and the SciPy matrix ``transform`` builds from them hold the same
    values as counting, weighting and scaling with SciPy does."""
    texts = [
        "Printer jammed on the 2nd floor",
        "printer printer printer offline",
        "",
        "VPN drops every hour, VPN client reinstalled",
        "Outlook keeps asking for the password",
        "outlook crash after update",
        None,
    ]
    features = TextFeatures.fit(texts, stop_words=TICKET_NOISE, bigrams=False, min_df=2)
    rows = features.rows(texts)
    terms = features.terms
    counts = np.zeros((len(texts), len(terms)))
    for row, text in enumerate(texts):
        for word in (text or "").lower().replace(",", " ").split():
            if word in terms:
                counts[row, terms.index(word)] += 1
    idf = features.vocabulary["idf"].to_numpy()
    expected = csr_matrix(counts)
    expected.data = (1 + np.log(expected.data)) * idf[expected.indices]
    norms = np.sqrt(np.asarray(expected.multiply(expected).sum(axis=1)).ravel())
    expected = csr_matrix(np.diag(np.divide(1.0, norms, out=np.zeros(7), where=norms > 0))) @ (
        expected
    )
    assert rows.lengths.tolist() == [2, 1, 0, 0, 2, 1, 0]  # printer, the; ...; outlook, the
    assert np.array_equal(rows.dense(), expected.toarray())
    assert np.array_equal(features.transform(texts).toarray(), expected.toarray())
