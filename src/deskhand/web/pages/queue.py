"""The approval queue: pending drafts riskiest and oldest first, decided in one keystroke.

Approve, edit and reject go through ``deskhand.engine.approvals`` — the same rules as the
command line: role, tenant scope, never one's own request, bound to the payload's SHA-256.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from deskhand.actions import action
from deskhand.domain.actions import Reference
from deskhand.engine import approvals
from deskhand.engine.approvals import DraftFilter, DraftView
from deskhand.engine.carried_edits import carry_over
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.store.models import Tenant
from deskhand.web.card_context import card_context, visible_tenants
from deskhand.web.params import ObjectId
from deskhand.web.render import flash, page, templates
from deskhand.web.security import CurrentViewer, NotFound, Viewer, check_csrf, runtime

router = APIRouter()
PAGE_SIZE = 50
RADII = ("destructive", "security", "billing", "external_communication", "internal", "read")


class QueueFilters(BaseModel):
    tenant: str | None = None
    specialist: str | None = None
    radius: str | None = None

    def query(self) -> str:
        return urlencode({k: v for k, v in self.model_dump().items() if v})


def _where(who: Viewer, filters: QueueFilters, **more: Any) -> DraftFilter:
    tenants = None if who.all_tenants else who.tenants
    if filters.tenant:
        tenants = (filters.tenant,) if who.sees(filters.tenant) else ()
    return DraftFilter(
        tenants=tenants,
        specialist=filters.specialist or None,
        blast_radius=filters.radius or None,
        **more,
    )


@router.get("/queue")
def queue(
    request: Request,
    who: CurrentViewer,
    tenant: str | None = None,
    specialist: str | None = None,
    radius: str | None = None,
    page_number: int = 1,
) -> Response:
    rt = runtime(request)
    filters = QueueFilters(tenant=tenant, specialist=specialist, radius=radius)
    offset = (max(page_number, 1) - 1) * PAGE_SIZE
    drafts = approvals.query_drafts(rt, _where(who, filters, limit=PAGE_SIZE, offset=offset))
    total = approvals.count_drafts(rt, _where(who, filters))
    specialists = sorted(rt.registry.by_name)
    newest = max((d.id for d in drafts), default=0)
    return page(
        request,
        "queue.html.j2",
        who,
        drafts=drafts,
        total=total,
        filters=filters,
        specialists=specialists,
        radii=RADII,
        newest=newest,
        page_number=max(page_number, 1),
        more=offset + len(drafts) < total,
        **card_context(rt, who),
    )


@router.get("/queue/new")
def queue_new(
    request: Request,
    who: CurrentViewer,
    after: int = 0,
    tenant: str | None = None,
    specialist: str | None = None,
    radius: str | None = None,
) -> Response:
    """Drafts that arrived since the page was drawn, appended without a reload."""
    rt = runtime(request)
    filters = QueueFilters(tenant=tenant, specialist=specialist, radius=radius)
    drafts = approvals.query_drafts(rt, _where(who, filters, after_id=after, limit=PAGE_SIZE))
    newest = max([after, *(d.id for d in drafts)])
    return templates.TemplateResponse(
        request,
        "_queue_new.html.j2",
        {"who": who, "drafts": drafts, "newest": newest, "filters": filters,
         **card_context(rt, who)},
    )  # fmt: skip


def _visible(rt: Runtime, who: Viewer, draft_id: int) -> DraftView:
    try:
        draft = approvals.show(rt, draft_id)
    except approvals.ApprovalError:
        raise NotFound(f"There is no draft {draft_id}.") from None
    who.require_tenant(draft.tenant_id, f"draft {draft_id}")
    return draft


def _refused(
    request: Request, rt: Runtime, who: Viewer, draft_id: int, error: approvals.ApprovalError
) -> Response:
    """The queue card again after a refused decision, saying why: a draft decided elsewhere
    shows how it was decided; one still pending stays decidable, with the message on it."""
    draft = _visible(rt, who, draft_id)
    context: dict[str, Any] = {"who": who, "error": error.message, "hint": error.hint}
    if draft.status != "pending":
        return templates.TemplateResponse(
            request,
            "_decided.html.j2",
            {**context, "d": draft, "verb": draft.status, "reason": ""},
            status_code=error.http_status,
        )
    return templates.TemplateResponse(
        request,
        "_draft.html.j2",
        {**context, "d": draft, **card_context(rt, who)},
        status_code=error.http_status,
    )


@router.post("/drafts/{draft_id}/approve")
async def approve(request: Request, who: CurrentViewer, draft_id: ObjectId) -> Response:
    form = await request.form()
    check_csrf(request, who, form)
    rt = runtime(request)
    draft = _visible(rt, who, draft_id)
    edit = _edited_params(rt, draft, form) if form.get("edited") == "1" else None
    try:
        decided = approvals.approve(
            rt,
            draft_id,
            who.email,
            edit,
            acknowledge_stale=form.get("acknowledge_stale") == "1",
            verification=str(form.get("verification") or "")[:500],
            approve_as=str(form.get("approve_as") or "") or None,
        )
    except approvals.ApprovalError as error:
        if edit is not None and draft.status == "pending":
            return _edit_refused(request, rt, who, draft, edit, form, error)
        if not request.headers.get("HX-Request"):
            raise
        return _refused(request, rt, who, draft_id, error)
    if request.headers.get("HX-Request"):
        return templates.TemplateResponse(
            request, "_decided.html.j2", {"d": decided, "verb": "approved", "who": who}
        )
    response = RedirectResponse("/queue", status_code=303)
    edited = action(decided.action).edited(decided.changes)
    changed = f" with your edit of {edited}" if edited else ""
    return flash(
        response,
        f"Draft #{draft_id} approved{changed}; its plan runs once every draft of it is decided.",
    )


@router.post("/drafts/{draft_id}/reject")
async def reject(request: Request, who: CurrentViewer, draft_id: ObjectId) -> Response:
    form = await request.form()
    check_csrf(request, who, form)
    rt = runtime(request)
    _visible(rt, who, draft_id)
    reason = str(form.get("reason") or "").strip()
    try:
        decided = approvals.reject(rt, draft_id, who.email, reason)
    except approvals.ApprovalError as error:
        if not request.headers.get("HX-Request"):
            raise
        return _refused(request, rt, who, draft_id, error)
    if request.headers.get("HX-Request"):
        return templates.TemplateResponse(
            request,
            "_decided.html.j2",
            {"d": decided, "verb": "rejected", "reason": reason, "who": who},
        )
    response = RedirectResponse("/queue", status_code=303)
    return flash(response, f"Draft #{draft_id} rejected; the ticket is in Escalations.")


def _edit_refused(
    request: Request,
    rt: Runtime,
    who: Viewer,
    draft: DraftView,
    edit: dict[str, Any],
    form: Any,
    error: approvals.ApprovalError,
) -> Response:
    """The edit form again, with the approver's values and why the edit was refused; for an
    edit that raised the blast radius, the box that accepts the new class."""
    reclassified = error if isinstance(error, approvals.ReclassifiedError) else None
    return page(
        request,
        "edit.html.j2",
        who,
        status_code=error.http_status,
        d=draft,
        fields=_fields(rt, draft, edit),
        changes=_changes(draft, edit),
        tenants=visible_tenants(rt, who),
        error=error.message,
        hint=error.hint,
        approve_as=reclassified.needed if reclassified else None,
        verify_as=reclassified.verify if reclassified else False,
        verification=str(form.get("verification") or "")[:500],
    )


@router.get("/drafts/{draft_id}/edit")
def edit_form(request: Request, who: CurrentViewer, draft_id: ObjectId) -> Response:
    rt = runtime(request)
    draft = _visible(rt, who, draft_id)
    return page(
        request,
        "edit.html.j2",
        who,
        d=draft,
        fields=_fields(rt, draft, carry_over(_params(draft), draft.stale)),
        changes=_changes(draft, carry_over(_params(draft), draft.stale)),
        tenants=visible_tenants(rt, who),
    )


@router.post("/drafts/{draft_id}/diff")
async def diff(request: Request, who: CurrentViewer, draft_id: ObjectId) -> Response:
    """The changes an edit would make, shown live as the form changes."""
    form = await request.form()
    check_csrf(request, who, form)
    rt = runtime(request)
    draft = _visible(rt, who, draft_id)
    changes = _changes(draft, _edited_params(rt, draft, form))
    return templates.TemplateResponse(request, "_diff.html.j2", {"changes": changes})


class Field(BaseModel):
    """One input of the edit form, built from the action's parameter model."""

    name: str
    label: str
    kind: str  # text, number, checkbox, select
    value: Any
    help: str = ""
    options: list[tuple[str, str]] = []


