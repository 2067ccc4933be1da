"""Technician minutes per ticket: summed from logged time entries when there are any, otherwise
a proxy from opened and resolved times (wall-clock, or clipped to business hours)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from deskhand.errors import UsageError
from deskhand.history.quality import Ledger
from deskhand.history.schema import join_key

DAY_MINUTES = 24 * 60
# Ticket numbers are summed by their offset from the lowest when they span at most this many
# times as many numbers as there are tickets (the offsets' array stays small).
DENSE_SPAN = 8
CLOSED_STATUS = r"(?i)resol|clos|complet|invoic|cancel|done"


@dataclass(frozen=True)
class BusinessHours:
    """Working time on weekdays, as minutes after midnight in the analysis time zone."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        """``08:00-18:00`` -> BusinessHours(480, 1080)."""
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        if match is None:
            raise UsageError(
                f"--business-hours {text!r} is not HH:MM-HH:MM.", hint="Example: 08:00-18:00"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= start < end <= DAY_MINUTES and m1 < 60 and m2 < 60):
            raise UsageError(f"--business-hours {text!r}: the end must come after the start.")
        return cls(start, end)

    @property
    def label(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def with_logged_minutes(tickets: pl.DataFrame, time: pl.DataFrame, ledger: Ledger) -> pl.DataFrame:
    """``tickets`` with a ``minutes`` column summed from their time entries (0 without any).

    Negative entries are corrections and are subtracted (a ticket's total never goes below
    zero); entries over 24 hours or for a ticket not in ``tickets`` are left out. All of them
    are counted in ``ledger``.
    """
    ledger.add_rows("negative_duration", time.filter(pl.col("minutes") < 0))
    ledger.add_rows("time_entry_over_24h", time.filter(pl.col("minutes") > DAY_MINUTES))
    key = join_key(tickets, time)
    summed = _summed_by_offset(tickets, time, key) or _summed_by_hash(tickets, time, key)
    minutes, unknown, unknown_keys = summed
    # Where they are is looked up for these few tickets only: carrying file names through the
    # sums would double their cost.
    if unknown:
        first = time.filter(pl.col(key).is_in(unknown_keys.implode())).sort("file", "row")
        examples = [f"{f} row {r}" for f, r in first.select("file", "row").head(5).rows()]
        ledger.add("time_entry_unknown_ticket", unknown, examples)
    return tickets.with_columns(minutes.fill_null(0.0).clip(lower_bound=0.0).alias("minutes"))


# Per-ticket sums: each ticket's minutes lined up with ``tickets``, how many usable entries are
# for tickets not in ``tickets``, and those tickets' keys.
Summed = tuple[pl.Series, int, pl.Series]


def _summed_by_hash(tickets: pl.DataFrame, time: pl.DataFrame, key: str) -> Summed:
    """The sums by a group-by on the ticket key, whatever it is."""
    good = pl.col("minutes") <= DAY_MINUTES
    # Summing first makes the joins below work on one row per ticket, not per entry.
    per_ticket = (
        time.lazy()
        .group_by(key)
        .agg(
            pl.when(good).then(pl.col("minutes")).sum().alias("minutes"),
            good.sum().alias("entries"),
        )
        .collect()
    )
    unknown = per_ticket.join(tickets.select(key), on=key, how="anti")
    unknown = unknown.filter(pl.col("entries") > 0)
    # The sums are lined up with the tickets, not joined onto them: a join would copy every
    # column of a million tickets, their texts included.
    minutes = (
        tickets.select(key)
        .join(per_ticket.select(key, "minutes"), on=key, how="left", maintain_order="left")
        .get_column("minutes")
    )
    return minutes, int(unknown.get_column("entries").sum()), unknown.get_column(key)


def _summed_by_offset(tickets: pl.DataFrame, time: pl.DataFrame, key: str) -> Summed | None:
    """The sums by each ticket's offset from the lowest ticket number, when the keys are
    integers that lie close together (PSAs number tickets in sequence): one pass of
    ``numpy.bincount`` instead of a group-by over a million keys. None when they are not."""
    if tickets.height == 0 or not tickets.schema[key].is_integer():
        return None
    import numpy as np  # imported while the files were read

    ids = tickets.get_column(key).to_numpy()
    low = int(ids.min())
    span = int(ids.max()) - low + 1
    if span > DENSE_SPAN * tickets.height or span >= 2**32 - 1:
        return None
    # Offset ``span`` stands for "no such ticket": entries below or above every ticket land there,
    # and so do the unusable ones (an unreadable number, over 24 hours), so that the minutes are
    # summed as they are, with no filtered or weighted copy. Polars computes the offsets (in
    # parallel, and in its own memory, which the import has just freed plenty of).
    entry = pl.col(key)
    usable = pl.col("minutes") <= DAY_MINUTES  # null (unreadable) is not
    columns = time.select(
        pl.when(entry.is_between(low, low + span - 1) & usable.fill_null(False))
        .then(entry - low)
        .otherwise(span)
        .cast(pl.UInt32)
        .alias("offset"),
        pl.col("minutes").fill_null(0.0).fill_nan(0.0),
        usable.fill_null(False).alias("usable"),
    )
    offset = columns.get_column("offset").to_numpy()
    sums = np.bincount(offset, weights=columns.get_column("minutes").to_numpy(), minlength=span + 1)
    known = np.zeros(span + 1, dtype=bool)
    known[ids - low] = True
    unknown = columns.get_column("usable").to_numpy() & ~known[offset]
    entry_keys = time.get_column(key).to_numpy()
    unknown_keys = pl.Series(key, np.unique(entry_keys[unknown]), dtype=tickets.schema[key])
    return pl.Series("minutes", sums[ids - low]), int(unknown.sum()), unknown_keys


def without_time(tickets: pl.DataFrame) -> pl.Expr:
    """Whether a ticket of ``tickets`` is resolved or closed and has 0 logged minutes. Each
    distinct status is read once: a million tickets hold a handful."""
    statuses = tickets.get_column("status").unique().drop_nulls()
    closed_statuses = statuses.filter(statuses.str.contains(CLOSED_STATUS))
    closed = pl.col("resolved_at").is_not_null() | pl.col("status").is_in(
        closed_statuses.implode()
    ).fill_null(False)
    return closed & (pl.col("minutes") == 0)


def elapsed_minutes() -> pl.Expr:
    """Wall-clock minutes from opened to resolved (null when unresolved)."""
    return (pl.col("resolved_at") - pl.col("opened_at")).dt.total_seconds() / 60


def business_minutes(tz: str, hours: BusinessHours) -> pl.Expr:
    """Minutes between opened and resolved that fall inside business hours on weekdays.

    Public holidays are not known and count as working days.
    """
    opened = pl.col("opened_at").dt.convert_time_zone(tz).dt.replace_time_zone(None)
    resolved = pl.col("resolved_at").dt.convert_time_zone(tz).dt.replace_time_zone(None)
    day0, day1 = opened.dt.date(), resolved.dt.date()
    minute0 = _minute_of_day(opened)
    minute1 = _minute_of_day(resolved)
    span = hours.end - hours.start
    workday0 = opened.dt.weekday() <= 5
    workday1 = resolved.dt.weekday() <= 5

    def overlap(start: pl.Expr, end: pl.Expr) -> pl.Expr:
        lo = pl.max_horizontal(start, pl.lit(hours.start))
        hi = pl.min_horizontal(end, pl.lit(hours.end))
        return pl.max_horizontal(hi - lo, pl.lit(0.0))

    same_day = pl.when(workday0).then(overlap(minute0, minute1)).otherwise(0.0)
    first = pl.when(workday0).then(overlap(minute0, pl.lit(float(DAY_MINUTES)))).otherwise(0.0)
    last = pl.when(workday1).then(overlap(pl.lit(0.0), minute1)).otherwise(0.0)
    between = pl.business_day_count(day0.dt.offset_by("1d"), day1).clip(lower_bound=0) * span
    return (
        pl.when(pl.col("resolved_at").is_null())
        .then(None)
        .when(day0 == day1)
        .then(same_day)
        .otherwise(first + last + between.cast(pl.Float64))
    )


def _minute_of_day(moment: pl.Expr) -> pl.Expr:
    return (
        moment.dt.hour().cast(pl.Float64) * 60
        + moment.dt.minute().cast(pl.Float64)
        + moment.dt.second().cast(pl.Float64) / 60
    )
