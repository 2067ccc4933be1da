"""Dates and times a ticket names ("from Monday", "on 3 December", "starting 2026-12-01", "end
of day Friday"), read relative to when the ticket was received.

Deterministic and deliberately small: English day and month names, ISO dates, today, tomorrow,
next week, clock times and end of day. The rules, so that a technician can predict them:

- a weekday ("Monday", "next Monday") is the first such day *after* the day received; "this
  Monday" may be the day received itself;
- a day and month without a year is the occurrence closest to the day received (a ticket of
  24 November that says "3 January" means next year's, "since 20 November" this year's);
- "end of day", "EOD" and "close of business" are 17:00; alone they mean the day received.
- Numeric dates with slashes (3/12) are left out: day-first or month-first cannot be told.

Times are the requester's wall-clock time; the day received is the UTC date of receipt.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from deskhand.domain.dates import DateMention

END_OF_DAY = time(17, 0)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midday)"
_EOD = r"(?:end\s+of\s+(?:the\s+)?(?:business\s+)?day|eod|close\s+of\s+business|cob)"
_PREFIX = (
    r"(?:(?:starting(?:\s+on|\s+from)?|start(?:s|ing)?\s+on|from|on|by|until|till|before|"
    r"after|since|effective(?:\s+from)?|as\s+of|beginning)\s+)?"
)
_DATE = (
    rf"(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})"
    rf"|(?P<dm_day>{_DAY})\s+(?:of\s+)?(?P<dm_month>{_MONTH})\.?(?:,?\s+(?P<dm_year>\d{{4}}))?"
    rf"|(?P<md_month>{_MONTH})\.?\s+(?P<md_day>{_DAY})(?:,?\s+(?P<md_year>\d{{4}}))?"
    rf"|(?:(?P<which>this|next)\s+)?(?P<weekday>{'|'.join(_WEEKDAYS)})"
    r"|(?P<relative>today|tonight|tomorrow|next\s+week)"
)
_MENTION = re.compile(
    rf"(?<![\w-])(?:{_PREFIX}(?:(?P<time_before>{_CLOCK}|{_EOD})\s+(?:on\s+)?)?(?:{_DATE})"
    rf"(?:,?\s+(?:at\s+|by\s+|before\s+)?(?P<time_after>{_CLOCK}|{_EOD})(?![\w:])"
    # "from Monday, by end of day Friday": that time belongs to the next date.
    rf"(?!\s+(?:on\s+)?(?:{'|'.join(_WEEKDAYS)}|today|tomorrow|\d)))?"
    rf"|{_PREFIX}(?P<eod_alone>{_EOD}))(?![\w-])",
    re.IGNORECASE,
)


def find_dates(text: str, received: datetime) -> list[DateMention]:
    """The dates ``text`` names, in the order written; impossible ones (31 February) are left
    out rather than guessed."""
    today = received.date()
    found: list[DateMention] = []
    for match in _MENTION.finditer(text):
        day = _day(match, today)
        if day is None:
            continue
        clock = match.group("time_before") or match.group("time_after") or match.group("eod_alone")
        at = _time(clock) if clock else None
        if clock and at is None:
            continue  # "25:00" is not a time
        written = " ".join(match.group(0).split())
        if not any(m.text == written and m.on == day for m in found):
            found.append(DateMention(text=written, on=day, at=at))
    return found


def _day(match: re.Match[str], today: date) -> date | None:
    parts = match.groupdict()
    if parts["eod_alone"]:
        return today
    if parts["iso"]:
        try:
            return date.fromisoformat(parts["iso"])
        except ValueError:
            return None
    if parts["weekday"]:
        wanted = _WEEKDAYS.index(parts["weekday"].lower())
        ahead = (wanted - today.weekday()) % 7
        if ahead == 0 and (parts["which"] or "").lower() != "this":
            ahead = 7
        return today + timedelta(days=ahead)
    if parts["relative"]:
        word = " ".join(parts["relative"].lower().split())
        if word == "next week":
            return today + timedelta(days=7 - today.weekday())
        return today + timedelta(days=1 if word == "tomorrow" else 0)
    day_text = parts["dm_day"] or parts["md_day"]
    month_text = parts["dm_month"] or parts["md_month"]
    year_text = parts["dm_year"] or parts["md_year"]
    day = int(re.sub(r"\D", "", day_text))
    month = _MONTHS[month_text.lower()]
    if year_text:
        return _date(int(year_text), month, day)
    options = [_date(today.year + shift, month, day) for shift in (-1, 0, 1)]
    valid = [d for d in options if d is not None]
    return min(valid, key=lambda d: (abs((d - today).days), d)) if valid else None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _time(clock: str) -> time | None:
    word = " ".join(clock.lower().replace(".", "").split())
    if re.fullmatch(_EOD, word, re.IGNORECASE):
        return END_OF_DAY
    if word in ("noon", "midday"):
        return time(12, 0)
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", word)
    if match is None:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
