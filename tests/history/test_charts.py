"""The report's SVG charts: well-formed, labelled, escaped, and sensible at the edges."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from deskhand.history.charts import (
    PALETTE,
    minutes_vs_count_svg,
    pareto_svg,
    share_of_tickets,
    weekly_trend_svg,
)
from deskhand.history.report import CategoryRow, WeeklyTrend, format_share

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "Printer <script>alert('x')</script> & \"scan\""
LONG_NAME = "Line-of-business app: Dentrix practice management suite and imaging bridge"
WEEKS = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(13)]


def category_rows(spec: list[tuple[str, int, float]]) -> list[CategoryRow]:
    """Rows with ranks and shares worked out from (category, tickets, minutes), built by hand."""
    total = sum(m for _, _, m in spec)
    by_minutes = [name for name, _, _ in sorted(spec, key=lambda c: -c[2])]
    by_count = [name for name, _, _ in sorted(spec, key=lambda c: -c[1])]
    return [
        CategoryRow(
            category=name,
            tickets=tickets,
            minutes=minutes,
            share_of_minutes=minutes / total if total else 0.0,
            median_minutes=minutes / tickets if tickets else 0.0,
            p90_minutes=2 * minutes / tickets if tickets else 0.0,
            rank_by_minutes=by_minutes.index(name) + 1,
            rank_by_count=by_count.index(name) + 1,
            minutes_source="logged",
            categorized_by={"psa": tickets},
        )
        for name, tickets, minutes in spec
    ]


# A realistic quarter: Password reset is the most frequent (412 tickets) and 7th by minutes.
SPEC: list[tuple[str, int, float]] = [
    ("Onboarding & offboarding", 96, 9600),
    ("Printer / scanner", 150, 7200),
    ("Email & Outlook", 300, 6900),
    ("Network / VPN", 120, 6600),
    ("Backup failures", 40, 6000),
    (LONG_NAME, 70, 5400),
    ("Password reset", 412, 4900),
    ("Hardware", 90, 4000),
    ("New device setup", 50, 3800),
    ("MFA / Authenticator", 180, 3500),
    ("Software install", 110, 3000),
    ("Security alert", 30, 2500),
    ("Teams / SharePoint", 60, 2000),
    ("Phone system", 25, 1500),
    ("File permissions", 45, 1400),
    ("Licensing", 20, 900),
    ("Other", 35, 800),
]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def titles(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}title")]


def drawn_lines(root: ET.Element) -> list[ET.Element]:
    """Polylines with more than two points: data lines, not legend samples."""
    return [p for p in root.iter(f"{SVG}polyline") if len(p.get("points", "").split()) > 2]


def weekly(series: dict[str, list[float]], weeks: list[date] = WEEKS) -> WeeklyTrend:
    return WeeklyTrend(weeks=weeks, minutes=series)


EDGE_CASES: dict[str, str] = {
    "pareto": pareto_svg([(n, m) for n, _, m in SPEC]),
    "pareto empty": pareto_svg([]),
    "pareto one category": pareto_svg([("Password reset", 125.0)]),
    "pareto all zero": pareto_svg([("A", 0.0), ("B", 0.0)]),
    "pareto long name": pareto_svg([(LONG_NAME * 3, 600.0), ("Hardware", 60.0)]),
    "pareto hostile": pareto_svg([(HOSTILE, 60.0), ("bell\x07 and nul\x00", 30.0)]),
    "pareto not a number": pareto_svg([("A", math.nan), ("B", math.inf), ("C", -5.0)]),
    "minutes vs count": minutes_vs_count_svg(category_rows(SPEC)),
    "minutes vs count empty": minutes_vs_count_svg([]),
    "minutes vs count one": minutes_vs_count_svg(category_rows([("Only", 3, 90.0)])),
    "minutes vs count all zero": minutes_vs_count_svg(
        category_rows([("A", 0, 0.0), ("B", 0, 0.0)])
    ),
    "minutes vs count hostile": minutes_vs_count_svg(
        category_rows([(HOSTILE, 3, 90.0), (LONG_NAME, 1, 10.0)])
    ),
    "weekly": weekly_trend_svg(weekly({n: [m / 13] * 13 for n, _, m in SPEC[:5]})),
    "weekly no weeks": weekly_trend_svg(weekly({}, weeks=[])),
    "weekly one week": weekly_trend_svg(weekly({"A": [60.0]}, weeks=WEEKS[:1])),
    "weekly all zero": weekly_trend_svg(weekly({"A": [0.0] * 13, "B": [0.0] * 13})),
    "weekly short series": weekly_trend_svg(weekly({"A": [60.0, 120.0]})),
    "weekly hostile": weekly_trend_svg(weekly({HOSTILE: [30.0] * 13, LONG_NAME: [10.0] * 13})),
}


@pytest.mark.parametrize("case", EDGE_CASES)
def test_every_chart_is_well_formed_and_labelled_for_screen_readers(case: str) -> None:
    root = parse(EDGE_CASES[case])
    assert root.get("role") == "img"
    assert root.get("aria-label")
    first = root[0]
    assert first.tag == f"{SVG}title"
    assert first.text == root.get("aria-label")
    assert root.get("viewBox")


def test_pareto_puts_the_largest_first_and_folds_the_rest_into_all_others() -> None:
    spec = [(f"Category {i:02d}", float(i * 60)) for i in range(1, 21)]
    root = parse(pareto_svg(spec))
    bar_titles = [t for t in titles(root) if ": " in t and " hours" in t]
    assert len(bar_titles) == 15
    assert bar_titles[0].startswith("Category 20: 20.0 hours")
    assert bar_titles[13].startswith("Category 07: 7.0 hours")
    assert bar_titles[14].startswith("All others (6): 21.0 hours")
    assert bar_titles[14].endswith("cumulative 100%")


def test_pareto_draws_the_cumulative_line_against_a_percent_axis() -> None:
    root = parse(pareto_svg([(n, m) for n, _, m in SPEC]))
    assert len(drawn_lines(root)) == 1
    assert {"0%", "20%", "80%", "100%"} <= set(texts(root))
    assert "Onboarding & offboarding: 160.0 hours (14% of minutes), cumulative 14%" in titles(root)


def test_pareto_with_no_minutes_says_so_and_draws_no_cumulative_line() -> None:
    root = parse(pareto_svg([("A", 0.0), ("B", 0.0)]))
    assert "No minutes recorded." in texts(root)
    assert drawn_lines(root) == []
    assert "100%" not in texts(root)


def test_pareto_with_one_category_reaches_100_percent_in_one_bar() -> None:
    root = parse(pareto_svg([("Password reset", 125.0)]))
    assert "Password reset: 2.1 hours (100% of minutes), cumulative 100%" in titles(root)


def test_long_names_are_truncated_with_an_ellipsis_and_kept_whole_in_the_title() -> None:
    for svg in (
        pareto_svg([(LONG_NAME, 600.0)]),
        minutes_vs_count_svg(category_rows([(LONG_NAME, 3, 60.0)])),
        weekly_trend_svg(weekly({LONG_NAME: [60.0] * 13})),
    ):
        root = parse(svg)
        assert LONG_NAME not in texts(root)
        assert any(t.endswith("…") and LONG_NAME.startswith(t[:-1]) for t in texts(root))
        assert any(LONG_NAME in t for t in titles(root))


def test_hostile_labels_are_escaped_and_read_back_unchanged() -> None:
    for svg in (
        EDGE_CASES["pareto hostile"],
        EDGE_CASES["minutes vs count hostile"],
        EDGE_CASES["weekly hostile"],
    ):
        assert "<script>" not in svg
        root = parse(svg)
        assert list(root.iter(f"{SVG}script")) == []
        assert any(HOSTILE[:20] in t for t in texts(root))
        assert any(HOSTILE in t for t in titles(root))


def test_control_characters_that_xml_cannot_hold_are_dropped() -> None:
    root = parse(EDGE_CASES["pareto hostile"])
    assert any(t.startswith("bell and nul: ") for t in titles(root))


def test_minutes_vs_count_always_shows_the_most_frequent_category() -> None:
    # Twenty categories: the most frequent one is the cheapest, far outside the top twelve.
    spec = [(f"Category {i:02d}", 10, float(1000 - i * 10)) for i in range(19)]
    spec.append(("Password reset", 500, 50.0))
    root = parse(minutes_vs_count_svg(category_rows(spec)))
    labels = texts(root)
    assert "Password reset" in labels
    assert "#20 by minutes · #1 by count" in labels
    assert "Category 11" in labels
    assert "Category 12" not in labels


def test_minutes_vs_count_pairs_share_of_tickets_with_share_of_minutes() -> None:
    root = parse(minutes_vs_count_svg(category_rows(SPEC)))
    expected = "Password reset: 22% of tickets (#1 by count), 7.0% of minutes (#7 by minutes)"
    assert expected in titles(root)
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("fill") in {PALETTE[0], PALETTE[4]}]
    # Twelve categories by minutes (the three most frequent are among them), two bars each,
    # plus the two legend swatches.
    assert len(bars) == 12 * 2 + 2


def test_weekly_trend_draws_one_line_per_category_with_a_legend() -> None:
    series = {n: [m / 13 * (1 + (i % 3) / 10) for i in range(13)] for n, _, m in SPEC[:5]}
    root = parse(weekly_trend_svg(weekly(series)))
    lines = drawn_lines(root)
    assert len(lines) == 5
    assert len({line.get("stroke") for line in lines}) == 5
    assert len({line.get("stroke-dasharray", "") for line in lines}) == 5
    assert {n for n, _, _ in SPEC[:5]} <= set(texts(root))
    assert {"6 Jan", "31 Mar"} <= set(texts(root))


def test_weekly_trend_with_one_week_draws_points_not_lines() -> None:
    root = parse(EDGE_CASES["weekly one week"])
    assert drawn_lines(root) == []
    assert list(root.iter(f"{SVG}circle"))


def test_weekly_trend_keeps_the_biggest_categories_when_there_are_too_many_to_tell_apart() -> None:
    series = {f"Category {i:02d}": [float(i)] * 13 for i in range(1, 11)}
    root = parse(weekly_trend_svg(weekly(series)))
    assert len(drawn_lines(root)) == len(PALETTE)
    assert "Category 10" in texts(root)
    assert "Category 01" not in texts(root)


def test_empty_charts_say_there_is_nothing_to_show() -> None:
    assert "No categories to show." in texts(parse(EDGE_CASES["pareto empty"]))
    assert "No categories to show." in texts(parse(EDGE_CASES["minutes vs count empty"]))
    assert "No weekly figures to show." in texts(parse(EDGE_CASES["weekly no weeks"]))


@pytest.mark.parametrize(
    ("share", "words"), [(0.18, "18%"), (0.045, "4.5%"), (0.0, "0%"), (1.0, "100%")]
)
def test_format_share(share: float, words: str) -> None:
    assert format_share(share) == words


def test_share_of_tickets_is_relative_to_all_rows() -> None:
    shares = share_of_tickets(category_rows([("A", 3, 10.0), ("B", 1, 10.0)]))
    assert shares == {"A": 0.75, "B": 0.25}
    assert share_of_tickets(category_rows([("A", 0, 0.0)])) == {"A": 0.0}
