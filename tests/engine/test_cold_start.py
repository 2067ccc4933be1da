"""A fresh install, before any triage model is trained: the built-in taxonomy routes clear
tickets and escalates vague ones as low confidence, and the triage event says it decided. On
SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from tests.engine.test_flow import KAREN, LISA, drafts, escalation, status, ticket, work

from deskhand.engine.runtime import Runtime
from deskhand.store.models import EventRecord


def triaged(rt: Runtime, ticket_id: int) -> dict[str, object]:
    with rt.db.reading() as session:
        data = session.scalars(
            select(EventRecord.data).where(
                EventRecord.ticket_id == ticket_id, EventRecord.type == "ticket.triaged"
            )
        ).one()
    assert isinstance(data, dict)
    return data


def test_a_fresh_install_routes_clear_tickets_by_the_taxonomy(rt: Runtime) -> None:
    reset = ticket(rt, LISA, "Password", "please reset my password")
    access = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Finance Share group.")
    assert work(rt) == 2
    for ticket_id in (reset, access):
        assert status(rt, ticket_id) == "awaiting_approval"
        event = triaged(rt, ticket_id)
        assert (event["method"], event["model_version"]) == ("taxonomy", None)
    assert "m365.reset_password" in [d.action for d in drafts(rt, reset)]
    assert triaged(rt, access)["intent"] == "access_change"


def test_a_fresh_install_escalates_a_vague_ticket_as_low_confidence(rt: Runtime) -> None:
    ticket_id = ticket(rt, LISA, "Help", "it's broken")
    work(rt)
    found = escalation(rt, ticket_id)
    assert found.reason == "low_confidence"
    assert "built-in taxonomy" in found.detail
    assert drafts(rt, ticket_id) == []
    event = triaged(rt, ticket_id)
    assert (event["method"], event["intent"]) == ("taxonomy", None)
