"""A date a ticket names, as triage read it (``deskhand.triage.dates`` finds them) and as a
specialist is shown it in its plan context."""

from __future__ import annotations

from datetime import date, time

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
