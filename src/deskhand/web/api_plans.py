"""/api/v1/plans: a plan is every draft of one run of a ticket, listed, shown and decided at
once, trimmed by leaving out what one of its steps gives (/drafts/{id}/leave-out), and a
finished one undone as a new plan — the same verbs as ``deskhand approvals
plans|plan|approve-plan|reject-plan|leave-out|undo-plan``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from deskhand.engine import approvals
from deskhand.engine.approvals import PlanView
from deskhand.engine.leave_out import LeftOutView, leave_out
from deskhand.engine.runtime import Runtime
from deskhand.engine.undo import propose_undo
from deskhand.web.api_common import Who
from deskhand.web.params import NOT_BLANK, ObjectId
from deskhand.web.security import NotFound, check_csrf

router = APIRouter()


class ApprovePlan(BaseModel):
    verification: str = Field(
        "",
        max_length=500,
        description="How you verified the requester (e.g. called back the number on file), "
        "once for the whole plan; required when the plan's verify_first is true.",
    )
    acknowledge_stale: bool = Field(
        False,
        description="Approve even though a draft still mentions a value edited in another draft.",
    )


class RejectPlan(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why; goes to the trace.")


class LeaveOut(BaseModel):
    reason: str = Field(
        min_length=1, max_length=2000, pattern=NOT_BLANK, description="Why; goes to the trace."
    )


def _rt(request: Request) -> Runtime:
    found: Runtime = request.app.state.rt
    return found


@router.get("/plans", response_model=list[PlanView])
def plans(
    request: Request,
    who: Who,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[PlanView]:
    """Plans with drafts waiting, in the tenants you may see: riskiest, then oldest, first."""
    return approvals.list_plans(_rt(request), who.email, limit=limit, offset=offset)


@router.get("/plans/{run_id}", response_model=PlanView)
def plan(request: Request, who: Who, run_id: ObjectId) -> PlanView:
    try:
        return approvals.show_plan(_rt(request), run_id, who.email)
    except approvals.PlanNotFoundError:
        raise NotFound(f"There is no plan {run_id}.") from None


@router.post("/plans/{run_id}/approve", response_model=PlanView)
def approve(
    request: Request, who: Who, run_id: ObjectId, body: ApprovePlan | None = None
) -> PlanView:
    """Approve every waiting draft of the plan as shown, in one decision."""
    check_csrf(request, who)
    plan(request, who, run_id)
    return approvals.approve_plan(
        _rt(request),
        run_id,
        who.email,
        verification=body.verification if body else "",
        acknowledge_stale=body.acknowledge_stale if body else False,
    )


@router.post("/plans/{run_id}/reject", response_model=PlanView)
def reject(request: Request, who: Who, run_id: ObjectId, body: RejectPlan) -> PlanView:
    """Reject the plan: none of it runs and the ticket goes to the human queue."""
    check_csrf(request, who)
    plan(request, who, run_id)
    return approvals.reject_plan(_rt(request), run_id, who.email, body.reason)


@router.post("/plans/{run_id}/undo", response_model=PlanView, status_code=201)
def undo(request: Request, who: Who, run_id: ObjectId) -> PlanView:
    """Propose undoing a finished plan: the new plan of its ticket, which puts back what the
    plan changed and waits for approval like any plan (``undo_of`` names this one; ``left``
    what deskhand cannot undo). 409 when the plan is still open, changed nothing deskhand can
    undo, or its undo is proposed already."""
    check_csrf(request, who)
    plan(request, who, run_id)
    rt = _rt(request)
    return approvals.show_plan(rt, propose_undo(rt, run_id, who.email), who.email)


@router.post("/drafts/{draft_id}/leave-out", response_model=LeftOutView)
def leave_out_of_plan(
    request: Request, who: Who, draft_id: ObjectId, body: LeaveOut
) -> LeftOutView:
    """Leave the group or licence the draft's step gives out of its plan: the plan closes
    unused and its ticket is planned again without it (``new_run_id``: the new plan, once a
    worker has made it). 409 when the step gives no group or licence, the draft is decided or
    the plan no longer waits for approval."""
    check_csrf(request, who)
    return leave_out(_rt(request), draft_id, who.email, body.reason)
