"""Deciding categories: the PSA's when usable, else the text's; themes nobody knows stay visible."""

from __future__ import annotations

import random

import polars as pl
import pytest

from deskhand.history.categories import _psa_label, categorize
from deskhand.history.schema import TICKET_SCHEMA
from deskhand.history.taxonomy import Taxonomy, load_taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def tickets(rows: list[tuple[str | None, str, str, float]]) -> pl.DataFrame:
    """Tickets from (PSA category, subject, body, minutes)."""
    frame = pl.DataFrame(
        {
            "ticket_id": [str(i) for i in range(len(rows))],
            "category_raw": [r[0] for r in rows],
            "subject": [r[1] for r in rows],
            "body": [r[2] for r in rows],
        },
        schema_overrides={"category_raw": pl.String},
    )
    frame = frame.with_columns(
        pl.lit(None).cast(dtype).alias(name)
        for name, dtype in TICKET_SCHEMA.items()
        if name not in frame.columns
    )
    return frame.with_columns(pl.Series("minutes", [r[3] for r in rows]))


def test_psa_labels_are_merged_by_spelling_and_vague_ones_are_null(taxonomy: Taxonomy) -> None:
    raw = pl.Series(
        "c",
        [" printer", "Printer", "Printer", "Pwd Reset", None, "", "  ", "Other / Other", "Misc",
         "Email  /  Outlook", "email / outlook", "Email / Outlook", "Server Room"],
    )  # fmt: skip
    assert _psa_label(raw, taxonomy).to_list() == [
        "Printer", "Printer", "Printer", "Password reset", None, None, None, None, None,
        "Email / Outlook", "Email / Outlook", "Email / Outlook", "Server Room",
    ]  # fmt: skip


def test_few_vague_categories_keep_the_psas_categories(taxonomy: Taxonomy) -> None:
    rows = [("Printer", "Printer jammed", "paper jam", 10.0)] * 9
    rows.append(("Other", "Forgot my password", "please reset my password", 5.0))
    result = categorize(tickets(rows), taxonomy, recategorize=False)
    assert result.tickets.get_column("category").to_list() == ["Printer"] * 9 + ["Other"]
    assert set(result.tickets.get_column("categorized_by")) == {"psa"}
    assert not result.summary.recategorized
    assert "10%" in result.summary.reason
    assert "--recategorize" in result.summary.reason


def test_many_vague_categories_are_decided_from_the_text(taxonomy: Taxonomy) -> None:
    rows = [("Printer", "Printer jammed", "paper jam on floor 2", 10.0)] * 6
    rows += [("Other", "Forgot my password", "please reset my password, locked out", 5.0)] * 4
    result = categorize(tickets(rows), taxonomy, recategorize=False)
    frame = result.tickets
    assert frame.get_column("category").to_list()[6:] == ["Password reset"] * 4
    assert frame.get_column("categorized_by").to_list() == ["psa"] * 6 + ["taxonomy"] * 4
    assert result.summary.recategorized
    assert result.summary.by == {"psa": 6, "taxonomy": 4}
    assert result.summary.vague_share == 0.4


def test_recategorize_ignores_the_psa(taxonomy: Taxonomy) -> None:
    rows = [("Printer", "Forgot my password", "reset my password please", 5.0)] * 3
    result = categorize(tickets(rows), taxonomy, recategorize=True)
    assert set(result.tickets.get_column("category")) == {"Password reset"}
    assert "--recategorize" in result.summary.reason


def test_the_model_labels_what_the_phrases_miss(taxonomy: Taxonomy) -> None:
    # The MSP's own label, unknown to the taxonomy, with its own vocabulary: only a model
    # trained on the labelled tickets can recognise the unlabelled ones.
    rng = random.Random(3)
    words = ["quarterly", "ledger", "reconciliation", "sage", "journal", "posting", "period"]
    labelled = [
        ("Accounts App", " ".join(rng.sample(words, 4)), " ".join(rng.sample(words, 5)), 30.0)
        for _ in range(40)
    ]
    other = [("Printer", "Printer jammed", "paper jam on floor 2", 10.0)] * 40
    # Tickets of a theme the taxonomy does not know, which the model learnt from the MSP.
    unlabelled = [(None, " ".join(rng.sample(words, 4)), "", 30.0) for _ in range(30)]
    result = categorize(tickets(labelled + other + unlabelled), taxonomy, recategorize=False)
    tail = result.tickets.tail(30)
    assert set(tail.get_column("category")) == {"Accounts App"}
    assert set(tail.get_column("categorized_by")) == {"model"}
    # The theme is still shown on its own, with where its tickets are counted.
    [theme] = [s for s in result.suggestions if s.filed_under == "Accounts App"]
    assert theme.tickets == 30
    assert theme.minutes == 30 * 30.0


def test_a_recurring_theme_the_taxonomy_does_not_know_stays_together(taxonomy: Taxonomy) -> None:
    # A line-of-business app whose tickets share generic words with known categories
    # ("not syncing", "crashes") must not be scattered over them: it surfaces as a suggestion.
    rng = random.Random(5)
    lines = [
        "OpalChart not syncing at the front desk",
        "OpalChart crashes when saving a chart",
        "OpalChart sync error again, schedule not updating",
        "OpalChart database sync stuck overnight",
    ]
    rows = [("Other", rng.choice(lines), rng.choice(lines), 180.0) for _ in range(40)]
    rows += [("Other", "Forgot my password", "please reset my password", 5.0)] * 30
    rows += [("Other", "Printer jammed again", "paper jam in the printer", 10.0)] * 30
    rows += [("Printer", "Printer jammed", "paper jam", 10.0)] * 20
    result = categorize(tickets(rows), taxonomy, recategorize=False)
    opalchart = result.tickets.head(40)
    assert set(opalchart.get_column("category")) == {"Other"}
    top = result.suggestions[0]
    assert top.top_terms[0] == "opalchart"
    assert top.tickets == 40
    assert top.minutes == 40 * 180.0
