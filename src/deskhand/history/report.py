"""The result of ``deskhand analyze``: one model that the terminal table, the JSON document, the
CSV file and the HTML report are all rendered from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

RISER_POOL = 10
# What a ticket without a PSA category is listed under when the PSA's categories are shown.
NO_CATEGORY = "(no category)"
MinutesSource = Literal["logged", "elapsed", "business_hours"]
CategorizedBy = Literal["psa", "taxonomy", "model"]

MINUTES_SOURCE_WORDS: dict[str, str] = {
    "logged": "technician time logged against each ticket (time entries)",
    "elapsed": (
        "elapsed wall-clock time from opened to resolved — a proxy: it counts nights, weekends "
        "and time waiting on the client, so it overstates technician effort"
    ),
    "business_hours": (
        "elapsed business hours from opened to resolved — a proxy: it counts every working "
        "minute the ticket was open, not the minutes a technician spent on it"
    ),
}

# What the ranking measures, as its headline and table name it: a proxy says it is one
# wherever it is named, never "technician minutes".
MEASURE_WORDS: dict[str, str] = {
    "logged": "technician minutes",
    "elapsed": "elapsed hours (a proxy)",
    "business_hours": "elapsed business hours (a proxy)",
}


class Window(BaseModel):
    """The period analysed; tickets are in it by the time they were opened."""

    start: datetime
    end: datetime
    days: int


class Totals(BaseModel):
    tickets: int
    minutes: float
    minutes_source: MinutesSource


class CategoryRow(BaseModel):
    """One category of the ranking, in the shape of the ``--json`` document."""

    category: str
    tickets: int
    minutes: float
    share_of_minutes: float
    median_minutes: float = Field(
        description="Per ticket, leaving out the tickets closed with no logged time."
    )
    p90_minutes: float = Field(
        description="Per ticket, leaving out the tickets closed with no logged time."
    )
    rank_by_minutes: int
    rank_by_count: int
    minutes_source: MinutesSource
    categorized_by: dict[str, int] = Field(
        description="How many of the category's tickets got it from the PSA, the taxonomy or "
        "the model."
    )
    specialist: str | None = Field(
        default=None,
        description="The installed specialist that takes the category's tickets; None when a "
        "technician does them (or, in a report without ``coverage``, when it was not asked).",
    )
    taxonomy_category: str | None = Field(
        default=None,
        description="The deskhand taxonomy category this category means, where it maps one "
        "(the PSA's 'New User Setup' -> 'New user onboarding'); None where it maps none.",
    )
    zero_minute_tickets: int = Field(
        default=0,
        description="Tickets of the category closed with no logged time: counted in "
        "``tickets``, left out of the median and P90.",
    )

    @property
    def rank_shift(self) -> int:
        """Places this category moves up (positive) when ranked by minutes instead of count."""
        return self.rank_by_count - self.rank_by_minutes

    @property
    def hours(self) -> float:
        return self.minutes / 60.0


class SuggestedCategory(BaseModel):
    """A recurring theme that no category names, named by its most typical words."""

    label: str
    top_terms: list[str]
    tickets: int
    minutes: float
    examples: list[str]
    filed_under: str | None = Field(
        default=None,
        description="The category (or categories) its tickets are counted in; None when they "
        "are in 'Other'.",
    )


class InputFile(BaseModel):
    """One file read, and what was learned about it."""

    path: str
    format: str
    kind: Literal["tickets", "time", "tickets+time"]
    rows: int
    encoding: str
    delimiter: str | None = None


class DateInfo(BaseModel):
    order: Literal["iso", "month_first", "day_first"]
    evidence: str
    tz: str


class QualityIssue(BaseModel):
    reason: str
    count: int
    description: str
    examples: list[str] = Field(default_factory=list)


class TicketExample(BaseModel):
    ticket_id: str
    subject: str
    minutes: float
    customer: str | None = None


class CategoryDetail(BaseModel):
    """What the HTML report shows for one of the top categories."""

    category: str
    examples: list[TicketExample]
    techs: list[tuple[str, float]] = Field(description="(tech, minutes), most minutes first")
    customers: list[tuple[str, float]] = Field(description="(customer, minutes), most first")
    reopen_rate: float | None = None


class WeeklyTrend(BaseModel):
    weeks: list[date] = Field(description="Monday of each ISO week in the window")
    minutes: dict[str, list[float]] = Field(description="category -> minutes per week")


class AutomationRow(BaseModel):
    category: str
    hours_per_month: float
    cost_per_month: float | None


class Automation(BaseModel):
    rate: float | None
    currency: str
    assumption: str
    rows: list[AutomationRow]


class UncoveredCategory(BaseModel):
    """The costliest category that no installed specialist takes: a technician does it."""

    category: str
    share: float = Field(description="Its share of all minutes, 0–1")


class Coverage(BaseModel):
    """How much of the history deskhand's installed specialists take on: the minutes of the
    categories whose tickets are an intent one of them handles."""

    specialists: list[str] = Field(description="The installed specialists, by name")
    share: float = Field(description="covered_minutes / total_minutes, 0–1")
    covered_minutes: float
    total_minutes: float
    largest_uncovered: UncoveredCategory | None = Field(
        description="The costliest category no specialist takes, the remainder ('Other') "
        "aside; None when every other category has one"
    )


class Merge(BaseModel):
    """Tickets that --recategorize moved from the PSA's category into another."""

    psa_category: str | None = Field(description="The PSA's label; None for no label")
    category: str
    tickets: int


