"""Inline SVG charts for the HTML report: plain strings, no JavaScript, no chart library.

Every label that comes from the data (category names are user data) is escaped and stripped of
characters XML cannot hold, so the SVG stays well-formed whatever the PSA export contains.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from html import escape

from deskhand.history.report import CategoryRow, WeeklyTrend, format_share

# Okabe–Ito: distinguishable with the common forms of colour blindness; yellow is left out
# because it is unreadable as a thin line on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 4", "1 3", "12 4")
TEXT = "#222222"
MUTED = "#595959"  # 7:1 on white, so small axis text stays readable
GRID = "#e3e3e3"
OTHERS_COLOR = "#8c8c8c"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"

PARETO_MAX_BARS = 15
COMPARE_TOP = 12
# The most frequent categories are always shown in the comparison: they are the ones a
# count-based ranking would have put first.
COMPARE_MOST_FREQUENT = 3

# XML 1.0 forbids most control characters even when escaped; a stray one in an export must not
# break the whole report.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def pareto_svg(categories: list[tuple[str, float]], what: str = "Technician hours") -> str:
    """Bars of hours per category, largest first, with the cumulative share of minutes as a line.

    ``categories`` is (name, minutes); beyond 15 categories the smallest are folded into one
    "all others" bar. ``what`` names what the hours are (a proxy says so).
    """
    title = f"{what} by category, with cumulative share of all minutes"
    width, height = 880, 470
    if not categories:
        return _empty_chart(title, width, "No categories to show.")
    ranked = sorted(((name, _amount(m)) for name, m in categories), key=lambda c: -c[1])
    total = sum(m for _, m in ranked)
    bars = _fold_smallest(ranked)

    left, right, top, bottom = 110, 64, 48, 150
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _nice_ticks(max(m for _, m, _ in bars) / 60.0)
    band = plot_w / len(bars)
    bar_w = min(band * 0.68, 56.0)  # a handful of categories should not become slabs
    centres = [left + band * (i + 0.5) for i in range(len(bars))]

    def y_hours(hours: float) -> float:
        return top + plot_h - hours / ticks[-1] * plot_h

    def y_share(share: float) -> float:
        return top + plot_h - share * plot_h

    parts = [_svg_open(width, height, title, _pareto_desc(ranked, total))]
    parts.append(_legend_pareto(left, 20, show_line=total > 0))
    for tick in ticks:
        y = y_hours(tick)
        parts.append(_line(left, y, left + plot_w, y, GRID))
        parts.append(_text(left - 8, y + 4, _number(tick), anchor="end", fill=MUTED))
    parts.append(_text(left - 50, top + plot_h / 2, "hours", anchor="middle", rotate=-90))

    cumulative = 0.0
    points: list[tuple[float, float]] = []
    for cx, (name, minutes, is_others) in zip(centres, bars, strict=True):
        cumulative += minutes
        tooltip = f"{name}: {_number(minutes / 60.0, 1)} hours"
        if total:
            tooltip += (
                f" ({format_share(minutes / total)} of minutes), "
                f"cumulative {format_share(cumulative / total)}"
            )
            points.append((cx, y_share(cumulative / total)))
        bar_top = y_hours(minutes / 60.0)
        color = OTHERS_COLOR if is_others else PALETTE[0]
        parts.append(f"<g><title>{_esc(tooltip)}</title>")
        parts.append(
            f'<rect x="{cx - bar_w / 2:.1f}" y="{bar_top:.1f}" width="{bar_w:.1f}" '
            f'height="{top + plot_h - bar_top:.1f}" fill="{color}"/>'
        )
        parts.append(
            _text(cx + 4, top + plot_h + 16, _truncate(name, 24), anchor="end", rotate=-40)
        )
        parts.append("</g>")

    parts.append(_line(left, top + plot_h, left + plot_w, top + plot_h, MUTED))
    if total:
        axis_x = left + plot_w
        parts.append(_line(axis_x, top, axis_x, top + plot_h, MUTED))
        for pct in (0, 20, 40, 60, 80, 100):
            y = y_share(pct / 100)
            parts.append(_line(axis_x, y, axis_x + 5, y, MUTED))
            parts.append(_text(axis_x + 8, y + 4, f"{pct}%", fill=MUTED))
        parts.append(_polyline(points, PALETTE[1], width=2.5))
        parts.extend(_marker(x, y, PALETTE[1], "circle") for x, y in points)
    else:
        parts.append(
            _text(left + plot_w / 2, top + plot_h / 2, "No minutes recorded.", anchor="middle")
        )
    # Value labels go last so their halo keeps them readable where the cumulative line crosses.
    for cx, (_, minutes, _) in zip(centres, bars, strict=True):
        if minutes > 0:
            hours = minutes / 60.0
            parts.append(_text(cx, y_hours(hours) - 5, _number(hours), anchor="middle"))
    parts.append("</svg>")
    return "".join(parts)


def share_of_tickets(rows: Sequence[CategoryRow]) -> dict[str, float]:
    """Each category's share of all tickets in ``rows`` (0–1), so the report and chart agree."""
    total = sum(row.tickets for row in rows)
    return {row.category: (row.tickets / total if total else 0.0) for row in rows}


