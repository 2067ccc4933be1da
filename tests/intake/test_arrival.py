"""The one way a ticket is stored: ``receive`` takes an ``Arrival`` from any intake path, with
where it came from, and stores the ticket with its origin; the requester is greeted by the name
they came with, or one made from their address. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from deskhand.domain.origin import TicketOrigin
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.intake.arrival import Arrival, add_ticket, greeting_name, receive
from deskhand.store.models import Tenant, Ticket

CONTOSO = "contoso-dental"
LISA = "lisa.chen@contosodental.example"


def test_a_ticket_added_by_hand_is_opened_in_the_psa_and_is_the_psas(rt: Runtime) -> None:
    added = add_ticket(rt, CONTOSO, LISA, "Printer", "It jams")
    with rt.db.reading() as session:
        ticket = session.get(Ticket, added.ticket_id)
        assert ticket is not None
        assert (ticket.psa_ticket_id, ticket.origin, ticket.exported_from) == (
            added.psa_ticket_id,
            "psa",
            None,
        )


def test_receive_stores_the_origin_the_arrival_says_whatever_its_id_looks_like(
    rt: Runtime,
) -> None:
    arrivals = [
        Arrival(LISA, "1042", "Mailed", "Hi", TicketOrigin.MAILBOX),
        Arrival(LISA, "imap:<x@y>", "Polled", "Hi", TicketOrigin.PSA),
        Arrival(LISA, "7", "Imported", "Hi", TicketOrigin.EXPORT, "HaloPSA"),
    ]
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        stored = [receive(session, tenant, arrival)[0] for arrival in arrivals]
        origins = [(t.origin, t.exported_from) for t in stored]
    assert origins == [("mailbox", None), ("psa", None), ("export", "HaloPSA")]


def test_the_greeting_name_is_the_one_it_came_with_else_made_from_the_address() -> None:
    assert greeting_name("dana.reyes@contoso.example", "Dana R.") == "Dana R."
    assert greeting_name("dana.reyes@contoso.example") == "Dana Reyes"
    assert greeting_name("dana.reyes@contoso.example", "") == "Dana Reyes"


def test_an_arrival_kept_in_the_quarantine_reads_back_with_its_origin() -> None:
    arrival = Arrival(
        LISA, "connectwise:9", "Hi", "Body", TicketOrigin.EXPORT, "ConnectWise Manage"
    )
    assert Arrival.from_content(json.loads(arrival.content())) == arrival
    for unknown in ({"origin": "fax"}, {"origin": None}, {"priority": "high"}):
        with pytest.raises(InputError, match="not an arrival"):
            Arrival.from_content({**json.loads(arrival.content()), **unknown})
