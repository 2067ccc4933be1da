"""Deciding each ticket's category: the PSA's own when it is usable, otherwise from the ticket's
text — first the MSP taxonomy's phrases, then a model trained on the tickets whose category is
known — and clusters of what fits nothing, so an expensive new category cannot hide in "Other".
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from deskhand.history.report import Categorization, SuggestedCategory, format_share
from deskhand.history.textmodel import predict_categories
from deskhand.history.themes import suggest_categories
from deskhand.triage.taxonomy import Taxonomy

# Above this share of vague or missing categories, those tickets are categorised from their text.
VAGUE_SHARE_THRESHOLD = 0.2
# The model's label is used only when it is at least this sure; below, the ticket stays "Other".
MODEL_MIN_PROBABILITY = 0.6
# Clusters looked for among the tickets being categorised, and the share of a cluster that must
# agree on one taxonomy category for the taxonomy to be trusted with it.
THEME_CLUSTERS = 30
THEME_AGREEMENT = 0.5


@dataclass
class Categorized:
    """Tickets with ``category`` and ``categorized_by`` added, and how that was decided."""

    tickets: pl.DataFrame
    summary: Categorization
    suggestions: list[SuggestedCategory]


def categorize(tickets: pl.DataFrame, taxonomy: Taxonomy, *, recategorize: bool) -> Categorized:
    """Give every ticket a category (see the module docstring for the order of sources)."""
    frame = tickets.with_columns(
        _psa_label(tickets.get_column("category_raw"), taxonomy).alias("psa_label")
    )
    vague = frame.get_column("psa_label").is_null()
    vague_share = int(vague.sum()) / frame.height if frame.height else 0.0
    if recategorize:
        todo = pl.repeat(True, frame.height, eager=True)
        reason = "--recategorize was given: every ticket was categorised from its subject and body."
    elif vague_share > VAGUE_SHARE_THRESHOLD:
        todo = vague
        reason = (
            f"{format_share(vague_share)} of tickets had no usable PSA category (missing, or "
            "'Other', 'General', 'Misc'); those were categorised from their subject and body. "
            "The rest keep the PSA's category."
        )
    else:
        todo = pl.repeat(False, frame.height, eager=True)
        vague_words = (
            f"only {format_share(vague_share)} of tickets had none or a vague one (those stay "
            "in 'Other')"
            if vague_share
            else "every ticket had one"
        )
        reason = (
            f"The PSA's categories were used: {vague_words}. Pass --recategorize to categorise "
            "every ticket from its text."
        )
    frame = frame.with_columns(todo.alias("todo"))
    labels = _labels_from_text(frame, taxonomy)
    frame = frame.join(labels, on="ticket_id", how="left").with_columns(
        pl.when(~pl.col("todo"))
        .then(pl.coalesce(pl.col("psa_label"), pl.lit(taxonomy.other)))
        .otherwise(pl.coalesce("taxonomy_label", "model_label", pl.lit(taxonomy.other)))
        .alias("category"),
        pl.when(~pl.col("todo"))
        .then(pl.lit("psa"))
        .when(pl.col("taxonomy_label").is_null() & pl.col("model_label").is_not_null())
        .then(pl.lit("model"))
        .otherwise(pl.lit("taxonomy"))
        .alias("categorized_by"),
    )
    by = dict(frame.group_by("categorized_by").len().sort("categorized_by").iter_rows())
    summary = Categorization(
        recategorized=bool(todo.any()), reason=reason, by=by, vague_share=round(vague_share, 4)
    )
    result = frame.drop("psa_label", "todo", "taxonomy_label", "model_label")
    return Categorized(result, summary, suggest(result, taxonomy))


def _labels_from_text(frame: pl.DataFrame, taxonomy: Taxonomy) -> pl.DataFrame:
    """``ticket_id, taxonomy_label, model_label`` for the tickets marked ``todo``."""
    todo = frame.filter(pl.col("todo"))
    if todo.height == 0:
        return pl.DataFrame(
            schema={"ticket_id": pl.String, "taxonomy_label": pl.String, "model_label": pl.String}
        )
    matched = taxonomy.match(
        todo.get_column("subject").fill_null(""), todo.get_column("body").fill_null("")
    ).get_column("category")
    todo = todo.with_columns(matched.alias("taxonomy_label"))
    own_theme = _own_themes(todo, taxonomy)
    todo = todo.with_columns(
        pl.when(own_theme).then(None).otherwise("taxonomy_label").alias("taxonomy_label")
    )
    known = frame.filter(~pl.col("todo") & pl.col("psa_label").is_not_null()).select(
        _text(), pl.col("psa_label").alias("label")
    )
    phrased = todo.filter(pl.col("taxonomy_label").is_not_null()).select(
        _text(), pl.col("taxonomy_label").alias("label")
    )
    training = pl.concat([known, phrased])
    unlabelled = todo.filter(pl.col("taxonomy_label").is_null() & ~own_theme)
    predicted = predict_categories(
        training.get_column("text").to_list(),
        training.get_column("label").to_list(),
        unlabelled.select(_text()).get_column("text").to_list(),
    )
    model_label = pl.Series(
        [label if p >= MODEL_MIN_PROBABILITY else None for label, p in predicted], dtype=pl.String
    )
    return todo.select("ticket_id", "taxonomy_label").join(
        unlabelled.select("ticket_id", model_label.alias("model_label")),
        on="ticket_id",
        how="left",
    )


def _own_themes(todo: pl.DataFrame, taxonomy: Taxonomy) -> pl.Series:
    """Tickets in a recurring theme that the taxonomy does not know: they stay together.

    Phrases are generic ("not syncing", "crashes"), so a line-of-business app that breaks every
    week would otherwise be spread over three categories and its cost would vanish. A cohesive
    cluster is a category of its own when its tickets do not mostly share one taxonomy category
    and its defining term is no word of any phrase ("opalchart"); a cluster that only mixes two
    known categories ("locked out", "password") is left to the phrases.
    """
    flags = [False] * todo.height
    themes = suggest_categories(
        todo.select(_text()).get_column("text").to_list(),
        todo.get_column("minutes").to_list(),
        max_clusters=THEME_CLUSTERS,
    )
    labels = todo.get_column("taxonomy_label").to_list()
    for theme in themes:
        members = [labels[i] for i in theme.members]
        agreeing = max((members.count(label) for label in set(members) - {None}), default=0)
        unknown = not taxonomy.knows_word(theme.top_terms[0])
        if unknown and agreeing < THEME_AGREEMENT * len(members):
            for i in theme.members:
                flags[i] = True
    return pl.Series(flags, dtype=pl.Boolean)


def suggest(tickets: pl.DataFrame, taxonomy: Taxonomy) -> list[SuggestedCategory]:
    """Clusters of the tickets left in "Other", most minutes first."""
    rest = tickets.filter(pl.col("category") == taxonomy.other)
    if rest.height == 0:
        return []
    texts = rest.select(_text()).get_column("text").to_list()
    subjects = rest.get_column("subject").fill_null("(no subject)").to_list()
    clusters = suggest_categories(texts, rest.get_column("minutes").to_list())
    return [
        SuggestedCategory(
            label=cluster.label,
            top_terms=cluster.top_terms,
            tickets=cluster.tickets,
            minutes=round(cluster.minutes, 2),
            examples=[subjects[i][:200] for i in cluster.example_indices],
        )
        for cluster in clusters
    ]


def _text() -> pl.Expr:
    return pl.concat_str(
        [pl.col("subject").fill_null(""), pl.col("body").fill_null("")], separator=" "
    ).alias("text")


def _psa_label(raw: pl.Series, taxonomy: Taxonomy) -> pl.Series:
    """The PSA's category under one name per spelling; null when missing or vague.

    'password reset', 'Pwd Reset' -> the taxonomy's 'Password reset'; labels the taxonomy does
    not know keep their most frequent spelling ('Printer ' and 'printer' -> 'Printer'). Vague
    labels are the taxonomy's synonyms of "Other" ('General', 'Misc'), also as 'Other / Other'.
    """
    cleaned = raw.str.strip_chars().str.replace_all(r"\s+", " ").replace("", None)
    counts = cleaned.drop_nulls().value_counts(sort=True, name="n")
    spellings = counts.get_column(cleaned.name).to_list()
    canonical = taxonomy.canonical_label(counts.get_column(cleaned.name)).to_list()
    parts = pl.Series([part for s in spellings for part in s.split(" / ")], dtype=pl.String)
    part_names = dict(zip(parts.to_list(), taxonomy.canonical_label(parts).to_list(), strict=True))
    display: dict[str, str] = {}  # lowercase spelling -> its most frequent spelling
    label: dict[str, str | None] = {}
    for spelling, name in zip(spellings, canonical, strict=True):
        vague = all(part_names[p] == taxonomy.other for p in spelling.split(" / "))
        shown = display.setdefault(spelling.lower(), spelling)
        label[spelling] = None if vague else name or shown
    return cleaned.replace_strict(label, default=None, return_dtype=pl.String)
