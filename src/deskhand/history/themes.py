"""Recurring themes among tickets: clusters of alike ticket text, named by their top terms.

Used twice: on the tickets being categorised from text, to keep a theme the taxonomy cannot
agree on together; and on what fits no category, to suggest new categories with their minutes.
The clustering is a small spherical k-means on TF-IDF vectors (NumPy only: see
``deskhand.history.sparse``), so a run that never trains a classifier never imports
scikit-learn or SciPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from deskhand.history.sparse import Rows
from deskhand.history.textmodel import TICKET_NOISE, TextFeatures

if TYPE_CHECKING:
    from numpy.typing import NDArray

SUGGESTION_TERMS = 5
EXAMPLES = 20  # the most typical texts; a caller picks the few distinct ones it shows
# Clusters whose centres are at least this alike (cosine) may be one theme said in different
# words ("EHR sync crash", "EHR crashes while syncing"); they merge if the result stays cohesive.
SAME_THEME = 0.3
KMEANS_ROUNDS = 30
KMEANS_STARTS = 3  # k-means finds a local optimum; the best of three starts is steadier

# Function words that name no theme (the usual English list, trimmed to what tickets contain).
# fmt: off
ENGLISH_STOP_WORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "cannot", "could", "did", "do", "does", "doing", "done", "down",
    "during", "each", "either", "else", "even", "ever", "every", "few", "for", "from",
    "further", "get", "got", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "however", "i", "if", "in", "into", "is", "it",
    "its", "itself", "just", "last", "least", "less", "let", "like", "ll", "made", "make",
    "many", "may", "me", "might", "more", "most", "much", "must", "my", "myself", "need",
    "needs", "neither", "never", "no", "nor", "not", "now", "of", "off", "often", "on", "once",
    "one", "only", "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out",
    "over", "own", "per", "perhaps", "quite", "rather", "really", "same", "see", "seem",
    "seems", "several", "she", "should", "since", "so", "some", "still", "such", "than",
    "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they",
    "this", "those", "though", "through", "thus", "to", "today", "too", "under", "until",
    "up", "upon", "us", "ve", "very", "via", "was", "we", "well", "were", "what", "whatever",
    "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will",
    "with", "within", "without", "would", "yes", "yet", "you", "your", "yours", "yourself",
    "yourselves", "don", "doesn", "didn", "isn", "wasn", "won", "couldn", "wouldn", "shouldn",
    "haven", "hasn", "hadn", "aren", "weren", "im", "ive", "id", "thats", "theres", "youre",
})
# fmt: on


@dataclass(frozen=True)
class Suggestion:
    """A recurring theme: a candidate category of its own."""

    label: str  # the three top terms, "ehr · sync · crash"
    top_terms: list[str]  # the strongest terms of the theme, strongest first
    tickets: int
    minutes: float
    example_indices: list[int]  # indices into the texts given, most typical first
    members: list[int]  # indices of every text in the theme


def suggest_categories(
    texts: Sequence[str | None] | pl.Series,
    minutes: Sequence[float | None] | pl.Series,
    *,
    max_clusters: int = 8,
    min_cluster_size: int = 5,
    sample: int = 10000,
    seed: int = 0,
    min_cohesion: float = 0.2,
) -> list[Suggestion]:
    """Find recurring themes among tickets that fit no category, most minutes first.

    Clusters TF-IDF vectors with k-means (fitted on at most ``sample`` texts, then applied to
    all), merges clusters that turn out to be one theme, sheds tickets far from a theme's
    centre, and keeps a theme only when its tickets resemble each other: mean pairwise cosine
    similarity at least ``min_cohesion``. k-means puts every ticket somewhere, so without that
    test the grab-bag of unrelated tickets would top the list. Themes smaller than
    ``min_cluster_size`` are dropped; fewer than ``2 * min_cluster_size`` texts give none.
    """
    if len(texts) != len(minutes):
        raise ValueError(f"{len(texts)} texts but {len(minutes)} minute values")
    found = find_themes(
        texts,
        max_clusters=max_clusters,
        min_cluster_size=min_cluster_size,
        sample=sample,
        seed=seed,
        min_cohesion=min_cohesion,
    )
    return priced(found, minutes)


def find_themes(
    texts: Sequence[str | None] | pl.Series,
    *,
    max_clusters: int = 8,
    min_cluster_size: int = 5,
    sample: int = 10000,
    seed: int = 0,
    min_cohesion: float = 0.2,
) -> list[Suggestion]:
    """The themes :func:`suggest_categories` finds, from the texts alone: their minutes are 0
    until :func:`priced` adds them up, and they come in no set order."""
    if len(texts) < 2 * min_cluster_size:
        return []

    rng = np.random.default_rng(seed)
    fitted_on = (
        np.sort(rng.choice(len(texts), size=sample, replace=False))
        if len(texts) > sample
        else np.arange(len(texts))
    )
    # Alerts and repeat requests come word for word: each distinct text is vectorised and
    # clustered once, weighted by how many tickets hold it (the same sums as one row each).
    text = pl.Series(texts, dtype=pl.String).fill_null("")
    distinct = text.unique().sort()
    # Each ticket's text as its place among the distinct ones (an Enum's codes; ranking the
    # texts would sort them all).
    position = text.cast(pl.Enum(distinct)).to_physical().cast(pl.Int64).to_numpy()
    tickets_of = np.bincount(position, minlength=distinct.len())
    sample_rows = position[fitted_on]  # the distinct text of each sampled ticket
    features = TextFeatures.fit(
        distinct,
        weights=np.bincount(sample_rows, minlength=distinct.len()),
        stop_words=TICKET_NOISE | ENGLISH_STOP_WORDS,
        bigrams=False,  # themes are named by their top terms, and "sync" beats "ehr sync" there
        min_df=2,
        # No max_df: when one theme fills the remainder, its defining word is in every ticket.
    )
    if features.vocabulary.is_empty():  # no word occurs twice: no theme to find
        return []
    clusters = max(2, min(max_clusters, len(texts) // 30))
    vectors = features.rows(distinct.to_list())
    centres = _spherical_kmeans(vectors, sample_rows, clusters, rng)
    assigned = vectors.times_rows(centres).argmax(axis=1)
    has_terms = vectors.lengths > 0  # a text with no known word belongs to no theme
    themes = [
        _Theme.of(vectors, tickets_of, np.flatnonzero((assigned == cluster) & has_terms))
        for cluster in range(clusters)
    ]
    themes = _merge_alike([theme for theme in themes if theme.size], min_cohesion)

    terms = features.terms
    suggestions = []
    for merged in themes:
        # k-means must put every ticket somewhere; strays sharing one word with a theme sit far
        # from its centre and would inflate its minutes.
        closeness = vectors.take(merged.members).times(merged.centre)
        median = np.median(np.repeat(closeness, tickets_of[merged.members]))
        theme = _Theme.of(vectors, tickets_of, merged.members[closeness >= 0.5 * median])
        if theme.size < min_cluster_size or theme.cohesion < min_cohesion:
            continue
        top_terms = [terms[i] for i in np.argsort(-theme.centre, kind="stable")[:SUGGESTION_TERMS]]
        within = np.zeros(len(distinct), dtype=bool)
        within[theme.members] = True
        members = np.flatnonzero(within[position])  # the theme's tickets, in the given order
        closeness = np.zeros(len(distinct))
        closeness[theme.members] = vectors.take(theme.members).times(theme.centre)
        typical = members[np.argsort(-closeness[position[members]], kind="stable")[:EXAMPLES]]
        suggestions.append(
            Suggestion(
                label=" · ".join(top_terms[:3]),
                top_terms=top_terms,
                tickets=theme.size,
                minutes=0.0,
                example_indices=typical.tolist(),
                members=members.tolist(),  # Python ints, a hundred thousand of them at once
            )
        )
    return suggestions


def priced(
    themes: Sequence[Suggestion], minutes: Sequence[float | None] | pl.Series
) -> list[Suggestion]:
    """``themes`` with the minutes of their tickets (``minutes``, lined up with the texts they
    were found in), most minutes first."""
    spent = np.nan_to_num(
        minutes.cast(pl.Float64).to_numpy()
        if isinstance(minutes, pl.Series)
        else np.asarray(minutes, dtype=np.float64)
    )
    return sorted(
        (
            replace(theme, minutes=float(spent[np.asarray(theme.members, dtype=np.intp)].sum()))
            for theme in themes
        ),
        key=lambda s: (-s.minutes, -s.tickets, s.label),
    )


@dataclass(frozen=True)
class _Theme:
    """A set of distinct texts (rows of unit-length vectors), how many tickets hold them, and
    the sum of their tickets' vectors."""

    members: NDArray[np.intp]
    size: int  # tickets
    total: NDArray[np.float64]

    @classmethod
    def of(cls, vectors: Rows, weights: NDArray[np.intp], members: NDArray[np.intp]) -> _Theme:
        counts = weights[members]
        total = vectors.take(members).weighted_sum(counts.astype(np.float64))
        return cls(members, int(counts.sum()), total)

    @property
    def cohesion(self) -> float:
        """Mean cosine similarity between two different members: for unit vectors, the squared
        length of their sum is the sum of all pairwise similarities, self-pairs included."""
        if self.size < 2:
            return 0.0
        return float((self.total @ self.total - self.size) / (self.size * (self.size - 1)))

    @cached_property
    def centre(self) -> NDArray[np.float64]:
        """The members' mean direction, unit length."""
        norm = np.linalg.norm(self.total)
        return self.total / norm if norm else self.total

    def similarity(self, other: _Theme) -> float:
        """Cosine similarity of the two centres."""
        return float(self.centre @ other.centre)

    def merged(self, other: _Theme) -> _Theme:
        return _Theme(
            np.sort(np.concatenate([self.members, other.members])),
            self.size + other.size,
            self.total + other.total,
        )


