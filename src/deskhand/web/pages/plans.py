"""The plan queue: one card per plan (every draft of one run of a ticket), riskiest and oldest
first, decided whole in one keystroke. A step to change is edited on its own draft (the draft
queue, /queue, and its edit form); approving and rejecting go through
``deskhand.engine.approvals`` — the same rules as the command line and the API. A step that
gives a group or a licence can be left out (``deskhand.engine.leave_out``): the plan closes and
its ticket is planned again without it. A finished plan's page offers to undo it
(``deskhand.engine.undo``): a new plan, approved like any."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from deskhand.engine import approvals, schedule
from deskhand.engine.approvals import PlanView
from deskhand.engine.leave_out import MAX_REASON, leave_out
from deskhand.engine.runtime import Runtime
from deskhand.engine.undo import propose_undo, undo_offer
from deskhand.web.card_context import card_context
from deskhand.web.params import ObjectId
from deskhand.web.render import flash, page, templates
from deskhand.web.security import CurrentViewer, NotFound, Viewer, check_csrf, runtime

router = APIRouter()
PAGE_SIZE = 50


@router.get("/plans")
def plans(
    request: Request, who: CurrentViewer, tenant: str | None = None, page_number: int = 1
) -> Response:
    rt = runtime(request)
    chosen = tenant if tenant and who.sees(tenant) else None
    offset = (max(page_number, 1) - 1) * PAGE_SIZE
    shown, total = approvals.plan_page(rt, who.email, tenant=chosen, limit=PAGE_SIZE, offset=offset)
    query = urlencode({"tenant": chosen} if chosen else {})
    return page(
        request,
        "plans.html.j2",
        who,
        active="plans",
        plans=shown,
        total=total,
        tenant=chosen,
        query=query,
        page_number=max(page_number, 1),
        more=offset + len(shown) < total,
        **card_context(rt, who),
    )


@router.get("/plans/{run_id}")
def one_plan(request: Request, who: CurrentViewer, run_id: ObjectId) -> Response:
    """One plan's card, wherever it sits in the queue: what links (a notification, the tickets
    page) point at; a plan with nothing left to decide says so and where to look."""
    rt = runtime(request)
    plan = _visible(rt, who, run_id)
    shown = [plan] if plan.pending else []
    return page(
        request,
        "plans.html.j2",
        who,
        active="plans",
        one=plan,
        runs_at=schedule.plan_runs_at(plan),
        undo=None if plan.pending else undo_offer(rt, run_id, who.email),
        plans=shown,
        total=len(shown),
        tenant=plan.tenant_id,
        query=urlencode({"tenant": plan.tenant_id}),
        page_number=1,
        more=False,
        **card_context(rt, who),
    )


def _visible(rt: Runtime, who: Viewer, run_id: int) -> PlanView:
    try:
        return approvals.show_plan(rt, run_id, who.email)
    except approvals.PlanNotFoundError:
        raise NotFound(f"There is no plan {run_id}.") from None


@router.post("/plans/{run_id}/approve")
async def approve(request: Request, who: CurrentViewer, run_id: ObjectId) -> Response:
    form = await request.form()
    check_csrf(request, who, form)
    rt = runtime(request)
    _visible(rt, who, run_id)
    try:
        decided = approvals.approve_plan(
            rt,
            run_id,
            who.email,
            verification=str(form.get("verification") or "")[:500],
        )
    except approvals.ApprovalError as error:
        if not request.headers.get("HX-Request"):
            raise
        plan = _visible(rt, who, run_id)
        return templates.TemplateResponse(
            request,
            "_plan.html.j2",
            {"who": who, "p": plan, "error": error.message, "hint": error.hint,
             **card_context(rt, who)},
            status_code=error.http_status,
        )  # fmt: skip
    if request.headers.get("HX-Request"):
        return templates.TemplateResponse(
            request, "_plan.html.j2", {"who": who, "p": decided, "verb": "approved",
                                       **card_context(rt, who)}
        )  # fmt: skip
    response = RedirectResponse("/plans", status_code=303)
    return flash(response, f"Plan {run_id} approved; it runs when a worker next looks for work.")


@router.post("/plans/{run_id}/reject")
async def reject(request: Request, who: CurrentViewer, run_id: ObjectId) -> Response:
    form = await request.form()
    check_csrf(request, who, form)
    rt = runtime(request)
    _visible(rt, who, run_id)
    reason = str(form.get("reason") or "").strip()
    try:
        decided = approvals.reject_plan(rt, run_id, who.email, reason)
    except approvals.ApprovalError as error:
        if not request.headers.get("HX-Request"):
            raise
        plan = _visible(rt, who, run_id)
        return templates.TemplateResponse(
            request,
            "_plan.html.j2",
            {"who": who, "p": plan, "error": error.message, "hint": error.hint,
             **card_context(rt, who)},
            status_code=error.http_status,
        )  # fmt: skip
    if request.headers.get("HX-Request"):
        return templates.TemplateResponse(
            request, "_plan.html.j2", {"who": who, "p": decided, "verb": "rejected",
                                       "reason": reason, **card_context(rt, who)}
        )  # fmt: skip
    response = RedirectResponse("/plans", status_code=303)
    return flash(response, f"Plan {run_id} rejected; the ticket is in Escalations.")


@router.post("/drafts/{draft_id}/leave-out")
async def leave_out_step(request: Request, who: CurrentViewer, draft_id: ObjectId) -> Response:
    """Leave the group or licence of one step out of its plan; the card then says the ticket is
    planned again without it. The reason is optional here: "left out by" the approver."""
    form = await request.form()
    check_csrf(request, who, form)
    rt = runtime(request)
    try:
        run_id = approvals.show(rt, draft_id, who.email).run_id
    except approvals.DraftNotFoundError:
        raise NotFound(f"There is no draft {draft_id}.") from None
    reason = " ".join(str(form.get("reason") or "").split())[:MAX_REASON]
    try:
        done = leave_out(rt, draft_id, who.email, reason or f"left out by {who.email}")
    except approvals.ApprovalError as error:
        if not request.headers.get("HX-Request"):
            raise
        plan = _visible(rt, who, run_id)
        return templates.TemplateResponse(
            request,
            "_plan.html.j2",
            {"who": who, "p": plan, "error": error.message, "hint": error.hint,
             **card_context(rt, who)},
            status_code=error.http_status,
        )  # fmt: skip
    if request.headers.get("HX-Request"):
        return templates.TemplateResponse(
            request, "_plan.html.j2", {"who": who, "p": _visible(rt, who, run_id),
                                       "verb": "left out", "trimmed": done,
                                       **card_context(rt, who)}
        )  # fmt: skip
    response = RedirectResponse("/plans", status_code=303)
    return flash(
        response,
        f"{done.names} left out of plan {run_id}; ticket {done.ticket_id} is being planned "
        "again without it.",
    )


@router.post("/plans/{run_id}/undo")
async def undo(request: Request, who: CurrentViewer, run_id: ObjectId) -> Response:
    """Propose undoing a finished plan; the new plan's card comes next, to approve like any."""
    form = await request.form()
    check_csrf(request, who, form)
    rt = runtime(request)
    _visible(rt, who, run_id)
    proposed = propose_undo(rt, run_id, who.email)
    response = RedirectResponse(f"/plans/{proposed}", status_code=303)
    return flash(
        response,
        f"Plan {proposed} undoes plan {run_id}. Nothing of it runs until it is approved.",
    )
