"""A plan — every draft of one run of a ticket — is decided at once: one decision approves all
its waiting drafts, each still bound to its own payload, and one event records the steps and
hashes it covered; a requester who must be verified is verified once for the whole plan; a plan
that cannot be approved whole is not approved in part. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.engine.test_flow import (
    APPROVER,
    JAKE,
    LISA,
    URGENT_RESET,
    applied,
    drafts,
    escalation,
    status,
    ticket,
    work,
)

from deskhand.audit.trace import trace
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.store.models import EventRecord

TECH = "lee@msp.example"  # a technician: may not approve
RILEY = "riley@msp.example"  # an approver of another tenant only


def plan_of(rt: Runtime, ticket_id: int) -> approvals.PlanView:
    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    return plan


def events(rt: Runtime, ticket_id: int, kind: str) -> list[dict[str, object]]:
    with rt.db.reading() as session:
        return [
            dict(record.data)
            for record in session.scalars(
                select(EventRecord)
                .where(EventRecord.ticket_id == ticket_id, EventRecord.type == kind)
                .order_by(EventRecord.id)
            )
        ]


def test_one_decision_approves_the_whole_plan_and_records_each_steps_hash(
    rt: Runtime,
) -> None:
    ticket_id = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)
    plan = plan_of(rt, ticket_id)
    assert [(s.action, s.decision) for s in plan.steps] == [
        ("m365.reset_password", "approve"),
        ("m365.revoke_sessions", "approve"),
        ("psa.add_internal_note", "auto"),  # on the card too, though nobody approves it
        ("psa.send_reply", "approve"),
    ]
    assert len(plan.pending) == 3 and plan.blast_radius == "security"
    assert plan.reply is not None and "password" in plan.reply.lower()
    assert not plan.verify_first

    decided = approvals.approve_plan(rt, plan.run_id, APPROVER)

    assert decided.pending == []
    assert [d.status for d in drafts(rt, ticket_id)] == ["approved"] * 3
    [recorded] = events(rt, ticket_id, "plan.approved")
    bound = {e["approval_id"]: e["payload_hash"] for e in events(rt, ticket_id, "draft.approved")}
    assert [(s["approval_id"], s["payload_hash"]) for s in recorded["steps"]] == [  # type: ignore[union-attr]
        (str(d.id), bound[str(d.id)]) for d in drafts(rt, ticket_id)
    ]
    assert all(d.payload_hash for d in drafts(rt, ticket_id))
    work(rt)
    assert status(rt, ticket_id) == "resolved"
    assert applied(rt)[:2] == ["reset_password", "revoke_sessions"]


def test_a_requester_to_verify_is_verified_once_for_the_plan(rt: Runtime) -> None:
    ticket_id = ticket(rt, LISA, "Password", URGENT_RESET)
    work(rt)
    plan = plan_of(rt, ticket_id)
    assert plan.verify_first
    assert [s.verify_first for s in plan.steps] == [True, True, False, False]

    with pytest.raises(approvals.VerificationRequiredError, match=r"^Plan \d+: verify") as asked:
        approvals.approve_plan(rt, plan.run_id, APPROVER, verification="ok")
    assert "step 1, 2" in asked.value.message
    assert all(d.status == "pending" for d in drafts(rt, ticket_id))

    how = "called back 555-0142 on file, Lisa confirmed"
    approvals.approve_plan(rt, plan.run_id, APPROVER, verification=how)

    approved = events(rt, ticket_id, "draft.approved")
    assert [e["verification"] for e in approved] == [how, how, how]
    assert events(rt, ticket_id, "plan.approved")[0]["verification"] == how
    with rt.db.reading() as session:
        summaries = [line.summary for line in trace(session, ticket_id).lines]
    ids = ", ".join(str(i) for i in plan.pending)
    assert f"plan approved whole by {APPROVER}: drafts {ids}; requester verified: {how}" in (
        summaries
    )


@pytest.mark.parametrize("who", [TECH, RILEY])
def test_a_plan_the_user_may_not_approve_is_not_approved_in_part(rt: Runtime, who: str) -> None:
    ticket_id = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)
    run_id = plan_of(rt, ticket_id).run_id

    with pytest.raises(approvals.ApprovalError):
        approvals.approve_plan(rt, run_id, who)

    assert [d.status for d in drafts(rt, ticket_id)] == ["pending"] * 3
    assert events(rt, ticket_id, "plan.approved") == []
    if who == RILEY:  # another tenant's plan is not even shown
        assert approvals.list_plans(rt, RILEY) == []


def test_a_rejected_plan_does_nothing_and_goes_to_the_human_queue(rt: Runtime) -> None:
    ticket_id = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)
    run_id = plan_of(rt, ticket_id).run_id

    after = approvals.reject_plan(rt, run_id, APPROVER, "Lisa is on leave; HR must confirm")

    assert after.pending == []
    assert escalation(rt, ticket_id).reason == "approval_rejected"
    assert "HR must confirm" in escalation(rt, ticket_id).detail
    work(rt)
    assert applied(rt) == ["add_comment"]  # the escalation's internal note, nothing else
    with pytest.raises(approvals.DraftClosedError, match="no drafts waiting"):
        approvals.approve_plan(rt, run_id, APPROVER)


def test_plans_are_listed_one_per_run_riskiest_first(rt: Runtime) -> None:
    reset = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    other = ticket(rt, JAKE, "Password", "I forgot my password, please reset it")
    work(rt)
    work(rt)

    plans = approvals.list_plans(rt, APPROVER)

    # Both plans' riskiest step is a security one: the older plan comes first.
    assert [p.ticket_id for p in plans] == [reset, other]
    assert [p.blast_radius for p in plans] == ["security", "security"]
    assert sum(len(p.pending) for p in plans) == len(
        approvals.list_drafts(rt, APPROVER, status="pending")
    )
    assert approvals.list_plans(rt, APPROVER, limit=1) == plans[:1]
    # A page comes with how many plans wait in all, on it or past it.
    assert approvals.plan_page(rt, APPROVER, limit=1) == (plans[:1], 2)
    assert approvals.plan_page(rt, APPROVER, limit=1, offset=1) == (plans[1:], 2)
    assert approvals.plan_page(rt, APPROVER, limit=1, offset=5) == ([], 2)
    assert approvals.plan_page(rt, APPROVER, tenant="no-such-tenant") == ([], 0)
