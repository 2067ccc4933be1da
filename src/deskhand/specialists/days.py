"""Which later day a lifecycle ticket means — a leaver's last day, a starter's first — and the
question to ask when it names more than one. Shared by the offboarding and onboarding
specialists.

The days are those the ticket names after the day it arrived (in the tenant's time zone).
When the requester was asked and answered, the days their latest answer names settle it: "Friday"
in the answer picks Friday out of "Friday or Monday?".
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from deskhand.domain.answers import latest_answer
from deskhand.domain.dates import DateMention
from deskhand.specialists.contract import PlanContext, TicketView


def later_days(ticket: TicketView, context: PlanContext) -> list[DateMention]:
    """The days after today the ticket names, narrowed to those of the requester's latest
    answer when it names exactly one of them; in the order written."""
    if ticket.received_at is None:
        return []
    today = ticket.received_at.astimezone(ZoneInfo(context.tenant.time_zone)).date()
    later = [d for d in context.dates if d.on > today]
    answer = latest_answer(ticket.body)
    if answer is not None:
        said = answer.casefold()
        chosen = [d for d in later if d.text.casefold() in said]
        if len({d.on for d in chosen}) == 1:
            return chosen
    return later


def several(days: list[DateMention]) -> bool:
    """More than one distinct day: which one is meant must be asked."""
    return len({d.on for d in days}) > 1


def which_day(days: list[DateMention], what: str) -> str:
    """ "Which day is Marcus Lee's last day: Friday 11 December or Monday 14 December?" """
    seen: dict[date, DateMention] = {}
    for day in days:
        seen.setdefault(day.on, day)
    shown = [f"{d.on:%A} {d.on.day} {d.on:%B %Y}" for d in seen.values()]
    choices = ", ".join(shown[:-1]) + f" or {shown[-1]}"
    return f"Which day is {what}: {choices}?"
