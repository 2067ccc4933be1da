"""The JSON API, /api/v1: tickets (and requesters' answers), drafts (approve, edit, reject),
escalations, traces, events.

Authenticate with ``Authorization: Bearer <token>`` (``deskhand tokens create``) or the
browser's session cookie (then state-changing calls need the ``X-CSRF-Token`` header). The same
role and tenant-scope rules as the pages apply; errors are JSON with a message a person can
act on: ``{"error": "...", "hint": "..."}``. The OpenAPI document is at /api/v1/openapi.json.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from deskhand.audit.search import EventSearch, oldest_first
from deskhand.audit.trace import Trace, trace
from deskhand.engine import approvals, schedule, shadow
from deskhand.engine.approvals import DraftFilter, DraftView
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.intake.answers import receive_reply
from deskhand.store.models import Tenant, Ticket
from deskhand.web import api_analysis, api_escalations, api_plans
from deskhand.web.api_common import Problem, Who
from deskhand.web.params import NOT_BLANK, AfterId, ObjectId, OptionalId
from deskhand.web.security import (
    NotFound,
    check_csrf,
    status_of,
)

MAX_PAGE = 500


class Me(BaseModel):
    email: str
    name: str
    role: str
    tenants: list[str]


class TicketSummary(BaseModel):
    id: int
    tenant_id: str
    psa_ticket_id: str
    subject: str
    requester: str
    status: str
    created_at: datetime
    updated_at: datetime
    runs_at: datetime | None = Field(
        None, description="Its plan is approved ahead and runs at this moment, not before"
    )
    status_words: str = Field(
        "",
        description="The status as a person reads it: 'Approved — runs Fri 11 Dec 2026 17:00 "
        "(Europe/London)' for a plan approved ahead, in the tenant's time zone",
    )


class Approve(BaseModel):
    edit: dict[str, Any] | None = Field(
        None, description="Parameters to change before approving; leave out to approve as shown."
    )
    verification: str = Field(
        "",
        max_length=500,
        description="How you verified the requester (e.g. called back the number on file); "
        "required for a security draft whose requester check says needs_verification.",
    )
    acknowledge_stale: bool = Field(
        False,
        description="Approve even though the draft still mentions a value an approver edited "
        "in another draft of the same plan (listed in the draft's `stale`).",
    )
    approve_as: str | None = Field(
        None,
        max_length=32,
        description="The blast radius you accept when your edit raises it or changes the "
        "requester check (the refusal names it, e.g. security); with verification for a "
        "security change.",
    )


class Secret(BaseModel):
    draft_id: int
    secret: str = Field(
        description="Shown once: deskhand erases it now. Give it to the user by phone."
    )


class Reject(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why; goes to the trace.")


class Reply(BaseModel):
    # The patterns put the engine's own checks in the schema: an address has an @, an answer
    # has more than spaces.
    from_address: str = Field(
        min_length=3,
        max_length=320,
        pattern="@",
        description="Who answered: their e-mail address.",
    )
    body: str = Field(
        min_length=1, max_length=20_000, pattern=NOT_BLANK, description="The answer's text."
    )


class ReplyView(BaseModel):
    """What became of an answer: queued again (from the requester) or escalated (anyone else)."""

    ticket_id: int
    run_id: int
    requeued: bool
    escalation_id: int | None


class EventView(BaseModel):
    id: int
    at: datetime
    type: str
    actor_kind: str
    actor: str
    tenant_id: str | None
    ticket_id: int | None
    run_id: int | None
    step_id: int | None
    data: dict[str, Any]
    hash: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 422, 429)
}


def build(rt: Runtime) -> FastAPI:
    api = FastAPI(
        title="deskhand API",
        version="1",
        description=__doc__,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=ERRORS,
    )
    api.state.rt = rt

    @api.exception_handler(DeskhandError)
    async def problem(request: Request, error: DeskhandError) -> JSONResponse:
        return JSONResponse(
            {"error": error.message, "hint": error.hint}, status_code=status_of(error)
        )

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
            for e in error.errors()
        )
        return JSONResponse(
            {
                "error": f"The request is not valid: {problems}.",
                "hint": "See /api/v1/openapi.json.",
            },
            status_code=422,
        )

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(error.detail), "hint": None}, status_code=error.status_code
        )

    _routes(api)
    api.include_router(api_analysis.router)
    api.include_router(api_escalations.router)
    api.include_router(api_plans.router)
    return api


class WorkedView(BaseModel):
    """How deskhand's shadow plan compared with what the technician did by hand: ``outcome``
    is matched, not matched, or nothing to compare; each step with what reading back showed."""

    ticket_id: int
    specialist: str
    outcome: str
    steps: list[dict[str, Any]]


def _rt(request: Request) -> Runtime:
    found: Runtime = request.app.state.rt
    return found


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _routes(api: FastAPI) -> None:
    @api.get("/me", response_model=Me)
    def me(who: Who) -> Me:
        return Me(email=who.email, name=who.name, role=who.role, tenants=list(who.tenants))

    @api.get("/tickets", response_model=list[TicketSummary])
    def tickets(
        request: Request,
        who: Who,
        tenant: str | None = None,
        status: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[TicketSummary]:
        query = select(Ticket).order_by(Ticket.id.desc()).limit(limit).offset(offset)
        if not who.all_tenants:
            query = query.where(Ticket.tenant_id.in_(who.tenants))
        if tenant:
            query = query.where(Ticket.tenant_id == tenant)
        if status:
            query = query.where(Ticket.status == status)
        rt = _rt(request)
        with rt.db.reading() as session:
            return [_summary(rt, session, t) for t in session.scalars(query)]

    @api.get("/tickets/{ticket_id}", response_model=TicketSummary)
    def ticket(request: Request, who: Who, ticket_id: ObjectId) -> TicketSummary:
        rt = _rt(request)
        with rt.db.reading() as session:
            found = session.get(Ticket, ticket_id)
            if found is None or not who.sees(found.tenant_id):
                raise NotFound(f"There is no ticket {ticket_id}.")
            return _summary(rt, session, found)

    @api.get("/tickets/{ticket_id}/trace", response_model=Trace)
    def ticket_trace(request: Request, who: Who, ticket_id: ObjectId) -> Trace:
        ticket(request, who, ticket_id)  # the scope check
        with _rt(request).db.reading() as session:
            return trace(session, ticket_id)

    @api.post("/tickets/{ticket_id}/replies", response_model=ReplyView)
    def reply(request: Request, who: Who, ticket_id: ObjectId, body: Reply) -> ReplyView:
        """An answer to a ticket waiting on its requester (tech role or above)."""
        check_csrf(request, who)
        ticket(request, who, ticket_id)  # the scope check
        who.require("tech")
        outcome = receive_reply(_rt(request), ticket_id, body.from_address, body.body)
        return ReplyView(**asdict(outcome))

    @api.post("/tickets/{ticket_id}/worked", response_model=WorkedView)
    def worked(request: Request, who: Who, ticket_id: ObjectId) -> WorkedView:
        """You worked by hand a ticket shadow mode left to the technicians (tech role or
        above): deskhand reads back what its shadow plan would have changed (reads only),
        records whether it matched what you did, and resolves the ticket. As `deskhand tickets
        worked`."""
        check_csrf(request, who)
        ticket(request, who, ticket_id)  # the scope check
        compared = shadow.worked(_rt(request), ticket_id, who.email)
        return WorkedView(
            ticket_id=compared.ticket_id,
            specialist=compared.specialist,
            outcome=compared.outcome,
            steps=compared.steps,
        )

    @api.get("/drafts", response_model=list[DraftView])
    def drafts(
        request: Request,
        who: Who,
        status: str | None = "pending",
        tenant: str | None = None,
        specialist: str | None = None,
        blast_radius: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[DraftView]:
        tenants = None if who.all_tenants else who.tenants
        if tenant:
            tenants = (tenant,) if who.sees(tenant) else ()
        return approvals.query_drafts(
            _rt(request),
            DraftFilter(
                status=status or None,
                tenants=tenants,
                specialist=specialist,
                blast_radius=blast_radius,
                limit=limit,
                offset=offset,
            ),
        )

    @api.get("/drafts/{draft_id}", response_model=DraftView)
    def draft(request: Request, who: Who, draft_id: ObjectId) -> DraftView:
        try:
            found = approvals.show(_rt(request), draft_id)
        except approvals.ApprovalError:
            raise NotFound(f"There is no draft {draft_id}.") from None
        who.require_tenant(found.tenant_id, f"draft {draft_id}")
        return found

    @api.post("/drafts/{draft_id}/approve", response_model=DraftView)
    def approve(
        request: Request, who: Who, draft_id: ObjectId, body: Approve | None = None
    ) -> DraftView:
        check_csrf(request, who)
        draft(request, who, draft_id)
        return approvals.approve(
            _rt(request),
            draft_id,
            who.email,
            body.edit if body else None,
            acknowledge_stale=body.acknowledge_stale if body else False,
            verification=body.verification if body else "",
            approve_as=body.approve_as if body else None,
        )

    @api.post("/drafts/{draft_id}/reject", response_model=DraftView)
    def reject(request: Request, who: Who, draft_id: ObjectId, body: Reject) -> DraftView:
        check_csrf(request, who)
        draft(request, who, draft_id)
        return approvals.reject(_rt(request), draft_id, who.email, body.reason)

    @api.post("/drafts/{draft_id}/secret", response_model=Secret)
    def secret(request: Request, who: Who, draft_id: ObjectId, response: Response) -> Secret:
        """The temporary password a verified reset set: shown once, then erased."""
        check_csrf(request, who)
        draft(request, who, draft_id)
        response.headers["Cache-Control"] = "no-store"
        return Secret(
            draft_id=draft_id, secret=approvals.reveal_secret(_rt(request), draft_id, who.email)
        )

    @api.get("/events", response_model=list[EventView])
    def events(
        request: Request,
        who: Who,
        ticket_id: OptionalId = None,
        tenant: str | None = None,
        actor: str | None = None,
        type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_id: AfterId = 0,
        limit: Limit = 100,
    ) -> list[EventView]:
        who.require("approver")
        search = EventSearch(
            ticket_id=ticket_id,
            tenant=tenant,
            actor=actor,
            type=type,
            since=since,
            until=until,
            scope=None if who.all_tenants else who.tenants,
        )
        with _rt(request).db.reading() as session:
            return [
                EventView.model_validate(e, from_attributes=True)
                for e in oldest_first(session, search, after_id=after_id, limit=limit)
            ]


def _summary(rt: Runtime, session: Session, ticket: Ticket) -> TicketSummary:
    tenant = session.get(Tenant, ticket.tenant_id)
    assert tenant is not None
    return TicketSummary(
        id=ticket.id,
        tenant_id=ticket.tenant_id,
        psa_ticket_id=ticket.psa_ticket_id,
        subject=ticket.subject,
        requester=ticket.requester.email,
        status=ticket.status,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        runs_at=schedule.ticket_runs_at(ticket),
        status_words=schedule.ticket_words(ticket, schedule.time_zone(rt, tenant)),
    )
