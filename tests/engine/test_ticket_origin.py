"""Whether a PSA holds a ticket is its stored origin, never a guess from its PSA ticket id: the
kept notes, the binding of a step and the time entry read the column. On SQLite and PostgreSQL."""

from __future__ import annotations

from deskhand.domain.origin import TicketOrigin
from deskhand.engine import state
from deskhand.engine.binding import TicketRef
from deskhand.engine.kept_notes import KeptNotesPsa
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Tenant

CONTOSO = "contoso-dental"


def test_a_psa_holds_a_ticket_by_its_stored_origin_not_by_what_its_id_looks_like(
    rt: Runtime,
) -> None:
    stored = {
        "1042": (TicketOrigin.MAILBOX, None),  # a mailed request whose key looks like a number
        "imap:<x@y>": (TicketOrigin.PSA, None),
        "connectwise:5": (TicketOrigin.PSA, None),
        "halo:6": (TicketOrigin.EXPORT, "HaloPSA"),
    }
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        refs = {}
        for psa_ticket_id, (origin, exported_from) in stored.items():
            ticket, _ = state.receive_ticket(
                session,
                tenant,
                requester_email="lisa.chen@contosodental.example",
                requester_name="Lisa Chen",
                psa_ticket_id=psa_ticket_id,
                subject="Hi",
                body="Hi",
                origin=origin,
                exported_from=exported_from,
            )
            refs[psa_ticket_id] = TicketRef.of(ticket).outside
    psa = rt.ticket_connectors(tenant).psa
    assert isinstance(psa, KeptNotesPsa)
    kept = {psa_ticket_id: psa.outside(psa_ticket_id) for psa_ticket_id in stored}

    assert kept == refs
    assert {psa_ticket_id for psa_ticket_id, outside in kept.items() if outside} == {
        "1042",
        "halo:6",
    }
    assert kept["halo:6"] is not None and kept["halo:6"].answer_in == "HaloPSA"
    assert psa.outside("9999") is None  # a ticket deskhand does not have is the PSA's
