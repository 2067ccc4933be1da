"""The ticket page of a ticket no PSA holds shows the notes deskhand keeps for it, not an error
about a PSA that does not have the ticket."""

from __future__ import annotations

from fastapi.testclient import TestClient

from deskhand.domain.origin import TicketOrigin
from deskhand.engine import state
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.store.models import Tenant


def test_a_mailed_tickets_page_shows_the_notes_kept_in_deskhand(
    web_rt: Runtime, signed_in: tuple[TestClient, str]
) -> None:
    with web_rt.db.session() as session:
        tenant = session.get(Tenant, "contoso-dental")
        assert tenant is not None
        ticket, _ = state.receive_ticket(
            session,
            tenant,
            requester_email="lisa.chen@contosodental.example",
            requester_name="Lisa Chen",
            psa_ticket_id="imap:<pw@mail.contosodental.example>",
            subject="Forgot my password",
            body="Please reset it.",
            origin=TicketOrigin.MAILBOX,
            message_id="<pw@mail.contosodental.example>",
        )
        ticket_id = ticket.id
    Worker(web_rt, "w").run_once()  # the demo tenant sends no e-mail: it escalates
    client, _ = signed_in

    page = client.get(f"/tickets/{ticket_id}").text

    assert "Notes kept in deskhand" in page
    assert "arrived by e-mail in the tenant&#39;s support mailbox" in page
    assert "deskhand escalated this ticket" in page  # the escalation's note, kept
    assert "could not be read" not in page
    assert "Notes on the PSA ticket" in client.get("/tickets/1").text
