"""The display name a ticket came with is kept per ticket and checked against the directory:
an address that wrote before under its own name, writing now under another, needs a call-back.
On SQLite and on PostgreSQL."""

from __future__ import annotations

from tests.engine.test_flow import CONTOSO, KAREN, LISA, drafts, work

from deskhand.engine.runtime import Runtime
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Ticket

FORGOT = ("Forgot my password", "I forgot my password, please reset it")


def shown_name(rt: Runtime, ticket_id: int) -> str | None:
    with rt.db.reading() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found.requester_display_name


def verdicts(rt: Runtime, ticket_id: int) -> set[str]:
    return {d.requester_check.get("verdict", "") for d in drafts(rt, ticket_id)}


def test_intake_keeps_the_name_the_ticket_came_with(rt: Runtime) -> None:
    given = add_ticket(rt, CONTOSO, LISA, *FORGOT, name="Lisa Chen").ticket_id
    contact = add_ticket(rt, CONTOSO, KAREN, *FORGOT).ticket_id  # the PSA contact's name
    unknown = add_ticket(rt, CONTOSO, "new.person@contosodental.example", *FORGOT).ticket_id
    assert shown_name(rt, given) == "Lisa Chen"
    assert shown_name(rt, contact) == "Karen Whitfield"
    assert shown_name(rt, unknown) is None  # "New Person" made from the address is no evidence


def test_a_second_ticket_under_another_name_needs_verification(rt: Runtime) -> None:
    first = add_ticket(rt, CONTOSO, LISA, *FORGOT, name="Chen, Lisa").ticket_id
    second = add_ticket(rt, CONTOSO, LISA, *FORGOT, name="Priya Raman").ticket_id
    work(rt)
    work(rt)
    assert verdicts(rt, first) == {"target"}
    assert verdicts(rt, second) == {"needs_verification"}
    [check] = {str(d.requester_check["detail"]) for d in drafts(rt, second)}
    assert "the display name 'Priya Raman' is not the one on record ('Lisa Chen')" in check


def test_a_name_that_differs_only_in_accents_is_the_same_person(rt: Runtime) -> None:
    ticket_id = add_ticket(rt, CONTOSO, LISA, *FORGOT, name="LÍSA CHÉN").ticket_id
    work(rt)
    assert verdicts(rt, ticket_id) == {"target"}
