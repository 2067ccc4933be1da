"""An escalation is worked to the end: taken, given to a colleague, noted (here and on the PSA
ticket), resolved, or resumed after the technician fixed the cause — on a SQLite file and on
the real PostgreSQL, with the sandbox standing in for the PSA."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from deskhand.audit.chain import verify
from deskhand.audit.trace import trace
from deskhand.engine import approvals
from deskhand.engine import escalation_work as work_on
from deskhand.engine.escalation_work import EscalationFilter
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Escalation, EventRecord, Ticket
from tests.engine.test_flow import (
    APPROVER,
    JAKE,
    KAREN,
    drafts,
    escalation,
    status,
    ticket,
    work,
)

TECH = "lee@msp.example"  # a tech of contoso-dental only
NORTHWIND_APPROVER = "riley@msp.example"  # northwind-law only
PHONE = "called Priya back on 555-0100, the number on file; she asked for it"


def unverified_reset(rt: Runtime) -> int:
    """A receptionist asks for a colleague's password reset: escalated, identity unverified."""
    ticket_id = ticket(rt, JAKE, "Reset", "Please reset the password for Priya Raman.")
    work(rt)
    return escalation(rt, ticket_id).id


def events(rt: Runtime, prefix: str = "escalation.") -> list[tuple[str, str, dict[str, object]]]:
    with rt.db.reading() as session:
        rows = session.execute(
            select(EventRecord.type, EventRecord.actor, EventRecord.data)
            .where(EventRecord.type.startswith(prefix))
            .order_by(EventRecord.id)
        ).all()
    return [(t, a, d) for t, a, d in rows if t != "escalation.notified"]


def test_take_assign_note_and_resolve_are_each_an_event_by_the_technician(rt: Runtime) -> None:
    escalation_id = unverified_reset(rt)
    taken = work_on.take(rt, escalation_id, TECH)
    assert taken.assignee == TECH
    given = work_on.assign(rt, escalation_id, TECH, APPROVER)
    assert given.assignee == APPROVER
    noted = work_on.note(rt, escalation_id, APPROVER, "Jake is not Priya's manager; asked Karen.")
    assert [n.text for n in noted.notes] == ["Jake is not Priya's manager; asked Karen."]
    assert noted.notes[0].in_psa and noted.notes[0].psa_error is None
    done = work_on.resolve(rt, escalation_id, APPROVER, "Karen confirmed; reset by phone.")
    assert (done.status, done.closed_as, done.closed_by) == ("closed", "resolved", APPROVER)
    assert done.resolution == "Karen confirmed; reset by phone."
    assert status(rt, done.ticket_id) == "resolved"
    assert [(t, a) for t, a, _ in events(rt)] == [
        ("escalation.taken", TECH),
        ("escalation.assigned", TECH),
        ("escalation.noted", APPROVER),
        ("escalation.resolved", APPROVER),
    ]
    with rt.db.session() as session:
        assert verify(session).ok


def test_a_note_is_written_to_the_psa_ticket_as_an_internal_note(rt: Runtime) -> None:
    escalation_id = unverified_reset(rt)
    view = work_on.note(rt, escalation_id, TECH, "Left a voicemail for Priya.")
    comments = [
        call.arguments
        for call in rt.sandbox.calls("contoso-dental", "add_comment")
        if call.outcome == "applied"
    ]
    mine = [c for c in comments if "Left a voicemail for Priya." in c["body"]]
    assert len(mine) == 1
    assert mine[0]["hidden"] is True
    assert mine[0]["ticket_id"] == view.psa_ticket_id
    assert "Lee Morgan" in mine[0]["body"]


def test_a_note_the_psa_refuses_is_kept_and_the_refusal_recorded(rt: Runtime) -> None:
    escalation_id = unverified_reset(rt)
    with rt.db.session() as session:
        session.execute(
            update(Ticket)
            .where(Ticket.id == _ticket_of(rt, escalation_id))
            .values(psa_ticket_id="999999")
        )
    view = work_on.note(rt, escalation_id, TECH, "Tried to reach Priya.")
    assert [n.text for n in view.notes] == ["Tried to reach Priya."]
    assert not view.notes[0].in_psa
    assert view.notes[0].psa_error
    (_, _, data) = events(rt)[-1]
    assert data["psa_ok"] is False and data["psa_detail"] == view.notes[0].psa_error


def _ticket_of(rt: Runtime, escalation_id: int) -> int:
    with rt.db.reading() as session:
        found = session.get(Escalation, escalation_id)
        assert found is not None
        return found.ticket_id


