"""Deciding each ticket's category: the PSA's own when it is usable, otherwise from the ticket's
text — first the MSP taxonomy's phrases, then a model trained on the tickets whose category is
known — and clusters of what fits nothing, so an expensive new category cannot hide in "Other".
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from deskhand.history.report import Categorization, SuggestedCategory
from deskhand.history.textmodel import predict_categories, suggest_categories
from deskhand.triage.taxonomy import Taxonomy

# PSA category labels that say nothing about the work.
VAGUE_LABELS = frozenset(
    {
        "",
        "other",
        "others",
        "general",
        "misc",
        "miscellaneous",
        "n/a",
        "na",
        "none",
        "unknown",
        "uncategorized",
        "uncategorised",
        "not set",
        "tbd",
        "default",
        "various",
        "-",
    }
)
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
    vague_share = vague.sum() / frame.height if frame.height else 0.0
    if recategorize:
        todo = pl.Series([True] * frame.height)
        reason = "--recategorize was given: every ticket was categorised from its subject and body."
    elif vague_share > VAGUE_SHARE_THRESHOLD:
        todo = vague
        reason = (
            f"{vague_share:.0%} of tickets had no usable PSA category (missing, or 'Other', "
            "'General', 'Misc'); those were categorised from their subject and body. The rest "
            "keep the PSA's category."
        )
    else:
        todo = pl.Series([False] * frame.height)
        reason = (
            f"The PSA's categories were used: only {vague_share:.0%} of tickets had none or a "
            "vague one (those stay in 'Other'). Pass --recategorize to categorise every ticket "
            "from its text."
        )
    frame = frame.with_columns(todo.alias("todo"))
    text = _text()
    matched = taxonomy.match(
        frame.get_column("subject").fill_null(""), frame.get_column("body").fill_null("")
    ).get_column("category")
    frame = frame.with_columns(
        pl.when(pl.col("todo")).then(matched).otherwise(None).alias("taxonomy_label")
    )
    frame = frame.with_columns(_own_themes(frame).alias("own_theme"))
    frame = frame.with_columns(
        pl.when(pl.col("own_theme")).then(None).otherwise("taxonomy_label").alias("taxonomy_label")
    )
    known = frame.filter(~pl.col("todo") & pl.col("psa_label").is_not_null()).select(
        text, pl.col("psa_label").alias("label")
    )
    phrased = frame.filter(pl.col("taxonomy_label").is_not_null()).select(
        text, pl.col("taxonomy_label").alias("label")
    )
    training = pl.concat([known, phrased])
    unlabelled = frame.filter(
        pl.col("todo") & pl.col("taxonomy_label").is_null() & ~pl.col("own_theme")
    )
    predicted = predict_categories(
        training.get_column("text").to_list(),
        training.get_column("label").to_list(),
        unlabelled.select(text).get_column("text").to_list(),
    )
    model_label = pl.Series(
        [
            label if probability >= MODEL_MIN_PROBABILITY else None
            for label, probability in predicted
        ],
        dtype=pl.String,
    )
    model_labels = unlabelled.select("ticket_id").with_columns(model_label.alias("model_label"))
    frame = frame.join(model_labels, on="ticket_id", how="left").with_columns(
        pl.when(~pl.col("todo"))
        .then(pl.coalesce(pl.col("psa_label"), pl.lit(taxonomy.other)))
        .otherwise(pl.coalesce("taxonomy_label", "model_label", pl.lit(taxonomy.other)))
        .alias("category"),
        pl.when(~pl.col("todo"))
        .then(pl.lit("psa"))
        .when(pl.col("model_label").is_not_null() & pl.col("taxonomy_label").is_null())
        .then(pl.lit("model"))
        .otherwise(pl.lit("taxonomy"))
        .alias("categorized_by"),
    )
    by = dict(frame.group_by("categorized_by").len().sort("categorized_by").iter_rows())
    summary = Categorization(
        recategorized=bool(todo.any()), reason=reason, by=by, vague_share=round(vague_share, 4)
    )
    result = frame.drop("psa_label", "todo", "taxonomy_label", "model_label", "own_theme")
    return Categorized(result, summary, suggest(result, taxonomy))


def _own_themes(frame: pl.DataFrame) -> pl.Series:
    """Tickets in a recurring theme that the taxonomy cannot agree on: they stay together.

    Phrases are generic ("not syncing", "crashes"), so a line-of-business app that breaks every
    week would otherwise be spread over three categories and its cost would vanish. When the
    tickets of a cohesive cluster do not mostly share one taxonomy category, the cluster is a
    category of its own and is left for the suggestions.
    """
    flags = [False] * frame.height
    todo = frame.with_row_index("position").filter(pl.col("todo"))
    if todo.height == 0:
        return pl.Series(flags, dtype=pl.Boolean)
    themes = suggest_categories(
        todo.select(_text()).get_column("text").to_list(),
        todo.get_column("minutes").to_list(),
        max_clusters=THEME_CLUSTERS,
    )
    labels = todo.get_column("taxonomy_label").to_list()
    positions = todo.get_column("position").to_list()
    for theme in themes:
        members = [labels[i] for i in theme.members]
        agreeing = max((members.count(label) for label in set(members) - {None}), default=0)
        if agreeing < THEME_AGREEMENT * len(members):
            for i in theme.members:
                flags[positions[i]] = True
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
    not know keep their most frequent spelling ('Printer ' and 'printer' -> 'Printer').
    """
    cleaned = raw.str.strip_chars().str.replace_all(r"\s+", " ")
    key = cleaned.str.to_lowercase()
    parts_vague = key.str.split(" / ").list.eval(pl.element().is_in(list(VAGUE_LABELS))).list.all()
    usable = key.is_not_null() & ~key.is_in(list(VAGUE_LABELS)) & ~parts_vague.fill_null(True)
    spellings = (
        pl.DataFrame({"key": key, "spelling": cleaned})
        .filter(usable)
        .group_by("key", "spelling")
        .len()
        .sort(["len", "spelling"], descending=[True, False])
        .unique("key", keep="first")
    )
    display = (
        pl.DataFrame({"key": key})
        .join(spellings, on="key", how="left", maintain_order="left")
        .get_column("spelling")
    )
    canonical = taxonomy.canonical_label(cleaned)
    label = pl.DataFrame({"c": canonical, "d": display}).select(pl.coalesce("c", "d")).to_series()
    return label.set(~usable, None)
