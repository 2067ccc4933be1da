"""Audit: search the event log, export what was found as JSON Lines, and verify the hash chain.

Approvers and admins only. A user scoped to some tenants finds and exports only those tenants'
events; the system's own events (of no tenant) only reach users of every tenant. The filters
mean what the API's ``/api/v1/events`` filters mean (``deskhand.audit.search``).

Verifying walks the whole chain, about a minute per million events, and holds the log up to the
signed checkpoints kept outside the database: it runs in a background thread
(``deskhand.audit.verification``) and the page polls for the verdict, so no request waits on it
and no proxy times it out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select

from deskhand.audit.checkpoints import CheckpointFile
from deskhand.audit.search import EventSearch, jsonl_lines, newest_first
from deskhand.audit.trace import summarise
from deskhand.audit.verification import ChainCheck, Verification
from deskhand.domain.events import EVENT_TYPES
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.store.models import EventRecord, Tenant
from deskhand.web.params import MAX_ID
from deskhand.web.render import flash, page, templates
from deskhand.web.security import CurrentViewer, Viewer, check_csrf, runtime

router = APIRouter()
PAGE_SIZE = 100
EXPORT_CHUNK = 500  # lines sent together while streaming an export
POLL_SECONDS = 2

_CHECK_LOCK = threading.Lock()
_ID = re.compile(r"[0-9]{1,19}")


class AuditFilters(BaseModel):
    """The search form as typed; empty fields leave the search open."""

    ticket: str = ""
    tenant: str = ""
    actor: str = ""
    type: str = ""
    since: str = ""  # YYYY-MM-DD, from the start of that day (UTC)
    until: str = ""  # YYYY-MM-DD, to the end of that day (UTC)

    def query(self) -> str:
        """The filters as a query string, for the export link and the next page."""
        return urlencode({k: v for k, v in self.model_dump().items() if v})

    def search(self, who: Viewer) -> EventSearch:
        """The search these filters ask for, within ``who``'s tenants; InputError if a field
        cannot be read."""
        since = _day(self.since, "From")
        until = _day(self.until, "To")
        if since and until and since > until:
            raise InputError(
                f"The dates are the wrong way round: from {since} is after to {until}."
            )
        return EventSearch(
            ticket_id=_ticket_id(self.ticket),
            tenant=self.tenant.strip() or None,
            actor=self.actor.strip() or None,
            type=self.type.strip() or None,
            since=datetime.combine(since, time(), UTC) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
            scope=None if who.all_tenants else who.tenants,
        )


def _filters(
    ticket: str, tenant: str, actor: str, type_: str, since: str, until: str
) -> AuditFilters:
    return AuditFilters(
        ticket=ticket, tenant=tenant, actor=actor, type=type_, since=since, until=until
    )


@router.get("/audit")
def audit_page(
    request: Request,
    who: CurrentViewer,
    ticket: str = "",
    tenant: str = "",
    actor: str = "",
    type: str = "",
    since: str = "",
    until: str = "",
    before: str = "",
) -> Response:
    who.require("approver")
    rt = runtime(request)
    filters = _filters(ticket, tenant, actor, type, since, until)
    problem = None
    rows: list[dict[str, Any]] = []
    more = False
    try:
        search = filters.search(who)
        before_id = _before(before)
    except InputError as error:
        problem = error.message
    else:
        with rt.db.reading() as session:
            found = newest_first(session, search, before_id=before_id, limit=PAGE_SIZE + 1)
            more = len(found) > PAGE_SIZE
            rows = [_row(e) for e in found[:PAGE_SIZE]]
    return page(
        request,
        "audit.html.j2",
        who,
        status_code=400 if problem else 200,
        filters=filters,
        problem=problem,
        rows=rows,
        more=more,
        paged=bool(before),
        page_size=PAGE_SIZE,
        tenants=_tenants(rt, who),
        types=sorted(EVENT_TYPES),
        **_verification(request, rt, who),
    )


@router.get("/audit/export.jsonl")
def audit_export(
    request: Request,
    who: CurrentViewer,
    ticket: str = "",
    tenant: str = "",
    actor: str = "",
    type: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    """The matching events as JSON Lines, oldest first, streamed as they are read."""
    who.require("approver")
    rt = runtime(request)
    filters = _filters(ticket, tenant, actor, type, since, until)
    search = filters.search(who)  # an unreadable field is an error page, not a broken file
    return StreamingResponse(
        _stream(rt, search),
        media_type="application/x-ndjson; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(filters)}"'},
    )


@router.post("/audit/verify")
async def audit_verify(request: Request, who: CurrentViewer) -> Response:
    """Start verifying the chain (or join the walk already running) and show its status."""
    who.require("approver")
    form = await request.form()
    check_csrf(request, who, form)
    rt = runtime(request)
    _chain_check(request).start(who.email)
    if request.headers.get("HX-Request"):
        return _verification_partial(request, rt, who)
    response = RedirectResponse("/audit#chain", status_code=303)
    return flash(response, "Verifying the event chain; the verdict shows below when it is done.")


@router.get("/audit/verify")
def audit_verify_status(request: Request, who: CurrentViewer) -> Response:
    """The chain status as it stands; the page polls this while a walk runs."""
    who.require("approver")
    return _verification_partial(request, runtime(request), who)


def _verification_partial(request: Request, rt: Runtime, who: Viewer) -> Response:
    return templates.TemplateResponse(
        request,
        "_audit_verify.html.j2",
        {"who": who, "poll_seconds": POLL_SECONDS, **_verification(request, rt, who)},
    )


def _chain_check(request: Request) -> ChainCheck:
    """The app's one chain check, made on first use."""
    state = request.app.state
    with _CHECK_LOCK:
        check: ChainCheck | None = getattr(state, "deskhand_chain_check", None)
        if check is None:
            rt = runtime(request)
            check = ChainCheck(rt.db, CheckpointFile.from_settings(rt.settings, lambda: rt.keys))
            state.deskhand_chain_check = check
    return check


