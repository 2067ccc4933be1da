"""Deciding categories: the PSA's when usable, else the text's; themes nobody knows stay visible."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from deskhand.history import categories
from deskhand.history.categories import ThemesAhead, _psa_label, _psa_labels, categorize
from deskhand.history.report import NO_CATEGORY
from deskhand.history.schema import TICKET_SCHEMA
from deskhand.history.taxonomy import Taxonomy, load_taxonomy
from deskhand.history.themes import Suggestion


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
    assert _psa_label(raw, _psa_labels(raw, taxonomy)).to_list() == [
        "Printer", "Printer", "Printer", "Password reset", None, None, None, None, None,
        "Email / Outlook", "Email / Outlook", "Email / Outlook", "Server Room",
    ]  # fmt: skip


def test_own_categories_are_shown_untouched_with_the_taxonomy_category_beside_them(
    taxonomy: Taxonomy,
) -> None:
    rows = [("New User Setup", "Starter on Monday", "set up laptop and account", 90.0)] * 3
    rows += [("Software", "Excel crashes", "excel crashes on open", 20.0)] * 5
    rows += [("Support", "Forgot my password", "please reset my password", 5.0)] * 2
    rows += [("Server Room", "Aircon", "server room too warm", 30.0)]
    rows += [(None, "Printer jammed", "paper jam", 10.0)]
    result = categorize(tickets(rows), taxonomy, recategorize=False)
    frame = result.tickets
    assert frame.get_column("category").to_list() == (
        ["New User Setup"] * 3 + ["Software"] * 5 + ["Support"] * 2
        + ["Server Room", NO_CATEGORY]
    )  # fmt: skip
    assert frame.get_column("taxonomy_category").to_list() == (
        ["New user onboarding"] * 3 + ["Software install / update"] * 5 + ["Other"] * 2
        + [None, None]
    )  # fmt: skip
    assert "Other" not in frame.get_column("category").to_list()
    assert set(frame.get_column("categorized_by")) == {"psa"}
    summary = result.summary
    assert not summary.recategorized
    assert summary.merged == []
    assert "none was renamed or merged" in summary.reason
    assert "--recategorize" in summary.reason


def test_recategorize_merges_into_the_taxonomy_and_says_what_went_where(
    taxonomy: Taxonomy,
) -> None:
    rows = [("New User Setup", "Starter on Monday", "set up laptop and account", 90.0)] * 6
    rows += [("Printer", "Printer jammed", "paper jam on floor 2", 10.0)] * 6
    rows += [("Other", "Forgot my password", "please reset my password, locked out", 5.0)] * 4
    rows += [("Server Room", "Aircon", "server room too warm", 30.0)]
    result = categorize(tickets(rows), taxonomy, recategorize=True)
    frame = result.tickets
    assert frame.get_column("category").to_list() == (
        ["New user onboarding"] * 6 + ["Printer"] * 6 + ["Password reset"] * 4 + ["Server Room"]
    )
    assert frame.get_column("categorized_by").to_list() == (
        ["psa"] * 12 + ["taxonomy"] * 4 + ["psa"]
    )
    summary = result.summary
    assert summary.recategorized
    assert summary.by == {"psa": 13, "taxonomy": 4}
    assert [(m.psa_category, m.category, m.tickets) for m in summary.merged] == [
        ("New User Setup", "New user onboarding", 6),
        ("Other", "Password reset", 4),
    ]
    assert "Merging was asked for (--recategorize" in summary.reason
    assert "merged into deskhand's taxonomy" in summary.reason


def opalchart_week() -> pl.DataFrame:
    """A week with a line-of-business app's breakages (40 tickets of 180 minutes) and password
    resets filed under "Other", and printer jams under "Printer", opened day by day."""
    rng = random.Random(5)
    lines = [
        "OpalChart not syncing at the front desk",
        "OpalChart crashes when saving a chart",
        "OpalChart sync error again, schedule not updating",
        "OpalChart database sync stuck overnight",
    ]
    rows = [("Other", rng.choice(lines), rng.choice(lines), 180.0) for _ in range(40)]
    rows += [("Other", "Forgot my password", "please reset my password", 5.0)] * 30
    rows += [("Printer", "Printer jammed", "paper jam", 10.0)] * 20
    frame = tickets(rows)
    opened = [datetime(2026, 11, 1 + i % 7, tzinfo=UTC) for i in range(frame.height)]
    return frame.with_columns(pl.Series("opened_at", opened, dtype=TICKET_SCHEMA["opened_at"]))


def test_a_theme_hidden_in_the_psas_other_is_suggested_where_it_is_counted(
    taxonomy: Taxonomy,
) -> None:
    result = categorize(opalchart_week(), taxonomy, recategorize=False)
    assert set(result.tickets.head(40).get_column("category")) == {"Other"}
    top = result.suggestions[0]
    assert top.top_terms[0] == "opalchart"
    assert top.tickets == 40
    assert top.filed_under == "Other"
    # The password resets filed under "Other" are a category the taxonomy names: no theme.
    assert not any(s.top_terms[0] == "password" for s in result.suggestions)


def test_themes_looked_for_ahead_are_the_ones_categorising_finds(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looked for while the minutes were summed (they were 0 then), the themes get the minutes
    of the tickets categorised, and are not looked for again."""
    week = opalchart_week()
    expected = categorize(week, taxonomy, recategorize=False).suggestions
    ahead = ThemesAhead(week.with_columns(pl.lit(0.0).alias("minutes")), pl.lit(True), taxonomy)
    ahead.found.result()
    monkeypatch.setattr(categories, "_unnamed_themes", lambda *_: pytest.fail("looked again"))
    result = categorize(week, taxonomy, recategorize=False, ahead=ahead)
    assert result.suggestions == expected
    assert result.suggestions[0].minutes == 40 * 180.0


