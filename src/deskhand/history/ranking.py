"""Ranking categories by technician minutes, and the figures the report shows beside it.

Pure: frames in, report models out. The input is one row per ticket in the window with at least
``ticket_id, category, categorized_by, minutes, opened_at`` (and ``subject, customer, reopens``
for the details).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

import polars as pl

from deskhand.history.report import (
    MEASURE_WORDS,
    Automation,
    AutomationRow,
    CategorizedBy,
    CategoryDetail,
    CategoryRow,
    MinutesSource,
    TicketExample,
    WeeklyTrend,
    Window,
)

DAYS_PER_MONTH = 365.25 / 12
AUTOMATION_ASSUMPTION = (
    "Hours per month are this category's {measure} in the window, scaled to an "
    "average month. The cost is those hours at the technician cost you gave (--rate). It is the "
    "ceiling of what automating the category could save — if no ticket in it needed a "
    "technician any more; real automation removes part of it."
)


def rank_categories(tickets: pl.DataFrame, minutes_source: MinutesSource) -> list[CategoryRow]:
    """One row per category, ranked by total minutes, with the rank by ticket count beside it.

    A ticket marked ``no_time`` (closed with no logged time) counts as a ticket but stays out of
    the median and P90: its zero says nothing about what such a ticket costs.
    """
    total = float(tickets.get_column("minutes").sum())
    no_time = pl.col("no_time") if "no_time" in tickets.columns else pl.lit(False)
    timed = pl.col("minutes").filter(~no_time)
    beside = (
        pl.col("taxonomy_category").first()
        if "taxonomy_category" in tickets.columns
        else pl.lit(None, pl.String)
    )
    # How each category's tickets were categorised, counted in the same pass, by name order.
    methods = sorted(get_args(CategorizedBy))
    stats = tickets.group_by("category").agg(
        pl.len().alias("tickets"),
        pl.col("minutes").sum().alias("minutes"),
        timed.median().fill_null(0.0).alias("median_minutes"),
        timed.quantile(0.9, "linear").fill_null(0.0).alias("p90_minutes"),
        no_time.sum().alias("zero_minute_tickets"),
        beside.alias("taxonomy_category"),
        *((pl.col("categorized_by") == method).sum().alias(method) for method in methods),
    )
    by_count = stats.sort(["tickets", "minutes", "category"], descending=[True, True, False])
    count_rank = {name: i + 1 for i, name in enumerate(by_count.get_column("category"))}
    by_minutes = stats.sort(["minutes", "tickets", "category"], descending=[True, True, False])
    method_counts = {
        row["category"]: {method: row[method] for method in methods if row[method]}
        for row in stats.iter_rows(named=True)
    }
    return [
        CategoryRow(
            category=row["category"],
            tickets=row["tickets"],
            minutes=round(row["minutes"], 2),
            share_of_minutes=round(row["minutes"] / total, 6) if total else 0.0,
            median_minutes=round(row["median_minutes"], 2),
            p90_minutes=round(row["p90_minutes"], 2),
            rank_by_minutes=rank,
            rank_by_count=count_rank[row["category"]],
            minutes_source=minutes_source,
            categorized_by=method_counts[row["category"]],
            taxonomy_category=row["taxonomy_category"],
            zero_minute_tickets=row["zero_minute_tickets"],
        )
        for rank, row in enumerate(by_minutes.iter_rows(named=True), start=1)
    ]


def weekly_trend(
    tickets: pl.DataFrame, categories: list[str], window: Window, tz: str
) -> WeeklyTrend:
    """Minutes per ISO week (by the week each ticket was opened) for ``categories``."""
    first = _monday(window.start.astimezone(ZoneInfo(tz)).date())
    last = _monday(window.end.astimezone(ZoneInfo(tz)).date())
    weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    weekly = (
        tickets.filter(pl.col("category").is_in(categories))
        .with_columns(
            pl.col("opened_at").dt.convert_time_zone(tz).dt.date().dt.truncate("1w").alias("week")
        )
        .group_by("category", "week")
        .agg(pl.col("minutes").sum())
    )
    lookup = {(row[0], row[1]): row[2] for row in weekly.iter_rows()}
    return WeeklyTrend(
        weeks=weeks,
        minutes={c: [round(lookup.get((c, w), 0.0), 2) for w in weeks] for c in categories},
    )


def category_details(
    tickets: pl.DataFrame, tech_minutes: pl.DataFrame, categories: list[str], examples: int = 5
) -> list[CategoryDetail]:
    """Examples, techs, customers and reopen rate for each of ``categories``.

    ``tech_minutes`` has ``category, tech, minutes``: who spent the time on the category's
    tickets.
    """
    details = []
    for category in categories:
        rows = tickets.filter(pl.col("category") == category)
        costly = rows.sort("minutes", descending=True).head(examples)
        techs = (
            tech_minutes.filter((pl.col("category") == category) & pl.col("tech").is_not_null())
            .group_by("tech")
            .agg(pl.col("minutes").sum())
            .filter(pl.col("minutes") > 0)  # a tech whose only entry was reversed
            .sort(["minutes", "tech"], descending=[True, False])
            .head(8)
        )
        customers = (
            rows.filter(pl.col("customer").is_not_null())
            .group_by("customer")
            .agg(pl.col("minutes").sum())
            .sort(["minutes", "customer"], descending=[True, False])
            .head(8)
        )
        known_reopens = rows.get_column("reopens").drop_nulls()
        reopened = (known_reopens > 0).sum()
        reopen_rate = reopened / known_reopens.len() if known_reopens.len() else None
        details.append(
            CategoryDetail(
                category=category,
                examples=[
                    TicketExample(
                        ticket_id=row["ticket_id"],
                        subject=(row["subject"] or "(no subject)")[:200],
                        minutes=round(row["minutes"], 1),
                        customer=row["customer"],
                    )
                    for row in costly.iter_rows(named=True)
                ],
                techs=[(t, round(m, 1)) for t, m in techs.iter_rows()],
                customers=[(c, round(m, 1)) for c, m in customers.iter_rows()],
                reopen_rate=reopen_rate,
            )
        )
    return details


def automation_value(
    rows: list[CategoryRow], window_days: int, rate: float | None, currency: str
) -> Automation:
    """Hours per month, and their cost at ``rate``, for each category."""
    months = window_days / DAYS_PER_MONTH
    return Automation(
        rate=rate,
        currency=currency,
        assumption=AUTOMATION_ASSUMPTION.format(
            measure=MEASURE_WORDS[rows[0].minutes_source if rows else "logged"]
        ),
        rows=[
            AutomationRow(
                category=row.category,
                hours_per_month=round(row.hours / months, 2),
                cost_per_month=round(row.hours / months * rate, 2) if rate is not None else None,
            )
            for row in rows
        ],
    )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