def _merge_alike(themes: list[_Theme], min_cohesion: float) -> list[_Theme]:
    """Merge the most alike pair of themes, again and again, while a merge stays cohesive.

    The cohesion test keeps a real theme from being swallowed by the grab-bag, whose centre is
    vaguely like everything.
    """
    while True:
        pairs = sorted(
            (
                (-themes[i].similarity(themes[j]), i, j)
                for i in range(len(themes))
                for j in range(i + 1, len(themes))
            ),
        )
        for negative_similarity, i, j in pairs:
            if -negative_similarity < SAME_THEME:
                return themes
            merged = themes[i].merged(themes[j])
            if merged.cohesion >= min_cohesion:
                themes = [t for k, t in enumerate(themes) if k not in (i, j)] + [merged]
                break
        else:
            return themes


def _spherical_kmeans(
    vectors: Rows, rows: NDArray[np.intp], clusters: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Centres (unit rows) of ``clusters`` groups of the tickets whose texts are ``rows`` of
    ``vectors`` (unit rows; a text shared by several tickets is one row, listed once per
    ticket): the best of a few starts, by how alike each ticket is to its centre."""
    present, weights = np.unique(rows, return_counts=True)
    sampled = vectors.take(present)
    local = np.searchsorted(present, rows)  # each ticket's row in ``sampled``
    best, best_fit = None, -1.0
    for _ in range(KMEANS_STARTS):
        centres = _kmeans_once(sampled, weights, local, clusters, rng)
        fit = float(weights @ sampled.times_rows(centres).max(axis=1))
        if fit > best_fit:
            best, best_fit = centres, fit
    assert best is not None
    return best


def _kmeans_once(
    vectors: Rows,
    weights: NDArray[np.intp],
    rows: NDArray[np.intp],
    clusters: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """k-means on the sphere: a text joins the centre it is most alike (cosine), each centre
    moves to its tickets' mean direction, until no text changes group. Seeded like k-means++
    over the tickets (``rows``: each one's text): each new centre is drawn with probability
    growing with its distance from those chosen."""
    count = len(rows)
    clusters = min(clusters, count)
    chosen = [int(rows[rng.integers(count)])]
    nearest = vectors.times(vectors.take(np.array(chosen)).dense()[0])
    for _ in range(1, clusters):
        distance = np.clip(1.0 - nearest[rows], 0.0, None)
        total = distance.sum()
        drawn = rng.choice(count, p=distance / total) if total > 0 else rng.integers(count)
        pick = int(rows[drawn])
        chosen.append(pick)
        similarity = vectors.times(vectors.take(np.array([pick])).dense()[0])
        nearest = np.maximum(nearest, similarity)
    centres = vectors.take(np.array(chosen)).dense()
    assigned = np.full(vectors.height, -1)
    for _ in range(KMEANS_ROUNDS):
        previous, assigned = assigned, vectors.times_rows(centres).argmax(axis=1)
        if np.array_equal(previous, assigned):
            break
        # Every centre's weighted sum of its texts at once.
        totals = vectors.group_sums(assigned, weights.astype(np.float64), clusters)
        norms = np.linalg.norm(totals, axis=1)
        moved = norms > 0  # a centre with no text (or only empty ones) stays where it is
        centres[moved] = totals[moved] / norms[moved, None]
    return centres
