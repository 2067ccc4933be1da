"""Tickets: the list (searched by text, requester, tenant, status and who works the escalation;
each row says where its escalation and plan stand), and one ticket's plan, trace and escalation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from deskhand.actions import action, catalogue
from deskhand.audit.trace import trace
from deskhand.connectors.errors import ConnectorError
from deskhand.domain.origin import outside_psa
from deskhand.engine import approvals, schedule, shadow, state
from deskhand.engine.escalation_work import WORKING_ROLES
from deskhand.engine.left_undone import left_of_run
from deskhand.engine.runtime import Runtime
from deskhand.engine.undo import undo_offer
from deskhand.errors import InputError
from deskhand.intake import quarantine
from deskhand.store.models import Run, StepSecret, Tenant, Ticket, User
from deskhand.web.pages.escalations import ticket_context
from deskhand.web.params import ObjectId
from deskhand.web.psa_links import PsaLinks, psa_ticket_url
from deskhand.web.render import flash, page, templates
from deskhand.web.security import CurrentViewer, NotFound, Viewer, check_csrf, runtime
from deskhand.web.ticket_search import TicketSearch, tickets_page

router = APIRouter()
PAGE_SIZE = 50
MAX_PAGE = 100_000  # past any real history; a larger page number is refused, not computed
TICKET_STATUSES = tuple(state.TICKET_MOVES)
OPEN_RUN = ("queued", "dispatching", "awaiting_approval", "ready", "executing")


@router.get("/tickets")
def tickets(
    request: Request,
    who: CurrentViewer,
    q: str = "",
    requester: str = "",
    tenant: str = "",
    status: str = "",
    assignee: str = "",
    page_number: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    rt = runtime(request)
    where = TicketSearch(q, requester, tenant, status, assignee)
    offset = (page_number - 1) * PAGE_SIZE
    with rt.db.reading() as session:
        seen = {t.id: t for t in session.scalars(select(Tenant)) if who.sees(t.id)}
        rows, total = tickets_page(
            session,
            where,
            scope=None if who.all_tenants else who.tenants,
            viewer_email=who.email,
            limit=PAGE_SIZE,
            offset=offset,
            zones={tenant_id: schedule.time_zone(rt, t) for tenant_id, t in seen.items()},
        )
        quarantined = quarantine.held_count(session, who.tenants)
    tenants = {tenant_id: t.name for tenant_id, t in seen.items()}
    filters = dict(q=q, requester=requester, tenant=tenant, status=status, assignee=assignee)
    kept = {name: value for name, value in filters.items() if value}
    return page(
        request,
        "tickets.html.j2",
        who,
        quarantined=quarantined,
        rows=rows,
        total=total,
        tenants=tenants,
        psa_link=PsaLinks(rt, seen),
        filters=filters,
        narrowed=where.narrowed,
        statuses=TICKET_STATUSES,
        colleagues=_colleagues(rt, who),
        page_number=page_number,
        older=urlencode(kept | {"page_number": page_number + 1}),
        newer=urlencode(kept | ({"page_number": page_number - 1} if page_number > 2 else {})),
        more=offset + len(rows) < total,
    )


def _colleagues(rt: Runtime, who: Viewer) -> list[tuple[str, str]]:
    """The people an escalation of a tenant the viewer sees can be assigned to: (e-mail,
    name), the viewer left out (they choose "Assigned to me")."""
    with rt.db.reading() as session:
        people = session.scalars(
            select(User).where(User.disabled_at.is_(None)).order_by(User.name)
        ).all()
        return [
            (u.email, u.name)
            for u in people
            if u.role in WORKING_ROLES
            and u.email != who.email
            and ("*" in u.tenants or any(who.sees(t) for t in u.tenants))
        ]


@router.get("/tickets/{ticket_id}")
def ticket_page(request: Request, who: CurrentViewer, ticket_id: ObjectId) -> Response:
    rt = runtime(request)
    context = _ticket(rt, who, ticket_id)
    return page(request, "ticket.html.j2", who, **context, **ticket_context(rt, who, ticket_id))


@router.get("/tickets/{ticket_id}/live")
def ticket_live(request: Request, who: CurrentViewer, ticket_id: ObjectId) -> Response:
    """The parts of the ticket page that change while its run goes on."""
    context = _ticket(runtime(request), who, ticket_id)
    return templates.TemplateResponse(request, "_ticket_live.html.j2", {"who": who, **context})


def _ticket(rt: Runtime, who: Viewer, ticket_id: int) -> dict[str, Any]:
    with rt.db.reading() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or not who.sees(ticket.tenant_id):
            raise NotFound(f"There is no ticket {ticket_id}.")
        tenant = session.get(Tenant, ticket.tenant_id)
        assert tenant is not None
        found = list(
            session.scalars(select(Run).where(Run.ticket_id == ticket_id).order_by(Run.id))
        )
        with_secret = {
            step_id: expires_at
            for step_id, expires_at in session.execute(
                select(StepSecret.step_id, StepSecret.expires_at).where(
                    StepSecret.step_id.in_([s.id for run in found for s in run.steps]),
                    StepSecret.value.is_not(None),
                )
            )
        }
        runs = [
            {
                "id": run.id,
                "status": run.status,
                "specialist": run.specialist,
                "intent": run.intent,
                "confidence": run.confidence,
                "steps": [_step(step, with_secret) for step in run.steps],
                "undo_of": (run.plan_inputs or {}).get("undo_of"),
                "left": left_of_run(run),
            }
            for run in found
        ]
        ended = [run.id for run in found if run.status in ("completed", "escalated") and run.steps]
        try:
            timeline = trace(session, ticket_id)
        except InputError:
            raise NotFound(f"There is no ticket {ticket_id}.") from None
        psa_ticket_id = ticket.psa_ticket_id
        kept = outside_psa(ticket.origin, ticket.exported_from)
        status = ticket.status
        scheduled = schedule.ticket_runs_at(ticket)
        body = ticket.body
        shadowed = shadow.of_ticket(session, ticket_id)
    may_approve = who.may_approve(rt, tenant)
    # A finished plan an approver may undo, as a new plan (deskhand.engine.undo).
    offers = {run_id: undo_offer(rt, run_id, who.email) for run_id in ended if may_approve}
    for row, run in zip(found, runs, strict=True):
        run["undo"] = offers.get(row.id)
    psa = rt.ticket_connectors(tenant).psa
    try:
        notes = psa.list_comments(psa_ticket_id)
        notes_error = None
    except ConnectorError as error:
        notes, notes_error = [], str(error)
    return {
        "ticket": timeline.ticket,
        "body": body,
        "tenant": tenant,
        "runs": runs,
        "lines": timeline.lines,
        "notes": notes,
        "notes_error": notes_error,
        "shadow": shadowed,  # what deskhand would have done, for a ticket in shadow
        "kept": kept,  # no PSA holds it: its notes are deskhand's
        "psa_url": None if kept else psa_ticket_url(psa, psa_ticket_id),
        "live": any(run["status"] in OPEN_RUN for run in runs) or status in ("new", "working"),
        "may_approve": may_approve,
        # approved ahead, waiting for its time: said in the tenant's time zone
        "scheduled": schedule.approved_words(scheduled, schedule.time_zone(rt, tenant))
        if scheduled is not None
        else None,
    }


@router.post("/tickets/{ticket_id}/worked")
async def ticket_worked(request: Request, who: CurrentViewer, ticket_id: ObjectId) -> Response:
    """A technician worked by hand a ticket shadow mode left to them: deskhand compares its
    plan (reads only) and the ticket is resolved."""
    check_csrf(request, who, await request.form())
    compared = shadow.worked(runtime(request), ticket_id, who.email)
    said = f"Ticket {ticket_id} resolved. deskhand's shadow plan: {compared.outcome}."
    return flash(RedirectResponse(f"/tickets/{ticket_id}", status_code=303), said)


@router.post("/drafts/{draft_id}/secret")
async def reveal_secret(request: Request, who: CurrentViewer, draft_id: ObjectId) -> Response:
    """The temporary password a verified reset set, shown once to an approver and erased."""
    check_csrf(request, who, await request.form())
    value = approvals.reveal_secret(runtime(request), draft_id, who.email)
    return templates.TemplateResponse(
        request,
        "_secret.html.j2",
        {"draft_id": draft_id, "secret": value},
        headers={"Cache-Control": "no-store"},
    )


def _step(step: Any, secrets: dict[int, datetime | None]) -> dict[str, Any]:
    approval = step.approval
    spec = action(step.action)
    replanned = step.replanned_params is not None
    return {
        "position": step.position,
        "description": step.description,
        "action": step.action,
        "blast_radius": step.blast_radius,
        "decision": step.decision,
        "rule": step.rule,
        "status": step.status,
        "reason": step.reason,
        "params": state.proposed_params(step),
        "first_params": step.params if replanned else None,  # before another step's edit
        "replanned_by": step.replanned_by,
        "manual": spec.manual,
        "approved_params": approval.approved_params if approval else None,
        "approval": {
            "id": approval.id,
            "status": approval.status,
            "by": approval.approver.email if approval.approver else None,
            "at": approval.decided_at,
            "hash": approval.payload_hash,
        }
        if approval
        else None,
        "snapshot": step.snapshot,
        "result": step.result,
        "error": step.error,
        "undo": spec.undo_words(spec.validate(state.effective_params(step)), catalogue()),
        "started_at": step.started_at,
        "finished_at": step.finished_at,
        "secret": step.id in secrets and step.status == "verified",
        "secret_expires_at": secrets.get(step.id),
    }
