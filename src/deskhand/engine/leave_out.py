"""Leaving a step out of a plan: an approver trims what a plan gives — one of the groups a
starter would get copied from a colleague, a licence they should not have — without rejecting
the whole plan.

Nothing is patched. The plan's drafts close unused (the one left out rejected with the
approver's reason, the others cancelled), the run ends as *replanned*, and the ticket is queued
to be planned again: its specialist gets the object in ``PlanContext.left_out`` and makes the
plan without it, note and reply included — a new plan, approved like any. Every later plan of
the ticket leaves it out too (``left_out`` reads the ``plan.trimmed`` events of the ticket).

Only a step that gives or takes away a group or a licence (``Action.given``) can be left out,
by a user who may approve its draft, while its plan waits for approval. A step of any other
kind — the account, a password, the note, the reply — is changed by editing it or by rejecting
the plan.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select

from deskhand.actions import action
from deskhand.domain import events as ev
from deskhand.domain.asks import listing
from deskhand.engine import state
from deskhand.engine.approvals import ApprovalError, DraftClosedError, for_decision
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Approval, EventRecord

MAX_REASON = 2000


class LeaveOutRefusedError(ApprovalError):
    """The draft's step gives nothing that can be left out, or its plan is no longer waiting."""

    http_status = 409


class LeftOut(BaseModel):
    """A group or licence left out of a plan."""

    id: str
    name: str


class LeftOutView(BaseModel):
    """What leaving a step out did: the plan it was left out of, and the new run that plans
    the ticket again without it."""

    draft_id: int
    run_id: int  # the plan it was left out of: closed, nothing of it runs
    new_run_id: int  # the ticket planned again, without it
    ticket_id: int
    position: int
    action: str
    left_out: list[LeftOut]
    reason: str
    approver: str

    @property
    def names(self) -> str:
        return listing(o.name for o in self.left_out)


def leave_out(rt: Runtime, draft_id: int, user_email: str, reason: str) -> LeftOutView:
    """Leave what draft ``draft_id``'s step gives (a group, a licence) out of its plan: in one
    transaction the plan's drafts close unused, ``plan.trimmed`` records what was left out and
    why, and the ticket is queued to be planned again without it."""
    said = " ".join(reason.split())
    if not said:
        raise ApprovalError("Say why it is left out (--reason).")
    if len(said) > MAX_REASON:
        raise ApprovalError(f"The reason is {len(said):,} characters; at most {MAX_REASON:,}.")
    with rt.db.session() as session:
        try:
            approval, user = for_decision(rt, session, draft_id, user_email)
        except DraftClosedError as closed:
            found = session.get(Approval, draft_id)
            assert found is not None
            raise _no_longer_waiting(found) or closed from None
        refused = _no_longer_waiting(approval)
        if refused is not None:
            raise refused
        step = approval.step
        gives = action(step.action).given(state.effective_params(step))
        if not gives:
            raise LeaveOutRefusedError(
                f"Step {step.position} of plan {step.run_id} ({step.description}) gives no "
                "group or licence to leave out.",
                hint="Reject the plan, or edit the step: only a step that adds or removes a "
                "group or a licence can be left out.",
            )
        event = ev.PlanTrimmed(
            approval_id=str(approval.id),
            position=step.position,
            action=step.action,
            left_out=[object_id for object_id, _ in gives],
            names=[name for _, name in gives],
            approver=user.email,
            reason=said,
        )
        old_run = step.run
        new_run = state.trim_plan(session, approval, user, event)
        return LeftOutView(
            draft_id=approval.id,
            run_id=old_run.id,
            new_run_id=new_run.id,
            ticket_id=old_run.ticket_id,
            position=step.position,
            action=step.action,
            left_out=[LeftOut(id=object_id, name=name) for object_id, name in gives],
            reason=said,
            approver=user.email,
        )


def _no_longer_waiting(approval: Approval) -> LeaveOutRefusedError | None:
    """Why nothing can be left out of the draft's plan any more, in words that say what to do
    instead; None while the plan waits for approval and the draft is undecided."""
    run = approval.step.run
    plan = f"Plan {run.id}"
    if run.status in ("ready", "executing", "completed"):
        return LeaveOutRefusedError(
            f"{plan} is approved already: nothing can be left out of it now.",
            hint="Once it has run, propose undoing it (deskhand approvals undo-plan "
            f"{run.id}), or change it back by hand.",
        )
    if run.status == "escalated":
        return LeaveOutRefusedError(
            f"{plan} stopped: its ticket is in the human queue.",
            hint="Work it from Escalations; resuming it plans the ticket again.",
        )
    if run.status == "replanned":
        return LeaveOutRefusedError(
            f"{plan} was closed: something was left out of it and its ticket is planned again.",
            hint=f"Look at the new plan of ticket {run.ticket_id}: what was left out is not "
            "in it, and anything else can be left out there.",
        )
    if run.status != "awaiting_approval":
        return LeaveOutRefusedError(
            f"{plan} is not waiting for approval (it is {run.status.replace('_', ' ')}).",
            hint="Look at the plan again once it waits for approval.",
        )
    if approval.status != "pending":
        return LeaveOutRefusedError(
            f"Draft {approval.id} is {approval.status} already: only a step still waiting for "
            "a decision can be left out.",
            hint=f"Reject plan {run.id} with your reason instead (it goes to a technician).",
        )
    return None


def left_out(rt: Runtime, ticket_id: int) -> tuple[str, ...]:
    """The directory ids and names (groups, licences) approvers left out of the ticket's plans,
    in the order they were left out: what every new plan of the ticket leaves out too (by name
    as well, for a role's groups that a plan names before they are looked up)."""
    with rt.db.reading() as session:
        found = session.scalars(
            select(EventRecord)
            .where(EventRecord.ticket_id == ticket_id, EventRecord.type == ev.PlanTrimmed.TYPE)
            .order_by(EventRecord.id)
        )
        ids = [
            str(object_id)
            for record in found
            for object_id in (*record.data["left_out"], *record.data.get("names", ()))
        ]
    return tuple(dict.fromkeys(ids))
