"""Reading the dates PSA exports write: ISO, US (month first) and day-first, with or without a
time zone.

Day-first is decided from the data when the data proves it (a first field above 12), from
``--dayfirst`` when given, and otherwise month-first with a note saying the data was ambiguous.
Naive times are read in the ``--tz`` zone; everything is returned in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from deskhand.errors import UsageError
from deskhand.history.schema import UTC_DATETIME

Order = Literal["iso", "month_first", "day_first"]

# Rewrites applied before parsing, each only when a sample shows it is needed; each pattern
# matches only text it changes, so a no-op never costs a pass over millions of rows.
_NORMALISERS: tuple[tuple[str, str], ...] = (
    (r"^(\d{1,2})[.-](\d{1,2})[.-](\d{4})", "${1}/${2}/${3}"),
    (r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2})(\D|$)", "${1}/${2}/20${3}${4}"),
    (r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", "${1}-${2}-${3}"),
    (r"^(\d{4}-\d{1,2}-\d{1,2})T", "${1} "),
    (r"(?i)\s*(?:Z|UTC|GMT)$", "+00:00"),
    (r"\s+([+-]\d{2}:?\d{2})$", "${1}"),
)

_ISO_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M%z",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_SLASH_TIMES = (
    " %I:%M:%S %p",
    " %I:%M %p",
    " %H:%M:%S%.f%z",
    " %H:%M:%S%.f",
    " %H:%M",
    "",
)
_SLASH_DATE = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}")
SAMPLE_SIZE = 2000
# The characters of a date's text (leading spaces aside) that ``_SLASH_DATE`` looks at: two
# fields, their separators and the first digits of the year, "12/31/2026".
DATE_HEAD = 10


@dataclass(frozen=True)
class DateOrder:
    """Which order was used for dates like 03/04/2026, and why."""

    order: Order
    evidence: str


def check_timezone(tz: str) -> str:
    """``tz`` if it names an IANA time zone; a usage error otherwise."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"Unknown time zone {tz!r}.", hint="Use an IANA name such as Europe/London or UTC."
        ) from None
    return tz


def detect_order(columns: Sequence[pl.Series], dayfirst: bool | None) -> DateOrder:
    """Decide day-first or month-first for the slash-style dates in ``columns``."""
    firsts: list[pl.Series] = []
    seconds: list[pl.Series] = []
    values: list[pl.Series] = []
    beginnings: list[pl.Series] = []
    for column in (c.unique() for c in columns):  # proof is in the distinct values alone
        # ... and in their first characters (``DATE_HEAD``), which a million times share among a
        # few hundred days: each distinct beginning is matched once.
        head = column.str.strip_chars_start().str.slice(0, DATE_HEAD)
        heads = head.unique()
        parts = heads.str.extract_groups(_SLASH_DATE.pattern)
        keep = parts.struct.field("1").is_not_null()
        fields = pl.DataFrame(
            {
                "head": heads.filter(keep),
                "first": parts.struct.field("1").filter(keep).cast(pl.Int32),
                "second": parts.struct.field("2").filter(keep).cast(pl.Int32),
            }
        )
        # Each distinct value with its beginning's fields: the counts and examples below are of
        # values, as before.
        matched = pl.DataFrame({"value": column, "head": head}).join(fields, on="head")
        firsts.append(matched.get_column("first"))
        seconds.append(matched.get_column("second"))
        values.append(matched.get_column("value"))
        beginnings.append(matched.get_column("head"))
    first = pl.concat(firsts) if firsts else pl.Series(dtype=pl.Int32)
    second = pl.concat(seconds) if seconds else pl.Series(dtype=pl.Int32)
    value = pl.concat(values) if values else pl.Series(dtype=pl.String)
    head = pl.concat(beginnings) if beginnings else pl.Series(dtype=pl.String)
    if dayfirst is not None:
        order: Order = "day_first" if dayfirst else "month_first"
        words = "day first (--dayfirst given)" if dayfirst else "month first (--no-dayfirst given)"
        return DateOrder(order, words)
    if first.len() == 0:
        return DateOrder("iso", "year first (ISO)")
    day_first_rows = int((first > 12).sum())
    month_first_rows = int((second > 12).sum())
    # The example is the lowest in text order: one a second run names too (distinct values come
    # in no set order).
    if day_first_rows and not month_first_rows:
        example = value.filter(first > 12).min()
        return DateOrder(
            "day_first", f"day first, detected: {example!r} has a first field above 12"
        )
    if month_first_rows and not day_first_rows:
        example = value.filter(second > 12).min()
        return DateOrder(
            "month_first", f"month first, detected: {example!r} has a second field above 12"
        )
    if day_first_rows and month_first_rows:
        order = "day_first" if day_first_rows > month_first_rows else "month_first"
        return DateOrder(
            order,
            f"mixed: {day_first_rows:,} dates look day-first and {month_first_rows:,} month-first; "
            f"read {order.replace('_', ' ')}, the others count as unparseable",
        )
    if head.str.contains(r"^\d{1,2}\.\d{1,2}\.").any():
        return DateOrder("day_first", "day first: ambiguous (no field above 12), dotted dates")
    return DateOrder(
        "month_first",
        "month first: ambiguous (no field above 12) — pass --dayfirst if your PSA writes day/month",
    )


