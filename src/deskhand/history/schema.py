"""The canonical ticket and time-entry tables that every importer produces.

Whatever the PSA, an import ends as two Polars frames with these columns, so everything after
the import (window, minutes, categories, ranking, report) is written once.
"""

from __future__ import annotations

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")

TICKET_SCHEMA: dict[str, pl.DataType] = {
    "ticket_id": pl.String(),  # the key time entries refer to; never null
    "subject": pl.String(),
    "body": pl.String(),
    "category_raw": pl.String(),  # the PSA's own category as written, before normalising
    "customer": pl.String(),
    "tech": pl.String(),
    "status": pl.String(),
    "opened_at": UTC_DATETIME,
    "resolved_at": UTC_DATETIME,
    "reopens": pl.Int32(),  # null when the export does not tell
    "file": pl.String(),  # where the row came from, for data-quality examples
    "row": pl.UInt32(),  # spreadsheet-style row number: the header is row 1
}

TIME_SCHEMA: dict[str, pl.DataType] = {
    "ticket_id": pl.String(),
    "tech": pl.String(),
    "minutes": pl.Float64(),  # null when the row's number could not be read
    "file": pl.String(),
    "row": pl.UInt32(),
}

# Fields a user can name in ``--map field=column``. ``timestamp`` marks an event log: many rows
# per ticket, one per status change.
TICKET_FIELDS = (
    "ticket_id",
    "category",
    "subject",
    "body",
    "opened_at",
    "resolved_at",
    "tech",
    "customer",
    "status",
    "timestamp",
)
TIME_FIELDS = ("minutes", "hours", "seconds", "started_at", "ended_at")
MAP_FIELDS = TICKET_FIELDS + TIME_FIELDS


def empty_tickets() -> pl.DataFrame:
    """A ticket frame with no rows."""
    return pl.DataFrame(schema=TICKET_SCHEMA)


def empty_time() -> pl.DataFrame:
    """A time-entry frame with no rows."""
    return pl.DataFrame(schema=TIME_SCHEMA)
