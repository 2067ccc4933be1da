"""Tickets coming in: opened in (or read from) the tenant's PSA, stored, and queued for a
worker. The tenant is always the intake's — never something the ticket's text says."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from deskhand.domain.directory import PsaContact
from deskhand.engine import state
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.store.models import Tenant


@dataclass(frozen=True)
class Received:
    ticket_id: int
    run_id: int
    psa_ticket_id: str


def add_ticket(
    rt: Runtime, tenant_id: str, requester: str, subject: str, body: str, name: str = ""
) -> Received:
    """Open a ticket in the tenant's PSA for ``requester`` and queue it."""
    if "@" not in requester:
        raise InputError(f"{requester!r} is not an e-mail address.", hint="Use --from EMAIL.")
    if not subject.strip() and not body.strip():
        raise InputError("A ticket needs a subject or a body.")
    with rt.db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            known = ", ".join(session.scalars(select(Tenant.id).order_by(Tenant.id)))
            raise InputError(
                f"No tenant {tenant_id!r}.", hint=f"Tenants: {known or 'none (run deskhand demo)'}."
            )
    psa = rt.connectors(tenant).psa
    # The name the ticket came with (From: "Name", else the PSA contact's): identity compares it
    # with the directory. A name made up from the address is only for greeting the requester.
    shown = name.strip() or _name_for(psa.contacts(), requester)
    display = shown or requester.split("@")[0].replace(".", " ").title()
    psa_ticket = psa.create_ticket(requester, subject, body)
    with rt.db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        ticket, run = state.receive_ticket(
            session,
            tenant,
            requester_email=requester,
            requester_name=display,
            psa_ticket_id=psa_ticket.id,
            subject=subject,
            body=body,
            display_name=shown,
        )
        return Received(ticket.id, run.id, psa_ticket.id)


def _name_for(contacts: list[PsaContact], requester: str) -> str:
    for contact in contacts:
        if contact.email.lower() == requester.lower():
            return contact.name
    return ""
