"""The human queue's page: escalations oldest first, filtered by tenant, reason, age, who works
them and whether they are closed, each with its actions (take, assign, note, resolve, resume);
the same actions on an escalated ticket's page. Plain POST forms with the session's CSRF
token, answered with a redirect back and a one-line message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from deskhand.domain.escalations import Reason
from deskhand.engine import escalation_work as work
from deskhand.engine.approvals import visible_to
from deskhand.engine.escalation_work import EscalationFilter, EscalationView
from deskhand.engine.runtime import Runtime
from deskhand.store.models import User
from deskhand.web.card_context import visible_tenants
from deskhand.web.params import ObjectId
from deskhand.web.psa_links import PsaLinks
from deskhand.web.render import flash, page
from deskhand.web.security import CurrentViewer, Viewer, check_csrf, runtime

router = APIRouter()

# What the age filter offers, as the page says it.
AGES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1d": timedelta(days=1)} | {
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
}
SHOW = {"open": "open", "closed": "closed", "all": None}
LIMIT = 500


@router.get("/escalations")
def escalations(
    request: Request,
    who: CurrentViewer,
    show: str = "open",
    tenant: str = "",
    reason: str = "",
    assignee: str = "",
    age: str = "",
) -> Response:
    rt = runtime(request)
    mine = assignee == "me"
    where = EscalationFilter(
        tenants=None if who.all_tenants else who.tenants,
        status=SHOW.get(show, "open"),
        tenant=tenant or None,
        reason=reason or None,
        assignee=who.email if mine else (assignee or None),
        older_than=AGES.get(age),
        limit=LIMIT,
    )
    rows = work.list_escalations(rt, where)
    seen = visible_tenants(rt, who)
    return page(
        request,
        "escalations.html.j2",
        who,
        rows=rows,
        tenants={t.id: t.name for t in seen.values()},
        psa_link=PsaLinks(rt, seen),
        reasons={r.value: r.sentence for r in Reason},
        colleagues=colleagues(rt, {e.tenant_id for e in rows}),
        show=show if show in SHOW else "open",
        filters={"tenant": tenant, "reason": reason, "assignee": assignee, "age": age},
        ages=list(AGES),
        limit=LIMIT,
    )


async def _form(request: Request, who: Viewer) -> dict[str, str]:
    form = await request.form()
    check_csrf(request, who, form)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _done(form: dict[str, str], said: str) -> Response:
    return flash(RedirectResponse(_back(form.get("back", "")), status_code=303), said)


@router.post("/escalations/{escalation_id}/take")
async def take(request: Request, who: CurrentViewer, escalation_id: ObjectId) -> Response:
    form = await _form(request, who)
    view = work.take(runtime(request), escalation_id, who.email)
    return _done(form, f"Escalation {view.id} is yours now.")


@router.post("/escalations/{escalation_id}/assign")
async def assign(request: Request, who: CurrentViewer, escalation_id: ObjectId) -> Response:
    form = await _form(request, who)
    view = work.assign(runtime(request), escalation_id, who.email, form.get("to", ""))
    return _done(form, f"Escalation {view.id} is {view.assignee_name or view.assignee}'s now.")


@router.post("/escalations/{escalation_id}/note")
async def note(request: Request, who: CurrentViewer, escalation_id: ObjectId) -> Response:
    form = await _form(request, who)
    view = work.note(runtime(request), escalation_id, who.email, form.get("text", ""))
    last = view.notes[-1]
    if last.in_psa:
        return _done(form, "Note kept and written on the PSA ticket.")
    return _done(form, f"Note kept here; the PSA refused it: {last.psa_error}")


@router.post("/escalations/{escalation_id}/resolve")
async def resolve(request: Request, who: CurrentViewer, escalation_id: ObjectId) -> Response:
    form = await _form(request, who)
    view = work.resolve(runtime(request), escalation_id, who.email, form.get("resolution", ""))
    return _done(form, f"Escalation {view.id} resolved; ticket {view.ticket_id} is closed.")


@router.post("/escalations/{escalation_id}/resume")
async def resume(request: Request, who: CurrentViewer, escalation_id: ObjectId) -> Response:
    form = await _form(request, who)
    view = work.resume(runtime(request), escalation_id, who.email, form.get("verification", ""))
    return _done(
        form, f"Ticket {view.ticket_id} is worked again; its new drafts will be in Approvals."
    )


def colleagues(rt: Runtime, tenant_ids: set[str]) -> dict[str, list[tuple[str, str]]]:
    """Per tenant, the people an escalation can be given to: (e-mail, name)."""
    with rt.db.reading() as session:
        people = [
            u
            for u in session.scalars(select(User).order_by(User.name))
            if u.role in work.WORKING_ROLES and u.disabled_at is None
        ]
        return {
            tenant_id: [(u.email, u.name) for u in people if visible_to(u, tenant_id)]
            for tenant_id in tenant_ids
        }


def ticket_context(rt: Runtime, who: Viewer, ticket_id: int) -> dict[str, Any]:
    """What an escalated ticket's page shows of its escalation (the newest), and who can take
    it over."""
    escalation: EscalationView | None = work.latest_for_ticket(rt, ticket_id)
    if escalation is None:
        return {"escalation": None}
    return {
        "escalation": escalation,
        "colleagues": colleagues(rt, {escalation.tenant_id}),
        "may_work": who.at_least("tech"),
    }


def _back(target: str) -> str:
    """Where the form came from, if it is a page of this app; else the queue."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/escalations"