def test_themes_looked_for_among_other_tickets_are_looked_for_again(taxonomy: Taxonomy) -> None:
    """Ahead of the window's tickets, the themes were looked for among the first days' only."""
    week = opalchart_week()
    expected = categorize(week, taxonomy, recategorize=False).suggestions
    early_days = pl.col("opened_at") < datetime(2026, 11, 4, tzinfo=UTC)
    ahead = ThemesAhead(week, early_days, taxonomy)
    result = categorize(week, taxonomy, recategorize=False, ahead=ahead)
    assert ahead.found.result()[0].len() < 40
    assert result.suggestions == expected
    assert result.suggestions[0].tickets == 40


def test_category_names_worked_out_ahead_are_used_for_the_same_tickets_only(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The names of the PSA's categories and the vague tickets, worked out ahead from every
    ticket, serve when the window left every ticket in; otherwise they are worked out again
    (a category's most frequent spelling may differ within the window)."""
    week = opalchart_week()
    window = week.filter(pl.col("opened_at") < datetime(2026, 11, 4, tzinfo=UTC))
    expected = [categorize(frame, taxonomy, recategorize=False) for frame in (week, window)]
    worked_out = []
    monkeypatch.setattr(
        categories, "_psa_labels", lambda *args: worked_out.append(1) or _psa_labels(*args)
    )
    ahead = ThemesAhead(week, pl.lit(True), taxonomy)
    ahead.found.result()
    assert len(worked_out) == 1
    for frame, alone in zip((week, window), expected, strict=True):
        result = categorize(frame, taxonomy, recategorize=False, ahead=ahead)
        assert result.tickets.equals(alone.tickets)
        assert (result.summary, result.suggestions) == (alone.summary, alone.suggestions)
        assert len(worked_out) == (1 if frame is week else 2)  # again for the window only


def test_the_tickets_are_categorised_while_the_themes_are_still_looked_for(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ranking needs the categories, not the themes: categorize hands the tickets back
    at once, and the suggestions wait for the themes' thread when first asked for."""
    week = opalchart_week()
    expected = categorize(week, taxonomy, recategorize=False).suggestions
    go_on = threading.Event()
    look = categories._unnamed_themes

    def slow(*args: Any) -> list[Suggestion]:
        go_on.wait(timeout=10)
        return look(*args)

    monkeypatch.setattr(categories, "_unnamed_themes", slow)
    ahead = ThemesAhead(week, pl.lit(True), taxonomy)
    threading.Timer(5, go_on.set).start()  # if categorize waited, it would be let go here
    result = categorize(week, taxonomy, recategorize=False, ahead=ahead)
    assert not go_on.is_set()
    assert set(result.tickets.get_column("category")) == {"Other", "Printer"}
    go_on.set()
    assert result.suggestions == expected


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
    result = categorize(tickets(labelled + other + unlabelled), taxonomy, recategorize=True)
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
    result = categorize(tickets(rows), taxonomy, recategorize=True)
    opalchart = result.tickets.head(40)
    assert set(opalchart.get_column("category")) == {"Other"}
    top = result.suggestions[0]
    assert top.top_terms[0] == "opalchart"
    assert top.tickets == 40
    assert top.minutes == 40 * 180.0