class Categorization(BaseModel):
    """How categories were decided, in numbers and in words."""

    recategorized: bool = Field(
        description="False: the PSA's own categories are shown untouched; True: they were "
        "merged into deskhand's taxonomy (--recategorize)."
    )
    reason: str
    by: dict[str, int]
    vague_share: float
    merged: list[Merge] = Field(
        default_factory=list, description="What was merged into what, most tickets first"
    )


class ZeroMinuteTickets(BaseModel):
    """Tickets closed with no logged time: a data-quality finding (time billed through line
    items, or not logged), not cheap tickets."""

    count: int
    ticket_ids: list[str] = Field(description="The first of them, by ticket id")


class Report(BaseModel):
    format: str
    inputs: list[InputFile]
    dates: DateInfo
    window: Window
    totals: Totals
    categories: list[CategoryRow]
    suggested_categories: list[SuggestedCategory]
    categorization: Categorization
    data_quality: list[QualityIssue]
    details: list[CategoryDetail]  # empty in a report made without them (--json)
    weekly: WeeklyTrend | None  # None in a report made without the details
    automation: Automation
    # None in a report made without the installed specialists (saved before they were asked).
    coverage: Coverage | None = None
    zero_minute_tickets: ZeroMinuteTickets | None = Field(
        default=None, description="None when minutes are not logged time"
    )
    notes: list[str] = Field(default_factory=list, description="sentences for the reader")
    generated_at: datetime

    @property
    def minutes_source_words(self) -> str:
        return MINUTES_SOURCE_WORDS[self.totals.minutes_source]

    @property
    def measure(self) -> str:
        """What the ranking measures: "technician minutes", or the proxy, named as one."""
        return MEASURE_WORDS[self.totals.minutes_source]

    def headlines(self) -> list[str]:
        """The findings in words: what costs most, and how ranking by count would mislead."""
        rows = sorted(self.categories, key=lambda r: r.rank_by_minutes)
        if not rows:
            return ["No tickets were opened in the window, so there is nothing to rank."]
        total_tickets = sum(row.tickets for row in rows)
        frequent = min(rows, key=lambda r: r.rank_by_count)
        frequent_share = frequent.tickets / total_tickets if total_tickets else 0.0
        frequent_words = (
            f"{frequent.category} is your most frequent ticket "
            f"({format_share(frequent_share)} of tickets)"
        )
        if not any(row.minutes > 0 for row in rows):
            return [
                f"No {self.measure} were recorded, so the categories cannot be ranked by time.",
                f"{frequent_words}.",
            ]
        top = rows[0]
        most = "technician time" if self.totals.minutes_source == "logged" else self.measure
        findings = [
            f"{top.category} takes the most {most}: {top.hours:,.1f} hours, "
            f"{format_share(top.share_of_minutes)} of the total, over {top.tickets:,} tickets."
        ]
        if frequent is top:
            findings.append(f"{frequent_words} as well.")
        else:
            findings.append(
                f"{frequent_words} but ranks {ordinal(frequent.rank_by_minutes)} by minutes "
                f"({format_share(frequent.share_of_minutes)})."
            )
        # The category a count-based ranking undervalues most among those that matter (the top
        # ten by minutes; far down the list a big shift is noise); on ties, the costlier one.
        riser = max(rows[:RISER_POOL], key=lambda r: (r.rank_shift, -r.rank_by_minutes))
        if riser.rank_shift > 0:
            findings.append(
                f"Counting tickets hides {riser.category} the most: it is "
                f"{ordinal(riser.rank_by_count)} by ticket count but "
                f"{ordinal(riser.rank_by_minutes)} by minutes, at a median of "
                f"{riser.median_minutes:,.0f} minutes per ticket."
            )
        else:
            findings.append("Every category ranks the same by minutes as by ticket count.")
        if len(rows) > 3:
            share = sum(row.share_of_minutes for row in rows[:3])
            findings.append(
                f"The top 3 of {len(rows)} categories take {format_share(share)} of all "
                f"{self.measure}."
            )
        return findings + self.coverage_lines()

    def coverage_lines(self) -> list[str]:
        """What deskhand's installed specialists take on, in words; none without ``coverage``."""
        coverage = self.coverage
        if coverage is None or not self.categories:
            return []
        lines = [
            f"deskhand's specialists cover {format_share(coverage.share)} of the {self.measure} "
            f"in this history ({coverage.covered_minutes / 60:,.1f} of "
            f"{coverage.total_minutes / 60:,.1f} h)."
        ]
        uncovered = coverage.largest_uncovered
        if uncovered is None:
            lines.append("Every category has a specialist, tickets that fit no category aside.")
        else:
            lines.append(
                f"The largest category no specialist covers: {uncovered.category}, "
                f"{format_share(uncovered.share)} of the {self.measure}."
            )
        return lines

    def json_document(self) -> dict[str, Any]:
        """The ``--json`` document: the documented keys first, then context a script may want."""
        return {
            "window": self.window.model_dump(mode="json"),
            "totals": self.totals.model_dump(mode="json"),
            "categories": [row.model_dump(mode="json") for row in self.categories],
            "coverage": self.coverage.model_dump(mode="json") if self.coverage else None,
            "suggested_categories": [s.model_dump(mode="json") for s in self.suggested_categories],
            "data_quality": {issue.reason: issue.count for issue in self.data_quality},
            "zero_minute_tickets": self.zero_minute_tickets.model_dump(mode="json")
            if self.zero_minute_tickets
            else None,
            "format": self.format,
            "inputs": [f.model_dump(mode="json") for f in self.inputs],
            "dates": self.dates.model_dump(mode="json"),
            "categorization": self.categorization.model_dump(mode="json"),
            "notes": self.notes,
        }


def format_share(share: float) -> str:
    """A 0–1 share as the report writes it everywhere: "18%", or "4.5%" below ten percent."""
    return f"{share * 100:.1f}%" if 0 < share < 0.1 else f"{share * 100:.0f}%"


def specialist_words(specialist: str | None) -> str:
    """A category's specialist as a person reads it: "password reset", or who does them."""
    return specialist.replace("_", " ") if specialist else "none — a technician does these"


def ordinal(number: int) -> str:
    """1 -> '1st', 12 -> '12th', 23 -> '23rd'."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"