def minutes_vs_count_svg(rows: list[CategoryRow], measure: str = "technician minutes") -> str:
    """Paired bars, share of tickets against share of minutes, for the top categories by minutes.

    The most frequent categories are always included, because a count-based ranking would have
    put them first; rows are in order of minutes.
    """
    title = f"Share of tickets compared with share of {measure}, by category"
    width = 880
    if not rows:
        return _empty_chart(title, width, "No categories to show.")
    by_minutes = sorted(rows, key=lambda r: r.rank_by_minutes)
    by_count = sorted(rows, key=lambda r: r.rank_by_count)
    chosen = {r.category for r in by_minutes[:COMPARE_TOP]}
    chosen |= {r.category for r in by_count[:COMPARE_MOST_FREQUENT]}
    shown = [r for r in by_minutes if r.category in chosen]
    ticket_share = share_of_tickets(rows)

    left, right, top, row_h = 250, 70, 56, 44
    height = top + row_h * len(shown) + 16
    plot_w = width - left - right
    largest = max(max(ticket_share[r.category], _amount(r.share_of_minutes)) for r in shown)
    scale_max = max(largest, 0.01)

    desc = "; ".join(
        f"{r.category}: {format_share(ticket_share[r.category])} of tickets, "
        f"{format_share(_amount(r.share_of_minutes))} of minutes"
        for r in shown
    )
    parts = [_svg_open(width, height, title, desc)]
    parts.append(_swatch(left, 18, PALETTE[4], "share of tickets"))
    parts.append(_swatch(left + 170, 18, PALETTE[0], "share of minutes"))
    parts.append(_line(left, top - 8, left, height - 12, MUTED))
    for i, row in enumerate(shown):
        y = top + i * row_h
        tickets = ticket_share[row.category]
        minutes = _amount(row.share_of_minutes)
        parts.append(f"<g><title>{_esc(_compare_tooltip(row, tickets, minutes))}</title>")
        parts.append(_text(left - 10, y + 13, _truncate(row.category, 32), anchor="end"))
        ranks = f"#{row.rank_by_minutes} by minutes · #{row.rank_by_count} by count"
        parts.append(_text(left - 10, y + 29, ranks, anchor="end", fill=MUTED, size=11))
        for offset, share, color, word in (
            (2, tickets, PALETTE[4], "tickets"),
            (18, minutes, PALETTE[0], "minutes"),
        ):
            bar_w = share / scale_max * plot_w
            parts.append(
                f'<rect x="{left}" y="{y + offset:.1f}" width="{bar_w:.1f}" height="14" '
                f'fill="{color}"><title>{format_share(share)} of {word}</title></rect>'
            )
            parts.append(_text(left + bar_w + 6, y + offset + 11.5, format_share(share), size=11))
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def weekly_trend_svg(trend: WeeklyTrend) -> str:
    """One line of hours per week for each category in ``trend``, with a legend below."""
    title = "Technician hours per week for the top categories"
    width = 880
    series = sorted(
        ((name, [_amount(v) for v in values]) for name, values in trend.minutes.items()),
        key=lambda s: -sum(s[1]),
    )[: len(PALETTE)]
    weeks = trend.weeks
    if not weeks or not series:
        return _empty_chart(title, width, "No weekly figures to show.")

    left, right, top = 64, 40, 20
    plot_h = 240
    legend_cols = 3
    legend_rows = math.ceil(len(series) / legend_cols)
    legend_top = top + plot_h + 52
    height = legend_top + legend_rows * 24 + 8
    plot_w = width - left - right
    ticks = _nice_ticks(max(max(values, default=0.0) for _, values in series) / 60.0)
    y_max = ticks[-1]
    step = plot_w / (len(weeks) - 1) if len(weeks) > 1 else 0.0

    def x_at(i: int) -> float:
        return left + i * step if len(weeks) > 1 else left + plot_w / 2

    def y_at(hours: float) -> float:
        return top + plot_h - hours / y_max * plot_h

    desc = "; ".join(
        f"{name}: {_number(sum(values) / 60.0, 1)} hours over {len(weeks)} weeks"
        for name, values in series
    )
    parts = [_svg_open(width, height, title, desc)]
    for tick in ticks:
        y = y_at(tick)
        parts.append(_line(left, y, left + plot_w, y, GRID))
        parts.append(_text(left - 8, y + 4, _number(tick), anchor="end", fill=MUTED))
    parts.append(_text(left - 46, top + plot_h / 2, "hours", anchor="middle", rotate=-90))
    parts.append(_line(left, top + plot_h, left + plot_w, top + plot_h, MUTED))
    # About 14 labels fit across the plot; beyond that show every n-th week.
    label_every = max(1, math.ceil(len(weeks) / 14))
    for i, week in enumerate(weeks):
        if i % label_every == 0:
            parts.append(
                _text(x_at(i), top + plot_h + 18, _week_label(week), anchor="middle", fill=MUTED)
            )
    parts.append(
        _text(left + plot_w / 2, top + plot_h + 38, "week starting", anchor="middle", fill=MUTED)
    )

    shapes = ("circle", "square", "triangle", "diamond")
    for k, (name, values) in enumerate(series):
        color, dash, shape = PALETTE[k], DASHES[k], shapes[k % len(shapes)]
        points = [(x_at(i), y_at(v / 60.0)) for i, v in enumerate(values[: len(weeks)])]
        parts.append(f"<g><title>{_esc(name)}</title>")
        if len(points) > 1:
            parts.append(_polyline(points, color, width=2.5, dash=dash))
        parts.extend(_marker(x, y, color, shape) for x, y in points)
        parts.append("</g>")
        lx = left + (k % legend_cols) * (plot_w / legend_cols)
        ly = legend_top + (k // legend_cols) * 24
        parts.append(f"<g><title>{_esc(name)}</title>")
        parts.append(_polyline([(lx, ly), (lx + 34, ly)], color, width=2.5, dash=dash))
        parts.append(_marker(lx + 17, ly, color, shape))
        parts.append(_text(lx + 42, ly + 4, _truncate(name, 30)))
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(width: int, height: float, title: str, desc: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height:.0f}" '
        f'width="{width}" height="{height:.0f}" role="img" aria-label="{_esc(title)}" '
        f'font-family="{FONT}" font-size="12" fill="{TEXT}">'
        f"<title>{_esc(title)}</title><desc>{_esc(desc)}</desc>"
    )


