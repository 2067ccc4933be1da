"""The analysis window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from deskhand.errors import InputError, UsageError
from deskhand.history.quality import Ledger
from deskhand.history.schema import TICKET_SCHEMA
from deskhand.history.window import apply_window, choose_window

NEWEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def opened(*days_before_newest: int | None) -> pl.Series:
    values = [None if d is None else NEWEST - timedelta(days=d) for d in days_before_newest]
    return pl.Series("opened_at", values, dtype=TICKET_SCHEMA["opened_at"])


def test_default_is_the_90_days_ending_at_the_newest_ticket() -> None:
    window = choose_window(opened(0, 10, 200))
    assert (window.start, window.end, window.days) == (NEWEST - timedelta(days=90), NEWEST, 90)


def test_days_since_and_until() -> None:
    assert choose_window(opened(0), days=30).start == NEWEST - timedelta(days=30)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    until = datetime(2026, 3, 1, tzinfo=UTC)
    assert choose_window(opened(0), since=since, until=until).days == 59
    assert choose_window(opened(0), since=since, days=10).end == since + timedelta(days=10)
    assert choose_window(opened(0), until=until).start == until - timedelta(days=90)


def test_contradicting_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--since comes after --until"):
        choose_window(opened(0), since=NEWEST, until=NEWEST - timedelta(days=1))
    for days in (0, 3661, 99_999_999_999):
        with pytest.raises(UsageError, match="from 1 to 3,660"):
            choose_window(opened(0), days=days)


def test_a_window_past_the_calendar_is_a_usage_error_not_an_overflow() -> None:
    with pytest.raises(UsageError, match="outside the calendar"):
        choose_window(opened(0), since=datetime(9999, 12, 1, tzinfo=UTC), days=3660)
    with pytest.raises(UsageError, match="outside the calendar"):
        choose_window(opened(0), until=datetime(1, 1, 2, tzinfo=UTC))


def test_no_dated_ticket_is_an_input_error() -> None:
    with pytest.raises(InputError, match="No ticket has a readable opened date"):
        choose_window(opened(None))


def test_tickets_outside_or_undated_are_counted() -> None:
    frame = pl.DataFrame(
        {
            "ticket_id": ["a", "b", "c"],
            "opened_at": opened(1, 120, None),
            "file": "t.csv",
            "row": [2, 3, 4],
        },
        schema_overrides={"row": pl.UInt32},
    )
    ledger = Ledger()
    kept = apply_window(frame, choose_window(frame.get_column("opened_at")), ledger)
    assert kept.get_column("ticket_id").to_list() == ["a"]
    assert ledger.counts == {"outside_window": 1, "missing_opened_at": 1}
    assert ledger.examples["outside_window"] == ["t.csv row 3"]


def test_an_empty_window_says_how_to_widen_it() -> None:
    frame = pl.DataFrame({"ticket_id": ["a"], "opened_at": opened(0), "file": "t", "row": [2]})
    window = choose_window(opened(0), until=NEWEST - timedelta(days=400))
    with pytest.raises(InputError, match="--days"):
        apply_window(frame, window, Ledger())
