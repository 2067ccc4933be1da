"""Tenants: each client's connector, who may approve its drafts, its open work, its leavers' and
starters' templates (what an offboarding does here, read before approving one), and its policy
— the file as stored beside the decision it gives every action.

A user sees only the tenants in their scope; any other tenant answers 404, like a missing one.
Connector status is fetched by each row on its own (HTMX) with a time limit, so a slow or broken
connector shows as such instead of holding up the page.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskhand.actions import catalogue
from deskhand.connectors.errors import ConnectorError
from deskhand.engine.runtime import Runtime
from deskhand.engine.shadow import (
    SHADOW,
    ModeChange,
    ShadowRecord,
    last_mode_change,
    shadow_record,
)
from deskhand.errors import DeskhandError, InputError
from deskhand.policy.effective import action_decisions
from deskhand.policy.lifecycle_words import lifecycle_words
from deskhand.policy.tenant_policy import TenantPolicy
from deskhand.store.models import Approval, Escalation, Tenant, Ticket, User
from deskhand.tenants.ownership import Change, last_changes
from deskhand.web.render import page, templates
from deskhand.web.security import CurrentViewer, NotFound, Viewer, runtime

router = APIRouter()
log = logging.getLogger("deskhand.web")

CHECK_SECONDS = 3.0  # how long a connector may take to answer the status check
OPEN_TICKET = ("new", "working", "awaiting_approval", "waiting_on_requester")
BUILTIN_FILE = "deskhand/policy/default_policy.yaml"


@dataclass(frozen=True)
class ConnectorStatus:
    """What a cheap read of a tenant's connector showed."""

    name: str  # the tenant's connector setting: "sandbox", or a real system's name
    state: str  # ok, failed or slow
    summary: str  # "reachable, 12 users, 5 PSA contacts", or what went wrong

    @property
    def kind(self) -> str:
        return "sandbox" if self.name == "sandbox" else "real"


@dataclass(frozen=True)
class LoadedPolicy:
    """A tenant's policy as deskhand uses it, or why it cannot be loaded."""

    source: str  # the file's path, or "built-in policy (…default_policy.yaml…)"
    text: str | None  # the file as stored; None when it cannot be read
    policy: TenantPolicy | None
    error: str | None


@dataclass(frozen=True)
class TenantRow:
    """What the Tenants page shows of one tenant, and the tenant page above its policy."""

    tenant: Tenant
    policy: LoadedPolicy
    approvers: list[User]
    counts: dict[str, int]  # open tickets, pending drafts, open escalations
    owner: Change | None = None  # who last changed the policy, when and why
    shadow: ShadowRecord | None = None  # how its shadow plans compared (a tenant in shadow)
    mode_change: ModeChange | None = None  # the admin's last move between shadow and live


@router.get("/tenants")
def tenants_page(request: Request, who: CurrentViewer) -> Response:
    rt = runtime(request)
    with rt.db.reading() as session:
        tenants = _visible_tenants(session, who)
        users = _users(session)
        counts = _counts(session, [t.id for t in tenants])
        owners = last_changes(session, [t.id for t in tenants])
        modes = _modes(session, tenants)
    rows = [_row(rt, tenant, users, counts, owners, modes, with_text=False) for tenant in tenants]
    return page(request, "tenants.html.j2", who, rows=rows)


@router.get("/tenants/{tenant_id}")
def tenant_page(request: Request, who: CurrentViewer, tenant_id: str) -> Response:
    rt = runtime(request)
    with rt.db.reading() as session:
        tenant = _tenant(session, who, tenant_id)
        users = _users(session)
        counts = _counts(session, [tenant.id])
        owners = last_changes(session, [tenant.id])
        modes = _modes(session, [tenant])
    row = _row(rt, tenant, users, counts, owners, modes, with_text=True)
    policy = row.policy.policy
    return page(
        request,
        "tenant.html.j2",
        who,
        active="tenants",  # the nav's Tenants entry, though the template is tenant.html.j2
        row=row,
        tenant=tenant,
        decisions=action_decisions(policy, catalogue()) if policy is not None else [],
        lifecycle=lifecycle_words(policy) if policy is not None else None,
    )


@router.get("/tenants/{tenant_id}/connector")
def tenant_connector(request: Request, who: CurrentViewer, tenant_id: str) -> Response:
    """The connector's status, checked now with a time limit (each row asks for its own)."""
    rt = runtime(request)
    with rt.db.reading() as session:
        tenant = _tenant(session, who, tenant_id)
    return templates.TemplateResponse(
        request,
        "_tenant_connector.html.j2",
        {"tenant": tenant, "status": check_connector(rt, tenant)},
    )


def check_connector(rt: Runtime, tenant: Tenant) -> ConnectorStatus:
    """Read the tenant's directory and PSA contacts, giving up after ``CHECK_SECONDS``.

    The read runs in a thread of its own: a connector that hangs is left to finish (or not) in
    the background, and the page says it did not answer in time.
    """
    found: list[ConnectorStatus] = []

    def probe() -> None:
        found.append(_probe(rt, tenant))

    thread = threading.Thread(
        target=probe, name=f"deskhand-check-{tenant.id}", daemon=True
    )  # daemon: never holds up the server's exit
    thread.start()
    thread.join(CHECK_SECONDS)
    if found:
        return found[0]
    return ConnectorStatus(
        tenant.connector, "slow", f"no answer within {CHECK_SECONDS:g} s; it may be down or slow"
    )


