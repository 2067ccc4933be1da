"""What deskhand reads from Syncro beyond the PSA interface: ticket pages for polling, the
time logged on a ticket, and the tenant's customer record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from deskhand.domain.directory import PsaComment, PsaTicket


@dataclass(frozen=True)
class ListedTicket:
    """A ticket as the list shows it, with when Syncro last changed it."""

    ticket: PsaTicket
    updated_at: datetime


@dataclass(frozen=True)
class TicketPage:
    """One page of ``GET /tickets`` (Syncro pages by 25), counted from 1."""

    tickets: list[ListedTicket]
    page: int
    total_pages: int


@dataclass(frozen=True)
class TimerEntry:
    """Time logged on a ticket (a ticket timer)."""

    id: str
    ticket_id: str
    start: datetime
    end: datetime
    notes: str
    billable: bool = False

    @property
    def minutes(self) -> int:
        return round((self.end - self.start).total_seconds() / 60)


@dataclass(frozen=True)
class SyncroCustomer:
    id: str
    name: str
    email: str | None


@dataclass(frozen=True)
class TicketComment:
    """A comment with who wrote it: Syncro fills ``user_id`` for its users (technicians, and
    deskhand's own token) and leaves it empty for what the client sent by e-mail or portal."""

    comment: PsaComment
    by_staff: bool


@dataclass(frozen=True)
class TicketDetail:
    """A ticket with its comments (oldest first) and timers, as ``GET /tickets/{id}`` gives them."""

    ticket: PsaTicket
    updated_at: datetime
    comments: list[TicketComment]
    timers: list[TimerEntry]
