"""The self-contained HTML report of ``deskhand analyze``: one file, inline CSS and SVG, offline.

Ticket subjects, category names and customer names are hostile user input, so the template is
rendered with autoescaping on; only the chart SVGs, which escape their own labels, are marked safe.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from deskhand.history.charts import (
    minutes_vs_count_svg,
    pareto_svg,
    share_of_tickets,
    weekly_trend_svg,
)
from deskhand.history.report import (
    MINUTES_SOURCE_WORDS,
    Report,
    format_share,
    ordinal,
    specialist_words,
)

PROXY_SOURCES = frozenset({"elapsed", "business_hours"})


def render_html(report: Report) -> str:
    """Render ``report`` as one HTML document that needs no network to display or print."""
    template = _environment().get_template("report.html.j2")
    rows = sorted(report.categories, key=lambda r: r.rank_by_minutes)
    hours_of = report.measure[0].upper() + report.measure[1:]
    return template.render(
        report=report,
        rows=rows,
        rows_by_category={row.category: row for row in rows},
        ticket_share=share_of_tickets(rows),
        findings=report.headlines(),
        is_proxy=report.totals.minutes_source in PROXY_SOURCES,
        proxy_sources=PROXY_SOURCES,
        source_words=MINUTES_SOURCE_WORDS,
        pareto=Markup(
            pareto_svg(
                [(row.category, row.minutes) for row in rows],
                "Technician hours" if report.totals.minutes_source == "logged" else hours_of,
            )
        ),
        minutes_vs_count=Markup(minutes_vs_count_svg(rows, report.measure)),
        weekly=Markup(weekly_trend_svg(report.weekly) if report.weekly is not None else ""),
    )


def hours(minutes: float) -> str:
    """Minutes as hours with one decimal and thousands separators: 75_000 -> "1,250.0"."""
    return f"{minutes / 60.0:,.1f}"


def decimal(value: float) -> str:
    """A value already in hours, written like :func:`hours`."""
    return f"{value:,.1f}"


def count(value: int) -> str:
    """A whole number with thousands separators."""
    return f"{value:,}"


def minutes(value: float) -> str:
    """Minutes per ticket: whole minutes, with one decimal below ten where rounding misleads."""
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def money(amount: float, currency: str) -> str:
    """An amount in ``currency``: a code follows it ("1,250 EUR"), a symbol leads ("$1,250")."""
    figure = f"{amount:,.0f}"
    return f"{figure} {currency}" if currency.isalpha() else f"{currency}{figure}"


def rank_shift(shift: int) -> str:
    """Places moved when ranking by minutes instead of count, as an arrow and a number."""
    if shift > 0:
        return f"▲ {shift}"
    if shift < 0:
        return f"▼ {-shift}"
    return "="


def origins(categorized_by: Mapping[str, int]) -> str:
    """Where a category's tickets got it from, e.g. "psa 120 · taxonomy 30"; zeros left out."""
    return " · ".join(f"{source} {n:,}" for source, n in categorized_by.items() if n)


def sentence(text: str) -> str:
    """``text`` ending in a full stop, for strings that may or may not carry one."""
    stripped = text.rstrip()
    return stripped if stripped.endswith((".", "!", "?")) else f"{stripped}."


def day(value: date) -> str:
    """A calendar day as "6 Jan 2025", unambiguous in every locale."""
    return f"{value.day} {value:%b %Y}"


def timestamp(value: datetime) -> str:
    """A moment to the minute, with its time zone when known."""
    return f"{value:%Y-%m-%d %H:%M} {value.tzname() or ''}".rstrip()


def delimiter(value: str | None) -> str:
    """A CSV delimiter in words, since a bare comma or tab is invisible in a sentence."""
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    if value is None:
        return "none"
    return names.get(value, f"'{value}'")


@functools.cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("deskhand.history", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        hours=hours,
        decimal=decimal,
        count=count,
        minutes=minutes,
        share=format_share,
        money=money,
        ordinal=ordinal,
        rank_shift=rank_shift,
        origins=origins,
        sentence=sentence,
        day=day,
        timestamp=timestamp,
        delimiter=delimiter,
        specialist=specialist_words,
    )
    return environment
