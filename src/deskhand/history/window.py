"""The analysis window: by default the 90 days that end at the newest ticket."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from deskhand.errors import InputError, UsageError
from deskhand.history.days import DEFAULT_DAYS, MAX_DAYS
from deskhand.history.quality import Ledger
from deskhand.history.report import Window


def choose_window(
    opened: pl.Series,
    *,
    days: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Window:
    """The window from the options; the newest ``opened`` date anchors what is not given."""
    if days is not None and not 0 < days <= MAX_DAYS:
        raise UsageError(f"--days {days}: give a number of days from 1 to {MAX_DAYS:,}.")
    if since is not None and until is not None and since > until:
        raise UsageError("--since comes after --until.")
    newest = opened.max()
    if not isinstance(newest, datetime):
        raise InputError(
            "No ticket has a readable opened date, so no window can be chosen.",
            hint="Check the date column, or say which one it is with --map opened_at=COLUMN.",
        )
    try:
        if since is not None and until is not None:
            start, end = since, until
        elif since is not None:
            end = since + timedelta(days=days) if days is not None else max(newest, since)
            start = since
        else:
            end = until if until is not None else newest
            start = end - timedelta(days=days or DEFAULT_DAYS)
    except OverflowError:  # a window reaching past year 1 or 9999
        raise UsageError(
            "The window reaches outside the calendar (before year 1 or after year 9999).",
            hint="Check --since, --until and --days.",
        ) from None
    span = max(1, round((end - start).total_seconds() / 86400))
    return Window(start=start, end=end, days=span)


def within(window: Window) -> pl.Expr:
    """Whether a ticket was opened inside ``window`` (null for one with no opening time)."""
    start, end = _bounds(window)
    return pl.col("opened_at").is_between(start, end)


def _bounds(window: Window) -> tuple[pl.Expr, pl.Expr]:
    start, end = (pl.lit(bound).dt.cast_time_unit("us") for bound in (window.start, window.end))
    return start, end


def apply_window(tickets: pl.DataFrame, window: Window, ledger: Ledger) -> pl.DataFrame:
    """The tickets opened inside ``window``; the others are counted as outside it."""
    opened = tickets.get_column("opened_at")
    dated = tickets
    if opened.has_nulls():  # each filter copies every column: only when it leaves rows out
        ledger.add_rows("missing_opened_at", tickets.filter(pl.col("opened_at").is_null()))
        dated = tickets.filter(pl.col("opened_at").is_not_null())
    start, end = _bounds(window)
    inside = within(window)
    everything = dated.select(
        (pl.col("opened_at").min() >= start).alias("from"),
        (pl.col("opened_at").max() <= end).alias("to"),
    )
    if dated.height and all(everything.row(0)):
        return dated
    ledger.add_rows("outside_window", dated.filter(~inside))
    kept = dated.filter(inside)
    if kept.height == 0:
        raise InputError(
            f"No tickets were opened between {window.start:%Y-%m-%d} and {window.end:%Y-%m-%d}.",
            hint="Widen the window with --days, --since or --until.",
        )
    return kept