def _verification(request: Request, rt: Runtime, who: Viewer) -> dict[str, Any]:
    """The last verification, as much of it as ``who`` may see.

    A user of some tenants learns the verdict and the counts; where the chain breaks is shown
    only when the event is one of theirs, and the head hash and the wording (which names other
    events) only to users of every tenant.
    """
    verification = _chain_check(request).last
    context: dict[str, Any] = {
        "verification": verification,
        "poll_seconds": POLL_SECONDS,
        "details": who.all_tenants,
        "bad_event": None,
    }
    bad = _first_bad(verification)
    if bad is not None and (who.all_tenants or _event_in_scope(rt, who, bad)):
        context["bad_event"] = bad
    return context


def _first_bad(verification: Verification | None) -> int | None:
    if verification is None or verification.report is None:
        return None
    return verification.report.first_bad_event_id


def _event_in_scope(rt: Runtime, who: Viewer, event_id: int) -> bool:
    with rt.db.reading() as session:
        tenant_id = session.scalar(select(EventRecord.tenant_id).where(EventRecord.id == event_id))
    return tenant_id is not None and who.sees(tenant_id)


def _stream(rt: Runtime, search: EventSearch) -> Iterator[str]:
    with rt.db.reading() as session:
        chunk: list[str] = []
        for line in jsonl_lines(session, search):
            chunk.append(line)
            if len(chunk) >= EXPORT_CHUNK:
                yield "".join(chunk)
                chunk.clear()
        if chunk:
            yield "".join(chunk)


def _filename(filters: AuditFilters) -> str:
    """deskhand-events-contoso-dental-ticket-12-20250101T120000Z.jsonl: what and when."""
    parts = ["deskhand-events"]
    if filters.tenant:
        parts.append(filters.tenant)
    if filters.ticket:
        parts.append(f"ticket-{filters.ticket}")
    if filters.type:
        parts.append(filters.type)
    parts.append(datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    # Only characters that are safe in a header and a file name, whatever was typed.
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts))[:150] + ".jsonl"


def _row(event: EventRecord) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "type": event.type,
        "actor_kind": event.actor_kind,
        "actor": event.actor,
        "tenant_id": event.tenant_id,
        "ticket_id": event.ticket_id,
        "run_id": event.run_id,
        "step_id": event.step_id,
        "data": event.data,
        "summary": summarise(event.type, event.data, event.actor),
    }


def _tenants(rt: Runtime, who: Viewer) -> dict[str, str]:
    """The tenants ``who`` may search, id → name, by name."""
    with rt.db.reading() as session:
        rows = session.execute(select(Tenant.id, Tenant.name).order_by(Tenant.name, Tenant.id))
        return {tenant_id: name for tenant_id, name in rows if who.sees(tenant_id)}


def _ticket_id(text: str) -> int | None:
    value = text.strip().removeprefix("#")
    if not value:
        return None
    if not _ID.fullmatch(value) or not 1 <= int(value) <= MAX_ID:
        raise InputError(
            f"The ticket {text.strip()!r} is not a ticket id: give deskhand's ticket number, "
            "like 42."
        )
    return int(value)


def _before(text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if not _ID.fullmatch(value) or not 1 <= int(value) <= MAX_ID:
        raise InputError(f"{value!r} is not an event id to page from.")
    return int(value)


def _day(text: str, label: str) -> date | None:
    value = text.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{label}: cannot read the date {value!r}; use YYYY-MM-DD.") from None