def test_resume_after_a_phone_verification_makes_fresh_drafts_that_still_ask_the_approver(
    rt: Runtime,
) -> None:
    escalation_id = unverified_reset(rt)
    ticket_id = _ticket_of(rt, escalation_id)
    assert drafts(rt, ticket_id) == []
    resumed = work_on.resume(rt, escalation_id, TECH, PHONE)
    assert (resumed.closed_as, resumed.verification) == ("resumed", PHONE)
    assert status(rt, ticket_id) == "working"
    work(rt)
    fresh = [d for d in drafts(rt, ticket_id) if d.status == "pending"]
    assert fresh, "the resumed ticket has drafts again"
    assert {d.run_id for d in fresh} == {resumed.resumed_run_id}
    reset = next(d for d in fresh if d.blast_radius == "security")
    assert reset.requester_check["verdict"] == "needs_verification"
    assert PHONE in reset.requester_check["detail"]
    assert TECH in reset.requester_check["detail"]
    with pytest.raises(approvals.VerificationRequiredError):
        approvals.approve(rt, reset.id, APPROVER)
    approvals.approve(rt, reset.id, APPROVER, verification=PHONE)
    assert [t for t, _, _ in events(rt)] == ["escalation.resumed"]


def test_resume_without_a_verification_escalates_the_unverified_requester_again(
    rt: Runtime,
) -> None:
    escalation_id = unverified_reset(rt)
    ticket_id = _ticket_of(rt, escalation_id)
    work_on.resume(rt, escalation_id, TECH)
    work(rt)
    assert status(rt, ticket_id) == "escalated"
    listed = work_on.list_escalations(rt, EscalationFilter(ticket_id=ticket_id, status=None))
    assert [(e.status, e.reason) for e in listed] == [
        ("closed", "identity_unverified"),
        ("open", "identity_unverified"),
    ]


def test_a_closed_escalation_cannot_be_resolved_or_resumed_again(rt: Runtime) -> None:
    escalation_id = unverified_reset(rt)
    work_on.resolve(rt, escalation_id, TECH, "Dealt with on the phone.")
    with pytest.raises(work_on.EscalationClosedError, match="resolved already by lee"):
        work_on.resume(rt, escalation_id, TECH, PHONE)
    with pytest.raises(work_on.EscalationClosedError):
        work_on.take(rt, escalation_id, APPROVER)


def test_only_people_who_may_work_the_tenant_work_its_escalations(rt: Runtime) -> None:
    escalation_id = unverified_reset(rt)
    with pytest.raises(work_on.EscalationNotFoundError):
        work_on.take(rt, escalation_id, NORTHWIND_APPROVER)
    with pytest.raises(work_on.EscalationNotFoundError):
        work_on.show(rt, escalation_id, NORTHWIND_APPROVER)
    with pytest.raises(work_on.NotAllowedError, match="cannot work escalations"):
        work_on.assign(rt, escalation_id, TECH, NORTHWIND_APPROVER)
    with pytest.raises(work_on.EscalationError, match="no deskhand user"):
        work_on.assign(rt, escalation_id, TECH, KAREN)
    assert events(rt) == []


def test_the_queue_filters_and_lists_oldest_first(rt: Runtime) -> None:
    first = unverified_reset(rt)
    printer = ticket(rt, JAKE, "Printer", "The printer in reception is jammed again.")
    work(rt)
    second = escalation(rt, printer).id
    with rt.db.session() as session:
        older = session.get(Escalation, second)
        assert older is not None
        older.created_at -= timedelta(days=3)
    work_on.take(rt, first, TECH)

    def ids(**where: object) -> list[int]:
        return [e.id for e in work_on.list_escalations(rt, EscalationFilter(**where))]  # type: ignore[arg-type]

    assert ids() == [second, first]
    assert ids(reason="no_specialist") == [second]
    assert ids(assignee=TECH) == [first]
    assert ids(assignee=work_on.NOBODY) == [second]
    assert ids(older_than=timedelta(days=2)) == [second]
    assert ids(tenant="northwind-law") == []
    assert ids(tenants=("northwind-law",)) == []
    assert work_on.count_open(rt, ["contoso-dental"]) == 2
    work_on.resolve(rt, first, TECH, "Done by hand.")
    assert ids() == [second]
    assert ids(status="closed") == [first]
    assert work_on.count_open(rt, None) == 1


def test_an_empty_note_or_resolution_is_refused_and_nothing_is_recorded(rt: Runtime) -> None:
    escalation_id = unverified_reset(rt)
    with pytest.raises(work_on.EscalationError, match="The note is empty"):
        work_on.note(rt, escalation_id, TECH, "   ")
    with pytest.raises(work_on.EscalationError, match="The resolution is empty"):
        work_on.resolve(rt, escalation_id, TECH, "")
    with pytest.raises(work_on.EscalationError, match="does not say how"):
        work_on.resume(rt, escalation_id, TECH, "ok")
    assert work_on.show(rt, escalation_id, TECH).notes == []
    assert events(rt) == []


def test_the_trace_tells_what_each_technician_did_in_words(rt: Runtime) -> None:
    escalation_id = unverified_reset(rt)
    work_on.take(rt, escalation_id, TECH)
    work_on.note(rt, escalation_id, TECH, "Calling Priya back.")
    work_on.resume(rt, escalation_id, TECH, PHONE)
    with rt.db.reading() as session:
        lines = [line.summary for line in trace(session, _ticket_of(rt, escalation_id)).lines]
    assert f"escalation {escalation_id} taken by {TECH}" in lines
    assert f'note by {TECH} (also on the PSA ticket): "Calling Priya back."' in lines
    assert f"ticket resumed by {TECH}: planned again; requester verified: {PHONE}" in lines
