"""A finished analysis's report as the analysis page writes it: the figures of the ``Report``
in words and formatted numbers, for ``_analysis_report.html.j2``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deskhand.history import html as formats
from deskhand.history.report import (
    NO_CATEGORY,
    CategoryRow,
    Report,
    format_share,
    specialist_words,
)
from deskhand.history.taxonomy import label_key

MERGES_SHOWN = 20  # merges --recategorize made, largest first; the full report and JSON have all
# The analysis's note that names the column and unit each time file's minutes were read in.
TIME_READ = "Time was read from "
# Its note that says where the minutes come from: the page says so above the findings already.
MINUTES_ARE = "Minutes are "


def page_report(report: Report) -> dict[str, Any]:
    """The report's figures as the page writes them."""
    rows = sorted(report.categories, key=lambda r: r.rank_by_minutes)
    automation = {row.category: row for row in report.automation.rows}
    logged = report.totals.minutes_source == "logged"
    return {
        "headlines": report.headlines(),
        "window": f"{formats.day(report.window.start)} – {formats.day(report.window.end)}",
        "days": report.window.days,
        "tickets": formats.count(report.totals.tickets),
        "hours": formats.hours(report.totals.minutes),
        "categories": len(rows),
        "format": report.format,
        "is_proxy": not logged,
        "source_words": report.minutes_source_words,
        "measure": report.measure,
        "rows": [
            {
                "rank": row.rank_by_minutes,
                "category": row.category,
                "taxonomy": _taxonomy_beside(row),
                "zero_minute": formats.count(row.zero_minute_tickets)
                if row.zero_minute_tickets
                else None,
                "tickets": formats.count(row.tickets),
                "hours": formats.hours(row.minutes),
                "share": format_share(row.share_of_minutes),
                "share_value": round(row.share_of_minutes, 4),
                "median": formats.minutes(row.median_minutes),
                "p90": formats.minutes(row.p90_minutes),
                "rank_by_count": row.rank_by_count,
                "shift": formats.rank_shift(row.rank_shift),
                "shift_class": "up" if row.rank_shift > 0 else "down" if row.rank_shift < 0 else "",
                "origins": formats.origins(row.categorized_by),
                "proxy": row.minutes_source != "logged"
                and report.totals.minutes_source == "logged",
                "per_month": _per_month(automation.get(row.category), report.automation.currency),
                "specialist": specialist_words(row.specialist),
                "covered": row.specialist is not None,
            }
            for row in rows
        ],
        # None for an analysis saved before reports said what the specialists cover.
        "coverage": format_share(report.coverage.share) if report.coverage else None,
        "automation": report.automation,
        "rate": (
            formats.money(report.automation.rate, report.automation.currency)
            if report.automation.rate is not None
            else None
        ),
        "suggestions": [
            {
                "label": s.label,
                "terms": s.top_terms,
                "tickets": formats.count(s.tickets),
                "hours": formats.hours(s.minutes),
                "filed_under": s.filed_under or "Other",
                "examples": s.examples,
            }
            for s in report.suggested_categories
        ],
        "categorization": report.categorization.reason,
        "recategorized": report.categorization.recategorized,
        "merged": [
            {
                "psa_category": m.psa_category if m.psa_category is not None else NO_CATEGORY,
                "category": m.category,
                "tickets": formats.count(m.tickets),
            }
            for m in report.categorization.merged[:MERGES_SHOWN]
        ],
        "merged_more": max(len(report.categorization.merged) - MERGES_SHOWN, 0),
        "zero_minute": _zero_minute(report),
        "quality": report.data_quality,
        "inputs": [
            {
                "path": Path(f.path).name,
                "kind": f.kind,
                "rows": formats.count(f.rows),
                "format": f.format,
                "encoding": f.encoding,
                "delimiter": formats.delimiter(f.delimiter) if f.delimiter is not None else None,
            }
            for f in report.inputs
        ],
        "dates": report.dates,
        "time_read": [note for note in report.notes if note.startswith(TIME_READ)],
        "notes": [note for note in report.notes if not note.startswith((TIME_READ, MINUTES_ARE))],
    }


def _taxonomy_beside(row: CategoryRow) -> str | None:
    """The taxonomy's name for the category, where it maps one under another name."""
    beside = row.taxonomy_category
    if beside is None or label_key(beside) == label_key(row.category):
        return None
    return beside


def _zero_minute(report: Report) -> dict[str, Any] | None:
    """The tickets closed with no logged time; None when there are none (or no logged time)."""
    found = report.zero_minute_tickets
    if found is None or not found.count:
        return None
    return {
        "count": formats.count(found.count),
        "ticket_ids": found.ticket_ids,
        "all_listed": len(found.ticket_ids) >= found.count,
    }


def _per_month(row: Any, currency: str) -> str:
    if row is None:
        return ""
    hours = f"{formats.decimal(row.hours_per_month)} h"
    if row.cost_per_month is None:
        return hours
    return f"{hours} · {formats.money(row.cost_per_month, currency)}"