def _empty_chart(title: str, width: int, message: str) -> str:
    return (
        _svg_open(width, 80, title, message)
        + _text(width / 2, 45, message, anchor="middle", fill=MUTED, size=14)
        + "</svg>"
    )


def _fold_smallest(ranked: list[tuple[str, float]]) -> list[tuple[str, float, bool]]:
    """(name, minutes, is_folded) bars: at most PARETO_MAX_BARS, the smallest as "All others"."""
    if len(ranked) <= PARETO_MAX_BARS:
        return [(name, minutes, False) for name, minutes in ranked]
    kept, folded = ranked[: PARETO_MAX_BARS - 1], ranked[PARETO_MAX_BARS - 1 :]
    bars = [(name, minutes, False) for name, minutes in kept]
    bars.append((f"All others ({len(folded)})", sum(m for _, m in folded), True))
    return bars


def _pareto_desc(ranked: list[tuple[str, float]], total: float) -> str:
    if not total:
        return f"{len(ranked)} categories, no minutes recorded."
    top = ranked[:3]
    share = sum(m for _, m in top) / total
    names = ", ".join(name for name, _ in top)
    return (
        f"The top {len(top)} of {len(ranked)} categories ({names}) take "
        f"{format_share(share)} of all minutes."
    )


def _compare_tooltip(row: CategoryRow, tickets: float, minutes: float) -> str:
    return (
        f"{row.category}: {format_share(tickets)} of tickets (#{row.rank_by_count} by count), "
        f"{format_share(minutes)} of minutes (#{row.rank_by_minutes} by minutes)"
    )


