"""Dates in a person's words: a date a ticket names, as triage read it
(``deskhand.triage.dates`` finds them) and as a specialist is shown it in its plan context; and
``readable``, the one way a moment is written for a person — pages, the CLI, notifications
(machine formats, the API and the event log's payloads, keep ISO 8601)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pydantic import BaseModel, ConfigDict


class DateMention(BaseModel):
    """A date (and maybe a time) the ticket names: as written, and the day it means."""

    model_config = ConfigDict(frozen=True)

    text: str
    on: date
    at: time | None = None

    def describe(self) -> str:
        """ "from Monday → Mon 30 Nov 2026" — what was written and what deskhand read."""
        when = self.on.strftime("%a %d %b %Y")
        if self.at is not None:
            when += f" {self.at:%H:%M}"
        return f"{self.text} → {when}"


def readable(moment: datetime | str | None) -> str:
    """ "7 Dec 2026 20:19 UTC": a moment (or an ISO 8601 string of one, as events keep them)
    as a person reads it, in UTC; "" for none. A string that is not ISO 8601 is returned as is."""
    if not moment:
        return ""
    if isinstance(moment, str):
        try:
            at = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    else:
        at = moment
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return f"{at.day} {at:%b %Y %H:%M} UTC"
