"""Deciding each ticket's category.

By default the PSA's own categories are shown as the MSP wrote them: nothing is renamed or
merged, and where deskhand's taxonomy knows a label, its category is named beside it. Merging is
something the user asks for (``--recategorize``): then labels the taxonomy knows take its names,
spellings of one label become one, and tickets with no usable label are categorised from their
text — first the taxonomy's phrases, then a model trained on the tickets whose category is known.
Either way, clusters of the tickets with no usable label are suggested as categories, so an
expensive kind of work cannot hide in "Other".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import polars as pl

from deskhand.history.distinct import find_distinct
from deskhand.history.report import (
    NO_CATEGORY,
    Categorization,
    Merge,
    SuggestedCategory,
    format_share,
)
from deskhand.history.taxonomy import Taxonomy
from deskhand.history.textmodel import predict_categories
from deskhand.history.themes import Suggestion, find_themes, priced, suggest_categories

# The model's label is used only when it is at least this sure; below, the ticket stays "Other".
MODEL_MIN_PROBABILITY = 0.6
# Clusters looked for among the tickets being categorised, and the share of a cluster that must
# agree on one taxonomy category for the taxonomy to be trusted with it.
THEME_CLUSTERS = 30
THEME_AGREEMENT = 0.5


@dataclass
class Categorized:
    """Tickets with ``category``, ``taxonomy_category`` and ``categorized_by`` added, and how
    that was decided. The suggested categories are worked out when first asked for: the themes
    looked for on a thread of their own may still be under way while the tickets are ranked."""

    tickets: pl.DataFrame
    summary: Categorization
    suggest: Callable[[], list[SuggestedCategory]]

    @cached_property
    def suggestions(self) -> list[SuggestedCategory]:
        """Recurring themes among the tickets with no usable category, most minutes first."""
        return self.suggest()


def categorize(
    tickets: pl.DataFrame,
    taxonomy: Taxonomy,
    *,
    recategorize: bool,
    ahead: ThemesAhead | None = None,
) -> Categorized:
    """Give every ticket a category: the PSA's own, or with ``recategorize`` deskhand's
    taxonomy's (see the module docstring). ``ahead``: the themes among the tickets with no
    usable category, looked for while their minutes were summed (used when they were looked for
    among the same tickets)."""
    raw = tickets.get_column("category_raw")
    read = ahead.labels(raw) if ahead is not None else None
    psa_labels = read.names if read is not None else _psa_labels(raw, taxonomy)
    if not recategorize:
        is_vague = read.vague if read is not None else _vague(raw, psa_labels)
        return _own(tickets, taxonomy, psa_labels, is_vague, ahead)
    frame = tickets.with_columns(_psa_label(raw, psa_labels).alias("psa_label"))
    vague = frame.get_column("psa_label").is_null()
    vague_share = int(vague.sum()) / frame.height if frame.height else 0.0
    frame = frame.with_columns(vague.alias("todo"))
    labels, themes = _labels_from_text(frame, taxonomy)
    frame = frame.join(labels, on="ticket_id", how="left").with_columns(
        pl.when(~pl.col("todo"))
        .then(pl.col("psa_label"))
        .otherwise(pl.coalesce("taxonomy_label", "model_label", pl.lit(taxonomy.other)))
        .alias("category"),
        pl.when(~pl.col("todo"))
        .then(pl.lit("psa"))
        .when(pl.col("taxonomy_label").is_null() & pl.col("model_label").is_not_null())
        .then(pl.lit("model"))
        .otherwise(pl.lit("taxonomy"))
        .alias("categorized_by"),
    )
    frame = frame.with_columns(
        pl.col("category")
        .replace_strict(_known_names(frame, taxonomy), default=None, return_dtype=pl.String)
        .alias("taxonomy_category")
    )
    merges = _merges(frame)
    merged_labels = len({m.psa_category for m in merges if m.psa_category is not None})
    reason = (
        "Merging was asked for (--recategorize, or the web app's option to merge the PSA's "
        "categories): the PSA's categories were merged into deskhand's taxonomy "
        f"({merged_labels:,} of the PSA's labels were renamed or merged; the merges are listed "
        "below), and the "
        + (
            f"{format_share(vague_share)} of tickets with no usable category (missing, or "
            "'Other', 'General', 'Misc') were categorised from their subject and body."
            if vague_share
            else "tickets all had a usable category, so none was categorised from its text."
        )
    )
    by = dict(frame.group_by("categorized_by").len().sort("categorized_by").iter_rows())
    summary = Categorization(
        recategorized=True, reason=reason, by=by, vague_share=round(vague_share, 4), merged=merges
    )
    suggestions = _filed_themes(frame, themes, taxonomy) + suggest(
        frame, pl.col("category") == taxonomy.other
    )
    suggestions.sort(key=lambda s: (-s.minutes, -s.tickets, s.label))
    result = frame.drop("psa_label", "todo", "taxonomy_label", "model_label", "theme")
    return Categorized(result, summary, lambda: suggestions)


def _own(
    frame: pl.DataFrame,
    taxonomy: Taxonomy,
    psa_labels: dict[str, str | None],
    is_vague: pl.Series,
    ahead: ThemesAhead | None,
) -> Categorized:
    """The PSA's own categories, untouched, with the taxonomy's category beside them
    (``psa_labels``: each distinct PSA category's name, None when vague; ``is_vague``: each
    ticket's category is missing or vague)."""
    vague_share = int(is_vague.sum()) / frame.height if frame.height else 0.0
    own = pl.col("category_raw").fill_null(NO_CATEGORY)
    beside = {label: _taxonomy_category(label, taxonomy) for label in psa_labels}
    frame = frame.with_columns(
        own.alias("category"),
        pl.col("category_raw")
        .replace_strict(beside, default=None, return_dtype=pl.String)
        .alias("taxonomy_category"),
        pl.lit("psa").alias("categorized_by"),
    )
    vague_words = (
        f"{format_share(vague_share)} of tickets have no category or a vague one ('Other', "
        "'General', 'Misc'); they stay under their own label, and the themes among them are "
        "suggested below"
        if vague_share
        else "every ticket has a category of its own"
    )
    reason = (
        "The PSA's own categories are shown as they are: none was renamed or merged. Where "
        "deskhand's taxonomy knows a category, its name is shown beside it. "
        f"{vague_words[0].upper()}{vague_words[1:]}. To merge the categories into deskhand's "
        "taxonomy and categorise the vague ones from their text, ask for it: --recategorize on "
        "the command line, or the option to merge the PSA's categories in the web app."
    )
    summary = Categorization(
        recategorized=False,
        reason=reason,
        by={"psa": frame.height} if frame.height else {},
        vague_share=round(vague_share, 4),
    )
    vague = frame.filter(is_vague)

    def suggestions() -> list[SuggestedCategory]:
        found = ahead.result(vague) if ahead is not None else None
        if found is None:
            found = _unnamed_themes(vague, taxonomy)
        return _suggested(vague, priced(found, vague.get_column("minutes")))

    return Categorized(frame, summary, suggestions)


class ThemesAhead:
    """The themes among the tickets with no usable category, looked for on a thread of their
    own from the tickets' text alone (see :func:`_unnamed_themes`), while the time files are
    read and the minutes summed; ``tickets`` are those of the analysis window."""

    def __init__(self, tickets: pl.DataFrame, window: pl.Expr, taxonomy: Taxonomy) -> None:
        self.read: Future[_Labels] = Future()
        self.found: Future[tuple[pl.Series, list[Suggestion]]] = Future()
        threading.Thread(
            target=self._look,
            args=(
                tickets.select("ticket_id", "category_raw", "subject", "body", "opened_at"),
                window,
                taxonomy,
            ),
            name="deskhand-themes",
            daemon=True,
        ).start()

    def _look(self, tickets: pl.DataFrame, window: pl.Expr, taxonomy: Taxonomy) -> None:
        try:
            # The few vague tickets first: the window leaves most tickets in, and a filter
            # copies every column of what it keeps.
            raw = tickets.get_column("category_raw")
            names = _psa_labels(raw, taxonomy)
            is_vague = _vague(raw, names)
            self.read.set_result(_Labels(raw, names, is_vague))
            vague = tickets.filter(is_vague).filter(window)
            self.found.set_result((vague.get_column("ticket_id"), _unnamed_themes(vague, taxonomy)))
        except BaseException as error:  # handed to the thread that waits for it
            if not self.read.done():
                self.read.set_exception(error)
            self.found.set_exception(error)

    def labels(self, raw: pl.Series) -> _Labels | None:
        """What each PSA category is named and which tickets' are vague, as worked out here,
        when ``raw`` is the categories it was worked out from (the window left every ticket
        in); None otherwise."""
        read = self.read.result()
        return read if read.raw.equals(raw) else None

    def result(self, vague: pl.DataFrame) -> list[Suggestion] | None:
        """The themes, when they were looked for among the tickets of ``vague``, in its order;
        None otherwise."""
        ids, found = self.found.result()
        return found if ids.equals(vague.get_column("ticket_id")) else None


class _Labels(NamedTuple):
    """The PSA's categories of every ticket (``raw``), what each is named (``_psa_labels``) and
    whether each ticket's is missing or vague (``_vague``)."""

    raw: pl.Series
    names: dict[str, str | None]
    vague: pl.Series


def _unnamed_themes(vague: pl.DataFrame, taxonomy: Taxonomy) -> list[Suggestion]:
    """Recurring themes among the tickets with no usable category that no category names: a
    theme whose tickets mostly name no taxonomy category in their text, or one the taxonomy does
    not know (``_unknown_to``). Their minutes are added up by ``priced``."""
    if vague.height == 0:
        return []
    # Alerts and templated requests repeat word for word: each distinct subject and body is
    # matched and joined into one text once.
    pairs = find_distinct(
        vague.select(
            pl.struct(pl.col("subject").fill_null(""), pl.col("body").fill_null(""))
        ).to_series()
    )
    distinct = pairs.values.struct.unnest()
    named = (
        taxonomy.match(distinct.get_column("subject"), distinct.get_column("body"))
        .get_column("category")
        .gather(pairs.places)
    )
    texts = distinct.select(_text()).get_column("text").gather(pairs.places)
    found = find_themes(texts, max_clusters=THEME_CLUSTERS)
    unnamed = named.is_null().to_numpy()
    return [
        theme
        for theme in found
        if int(unnamed[theme.members].sum()) >= THEME_AGREEMENT * theme.tickets
        or _unknown_to(taxonomy, theme, named)
    ]


def _unknown_to(taxonomy: Taxonomy, theme: Suggestion, named: pl.Series) -> bool:
    """Whether ``theme`` is one the taxonomy does not know: its defining term is no word of any
    phrase ("opalchart"), and its tickets' phrase matches (``named``) do not mostly agree."""
    if taxonomy.knows_word(theme.top_terms[0]):
        return False
    counts = named.gather(theme.members).drop_nulls().value_counts().get_column("count")
    agreeing = int(counts.to_numpy().max(initial=0))
    return agreeing < THEME_AGREEMENT * len(theme.members)


def _taxonomy_category(label: str, taxonomy: Taxonomy) -> str | None:
    """The taxonomy category a PSA label means: the whole label's, else its first part's that
    means one ('Email / Outlook' -> the category of 'Email')."""
    whole = taxonomy.category_of(label)
    if whole is not None:
        return whole
    parts = (taxonomy.category_of(part) for part in label.split(" / ")[:-1] if part.strip())
    return next((part for part in parts if part is not None and part != taxonomy.other), None)


def _known_names(frame: pl.DataFrame, taxonomy: Taxonomy) -> dict[str, str]:
    """Category -> itself, for the categories that are taxonomy categories."""
    names = set(taxonomy.names)
    return {c: c for c in frame.get_column("category").unique().to_list() if c in names}


def _merges(frame: pl.DataFrame) -> list[Merge]:
    """What --recategorize merged into what: each PSA label (None: no label) and the category
    its tickets went to, where the two differ, most tickets first."""
    pairs = (
        frame.group_by("category_raw", "category")
        .len()
        .filter(pl.col("category_raw").is_null() | (pl.col("category_raw") != pl.col("category")))
        .sort(["len", "category_raw", "category"], descending=[True, False, False], nulls_last=True)
    )
    return [
        Merge(psa_category=raw, category=category, tickets=count)
        for raw, category, count in pairs.iter_rows()
    ]


def _filed_themes(
    frame: pl.DataFrame, themes: list[Suggestion], taxonomy: Taxonomy
) -> list[SuggestedCategory]:
    """Themes the taxonomy does not know that the model filed under one of the MSP's own
    categories: still shown, so that their cost is seen apart from the category's."""
    filed = frame.filter(pl.col("theme").is_not_null() & (pl.col("category") != taxonomy.other))
    return [
        SuggestedCategory(
            label=themes[theme].label,
            top_terms=themes[theme].top_terms,
            tickets=rows.height,
            minutes=round(float(rows.get_column("minutes").sum()), 2),
            examples=_distinct(rows.get_column("subject").fill_null("(no subject)").to_list()),
            filed_under=rows.get_column("category").item(0),
        )
        for (theme,), rows in filed.group_by("theme", maintain_order=True)
        if isinstance(theme, int)
    ]


def _labels_from_text(
    frame: pl.DataFrame, taxonomy: Taxonomy
) -> tuple[pl.DataFrame, list[Suggestion]]:
    """``ticket_id, taxonomy_label, model_label, theme`` for the tickets marked ``todo``, and
    the recurring themes unknown to the taxonomy that ``theme`` indexes."""
    todo = frame.filter(pl.col("todo"))
    if todo.height == 0:
        schema = {"ticket_id": pl.String, "taxonomy_label": pl.String, "model_label": pl.String}
        return pl.DataFrame(schema=schema | {"theme": pl.Int32}), []
    matched = taxonomy.match(
        todo.get_column("subject").fill_null(""), todo.get_column("body").fill_null("")
    ).get_column("category")
    todo = todo.with_columns(matched.alias("taxonomy_label"))
    theme_of, themes = _own_themes(todo, taxonomy)
    todo = todo.with_columns(theme_of.alias("theme"))
    todo = todo.with_columns(
        pl.when(pl.col("theme").is_null()).then("taxonomy_label").alias("taxonomy_label")
    )
    known = frame.filter(~pl.col("todo") & pl.col("psa_label").is_not_null()).select(
        _text(), pl.col("psa_label").alias("label")
    )
    phrased = todo.filter(pl.col("taxonomy_label").is_not_null()).select(
        _text(), pl.col("taxonomy_label").alias("label")
    )
    training = pl.concat([known, phrased])
    unlabelled = todo.filter(pl.col("taxonomy_label").is_null())
    predicted = predict_categories(
        training.get_column("text").to_list(),
        training.get_column("label").to_list(),
        unlabelled.select(_text()).get_column("text").to_list(),
    )
    confident = [label if p >= MODEL_MIN_PROBABILITY else None for label, p in predicted]
    unlabelled = unlabelled.with_columns(pl.Series("model_label", confident, dtype=pl.String))
    defining_terms = [theme.top_terms[0] for theme in themes]
    labels = todo.select("ticket_id", "taxonomy_label", "theme").join(
        _keep_themes_whole(unlabelled, defining_terms, training).select("ticket_id", "model_label"),
        on="ticket_id",
        how="left",
    )
    return labels, themes


def _keep_themes_whole(
    unlabelled: pl.DataFrame, defining_terms: list[str], training: pl.DataFrame
) -> pl.DataFrame:
    """A theme's tickets all take the model's label when most of them get the same one and the
    MSP has filed tickets with the theme's defining term under that label before; otherwise
    none does. (A classifier is sure of something for text unlike any it has seen; the term
    check tells a learnt category from a guess.)"""
    votes = (
        unlabelled.filter(pl.col("theme").is_not_null())
        .group_by("theme")
        .agg(
            pl.col("model_label").drop_nulls().mode().first().alias("majority"),
            (pl.col("model_label") == pl.col("model_label").drop_nulls().mode().first())
            .sum()
            .alias("agreeing"),
            pl.len().alias("size"),
        )
        .filter(pl.col("agreeing") >= THEME_AGREEMENT * pl.col("size"))
    )
    learnt = [
        (theme, label)
        for theme, label in votes.select("theme", "majority").rows()
        if _seen_under(defining_terms[theme], label, training)
    ]
    votes = pl.DataFrame(learnt, schema={"theme": pl.Int32, "majority": pl.String}, orient="row")
    return unlabelled.join(votes.select("theme", "majority"), on="theme", how="left").with_columns(
        pl.when(pl.col("theme").is_null())
        .then("model_label")
        .otherwise("majority")
        .alias("model_label")
    )


def _seen_under(term: str, label: str, training: pl.DataFrame) -> bool:
    texts = training.filter(pl.col("label") == label).get_column("text").str.to_lowercase()
    return bool(texts.str.contains(rf"\b{re.escape(term)}\b").any())


def _own_themes(todo: pl.DataFrame, taxonomy: Taxonomy) -> tuple[pl.Series, list[Suggestion]]:
    """For each ticket, the recurring theme the taxonomy does not know that it belongs to (an
    index into the themes returned beside, or null).

    Phrases are generic ("not syncing", "crashes"), so a line-of-business app that breaks every
    week would otherwise be spread over three categories and its cost would vanish. A cohesive
    cluster is a theme of its own when its tickets do not mostly share one taxonomy category
    and its defining term is no word of any phrase ("opalchart"); a cluster that only mixes two
    known categories ("locked out", "password") is left to the phrases.
    """
    themes: list[int | None] = [None] * todo.height
    found = suggest_categories(
        todo.select(_text()).get_column("text").to_list(),
        todo.get_column("minutes").to_list(),
        max_clusters=THEME_CLUSTERS,
    )
    labels = todo.get_column("taxonomy_label")
    for number, theme in enumerate(found):
        if _unknown_to(taxonomy, theme, labels):
            for i in theme.members:
                themes[i] = number
    return pl.Series(themes, dtype=pl.Int32), found


def suggest(tickets: pl.DataFrame, rest: pl.Expr) -> list[SuggestedCategory]:
    """Clusters of the ``rest`` of the tickets (those with no usable category), most minutes
    first, each with the category or categories its tickets are counted in."""
    left = tickets.filter(rest)
    if left.height == 0:
        return []
    texts = left.select(_text()).get_column("text").to_list()
    return _suggested(left, suggest_categories(texts, left.get_column("minutes").to_list()))


def _suggested(tickets: pl.DataFrame, themes: list[Suggestion]) -> list[SuggestedCategory]:
    """``themes`` found among ``tickets`` as the report shows them: with example subjects and
    where their tickets are counted."""
    subjects = tickets.get_column("subject")
    categories = tickets.get_column("category")
    return [
        SuggestedCategory(
            label=theme.label,
            top_terms=theme.top_terms,
            tickets=theme.tickets,
            minutes=round(theme.minutes, 2),
            examples=_distinct(
                subjects.gather(theme.example_indices).fill_null("(no subject)").to_list()
            ),
            filed_under=_counted_in(categories.gather(theme.members)),
        )
        for theme in themes
    ]


def _counted_in(categories: pl.Series) -> str:
    """Where a theme's tickets are in the ranking: "Other", or "General and Other"."""
    names = categories.value_counts(sort=True).get_column(categories.name).to_list()
    return " and ".join(names) if len(names) <= 2 else f"{names[0]}, {names[1]} and others"


def _distinct(subjects: list[str], count: int = 5) -> list[str]:
    """The first ``count`` subjects that differ other than in case and spacing."""
    seen: dict[str, str] = {}
    for subject in subjects:
        seen.setdefault(" ".join(subject.lower().split()), subject[:200])
    return list(seen.values())[:count]


def _text() -> pl.Expr:
    return pl.concat_str(
        [pl.col("subject").fill_null(""), pl.col("body").fill_null("")], separator=" "
    ).alias("text")


def _psa_label(raw: pl.Series, psa_labels: dict[str, str | None]) -> pl.Series:
    """The PSA's category under one name per spelling; null when missing or vague
    (``psa_labels``: what each label becomes, see ``_psa_labels``)."""
    return raw.replace_strict(psa_labels, default=None, return_dtype=pl.String)


def _vague(raw: pl.Series, psa_labels: dict[str, str | None]) -> pl.Series:
    """Whether each ticket's PSA category is missing or vague (``psa_labels``: see
    ``_psa_labels``): where ``_psa_label`` is null."""
    vague = [label for label, name in psa_labels.items() if name is None]
    return raw.is_null() | raw.is_in(pl.Series(vague, dtype=pl.String).implode())


def _psa_labels(raw: pl.Series, taxonomy: Taxonomy) -> dict[str, str | None]:
    """Each distinct PSA category under one name per spelling; None when vague.

    'password reset', 'Pwd Reset' -> the taxonomy's 'Password reset'; labels the taxonomy does
    not know keep their most frequent spelling ('Printer ' and 'printer' -> 'Printer'). Vague
    labels are the taxonomy's synonyms of "Other" ('General', 'Misc'), also as 'Other / Other'.
    """
    # A PSA has a few dozen distinct labels: work on those, then map every ticket's label.
    counts = raw.drop_nulls().value_counts(sort=True, name="n")
    spellings = [" ".join(label.split()) for label in counts.get_column(raw.name).to_list()]
    canonical = taxonomy.canonical_label(pl.Series(spellings, dtype=pl.String)).to_list()
    parts = pl.Series(sorted({p for s in spellings for p in s.split(" / ")}), dtype=pl.String)
    part_names = dict(zip(parts.to_list(), taxonomy.canonical_label(parts).to_list(), strict=True))
    display: dict[str, str] = {}  # lowercase spelling -> its most frequent spelling
    label: dict[str, str | None] = {}
    for original, spelling, name in zip(
        counts.get_column(raw.name).to_list(), spellings, canonical, strict=True
    ):
        vague = not spelling or all(part_names[p] == taxonomy.other for p in spelling.split(" / "))
        shown = display.setdefault(spelling.lower(), spelling)
        label[original] = None if vague else name or shown
    return label
