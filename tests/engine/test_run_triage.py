"""A run keeps what triage found — its intent and confidence, as the run's ``ticket.triaged``
event says — whether the dispatch ends in a plan or in the human queue. On SQLite and on
PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import EventRecord, Run

CONTOSO = "contoso-dental"
LISA = "lisa.chen@contosodental.example"
KAREN = "karen.whitfield@contosodental.example"  # office manager, authorised contact
JAKE = "jake.morrison@contosodental.example"


def dispatched(rt: Runtime, sender: str, subject: str, body: str) -> tuple[Run, EventRecord]:
    """The ticket's run after one worker turn, and its triage event."""
    ticket_id = add_ticket(rt, CONTOSO, sender, subject, body).ticket_id
    assert Worker(rt, "test-worker").run_once() == 1
    with rt.db.reading() as session:
        run = session.execute(select(Run).where(Run.ticket_id == ticket_id)).scalar_one()
        triaged = session.execute(
            select(EventRecord).where(
                EventRecord.run_id == run.id, EventRecord.type == "ticket.triaged"
            )
        ).scalar_one()
        return run, triaged


def test_a_planned_run_stores_the_intent_and_confidence_of_its_triage(rt: Runtime) -> None:
    run, triaged = dispatched(rt, LISA, "Forgot my password", "I forgot my password, please reset")
    assert run.status == "awaiting_approval"
    assert run.intent == triaged.data["intent"] == "password_reset"
    assert run.confidence == triaged.data["confidence"]
    assert run.confidence is not None
    assert 0 < run.confidence <= 1


def test_an_escalated_run_stores_what_triage_found_too(rt: Runtime) -> None:
    # Two people to reset: triage knows the intent, the dispatch cannot tell whom.
    run, triaged = dispatched(
        rt, KAREN, "Reset", "Please reset the password for Tom Becker and Lisa Chen."
    )
    assert run.status == "escalated"
    assert run.intent == triaged.data["intent"] == "password_reset"
    assert run.confidence == triaged.data["confidence"]
    assert run.confidence is not None


def test_a_run_no_specialist_handles_stores_the_confidence_of_finding_none(rt: Runtime) -> None:
    run, triaged = dispatched(rt, JAKE, "Printer", "The printer in reception is jammed again.")
    assert run.status == "escalated"
    assert run.intent is None
    assert triaged.data["intent"] is None
    assert run.confidence == triaged.data["confidence"]
    assert run.confidence is not None
