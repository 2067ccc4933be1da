"""The canonical ticket and time-entry tables that every importer produces.

Whatever the PSA, an import ends as two Polars frames with these columns, so everything after
the import (window, minutes, categories, ranking, report) is written once; the import adds
``key``, the column the two are joined on (``with_key``).
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
    "file": pl.Categorical(),  # where the row came from, for data-quality examples
    "row": pl.UInt32(),  # spreadsheet-style row number: the header is row 1
}

TIME_SCHEMA: dict[str, pl.DataType] = {
    "ticket_id": pl.String(),
    "tech": pl.String(),
    "minutes": pl.Float64(),  # null when the row's number could not be read
    "file": pl.Categorical(),
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


# Ids that are integers written plainly ("24001", never "024001", "+24001" or "24001.0") and of
# at most 18 digits: one integer per id, so the tickets and time entries can be joined on
# integers, several times faster than on text.
MAX_ID_DIGITS = 18


def join_key(*frames: pl.DataFrame) -> str:
    """The column ``frames`` are joined on: ``key`` (the ticket id as an integer, or as text when
    some id is not an integer) when the import made one, else ``ticket_id``."""
    return "key" if all("key" in frame.columns for frame in frames) else "ticket_id"


def integer_keys(frame: pl.DataFrame) -> pl.Series | None:
    """``frame``'s ticket ids as integers (``key``) when every id (a missing one aside) is a
    plain integer; None when one is not. One cast and a few tests of the text's first byte and
    length: a regular expression over millions of ids costs several times more."""
    ids = pl.col("ticket_id")
    keys = frame.select(ids, ids.cast(pl.Int64, strict=False).alias("key"))
    key = pl.col("key")
    # The cast reads optional signs and leading zeros as well: "+24001", "-5" and "024001"
    # are not written plainly, and would join ticket 24001, or nothing, by mistake.
    not_plain = ids.is_not_null() & (
        key.is_null()
        | (key <= 0)
        | ids.str.starts_with("0")
        | ids.str.starts_with("+")
        | (ids.str.len_bytes() > MAX_ID_DIGITS)
    )
    if keys.select(not_plain.any()).item():
        return None
    return keys.get_column("key")


def with_key(frame: pl.DataFrame, *, integer: bool) -> pl.DataFrame:
    """``frame`` with a ``key`` column: its ticket ids as integers when ``integer`` (every id in
    every frame it is joined with is a plain integer; an integer ``key`` already there is
    kept), else the ids themselves."""
    if integer and frame.schema.get("key") == pl.Int64:
        return frame
    key = pl.col("ticket_id").cast(pl.Int64) if integer else pl.col("ticket_id")
    return frame.with_columns(key.alias("key"))


def empty_tickets() -> pl.DataFrame:
    """A ticket frame with no rows."""
    return pl.DataFrame(schema=TICKET_SCHEMA)


def empty_time() -> pl.DataFrame:
    """A time-entry frame with no rows."""
    return pl.DataFrame(schema=TIME_SCHEMA)