def _legend_pareto(x: float, y: float, show_line: bool) -> str:
    legend = _swatch(x, y, PALETTE[0], "hours per category")
    if show_line:
        legend += _polyline([(x + 160, y), (x + 188, y)], PALETTE[1], width=2.5)
        legend += _marker(x + 174, y, PALETTE[1], "circle")
        legend += _text(x + 196, y + 4, "cumulative share of all minutes (right axis)")
    return legend


def _swatch(x: float, y: float, color: str, label: str) -> str:
    return f'<rect x="{x:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="{color}"/>' + _text(
        x + 18, y + 4, label
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    fill: str = TEXT,
    size: int = 12,
    rotate: float | None = None,
) -> str:
    # Rotation is about the text's own anchor point, which is what axis labels want.
    transform = "" if rotate is None else f' transform="rotate({rotate} {x:.1f} {y:.1f})"'
    # The white halo keeps a label readable where a line or bar passes behind it.
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="{size}" paint-order="stroke" stroke="#ffffff" stroke-width="3" '
        f'stroke-linejoin="round"{transform}>{_esc(content)}</text>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, color: str) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
        f'stroke-width="1"/>'
    )


def _polyline(points: list[tuple[float, float]], color: str, width: float, dash: str = "") -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="{width}" '
        f'stroke-linejoin="round"{dash_attr}/>'
    )


def _marker(x: float, y: float, color: str, shape: str) -> str:
    # Shapes differ per series so the lines stay apart in grey-scale print, not by colour alone.
    outline = f'fill="{color}" stroke="#ffffff" stroke-width="1.5"'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" {outline}/>'
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} '
            f'{x - 5:.1f},{y + 4:.1f}" {outline}/>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 5.5:.1f} {x + 5.5:.1f},{y:.1f} '
            f'{x:.1f},{y + 5.5:.1f} {x - 5.5:.1f},{y:.1f}" {outline}/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" {outline}/>'


def _nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least ``maximum``; 0–1 when there is nothing to show."""
    if maximum <= 0:
        return [0.0, 0.5, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    steps = math.ceil(maximum / step - 1e-9)
    return [i * step for i in range(steps + 1)]


def _amount(value: float) -> float:
    # NaN, infinities or negatives from a damaged export would produce invalid coordinates.
    return value if math.isfinite(value) and value > 0 else 0.0


def _number(value: float, decimals: int = 0) -> str:
    if decimals == 0 and value != int(value):
        decimals = 1
    return f"{value:,.{decimals}f}"


def _week_label(week: date) -> str:
    return f"{week.day} {week:%b}"


def _truncate(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _esc(value: str) -> str:
    return escape(_NOT_XML.sub("", value), quote=True)