def parse_datetimes(values: pl.Series, order: DateOrder, tz: str) -> pl.Series:
    """Parse text into UTC datetimes; null where empty or unreadable."""
    text = values.to_frame().select(pl.first().str.strip_chars().replace("", None)).to_series()
    sample = text.drop_nulls().unique().head(SAMPLE_SIZE)
    if sample.len() == 0:
        return pl.Series(values.name, [None] * values.len(), dtype=UTC_DATETIME)
    for pattern, replacement in _NORMALISERS:
        if sample.str.contains(pattern).any():
            text = text.str.replace(pattern, replacement)
            sample = sample.str.replace(pattern, replacement)
    result = pl.Series(values.name, [None] * values.len(), dtype=UTC_DATETIME)
    for fmt in _formats_for(sample, order):
        missing = result.is_null() & text.is_not_null()
        if not missing.any():
            break
        if missing.all():
            result = _parse(text, fmt, tz)
        else:  # later formats only read what the earlier ones could not
            result = result.scatter(missing.arg_true(), _parse(text.filter(missing), fmt, tz))
    # A year outside this range is a misread (a two-digit year, a serial number), not history.
    sane = result.dt.year().is_between(1990, 2100)
    return result.set(~sane, None).rename(values.name)


def _formats_for(sample: pl.Series, order: DateOrder) -> list[str]:
    """The candidate formats that read at least one sampled value, most useful first."""
    date_part = "%d/%m/%Y" if order.order == "day_first" else "%m/%d/%Y"
    candidates = [*_ISO_FORMATS, *(date_part + time for time in _SLASH_TIMES)]
    hits: list[tuple[int, int, str]] = []
    for index, fmt in enumerate(candidates):
        matched = sample.str.to_datetime(fmt, strict=False).is_not_null().sum()
        if matched:
            hits.append((-int(matched), index, fmt))
    return [fmt for _, _, fmt in sorted(hits)]


def _parse(text: pl.Series, fmt: str, tz: str) -> pl.Series:
    # As a frame expression Polars parses in parallel; the Series method does not.
    parsed = pl.first().str.to_datetime(fmt, strict=False, time_unit="us", cache=False)
    if "%z" not in fmt:
        parsed = parsed.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return text.to_frame().select(parsed.dt.convert_time_zone("UTC")).to_series().rename(fmt)


def parse_bound(value: str, tz: str, *, end_of_day: bool = False) -> datetime:
    """A ``--since`` / ``--until`` value (ISO date or datetime) as an aware UTC datetime."""
    text = value.strip()
    if end_of_day and re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        text += " 23:59:59.999999"
    parsed = parse_datetimes(pl.Series([text]), DateOrder("iso", "option"), tz).item(0)
    if not isinstance(parsed, datetime):
        raise UsageError(f"Cannot read the date {value!r}.", hint="Use YYYY-MM-DD.")
    return parsed
