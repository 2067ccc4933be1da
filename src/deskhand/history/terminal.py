"""The analysis as the terminal shows it: a summary, the ranking table, and what to look at."""

from __future__ import annotations

import csv
import io

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from deskhand.history.report import NO_CATEGORY, Report, format_share, specialist_words
from deskhand.history.taxonomy import label_key

MERGES_SHOWN = 12  # merges --recategorize made, largest first (--json and --out have them all)
WIDE_TERMINAL = 120  # the ranking with every column, the specialist's included, fits
CSV_COLUMNS = (
    "rank_by_minutes",
    "category",
    "tickets",
    "minutes",
    "hours",
    "share_of_minutes",
    "median_minutes",
    "p90_minutes",
    "rank_by_count",
    "rank_shift",
    "minutes_source",
    "categorized_by",
    "specialist",
    "taxonomy_category",
    "zero_minute_tickets",
)


def render(report: Report, console: Console, top: int = 20) -> None:
    """Print the report: inputs, window, the ranking by minutes, categorisation and data quality."""
    console.print(_summary(report))
    console.print(_ranking(report, top, console.width))
    for line in report.headlines():
        console.print(f"[bold]•[/] {line}")
    console.print()
    console.print(f"[bold]Categories[/]: {report.categorization.reason}", highlight=False)
    merged = report.categorization.merged
    if merged:
        shown = "; ".join(
            f"{m.psa_category or NO_CATEGORY} → {m.category} ({m.tickets:,})"
            for m in merged[:MERGES_SHOWN]
        )
        more = (
            f"; {len(merged) - MERGES_SHOWN} more in --json and --out"
            if len(merged) > MERGES_SHOWN
            else ""
        )
        console.print(
            f"[bold]Merged[/] (PSA category → category, tickets): {shown}{more}", highlight=False
        )
    if report.suggested_categories:
        names = "; ".join(
            f"{s.label} ({s.tickets} tickets, {s.minutes / 60:,.1f} h, "
            f"in {s.filed_under or 'Other'})"
            for s in report.suggested_categories[:5]
        )
        console.print(f"[bold]Suggested categories[/], recurring themes no category names: {names}")
    console.print(_quality(report))
    for note in report.notes[1:]:  # the first, the minutes source, is in the summary already
        console.print(f"[dim]{note}[/]", highlight=False)


def category_csv(report: Report) -> str:
    """The category table as CSV text (``--csv``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.categories:
        writer.writerow(
            [
                row.rank_by_minutes,
                row.category,
                row.tickets,
                row.minutes,
                round(row.hours, 2),
                row.share_of_minutes,
                row.median_minutes,
                row.p90_minutes,
                row.rank_by_count,
                row.rank_shift,
                row.minutes_source,
                ";".join(f"{k}:{v}" for k, v in sorted(row.categorized_by.items())),
                row.specialist or "",
                row.taxonomy_category or "",
                row.zero_minute_tickets,
            ]
        )
    return out.getvalue()


def _summary(report: Report) -> Panel:
    lines = [
        Text.assemble(("Input  ", "bold"), f"{report.format} export, {len(report.inputs)} file(s)")
    ]
    for item in report.inputs:
        delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
            item.delimiter or "", ""
        )
        detail = ", ".join(x for x in (item.encoding, delimiter) if x)
        lines.append(Text(f"       {item.path}: {item.format}, {item.rows:,} rows ({detail})"))
    window = report.window
    lines.append(
        Text.assemble(
            ("Window ", "bold"),
            f"{window.start:%Y-%m-%d} → {window.end:%Y-%m-%d} ({window.days} days), "
            f"{report.totals.tickets:,} tickets, {report.totals.minutes / 60:,.1f} hours",
        )
    )
    lines.append(
        Text.assemble(("Dates  ", "bold"), f"{report.dates.evidence}, zone {report.dates.tz}")
    )
    proxy = report.totals.minutes_source != "logged"
    lines.append(
        Text.assemble(
            ("Minutes ", "bold"),
            (report.minutes_source_words, "yellow" if proxy else ""),
        )
    )
    return Panel(Group(*lines), title="deskhand analyze", title_align="left", expand=False)


def _ranking(report: Report, top: int, width: int) -> Table:
    # Narrow terminals drop the per-ticket spread and the source column (the source is the same
    # for every row and is named in the title) rather than squeezing category names.
    wide = width >= WIDE_TERMINAL
    title = f"Categories ranked by total {report.measure}"
    if not wide and report.totals.minutes_source == "logged":
        title += " (logged minutes)"
    covered = report.coverage is not None
    caption = []
    if not report.categorization.recategorized:
        caption.append(
            "Categories are the PSA's own, untouched; in brackets, deskhand's taxonomy "
            "category where one maps."
        )
    if covered:
        caption.append(
            "Specialist: the deskhand specialist that takes these tickets; none: a "
            "technician does them."
        )
    if len(report.categories) > top:
        caption.append(f"{len(report.categories) - top} more categories in --json, --csv and --out")
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption=" ".join(caption) or None,
        caption_justify="left",
        collapse_padding=True,  # two spaces between columns, so the specialist fits at 80
    )
    table.add_column("#", justify="right")
    table.add_column("Category", min_width=18, overflow="fold", ratio=1)
    table.add_column("Tickets", justify="right")
    table.add_column("Hours", justify="right")
    table.add_column("Share", justify="right")
    if wide:
        table.add_column("Median min", justify="right")
        table.add_column("P90 min", justify="right")
    table.add_column("By count", justify="right")
    table.add_column("Shift", justify="right")
    if wide:
        table.add_column("Minutes from")
    if covered:
        table.add_column("Specialist", overflow="fold")
    for row in report.categories[:top]:
        cells: list[str | Text] = [
            str(row.rank_by_minutes),
            _category(row.category, row.taxonomy_category),
            f"{row.tickets:,}",
            _hours(row.hours),
            format_share(row.share_of_minutes),
        ]
        if wide:
            cells += [f"{row.median_minutes:,.0f}", f"{row.p90_minutes:,.0f}"]
        cells += [str(row.rank_by_count), _shift(row.rank_shift)]
        if wide:
            cells.append(row.minutes_source)
        if covered:
            cells.append(_specialist(row.specialist))
        table.add_row(*cells)
    return table


def _category(category: str, beside: str | None) -> Text:
    """The category, and in brackets the taxonomy's where it maps one under another name."""
    text = Text(category)
    if beside is not None and label_key(beside) != label_key(category):
        text.append(f" ({beside})", "dim")
    return text


def _specialist(specialist: str | None) -> Text:
    # "none" alone: the table's caption says a technician does those, and the column stays narrow.
    return Text(specialist_words(specialist)) if specialist else Text("none", "dim")


def _hours(hours: float) -> str:
    return f"{hours:,.0f}" if hours >= 1000 else f"{hours:,.1f}"


def _shift(shift: int) -> Text:
    if shift > 0:
        return Text(f"▲{shift}", "green")
    if shift < 0:
        return Text(f"▼{-shift}", "red")
    return Text("=")


def _quality(report: Report) -> Table | Text:
    if not report.data_quality:
        return Text("Data quality: no problems found.")
    table = Table(title="Data quality (counted, not hidden)", title_justify="left")
    table.add_column("Count", justify="right")
    table.add_column("Problem")
    table.add_column("Examples")
    for issue in report.data_quality:
        table.add_row(f"{issue.count:,}", issue.description, ", ".join(issue.examples[:3]))
    return table
