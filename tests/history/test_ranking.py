"""Ranking by minutes, and why ranking by count would mislead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from deskhand.history.ranking import (
    DAYS_PER_MONTH,
    automation_value,
    category_details,
    rank_categories,
    weekly_trend,
)
from deskhand.history.report import Window

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def frame() -> pl.DataFrame:
    # Ten cheap password resets, three expensive onboardings, one odd ticket.
    rows = [("pw", "Password reset", 5.0, 0) for _ in range(10)]
    rows += [("on", "New user onboarding", m, 7) for m in (60.0, 120.0, 240.0)]
    rows += [("x", "Other", 30.0, 14)]
    return pl.DataFrame(
        {
            "ticket_id": [f"{p}{i}" for i, (p, *_rest) in enumerate(rows)],
            "category": [r[1] for r in rows],
            "categorized_by": ["psa"] * 12 + ["taxonomy", "taxonomy"],
            "minutes": [r[2] for r in rows],
            "opened_at": [START + timedelta(days=r[3]) for r in rows],
            "subject": [f"subject {i}" for i in range(len(rows))],
            "customer": ["Acme"] * 7 + ["Beta"] * 7,
            "reopens": [None] * 10 + [0, 1, 0, None],
        },
        schema_overrides={"reopens": pl.Int32},
    )


def test_ranked_by_minutes_with_count_rank_beside_it() -> None:
    rows = rank_categories(frame(), "logged")
    assert [r.category for r in rows] == ["New user onboarding", "Password reset", "Other"]
    onboarding, password, other = rows
    assert (onboarding.rank_by_minutes, onboarding.rank_by_count, onboarding.rank_shift) == (
        1,
        2,
        1,
    )
    assert (password.rank_by_minutes, password.rank_by_count, password.rank_shift) == (2, 1, -1)
    assert onboarding.minutes == 420.0
    assert onboarding.share_of_minutes == round(420 / 500, 6)
    assert onboarding.median_minutes == 120.0
    assert onboarding.p90_minutes == 216.0  # linear between 120 and 240
    assert onboarding.categorized_by == {"psa": 2, "taxonomy": 1}
    assert other.categorized_by == {"taxonomy": 1}
    assert sum(r.share_of_minutes for r in rows) == 1.0


def test_weekly_trend_puts_minutes_in_the_week_each_ticket_was_opened() -> None:
    window = Window(start=START, end=START + timedelta(days=20), days=20)
    trend = weekly_trend(frame(), ["New user onboarding", "Password reset"], window, "UTC")
    assert trend.weeks[0] == START.date()
    assert len(trend.weeks) == 3
    assert trend.minutes["Password reset"] == [50.0, 0.0, 0.0]
    assert trend.minutes["New user onboarding"] == [0.0, 420.0, 0.0]


def test_details_list_costly_examples_techs_and_reopen_rate() -> None:
    data = frame()
    techs = pl.DataFrame(
        {
            "category": ["New user onboarding"] * 3,
            "tech": ["Dana", "Lee", "Dana"],
            "minutes": [100.0, 20.0, 120.0],
        }
    )
    detail = category_details(data, techs, ["New user onboarding", "Password reset"])
    onboarding, password = detail
    assert [e.minutes for e in onboarding.examples] == [240.0, 120.0, 60.0]
    assert onboarding.techs == [("Dana", 220.0), ("Lee", 20.0)]
    assert onboarding.reopen_rate == 1 / 3
    assert password.reopen_rate is None  # not in this export


def test_automation_value_scales_to_a_month_and_prices_it() -> None:
    rows = rank_categories(frame(), "logged")
    value = automation_value(rows, 90, 60.0, "EUR")
    months = 90 / DAYS_PER_MONTH
    assert value.rows[0].hours_per_month == round(7 / months, 2)
    assert value.rows[0].cost_per_month == round(7 / months * 60, 2)
    assert "ceiling" in value.assumption
    assert automation_value(rows, 90, None, "EUR").rows[0].cost_per_month is None