def _probe(rt: Runtime, tenant: Tenant) -> ConnectorStatus:
    name = tenant.connector
    try:
        connectors = rt.connectors(tenant)
        users = len(connectors.m365.list_users())
        contacts = len(connectors.psa.contacts())
    except ConnectorError as error:
        # The connector's own message, which names the system and its answer, never a secret.
        return ConnectorStatus(name, "failed", str(error))
    except DeskhandError as error:
        return ConnectorStatus(name, "failed", error.message)
    except Exception:  # a status check must never break the page; the log has the details
        log.exception("checking the connector of tenant %s failed", tenant.id)
        return ConnectorStatus(name, "failed", "the check failed unexpectedly; see the server log")
    return ConnectorStatus(
        name,
        "ok",
        f"reachable, {_count(users, 'user')}, {_count(contacts, 'PSA contact')}",
    )


def _row(
    rt: Runtime,
    tenant: Tenant,
    users: list[User],
    counts: dict[str, dict[str, int]],
    owners: dict[str, Change],
    modes: dict[str, tuple[ShadowRecord | None, ModeChange | None]],
    *,
    with_text: bool,
) -> TenantRow:
    loaded = _policy(rt, tenant, with_text=with_text)
    approvers = _approvers(loaded.policy, tenant.id, users)
    record, change = modes.get(tenant.id, (None, None))
    return TenantRow(
        tenant, loaded, approvers, counts[tenant.id], owners.get(tenant.id), record, change
    )


def _modes(
    session: Session, tenants: list[Tenant]
) -> dict[str, tuple[ShadowRecord | None, ModeChange | None]]:
    """Each tenant's shadow record (while in shadow) and the admin's last move between modes."""
    return {
        t.id: (
            shadow_record(session, t.id) if t.mode == SHADOW else None,
            last_mode_change(session, t.id),
        )
        for t in tenants
    }


def _tenant(session: Session, who: Viewer, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or not who.sees(tenant.id):
        raise NotFound(f"There is no tenant {tenant_id!r}.", hint="The Tenants page lists yours.")
    return tenant


def _visible_tenants(session: Session, who: Viewer) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.name, Tenant.id)
    if not who.all_tenants:
        query = query.where(Tenant.id.in_(who.tenants))
    return list(session.scalars(query))


def _users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name, User.email)))


def _approvers(policy: TenantPolicy | None, tenant_id: str, users: list[User]) -> list[User]:
    """The people who may approve the tenant's drafts: an approving role, and the tenant in
    their scope."""
    if policy is None:
        return []
    return [
        user
        for user in users
        if policy.may_approve(user.role)
        and user.disabled_at is None  # a disabled account approves nothing
        and ("*" in user.tenants or tenant_id in user.tenants)
    ]


def _counts(session: Session, tenant_ids: list[str]) -> dict[str, dict[str, int]]:
    """Open tickets, pending drafts and open escalations per tenant."""
    counts = {t: {"tickets": 0, "drafts": 0, "escalations": 0} for t in tenant_ids}
    queries = {
        "tickets": select(Ticket.tenant_id, func.count())
        .where(Ticket.status.in_(OPEN_TICKET))
        .group_by(Ticket.tenant_id),
        "drafts": select(Approval.tenant_id, func.count())
        .where(Approval.status == "pending")
        .group_by(Approval.tenant_id),
        "escalations": select(Escalation.tenant_id, func.count())
        .where(Escalation.status == "open")
        .group_by(Escalation.tenant_id),
    }
    for key, query in queries.items():
        for tenant_id, count in session.execute(query):
            if tenant_id in counts:
                counts[tenant_id][key] = count
    return counts


def _policy(rt: Runtime, tenant: Tenant, *, with_text: bool) -> LoadedPolicy:
    source = tenant.policy_path or f"built-in policy ({BUILTIN_FILE} in the deskhand package)"
    text, error = _policy_text(tenant.policy_path) if with_text else (None, None)
    try:
        policy = rt.policy(tenant)
    except InputError as refused:
        # The file changed since it was set and no longer passes the checks.
        return LoadedPolicy(source, text, None, str(refused))
    return LoadedPolicy(source, text, policy, error)


def _policy_text(path: str | None) -> tuple[str | None, str | None]:
    """The policy file exactly as stored, or why it cannot be read."""
    if path is None:
        builtin = resources.files("deskhand.policy").joinpath("default_policy.yaml")
        return builtin.read_text(encoding="utf-8"), None
    try:
        return Path(path).read_text(encoding="utf-8"), None
    except OSError as error:
        return None, f"Cannot read {path}: {error.strerror}."
    except UnicodeDecodeError:
        return None, f"{path} is not UTF-8 text."


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
