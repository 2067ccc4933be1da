"""Tickets no PSA holds — requests that came by e-mail to a support mailbox, tickets imported
from another PSA's export — keep their notes and replies in deskhand.

``KeptNotesPsa`` is the tenant's PSA as a ticket's steps see it: a ticket of the PSA goes to
the PSA, unchanged; a ticket outside it is answered from deskhand's own database, where its
internal notes (and the record of each reply sent by e-mail) are kept as ``ticket_notes``. So
the same steps — an internal note, a reply — work for both, the executor reads a kept note back
exactly as it reads a PSA comment, and a reply is never a comment nobody receives: the binding
check refuses a reply on such a ticket unless the tenant's mail goes out by SMTP.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.connectors.capabilities import TicketStatus
from deskhand.connectors.errors import ForbiddenError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.connectors.psa import Psa
from deskhand.domain.directory import KEPT_NOTE, PsaComment, PsaContact, PsaTicket, PsaTimeEntry
from deskhand.domain.origin import Outside, outside_psa
from deskhand.store.db import Database
from deskhand.store.models import Ticket, TicketNote

SYSTEM = "deskhand"
KEPT_PREFIX = "DH-"  # before a kept ticket's number: "[#DH-42]" in the subject of its replies


def number_of(ticket_id: int) -> str:
    """The ticket number a kept ticket's replies carry in their subject: "[#DH-42]" is deskhand's
    ticket 42, never mistaken for a PSA's number."""
    return f"{KEPT_PREFIX}{ticket_id}"


class KeptNotesPsa:
    """The tenant's PSA, with deskhand standing in for it on tickets the PSA does not have."""

    def __init__(self, psa: Psa, db: Database, tenant_id: str) -> None:
        self.psa = psa
        self.db = db
        self.tenant_id = tenant_id

    def create_ticket(self, contact_email: str, subject: str, body: str) -> PsaTicket:
        return self.psa.create_ticket(contact_email, subject, body)

    def outside(self, ticket_id: str) -> Outside | None:
        """Why no PSA holds the tenant's ticket ``ticket_id`` (its origin, as stored); None for
        a ticket of the PSA, or one deskhand does not have."""
        with self.db.reading() as session:
            found = session.execute(
                select(Ticket.origin, Ticket.exported_from).where(
                    Ticket.tenant_id == self.tenant_id, Ticket.psa_ticket_id == ticket_id
                )
            ).one_or_none()
        return None if found is None else outside_psa(found.origin, found.exported_from)

    def get_ticket(self, ticket_id: str) -> PsaTicket:
        if self.outside(ticket_id) is None:
            return self.psa.get_ticket(ticket_id)
        with self.db.reading() as session:
            ticket = self._ticket(session, ticket_id)
            return PsaTicket(
                id=ticket.psa_ticket_id,
                number=number_of(ticket.id),
                customer_id=self.tenant_id,
                contact_email=ticket.requester.email,
                subject=ticket.subject,
                body=ticket.body,
                status=ticket.status,
                message_id=ticket.message_id,
            )

    def add_comment(self, ticket_id: str, subject: str, body: str, hidden: bool) -> PsaComment:
        if self.outside(ticket_id) is None:
            return self.psa.add_comment(ticket_id, subject, body, hidden)
        if not hidden:  # fail closed: the binding check refuses such a reply before this
            raise NotFoundError(
                f"ticket {ticket_id} is in no PSA: a reply written on it would reach no one",
                system=SYSTEM,
                fix="send the reply by e-mail: give the tenant a `mail:` section with kind smtp",
            )
        with self.db.session() as session:
            ticket = self._ticket(session, ticket_id)
            note = TicketNote(
                tenant_id=self.tenant_id,
                ticket_id=ticket.id,
                subject=subject,
                body=body,
                hidden=hidden,
            )
            session.add(note)
            session.flush()
            return _comment(note, ticket_id)

    def list_comments(self, ticket_id: str) -> list[PsaComment]:
        if self.outside(ticket_id) is None:
            return self.psa.list_comments(ticket_id)
        with self.db.reading() as session:
            ticket = self._ticket(session, ticket_id)
            notes = session.scalars(
                select(TicketNote).where(TicketNote.ticket_id == ticket.id).order_by(TicketNote.id)
            )
            return [_comment(note, ticket_id) for note in notes]

    def contacts(self) -> list[PsaContact]:
        return self.psa.contacts()

    @property
    def settings(self) -> object:
        """The PSA's own settings (its status map among them), when it has any."""
        return getattr(self.psa, "settings", None)

    def update_status(self, ticket_id: str, status: str) -> PsaTicket:
        """The PSA's status of a ticket it holds; a ticket no PSA holds has none to set."""
        self._in_psa(ticket_id, "set the status of")
        if not isinstance(self.psa, TicketStatus):
            raise ForbiddenError(
                f"the tenant's PSA connector ({type(self.psa).__name__}) cannot set a ticket's "
                "status (capability psa.status)",
                system=SYSTEM,
            )
        return self.psa.update_status(ticket_id, status)

    # Time is only ever logged in the PSA, on the client's invoice: never kept in deskhand.
    def log_time(self, ticket_id: str, minutes: int, notes: str, billable: bool) -> PsaTimeEntry:
        self._in_psa(ticket_id, "log time on")
        return self.psa.log_time(ticket_id, minutes, notes, billable)

    def time_entries(self, ticket_id: str) -> list[PsaTimeEntry]:
        self._in_psa(ticket_id, "read the time logged on")
        return self.psa.time_entries(ticket_id)

    def _in_psa(self, ticket_id: str, what: str) -> None:
        if (outside := self.outside(ticket_id)) is not None:
            raise NotFoundError(
                f"ticket {ticket_id} {outside.why}: no PSA holds it to {what}",
                system=SYSTEM,
                fix="log the time by hand where the client is billed",
            )

    def _ticket(self, session: Session, ticket_id: str) -> Ticket:
        ticket = session.scalar(
            select(Ticket).where(
                Ticket.tenant_id == self.tenant_id, Ticket.psa_ticket_id == ticket_id
            )
        )
        if ticket is None:
            raise NotFoundError(
                f"deskhand has no ticket {ticket_id} for tenant {self.tenant_id}",
                system=SYSTEM,
                status=404,
            )
        return ticket


def _comment(note: TicketNote, ticket_id: str) -> PsaComment:
    return PsaComment(
        id=f"{KEPT_NOTE}{note.id}",
        ticket_id=ticket_id,
        subject=note.subject,
        body=note.body,
        hidden=note.hidden,
        created_at=note.created_at,
    )


def with_kept_notes(connectors: Connectors, db: Database) -> Connectors:
    """``connectors`` whose PSA keeps the notes of tickets outside it in ``db``."""
    psa: Psa = KeptNotesPsa(connectors.psa, db, connectors.tenant_id)
    return replace(connectors, psa=psa)
