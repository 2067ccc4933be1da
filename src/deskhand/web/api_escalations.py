"""The JSON API for the human queue, /api/v1/escalations: list it (oldest first, filtered),
read one, and work it to the end — take, assign, note, resolve, resume
(``deskhand.engine.escalation_work``).

Reading needs scope on the escalation's tenant; working one needs the tech role too (both
checked by the engine, as for the command line). A browser
session's state-changing calls need the ``X-CSRF-Token`` header, as every other route's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from deskhand.engine import escalation_work as work
from deskhand.engine.escalation_work import EscalationFilter, EscalationView
from deskhand.web.api_common import Who
from deskhand.web.params import NOT_BLANK, ObjectId, OptionalId
from deskhand.web.security import Viewer, check_csrf, runtime

router = APIRouter()

MAX_PAGE = 500


class Assign(BaseModel):
    to: str = Field(
        min_length=1,
        max_length=320,
        pattern=NOT_BLANK,
        description="The colleague's deskhand user (e-mail).",
    )


class Note(BaseModel):
    text: str = Field(
        min_length=1, max_length=work.MAX_TEXT, pattern=NOT_BLANK, description="The note."
    )


class Resolve(BaseModel):
    resolution: str = Field(
        min_length=1,
        max_length=work.MAX_TEXT,
        pattern=NOT_BLANK,
        description="What you did about the ticket.",
    )


class Resume(BaseModel):
    verification: str = Field(
        "",
        max_length=500,
        description="How you verified the requester (e.g. called back the number on file), "
        "when that was the cause; the new run's requester check reads it.",
    )


@router.get("/escalations", response_model=list[EscalationView])
def escalations(
    request: Request,
    who: Who,
    status: Annotated[str | None, Query(pattern="^(open|closed|all)$")] = "open",
    tenant: str | None = None,
    reason: str | None = None,
    assignee: Annotated[
        str | None, Query(description="An e-mail address, or `nobody` for those not taken.")
    ] = None,
    older_than_hours: Annotated[int | None, Query(ge=0, le=24 * 365 * 10)] = None,
    ticket_id: OptionalId = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[EscalationView]:
    """The human queue, oldest first: the longest wait is worked first."""
    where = EscalationFilter(
        tenants=None if who.all_tenants else who.tenants,
        status=None if status == "all" else status,
        tenant=tenant,
        reason=reason,
        assignee=assignee,
        older_than=timedelta(hours=older_than_hours) if older_than_hours is not None else None,
        ticket_id=ticket_id,
        limit=limit,
    )
    return work.list_escalations(runtime(request), where)


@router.get("/escalations/{escalation_id}", response_model=EscalationView)
def escalation(request: Request, who: Who, escalation_id: ObjectId) -> EscalationView:
    """One escalation with its notes."""
    return work.show(runtime(request), escalation_id, who.email)


@router.post("/escalations/{escalation_id}/take", response_model=EscalationView)
def take(request: Request, who: Who, escalation_id: ObjectId) -> EscalationView:
    """You work it from now on."""
    _may_change(request, who)
    return work.take(runtime(request), escalation_id, who.email)


@router.post("/escalations/{escalation_id}/assign", response_model=EscalationView)
def assign(request: Request, who: Who, escalation_id: ObjectId, body: Assign) -> EscalationView:
    """Give it to a colleague who may work its tenant."""
    _may_change(request, who)
    return work.assign(runtime(request), escalation_id, who.email, body.to)


@router.post("/escalations/{escalation_id}/notes", response_model=EscalationView)
def note(request: Request, who: Who, escalation_id: ObjectId, body: Note) -> EscalationView:
    """Add a note, kept here and written on the PSA ticket as an internal note (a PSA that
    refuses it is shown on the note: ``in_psa`` false, ``psa_error``)."""
    _may_change(request, who)
    return work.note(runtime(request), escalation_id, who.email, body.text)


@router.post("/escalations/{escalation_id}/resolve", response_model=EscalationView)
def resolve(request: Request, who: Who, escalation_id: ObjectId, body: Resolve) -> EscalationView:
    """Close it with what you did; the ticket is resolved."""
    _may_change(request, who)
    return work.resolve(runtime(request), escalation_id, who.email, body.resolution)


@router.post("/escalations/{escalation_id}/resume", response_model=EscalationView)
def resume(request: Request, who: Who, escalation_id: ObjectId, body: Resume) -> EscalationView:
    """You fixed the cause: the ticket is triaged and planned again, with fresh drafts."""
    _may_change(request, who)
    return work.resume(runtime(request), escalation_id, who.email, body.verification)


def _may_change(request: Request, who: Viewer) -> None:
    check_csrf(request, who)  # the role and the scope are the engine's to check
