"""``deskhand analyze`` from end to end: import, window, minutes, categories, ranking, report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

from deskhand.errors import UsageError
from deskhand.history.dates import check_timezone, parse_bound
from deskhand.history.importer import Imported, Importing, format_label
from deskhand.history.minutes import (
    DAY_MINUTES,
    BusinessHours,
    business_minutes,
    elapsed_minutes,
    with_logged_minutes,
    without_time,
)
from deskhand.history.quality import EXAMPLES_PER_REASON, Ledger
from deskhand.history.reading import Progress
from deskhand.history.schema import join_key

if TYPE_CHECKING:
    from deskhand.history.coverage import Installed
    from deskhand.history.report import MinutesSource, Report, ZeroMinuteTickets
    from deskhand.history.taxonomy import Taxonomy

MinutesFrom = Literal["auto", "logged", "elapsed", "business_hours"]
DEFAULT_BUSINESS_HOURS = "08:00-18:00"
ZERO_MINUTE_IDS = 50  # tickets closed with no logged time named in the report


@dataclass(frozen=True)
class AnalyzeOptions:
    """What the user asked for; the CLI and the web app both build one of these."""

    paths: list[Path]
    format: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    dayfirst: bool | None = None
    tz: str = "UTC"
    minutes_from: MinutesFrom = "auto"
    business_hours: str | None = None
    recategorize: bool = False
    taxonomy: Path | None = None
    days: int | None = None
    since: str | None = None
    until: str | None = None
    rate: float | None = None
    currency: str = "USD"
    top: int = 5
    # The top categories' technicians, customers, costliest tickets and weekly trend: the HTML
    # report shows them; the --json document and the terminal table do not.
    details: bool = True


def analyze(
    options: AnalyzeOptions,
    progress: Progress | None = None,
    *,
    specialists: Iterable[Installed] | None = None,
) -> Report:
    """Run the whole analysis and return the report model; with the installed ``specialists``
    (the registry's), it says which covers each category and how much of the time they cover."""
    return Analysis(options, progress).finish(specialists)


class Analysis:
    """An analysis under way: the options checked and the files being read on a second thread
    (see :class:`Importing`), so that the caller can go on, finding the installed specialists
    for instance, until ``finish`` needs the files."""

    def __init__(self, options: AnalyzeOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.tz = check_timezone(options.tz)
        self.hours = BusinessHours.parse(options.business_hours) if options.business_hours else None
        self.since = parse_bound(options.since, self.tz) if options.since else None
        self.until = parse_bound(options.until, self.tz, end_of_day=True) if options.until else None
        if options.rate is not None and options.rate < 0:
            raise UsageError(
                f"--rate {options.rate}: give the technician cost per hour, 0 or more."
            )
        self.importing = Importing(
            options.paths,
            mapping=options.mapping,
            forced_format=options.format,
            dayfirst=options.dayfirst,
            tz=self.tz,
            progress=progress,
        )
        # The rest is imported while the files are read: the report's models and the taxonomy
        # (Pydantic), and what categorising needs (NumPy), about a third of a second in all.
        from deskhand.history.taxonomy import load_taxonomy

        self.taxonomy: Taxonomy = load_taxonomy(options.taxonomy)

    def finish(self, specialists: Iterable[Installed] | None = None) -> Report:
        """The report, with what ``specialists`` cover (see :func:`analyze`)."""
        from deskhand.history.categories import ThemesAhead, categorize
        from deskhand.history.ranking import (
            automation_value,
            category_details,
            rank_categories,
            weekly_trend,
        )
        from deskhand.history.report import DateInfo, Report, Totals
        from deskhand.history.window import apply_window, choose_window, within

        options, tz, hours, taxonomy = self.options, self.tz, self.hours, self.taxonomy

        source = _minutes_source(options.minutes_from, self.importing.has_time, hours)
        if source == "business_hours" and hours is None:
            hours = BusinessHours.parse(DEFAULT_BUSINESS_HOURS)
        window = choose_window(
            self.importing.tickets().get_column("opened_at"),
            days=options.days,
            since=self.since,
            until=self.until,
        )
        # The themes among the vague tickets need their text only: they are looked for on a
        # thread of their own while the time files are read and the minutes summed.
        ahead = (
            None
            if options.recategorize
            else ThemesAhead(self.importing.tickets(), within(window), taxonomy)
        )
        ledger = Ledger()
        imported = _lean(self.importing.finish(ledger), details=options.details)
        tickets = _with_minutes(imported, source, tz, hours, ledger)
        tickets = apply_window(tickets, window, ledger)
        zero = None
        if source == "logged":
            tickets, zero = _mark_zero_minutes(tickets, ledger)
        else:
            tickets = tickets.with_columns(pl.lit(False).alias("no_time"))
        categorized = categorize(tickets, taxonomy, recategorize=options.recategorize, ahead=ahead)
        tickets = categorized.tickets
        rows = rank_categories(tickets, source)
        coverage = None
        if specialists is not None:
            from deskhand.history.coverage import cover

            rows, coverage = cover(rows, taxonomy, specialists)
        top = [row.category for row in rows[: options.top]]
        details = (
            category_details(tickets, _tech_minutes(imported, tickets, source, top), top)
            if options.details
            else []
        )
        weekly = weekly_trend(tickets, top, window, tz) if options.details else None
        # Last: the themes' thread may be at work until here.
        suggestions = categorized.suggestions
        return Report(
            format=format_label(imported.format),
            inputs=imported.inputs,
            dates=DateInfo(order=imported.dates.order, evidence=imported.dates.evidence, tz=tz),
            window=window,
            totals=Totals(
                tickets=tickets.height,
                minutes=round(float(tickets.get_column("minutes").sum()), 2),
                minutes_source=source,
            ),
            categories=rows,
            suggested_categories=suggestions,
            categorization=categorized.summary,
            data_quality=ledger.issues(),
            details=details,
            weekly=weekly,
            automation=automation_value(rows, window.days, options.rate, options.currency),
            coverage=coverage,
            zero_minute_tickets=zero,
            notes=_notes(imported, source, hours, tz),
            generated_at=datetime.now(UTC),
        )


def _lean(imported: Imported, *, details: bool) -> Imported:
    """``imported`` without the columns the rest does not read, let go before the minutes are
    summed, when the run's memory is highest: the time entries' ticket ids when they are joined
    on integers, and who worked for which customer when the report has no details."""
    time = [c for c in ("ticket_id",) if imported.time.schema.get("key") == pl.Int64]
    tickets = [] if details else ["customer", "tech"]
    if not details:
        time.append("tech")
    return replace(imported, tickets=imported.tickets.drop(tickets), time=imported.time.drop(time))


def _minutes_source(
    requested: MinutesFrom, has_time: bool, hours: BusinessHours | None
) -> MinutesSource:
    if requested == "logged" and not has_time:
        raise UsageError(
            "--minutes-from logged, but no input holds time entries.",
            hint="Add the time/labour export, or use --minutes-from elapsed (a proxy).",
        )
    if requested == "logged" or (requested == "auto" and has_time):
        return "logged"
    if requested == "business_hours" or hours is not None:
        return "business_hours"
    return "elapsed"


def _with_minutes(
    imported: Imported,
    source: MinutesSource,
    tz: str,
    hours: BusinessHours | None,
    ledger: Ledger,
) -> pl.DataFrame:
    tickets = imported.tickets
    if source == "logged":
        return with_logged_minutes(tickets, imported.time, ledger)
    proxy = (
        business_minutes(tz, hours) if source == "business_hours" and hours else elapsed_minutes()
    )
    tickets = tickets.with_columns(proxy.alias("minutes"))
    ledger.add_rows("no_resolved_time", tickets.filter(pl.col("minutes").is_null()))
    ledger.add_rows("resolved_before_opened", tickets.filter(pl.col("minutes") < 0))
    return tickets.with_columns(pl.col("minutes").fill_null(0.0).clip(lower_bound=0.0))


def _mark_zero_minutes(
    tickets: pl.DataFrame, ledger: Ledger
) -> tuple[pl.DataFrame, ZeroMinuteTickets]:
    """Mark (``no_time``) and count the tickets closed with no logged time: a ticket billed
    through line items or never logged is a finding about the data, not a cheap ticket."""
    from deskhand.history.report import ZeroMinuteTickets

    marked = tickets.with_columns(without_time(tickets).alias("no_time"))
    ids = marked.select("ticket_id", "no_time").filter("no_time").get_column("ticket_id")
    named = [f"ticket {ticket}" for ticket in ids.head(EXAMPLES_PER_REASON).to_list()]
    ledger.add("closed_with_zero_logged_time", ids.len(), named)
    return marked, ZeroMinuteTickets(
        count=ids.len(), ticket_ids=ids.head(ZERO_MINUTE_IDS).to_list()
    )


def _tech_minutes(
    imported: Imported, tickets: pl.DataFrame, source: MinutesSource, categories: list[str]
) -> pl.DataFrame:
    """Who spent the minutes on the tickets of ``categories`` (``category, tech, minutes``): the
    time entries' techs when minutes are logged, else each ticket's own tech."""
    wanted = tickets.filter(pl.col("category").is_in(categories))
    if source != "logged":
        return wanted.select("category", "tech", "minutes")
    key = join_key(tickets, imported.time)
    return (
        imported.time.lazy()
        .filter(pl.col("minutes") <= DAY_MINUTES)
        .join(wanted.lazy().select(key, "category"), on=key)
        .group_by("category", "tech")
        .agg(pl.col("minutes").sum())
        .collect()
    )


def _notes(
    imported: Imported, source: MinutesSource, hours: BusinessHours | None, tz: str
) -> list[str]:
    from deskhand.history.report import MINUTES_SOURCE_WORDS

    notes = [f"Minutes are {MINUTES_SOURCE_WORDS[source]}."]
    if source == "logged":
        notes.append("Time was read from " + "; ".join(imported.durations) + ".")
    if imported.skipped:
        notes.append(
            "Skipped because their columns match no PSA export: "
            + ", ".join(imported.skipped)
            + "."
        )
    if source == "business_hours" and hours is not None:
        notes.append(
            f"Business hours: {hours.label} on weekdays in {tz}; public holidays are not known "
            "and count as working days."
        )
    notes.append(f"Dates: {imported.dates.evidence}; times without a zone are read in {tz}.")
    if imported.event_log:
        events = sum(f.rows for f in imported.inputs if f.kind != "time")
        notes.append(
            f"The input is an event log: {events:,} rows were folded into "
            f"{imported.tickets.height:,} tickets (opened = first event, resolved = last event "
            "unless mapped, attributes = each ticket's latest values)."
        )
    return notes
