"""The HTML report: complete, offline, escaped, and saying what the numbers say."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from importlib.resources import files
from typing import Any

import pytest

from deskhand.history.html import money, rank_shift, render_html
from deskhand.history.report import (
    Automation,
    AutomationRow,
    Categorization,
    CategoryDetail,
    CategoryRow,
    DateInfo,
    InputFile,
    MinutesSource,
    QualityIssue,
    Report,
    SuggestedCategory,
    TicketExample,
    Totals,
    WeeklyTrend,
    Window,
    ordinal,
)

HOSTILE_SUBJECT = "<script>alert(1)</script>"
HOSTILE_CUSTOMER = '"><img src=x onerror=alert(2)>'
PRINTER = 'Printer "Floor 2" <HP> & scanner'
LONG_NAME = "Line-of-business app: Dentrix practice management suite and imaging bridge"

# (category, tickets, minutes): a quarter of a small MSP. Password reset is the most frequent
# and 7th by minutes; Backup failures moves furthest up (13th by count, 5th by minutes).
CATEGORIES: list[tuple[str, int, float]] = [
    ("Onboarding & offboarding", 96, 9600),
    (PRINTER, 150, 7200),
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

SECTION_HEADINGS = [
    "Where your technicians' time goes",
    "Headline findings",
    "Minutes by category",
    "Minutes versus ticket count",
    "Weekly trend",
    "Top categories in detail",
    "Suggested categories",
    "How tickets were categorised",
    "Data quality",
    "What automation could be worth",
    "Notes",
]


def category_rows(
    spec: list[tuple[str, int, float]], source: MinutesSource = "logged"
) -> list[CategoryRow]:
    """Rows with ranks and shares worked out from (category, tickets, minutes)."""
    total = sum(m for _, _, m in spec)
    by_minutes = [name for name, _, _ in sorted(spec, key=lambda c: -c[2])]
    by_count = [name for name, _, _ in sorted(spec, key=lambda c: -c[1])]
    return [
        CategoryRow(
            category=name,
            tickets=tickets,
            minutes=minutes,
            share_of_minutes=minutes / total if total else 0.0,
            median_minutes=minutes / tickets * 0.8 if tickets else 0.0,
            p90_minutes=minutes / tickets * 2.5 if tickets else 0.0,
            rank_by_minutes=by_minutes.index(name) + 1,
            rank_by_count=by_count.index(name) + 1,
            minutes_source=source,
            categorized_by={"psa": tickets - tickets // 4, "taxonomy": tickets // 4, "model": 0},
        )
        for name, tickets, minutes in spec
    ]


def make_report(
    spec: list[tuple[str, int, float]] = CATEGORIES,
    source: MinutesSource = "logged",
    rate: float | None = 65.0,
    **overrides: Any,
) -> Report:
    """A realistic report for a 90-day Syncro export, built by hand."""
    rows = category_rows(spec, source)
    top = sorted(rows, key=lambda r: r.rank_by_minutes)[:5]
    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(13)]
    fields: dict[str, Any] = {
        "format": "syncro",
        "inputs": [
            InputFile(
                path="exports/tickets.csv",
                format="csv",
                kind="tickets",
                rows=1843,
                encoding="utf-8",
                delimiter=",",
            ),
            InputFile(
                path="exports/ticket_timers.csv",
                format="csv",
                kind="time",
                rows=5210,
                encoding="utf-8",
                delimiter=";",
            ),
        ],
        "dates": DateInfo(order="day_first", evidence="31/01/2025 in row 4", tz="Europe/London"),
        "window": Window(
            start=datetime(2025, 1, 6, tzinfo=UTC),
            end=datetime(2025, 4, 6, tzinfo=UTC),
            days=90,
        ),
        "totals": Totals(
            tickets=sum(t for _, t, _ in spec),
            minutes=sum(m for _, _, m in spec),
            minutes_source=source,
        ),
        "categories": rows,
        "suggested_categories": [
            SuggestedCategory(
                label="scanner / scan to email",
                top_terms=["scanner", "scan", "email", "smtp"],
                tickets=38,
                minutes=2280,
                examples=["Scan to email stopped working", "Scanner can't reach SMTP relay"],
            ),
        ],
        "categorization": Categorization(
            recategorized=True,
            reason="41% of tickets had a vague PSA category (General, Other), so deskhand "
            "categorised them with its taxonomy.",
            by={"psa": 1100, "taxonomy": 733, "model": 0},
            vague_share=0.41,
        ),
        "data_quality": [
            QualityIssue(
                reason="time_without_ticket",
                count=17,
                description="Time entries whose ticket is not in the tickets file.",
                examples=["ticket_timers.csv:88", "ticket_timers.csv:412"],
            ),
        ],
        "details": [
            CategoryDetail(
                category=row.category,
                examples=[
                    TicketExample(
                        ticket_id=f"{4100 + i}",
                        subject=HOSTILE_SUBJECT if i == 0 else f"{row.category} request {i}",
                        minutes=95.0 - i * 10,
                        customer=HOSTILE_CUSTOMER if i == 1 else "Smith & Sons Dental",
                    )
                    for i in range(3)
                ],
                techs=[("Alex Morgan", 3100.0), ("Sam Lee", 1900.0)],
                customers=[("Smith & Sons Dental", 2700.0), ("Northwind", 1200.0)],
                reopen_rate=0.12 if row.rank_by_minutes == 1 else None,
            )
            for row in top[:3]
        ],
        "weekly": WeeklyTrend(
            weeks=weeks,
            # Uneven but repeatable weeks around each category's average.
            minutes={
                row.category: [
                    row.minutes / len(weeks) * (0.7 + 0.075 * ((week * (k + 3)) % 9))
                    for week in range(len(weeks))
                ]
                for k, row in enumerate(top)
            },
        ),
        "automation": Automation(
            rate=rate,
            currency="USD",
            assumption="half of each category's minutes could be saved by automating it",
            rows=[
                AutomationRow(
                    category=row.category,
                    hours_per_month=row.minutes / 60 / 3 / 2,
                    cost_per_month=None if rate is None else row.minutes / 60 / 3 / 2 * rate,
                )
                for row in top
            ],
        ),
        "notes": ["Tickets opened before 6 Jan 2025 were left out."],
        "generated_at": datetime(2025, 4, 7, 9, 30, tzinfo=UTC),
    }
    fields.update(overrides)
    return Report(**fields)


class _Document(HTMLParser):
    """Records the element structure, attributes and visible text of an HTML document."""

    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.mismatches: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.mismatches.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def visible_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(html: str) -> _Document:
    document = _Document()
    document.feed(html)
    document.close()
    return document


def findings_section(html: str) -> str:
    match = re.search(r'<section id="findings">(.*?)</section>', html, re.DOTALL)
    assert match, "no findings section"
    return " ".join(parse(match.group(1)).visible_text.split())


def test_report_is_well_formed_html() -> None:
    document = parse(render_html(make_report()))
    assert document.mismatches == []
    assert document.stack == []
    for tag in ("html", "head", "body", "main", "section", "table", "svg"):
        assert tag in document.tags


@pytest.mark.parametrize("heading", SECTION_HEADINGS)
def test_every_section_has_its_heading(heading: str) -> None:
    assert heading in parse(render_html(make_report())).visible_text


def test_report_loads_nothing_from_the_network() -> None:
    html = render_html(make_report())
    document = parse(html)
    references = [value for name, value in document.attributes if name in {"src", "href"}]
    assert references, "expected the in-page navigation links"
    assert all(value.startswith("#") for value in references), references
    assert "script" not in document.tags
    assert "link" not in document.tags
    assert "@import" not in html
    assert "url(" not in html


def test_every_category_name_is_shown() -> None:
    text = parse(render_html(make_report())).visible_text
    for name, _, _ in CATEGORIES:
        assert name in text


def test_hostile_ticket_text_is_escaped_not_executed() -> None:
    html = render_html(make_report())
    document = parse(html)
    assert HOSTILE_SUBJECT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE_SUBJECT in document.visible_text
    assert HOSTILE_CUSTOMER in document.visible_text
    assert "img" not in document.tags
    assert not any(name == "onerror" for name, _ in document.attributes)


def test_category_names_with_markup_are_escaped_in_charts_too() -> None:
    html = render_html(make_report())
    assert "<HP>" not in html
    assert "&lt;HP&gt;" in html


@pytest.mark.parametrize(
    ("source", "warned"), [("logged", False), ("elapsed", True), ("business_hours", True)]
)
def test_proxy_warning_only_when_minutes_are_not_logged_time(
    source: MinutesSource, warned: bool
) -> None:
    report = make_report(source=source)
    html = render_html(report)
    assert ('class="warning"' in html) is warned
    assert ("These minutes are a proxy, not logged time." in html) is warned
    assert report.minutes_source_words in parse(html).visible_text


def test_a_category_without_logged_time_is_tagged_as_a_proxy_in_a_logged_report() -> None:
    report = make_report()
    backup = next(row for row in report.categories if row.category == "Backup failures")
    backup.minutes_source = "elapsed"
    text = parse(render_html(report)).visible_text
    assert "Backup failures proxy: elapsed" in text
    assert text.count("proxy: ") == 1
    assert "Categories tagged “proxy” have no logged time" in text
    assert "Categories tagged" not in parse(render_html(make_report())).visible_text


def test_headline_names_the_most_frequent_category_and_its_minutes_rank() -> None:
    sentence = (
        "Password reset is your most frequent ticket (22% of tickets) "
        "but ranks 7th by minutes (7.0%)."
    )
    assert sentence in make_report().headlines()
    assert sentence in findings_section(render_html(make_report()))


def test_headline_names_the_top_category_and_the_biggest_rank_shift() -> None:
    findings = " ".join(make_report().headlines())
    assert "Onboarding & offboarding takes the most technician time: 160.0 hours, 14% " in findings
    assert "hides Backup failures the most: it is 13th by ticket count but 5th by minutes" in (
        findings
    )
    assert "The top 3 of 17 categories take 34% of all technician minutes." in findings


def test_headline_when_the_most_frequent_category_is_also_the_most_expensive() -> None:
    spec = [("Password reset", 400, 9000), ("Hardware", 30, 3000), ("Email", 90, 2000)]
    findings = make_report(spec=spec).headlines()
    assert "Password reset is your most frequent ticket (77% of tickets) as well." in findings
    assert "but ranks" not in " ".join(findings)
    assert "hides Hardware the most: it is 3rd by ticket count but 2nd by minutes" in " ".join(
        findings
    )


def test_headline_without_minutes_does_not_rank_by_time() -> None:
    spec = [("Password reset", 40, 0.0), ("Hardware", 30, 0.0)]
    findings = make_report(spec=spec).headlines()
    assert findings[0].startswith("No technician minutes were recorded")
    assert not any("takes the most technician time" in f for f in findings)


def test_category_table_shows_numbers_right_aligned_with_separators() -> None:
    html = render_html(make_report())
    assert "<strong>1,833</strong> tickets" in html
    assert '<td class="num">412</td>' in html
    assert '<td class="num">81.7</td>' in html  # Password reset: 4,900 minutes
    assert '<td class="num up">▲ 8</td>' in html  # Backup failures
    assert '<td class="num down">▼ 6</td>' in html  # Password reset
    assert "psa 309 · taxonomy 103" in html


def test_details_show_reopen_rate_only_when_the_export_has_it() -> None:
    text = parse(render_html(make_report())).visible_text
    assert "Reopen rate: 12% of tickets were reopened." in text
    assert text.count("Reopen rate: not in this export.") == 2


def test_automation_shows_cost_at_the_rate() -> None:
    text = parse(render_html(make_report(rate=65.0))).visible_text
    assert "Cost at 65 USD per technician hour." in text
    assert "Cost per month" in text
    assert "1,733 USD" in text  # Onboarding: 9,600 min / 60 / 3 months / 2 * 65
    assert "half of each category's minutes could be saved" in text


def test_automation_without_rate_shows_hours_only() -> None:
    text = parse(render_html(make_report(rate=None))).visible_text
    assert "pass --rate to see cost" in text
    assert "Cost per month" not in text
    assert "USD" not in text
    assert "26.7" in text  # Onboarding hours per month


def test_empty_report_still_renders_every_section() -> None:
    report = make_report(
        spec=[],
        details=[],
        suggested_categories=[],
        data_quality=[],
        notes=[],
        weekly=WeeklyTrend(weeks=[], minutes={}),
    )
    html = render_html(report)
    document = parse(html)
    assert document.mismatches == []
    assert document.stack == []
    text = document.visible_text
    for heading in SECTION_HEADINGS:
        assert heading in text
    assert "No problems found." in text
    assert "None: every ticket fitted a category" in text
    assert "No tickets were opened in the window" in text


def test_data_quality_issues_are_listed() -> None:
    text = parse(render_html(make_report())).visible_text
    assert "time_without_ticket" in text
    assert "ticket_timers.csv:88; ticket_timers.csv:412" in text
    assert "No problems found." not in text


@pytest.mark.parametrize(
    ("rank", "words"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinal(rank: int, words: str) -> None:
    assert ordinal(rank) == words


def test_rank_shift_and_money_formats() -> None:
    assert (rank_shift(3), rank_shift(-2), rank_shift(0)) == ("▲ 3", "▼ 2", "=")
    assert money(1234.4, "EUR") == "1,234 EUR"
    assert money(1234.4, "$") == "$1,234"


def test_template_ships_inside_the_package() -> None:
    # hatchling's `packages = ["src/deskhand"]` puts every file under the package in the wheel.
    assert files("deskhand.history").joinpath("templates/report.html.j2").is_file()
