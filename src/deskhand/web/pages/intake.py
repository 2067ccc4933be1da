"""The quarantine's page: messages and rows intake could not take, kept with their reason and
content, for the tenants the user sees; a tech takes one again after a fix, or dismisses it once
handled by hand (``deskhand.intake.quarantine``, ``deskhand.intake.retake``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from deskhand.intake import quarantine
from deskhand.intake.retake import retake
from deskhand.store.models import Tenant
from deskhand.web.params import ObjectId
from deskhand.web.render import flash, page
from deskhand.web.security import CurrentViewer, check_csrf, no_such, runtime

router = APIRouter()


@router.get("/intake/quarantine")
def quarantined(request: Request, who: CurrentViewer, show: str = "held") -> Response:
    rt = runtime(request)
    with rt.db.reading() as session:
        held = quarantine.held_count(session, who.tenants)
        items = quarantine.listing(session, who.tenants, everything=show == "all")
        tenants = {t.id: t.name for t in session.scalars(select(Tenant)) if who.sees(t.id)}
    return page(
        request,
        "quarantine.html.j2",
        who,
        active="tickets",
        items=items,
        held=held,
        tenants=tenants,
        show=show,
    )


@router.get("/intake/quarantine/{quarantine_id}")
def quarantined_item(request: Request, who: CurrentViewer, quarantine_id: ObjectId) -> Response:
    rt = runtime(request)
    with rt.db.reading() as session:
        item = quarantine.get(session, quarantine_id, who.tenants)
        if item is None:
            raise no_such(f"quarantined item {quarantine_id}")
        view, content = quarantine.view(item), quarantine.readable(item)
        tenant = session.get(Tenant, item.tenant_id)
    return page(
        request,
        "quarantine_item.html.j2",
        who,
        active="tickets",
        item=view,
        content=content,
        tenant_name=tenant.name if tenant else view.tenant_id,
    )


@router.post("/intake/quarantine/{quarantine_id}/retry")
async def retry(request: Request, who: CurrentViewer, quarantine_id: ObjectId) -> Response:
    """Take the item again; the page says what became of it."""
    who.require("tech")
    check_csrf(request, who, await request.form())
    rt = runtime(request)
    with rt.db.reading() as session:
        if quarantine.get(session, quarantine_id, who.tenants) is None:
            raise no_such(f"quarantined item {quarantine_id}")
    done = retake(rt, quarantine_id, who.tenants, who.email)
    said = {
        "taken": f"Item {quarantine_id} is ticket {done.ticket_id} now.",
        "known": f"Item {quarantine_id} was in deskhand already, as ticket {done.ticket_id}.",
        "answered": f"Item {quarantine_id} was given to ticket {done.ticket_id} as the answer.",
        "held": f"Item {quarantine_id} is still held: {done.reason}",
    }[done.outcome]
    return flash(RedirectResponse(f"/intake/quarantine/{quarantine_id}", status_code=303), said)


@router.post("/intake/quarantine/{quarantine_id}/dismiss")
async def dismiss(request: Request, who: CurrentViewer, quarantine_id: ObjectId) -> Response:
    """The item was handled by hand: kept, no longer counted as waiting."""
    who.require("tech")
    check_csrf(request, who, await request.form())
    with runtime(request).db.session() as session:
        item = quarantine.get(session, quarantine_id, who.tenants)
        if item is None:
            raise no_such(f"quarantined item {quarantine_id}")
        quarantine.dismiss(item, who.email)
    response = RedirectResponse("/intake/quarantine", status_code=303)
    return flash(response, f"Item {quarantine_id} dismissed.")
