"""Tickets coming in: opened in (or read from) the tenant's PSA, stored, and queued for a
worker. The tenant is always the intake's — never something the ticket's text says.

Every intake path — the support mailbox, the Syncro poller, export imports, ``tickets add``,
a quarantined item taken again — hands its ticket to ``receive`` as an ``Arrival`` that says
where it came from (``TicketOrigin``): the text is cleaned there, the same way for all of them
(``deskhand.domain.text``: NUL, control characters and lone surrogates gone, bytes Python could
not decode read as UTF-8 or Windows-1252), and what cannot be a ticket even then is refused with
the reason, for the intake to quarantine (``deskhand.intake.quarantine``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.domain import text
from deskhand.domain.directory import PsaContact
from deskhand.domain.origin import TicketOrigin
from deskhand.engine import state
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError, InputError
from deskhand.intake import quarantine
from deskhand.store.models import Run, Tenant, Ticket

MAX_ADDRESS = 254  # the longest address SMTP can deliver to (RFC 5321)
MAX_NAME = 200  # requesters.name
SOURCE = "cli"  # a ticket added by hand (``deskhand tickets add``), for the quarantine


@dataclass(frozen=True)
class Arrival:
    """A ticket as an intake path hands it over, before ``receive`` cleans and stores it."""

    requester_email: str
    psa_ticket_id: str
    subject: str
    body: str
    origin: TicketOrigin
    exported_from: str | None = None  # the PSA of the export it was imported from
    display_name: str | None = None  # the name it came with (From: "Name", the PSA contact's)
    message_id: str | None = None  # the Message-ID of the e-mail a mailed request came as

    def content(self) -> bytes:
        """The arrival as JSON, as the quarantine keeps it (``from_content`` reads it back)."""
        return json.dumps(dataclasses.asdict(self), indent=2).encode()

    @classmethod
    def from_content(cls, fields: dict[str, Any]) -> Arrival:
        """The arrival whose ``content`` was read back as ``fields``; InputError when they are
        not an arrival's."""
        try:
            return cls(**{**fields, "origin": TicketOrigin(fields["origin"])})
        except (KeyError, TypeError, ValueError):
            raise InputError("the kept content is not an arrival as deskhand writes it") from None


@dataclass(frozen=True)
class Received:
    ticket_id: int
    run_id: int
    psa_ticket_id: str


class IntakeError(DeskhandError):
    """A ticket was opened in the PSA but deskhand could not store it; it is in the quarantine."""


def cleaned(arrival: Arrival) -> Arrival:
    """``arrival`` with every text cleaned; ``InputError`` saying why when it cannot be a ticket
    even then (no address, or no subject and no body left)."""
    address = text.line(arrival.requester_email)
    if "@" not in address or " " in address or len(address) > MAX_ADDRESS:
        shown = address if len(address) <= 80 else address[:79] + "…"
        raise InputError(
            f"{shown!r} is not an e-mail address"
            + (f" (it is {len(address)} characters long)" if len(address) > MAX_ADDRESS else ""),
            hint="A ticket needs its requester's e-mail address.",
        )
    subject, body = text.line(arrival.subject), text.clean(arrival.body).strip()
    if not subject and not body:
        raise InputError(
            "A ticket needs a subject or a body.",
            hint="Characters that are not text (NUL, control characters, bytes that are not in "
            "any character set) are removed first; nothing else was left.",
        )
    return dataclasses.replace(
        arrival,
        requester_email=address,
        psa_ticket_id=text.line(arrival.psa_ticket_id),
        subject=subject,
        body=body,
        exported_from=text.line(arrival.exported_from or "") or None,
        display_name=text.line(arrival.display_name or "") or None,
        message_id=text.line(arrival.message_id or "") or None,
    )


def receive(session: Session, tenant: Tenant, arrival: Arrival) -> tuple[Ticket, Run]:
    """Store ``arrival``, cleaned, as the tenant's ticket and queue its first run, in the caller's
    transaction: the one way in for every intake path. Raises ``InputError`` for what cannot be
    a ticket."""
    ticket = cleaned(arrival)
    return state.receive_ticket(
        session,
        tenant,
        requester_email=ticket.requester_email,
        requester_name=greeting_name(ticket.requester_email, ticket.display_name)[:MAX_NAME],
        psa_ticket_id=ticket.psa_ticket_id,
        subject=ticket.subject,
        body=ticket.body,
        origin=ticket.origin,
        exported_from=ticket.exported_from,
        display_name=ticket.display_name,
        message_id=ticket.message_id,
    )


def greeting_name(address: str, display_name: str | None = None) -> str:
    """The name to greet a requester by: the one they came with, else one made up from their
    address ("dana.reyes@…" → "Dana Reyes"). Only for greeting: identity compares the name the
    ticket came with (``display_name``) with the directory, never a made-up one."""
    return display_name or address.split("@")[0].replace(".", " ").title()


def add_ticket(
    rt: Runtime, tenant_id: str, requester: str, subject: str, body: str, name: str = ""
) -> Received:
    """Open a ticket in the tenant's PSA for ``requester`` and queue it. Bad input is refused
    before anything is opened; a ticket the PSA opened but deskhand could not store is
    quarantined (``IntakeError`` says where)."""
    # Checked before the PSA is asked for anything; the PSA's own id is filled in below.
    arrival = cleaned(Arrival(requester, "", subject, body, TicketOrigin.PSA, display_name=name))
    with rt.db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            known = ", ".join(session.scalars(select(Tenant.id).order_by(Tenant.id)))
            raise InputError(
                f"No tenant {tenant_id!r}.", hint=f"Tenants: {known or 'none (run deskhand demo)'}."
            )
    psa = rt.connectors(tenant).psa
    # The name the ticket came with (--name, else the PSA contact's).
    shown = arrival.display_name or contact_name(psa.contacts(), arrival.requester_email)
    psa_ticket = psa.create_ticket(arrival.requester_email, arrival.subject, arrival.body)
    arrival = dataclasses.replace(arrival, psa_ticket_id=psa_ticket.id, display_name=shown or None)
    try:
        with rt.db.session() as session:
            tenant = session.get(Tenant, tenant_id)
            assert tenant is not None
            ticket, run = receive(session, tenant, arrival)
            return Received(ticket.id, run.id, psa_ticket.id)
    except Exception as error:
        if quarantine.transient(error):
            raise
        with rt.db.session() as session:
            item = quarantine.hold(
                session, tenant_id, SOURCE, f"PSA ticket {psa_ticket.id}", error, arrival.content()
            )
        raise IntakeError(
            f"The ticket was opened in the PSA (ticket {psa_ticket.id}) but deskhand could not "
            f"store it: {item.reason}",
            hint=f"It is kept in the quarantine: `deskhand intake quarantine show {item.id}`.",
        ) from None


def contact_name(contacts: list[PsaContact], requester: str) -> str:
    """The name the PSA has for the contact with the requester's address; "" when none."""
    for contact in contacts:
        if contact.email.lower() == requester.lower():
            return contact.name
    return ""
