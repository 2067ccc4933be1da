"""An approver leaves one group or licence out of a plan: the plan's drafts close unused, the
plan.trimmed event records what was left out, by whom and why, and the ticket is planned again
with it in the specialist's ``PlanContext.left_out``. Refused, saying what to do instead, for a
step that gives nothing to leave out, a draft decided already and a plan no longer waiting. On
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.engine.test_flow import APPROVER, KAREN, applied, drafts, status, ticket, work
from tests.engine.test_offboarding import m365
from tests.engine.test_plan_approval import TECH, events

from deskhand.audit.trace import trace
from deskhand.engine import approvals
from deskhand.engine.leave_out import LeaveOutRefusedError, leave_out, left_out
from deskhand.engine.runtime import Runtime
from deskhand.specialists.contract import Plan, PlanContext, TicketView
from deskhand.specialists.onboarding import Onboarding
from deskhand.specialists.registry import Registry
from deskhand.store.models import Run

STARTER = "New starter: Jane Doe joins the front desk today, same access as Jake Morrison please."
APP_USERS = "Practice Management App Users"


def starter_plan(rt: Runtime) -> tuple[int, approvals.PlanView]:
    ticket_id = ticket(rt, KAREN, "New starter", STARTER)
    work(rt)
    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    return ticket_id, plan


def step_giving(plan: approvals.PlanView, name: str) -> approvals.PlanStepView:
    [step] = [s for s in plan.steps if s.gives == [name]]
    return step


def runs(rt: Runtime, ticket_id: int) -> list[tuple[int, str]]:
    with rt.db.reading() as session:
        return [
            (run.id, run.status)
            for run in session.scalars(
                select(Run).where(Run.ticket_id == ticket_id).order_by(Run.id)
            )
        ]


def test_a_plan_says_which_steps_give_a_group_or_licence_that_can_be_left_out(
    rt: Runtime,
) -> None:
    _, plan = starter_plan(rt)
    gives = {s.action: s.gives for s in plan.steps if s.action != "m365.add_group_member"}
    assert gives["m365.create_user"] == [] and gives["psa.send_reply"] == []
    assert gives["m365.assign_license"] == ["Microsoft 365 Business Basic"]
    assert sorted(s.gives[0] for s in plan.steps if s.action == "m365.add_group_member") == [
        "Front Desk",
        APP_USERS,
    ]


def test_leaving_out_a_group_closes_the_plan_and_plans_the_ticket_again_without_it(
    rt: Runtime,
) -> None:
    ticket_id, plan = starter_plan(rt)
    step = step_giving(plan, APP_USERS)
    assert step.approval_id is not None
    group_id = next(g.id for g in m365(rt).list_groups() if g.display_name == APP_USERS)

    done = leave_out(rt, step.approval_id, APPROVER, "  reception does not use the app ")

    assert (done.run_id, done.ticket_id, done.action) == (
        plan.run_id,
        ticket_id,
        "m365.add_group_member",
    )
    assert [(o.id, o.name) for o in done.left_out] == [(group_id, APP_USERS)]
    assert runs(rt, ticket_id) == [(plan.run_id, "replanned"), (done.new_run_id, "queued")]
    assert status(rt, ticket_id) == "working"
    closed = {d.id: (d.status, d.step_status) for d in drafts(rt, ticket_id)}
    assert closed.pop(step.approval_id) == ("rejected", "rejected")
    assert set(closed.values()) == {("cancelled", "cancelled")}
    [rejected] = events(rt, ticket_id, "draft.rejected")
    assert rejected["reason"] == (
        f"reception does not use the app (planned again without {APP_USERS})"
    )
    [trimmed] = events(rt, ticket_id, "plan.trimmed")
    assert trimmed == {
        "approval_id": str(step.approval_id),
        "position": step.position,
        "action": "m365.add_group_member",
        "left_out": [group_id],
        "names": [APP_USERS],
        "approver": APPROVER,
        "reason": "reception does not use the app",
    }
    assert events(rt, ticket_id, "run.queued")[-1] == {
        "reason": f"planned again without {APP_USERS}"
    }
    with rt.db.reading() as session:
        summaries = [line.summary for line in trace(session, ticket_id).lines]
    assert any(
        line.startswith(f"{APP_USERS} left out of the plan by {APPROVER}") for line in summaries
    )
    assert left_out(rt, ticket_id) == (group_id, APP_USERS)  # by name too: a role's groups

    work(rt)  # the new run is planned: a new plan waits, nothing of the old one ran
    assert runs(rt, ticket_id)[-1] == (done.new_run_id, "awaiting_approval")
    assert [p.run_id for p in approvals.list_plans(rt, APPROVER)] == [done.new_run_id]
    assert applied(rt) == []


def test_every_later_plan_of_the_ticket_gets_what_was_left_out_in_its_context(
    rt: Runtime,
) -> None:
    seen: list[tuple[str, ...]] = []

    class Recording(Onboarding):
        def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
            seen.append(context.left_out)
            return super().plan(ticket, context)

    rt.registry = Registry(
        [Recording() if s.name == "onboarding" else s for s in rt.registry.by_name.values()]
    )
    _, plan = starter_plan(rt)
    first = step_giving(plan, APP_USERS)
    assert first.approval_id is not None
    done = leave_out(rt, first.approval_id, APPROVER, "not for reception")
    work(rt)
    [again] = [p for p in approvals.list_plans(rt, APPROVER) if p.run_id == done.new_run_id]
    licence = step_giving(again, "Microsoft 365 Business Basic")
    assert licence.approval_id is not None
    second = leave_out(rt, licence.approval_id, APPROVER, "a licence is bought later")
    work(rt)

    group = (done.left_out[0].id, APP_USERS)
    licence_left = (second.left_out[0].id, "Microsoft 365 Business Basic")
    assert seen == [(), group, (*group, *licence_left)]


def test_a_step_that_gives_no_group_or_licence_cannot_be_left_out(rt: Runtime) -> None:
    ticket_id, plan = starter_plan(rt)
    for action in ("m365.create_user", "psa.send_reply"):
        [step] = [s for s in plan.steps if s.action == action]
        assert step.approval_id is not None
        with pytest.raises(LeaveOutRefusedError, match="gives no group or licence") as refused:
            leave_out(rt, step.approval_id, APPROVER, "not wanted")
        assert refused.value.hint is not None and "Reject the plan, or edit the step" in (
            refused.value.hint
        )
    assert {d.status for d in drafts(rt, ticket_id)} == {"pending"}
    assert events(rt, ticket_id, "plan.trimmed") == []


def test_a_draft_decided_already_cannot_be_left_out(rt: Runtime) -> None:
    ticket_id, plan = starter_plan(rt)
    step = step_giving(plan, APP_USERS)
    assert step.approval_id is not None
    approvals.approve(rt, step.approval_id, APPROVER)

    with pytest.raises(LeaveOutRefusedError, match="is approved already") as refused:
        leave_out(rt, step.approval_id, APPROVER, "changed my mind")

    assert "Reject plan" in (refused.value.hint or "")
    assert runs(rt, ticket_id) == [(plan.run_id, "awaiting_approval")]


@pytest.mark.parametrize(
    ("decide", "message", "hint"),
    [
        ("approve", "is approved already: nothing can be left out", "undo-plan"),
        ("reject", "stopped: its ticket is in the human queue", "Escalations"),
        ("leave_out", "was closed: something was left out of it", "new plan"),
    ],
)
def test_nothing_is_left_out_of_a_plan_no_longer_waiting_for_approval(
    rt: Runtime, decide: str, message: str, hint: str
) -> None:
    ticket_id, plan = starter_plan(rt)
    step = step_giving(plan, APP_USERS)
    other = step_giving(plan, "Front Desk")
    assert step.approval_id is not None and other.approval_id is not None
    if decide == "approve":
        approvals.approve_plan(rt, plan.run_id, APPROVER)
    elif decide == "reject":
        approvals.reject_plan(rt, plan.run_id, APPROVER, "wrong person")
    else:
        leave_out(rt, other.approval_id, APPROVER, "not that one")
    trimmed = len(events(rt, ticket_id, "plan.trimmed"))

    with pytest.raises(LeaveOutRefusedError, match=message) as refused:
        leave_out(rt, step.approval_id, APPROVER, "not this one either")

    assert hint in (refused.value.hint or "")
    assert len(events(rt, ticket_id, "plan.trimmed")) == trimmed


def test_only_someone_who_may_approve_the_draft_leaves_it_out(rt: Runtime) -> None:
    ticket_id, plan = starter_plan(rt)
    step = step_giving(plan, APP_USERS)
    assert step.approval_id is not None

    with pytest.raises(approvals.NotAllowedError):
        leave_out(rt, step.approval_id, TECH, "not for reception")
    with pytest.raises(approvals.ApprovalError, match="Say why"):
        leave_out(rt, step.approval_id, APPROVER, "   ")

    assert runs(rt, ticket_id) == [(plan.run_id, "awaiting_approval")]
