"""The data-quality ledger: every row that is skipped, corrected or suspicious is counted here
with its reason, so nothing is dropped silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from deskhand.history.sources import LIMITS, size_words

if TYPE_CHECKING:
    from deskhand.history.report import QualityIssue

# reason -> what it means and what was done about it, in the words the report shows
REASONS: dict[str, str] = {
    "closed_with_zero_logged_time": (
        "Resolved or closed tickets with no time logged against them (time not logged, or "
        "billed through line items) — counted as tickets, but left out of the per-ticket "
        "median and P90, where a zero would pass for a cheap ticket. Ask technicians to log "
        "time before closing."
    ),
    "time_entry_over_24h": (
        "Time entries longer than 24 hours (a timer left running?) — left out of the totals."
    ),
    "negative_duration": (
        "Time entries with a negative duration — read as corrections (a PSA's way to reverse an "
        "entry) and subtracted from their ticket's total, which never goes below zero."
    ),
    "time_entry_unknown_ticket": (
        "Time entries for a ticket that is not in the ticket export — left out of the totals."
    ),
    "time_entry_not_for_ticket": (
        "Time entries charged to something other than a service ticket (project, activity, "
        "charge code) — left out."
    ),
    "duplicate_ticket_id": "Ticket ids that appear more than once — the last row was kept.",
    "outside_window": "Tickets opened outside the analysed window — not counted.",
    "unparseable_date": "Dates that could not be read — the row's date was treated as missing.",
    "unparseable_number": (
        "Numbers (minutes, hours) that could not be read — the entry was left out."
    ),
    "missing_ticket_id": "Rows without a ticket id — left out.",
    "missing_opened_at": "Tickets without a readable opened date — they cannot be placed in "
    "the window and were left out.",
    "no_resolved_time": (
        "Tickets without a resolved time — no elapsed time can be computed; counted with 0 minutes."
    ),
    "resolved_before_opened": (
        "Tickets resolved before they were opened — counted with 0 elapsed minutes."
    ),
    "ragged_row": "Rows with more fields than the header — the extra fields were ignored.",
    "cell_too_long": (
        f"Rows with a cell longer than {size_words(LIMITS.cell_bytes)}, far more than any "
        "ticket's text — left out. An unclosed quote makes one cell of the rows after it; "
        "check the row shown, or export the file again."
    ),
}

EXAMPLES_PER_REASON = 5


@dataclass
class Ledger:
    """Counts of data-quality problems, each with a few example locations (``file:row``)."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, count: int, examples: list[str] | None = None) -> None:
        """Record ``count`` occurrences of ``reason``; zero counts are ignored."""
        if reason not in REASONS:
            raise ValueError(f"unknown data-quality reason {reason!r}")
        if count <= 0:
            return
        self.counts[reason] = self.counts.get(reason, 0) + count
        kept = self.examples.setdefault(reason, [])
        for example in examples or []:
            if len(kept) >= EXAMPLES_PER_REASON:
                break
            kept.append(example)

    def add_rows(self, reason: str, rows: pl.DataFrame) -> None:
        """Record every row of ``rows`` (with ``file`` and ``row`` columns) under ``reason``."""
        if rows.height == 0:
            return
        head = rows.head(EXAMPLES_PER_REASON)
        examples = [
            f"{file} row {row}"
            for file, row in zip(head.get_column("file"), head.get_column("row"), strict=True)
        ]
        self.add(reason, rows.height, examples)

    def merge(self, other: Ledger) -> None:
        """Add what ``other`` recorded, as if it had been recorded here."""
        for reason, count in other.counts.items():
            self.add(reason, count, other.examples.get(reason))

    def issues(self) -> list[QualityIssue]:
        """The recorded problems, most frequent first."""
        from deskhand.history.report import QualityIssue  # Pydantic: imported when needed

        return [
            QualityIssue(
                reason=reason,
                count=count,
                description=REASONS[reason],
                examples=self.examples.get(reason, []),
            )
            for reason, count in sorted(self.counts.items(), key=lambda item: -item[1])
        ]
