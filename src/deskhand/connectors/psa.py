"""The PSA connector interface: tickets, their notes and logged time, and the client's contacts.
Implemented by the sandbox and by the Syncro client; tests/connectors/contract/test_psa.py holds
both to what is promised here."""

from __future__ import annotations

from typing import Protocol

from deskhand.domain.directory import PsaComment, PsaContact, PsaTicket, PsaTimeEntry


class Psa(Protocol):
    """One client's view of the MSP's PSA. Raises ``deskhand.connectors.errors`` only."""

    def create_ticket(self, contact_email: str, subject: str, body: str) -> PsaTicket:
        """Open a ticket for this client (tickets usually arrive from the PSA itself), status
        "New"; ``body`` becomes its first, public comment. ConflictError for a blank subject."""
        ...

    def get_ticket(self, ticket_id: str) -> PsaTicket:
        """NotFoundError for a ticket that is not there or is another client's."""
        ...

    def add_comment(self, ticket_id: str, subject: str, body: str, hidden: bool) -> PsaComment:
        """An internal note (hidden) or a public reply the client receives; ConflictError for
        a blank subject or body."""
        ...

    def list_comments(self, ticket_id: str) -> list[PsaComment]:
        """The ticket's comments, oldest first, the request itself the first of them."""
        ...

    def contacts(self) -> list[PsaContact]:
        """The client's contacts, with who is authorised to request changes for others."""
        ...

    def log_time(self, ticket_id: str, minutes: int, notes: str, billable: bool) -> PsaTimeEntry:
        """Technician time on the ticket, ending now: labour on the client's invoice if
        ``billable``. ``minutes`` must be positive (ValueError, and nothing sent, otherwise)."""
        ...

    def time_entries(self, ticket_id: str) -> list[PsaTimeEntry]:
        """The time logged on the ticket, oldest first."""
        ...