def _params(draft: DraftView) -> dict[str, Any]:
    return dict(draft.approved_params or draft.proposed_params)


def _changes(draft: DraftView, edited: dict[str, Any]) -> dict[str, list[Any]]:
    """What ``edited`` changes of the specialist's proposal, field by field."""
    proposed = draft.proposed_params
    return {k: [proposed.get(k), v] for k, v in edited.items() if proposed.get(k) != v}


def _fields(rt: Runtime, draft: DraftView, params: dict[str, Any]) -> list[Field]:
    """The inputs of the edit form: every parameter but the names the directory fills in; a
    directory reference is a choice among the tenant's own objects."""
    spec = action(draft.action)
    options = _directory_options(rt, draft.tenant_id, spec.references)
    fields = []
    for name, info in spec.Params.model_fields.items():
        if name in spec.shown:
            continue
        annotation = info.annotation
        kind = "checkbox" if annotation is bool else "number" if annotation is int else "text"
        if name in options:
            kind = "select"
        fields.append(
            Field(
                name=name,
                label=name.replace("_", " "),
                kind=kind,
                value=params.get(name),
                help=info.description or "",
                options=options.get(name, []),
            )
        )
    return fields


def _directory_options(
    rt: Runtime, tenant_id: str, references: dict[str, Reference]
) -> dict[str, list[tuple[str, str]]]:
    """The tenant's users, groups and licences to choose from, for each reference parameter."""
    kinds = {name: ref.kind for name, ref in references.items()}
    if not set(kinds.values()) & {"user", "group", "licence"}:
        return {}
    with rt.db.reading() as session:
        tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        return {}
    m365 = rt.connectors(tenant).m365
    lists = {
        "user": lambda: [(u.id, u.user_principal_name) for u in m365.list_users()],
        "group": lambda: [(g.id, g.display_name) for g in m365.list_groups()],
        "licence": lambda: [(s.id, s.display_name) for s in m365.subscribed_skus()],
    }
    return {name: lists[kind]() for name, kind in kinds.items() if kind in lists}


def _edited_params(rt: Runtime, draft: DraftView, form: Any) -> dict[str, Any]:
    """The form's values as parameters, typed like the model. Names the directory fills in are
    left out: the engine takes them from the directory, and the diff shows the chosen one."""
    spec = action(draft.action)
    current = dict(draft.proposed_params)
    options = _directory_options(rt, draft.tenant_id, spec.references)
    edited: dict[str, Any] = {}
    for name, info in spec.Params.model_fields.items():
        if name in spec.shown:
            continue
        raw = form.get(name)
        if info.annotation is bool:
            edited[name] = raw in ("on", "true", "1")
        elif raw is None:
            edited[name] = current.get(name)
        elif info.annotation is int:
            try:
                edited[name] = int(str(raw))
            except ValueError:
                raise InputError(f"{name} must be a whole number.") from None
        else:
            edited[name] = str(raw)
    for name, reference in spec.references.items():
        labels = dict(options.get(name, []))
        for shown in reference.shows:  # for the diff only; the engine looks it up itself
            edited[shown] = labels.get(str(edited.get(name)), current.get(shown))
    return {k: v for k, v in edited.items() if k in current or v is not None}
