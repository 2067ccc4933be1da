"""Who owns a tenant's policy — the person who can explain it — read from the event log.

Nobody owns a thing that nobody can explain. Setting a tenant's policy (``tenant.policy_set``)
or taking it over (``tenant.owner_set``) is an event whose actor is a deskhand user; the newest
of these names the owner, when and why. When that user is later disabled or removed, the
Tenants page and ``deskhand tenants doctor`` say so and ask for a new owner; nothing else
changes: the policy keeps working as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.audit import log as event_log
from deskhand.domain import events as ev
from deskhand.store.models import EventRecord, User

OWNER_EVENTS = (ev.TenantPolicySet.TYPE, ev.TenantOwnerSet.TYPE)


@dataclass(frozen=True)
class Change:
    """The newest policy change or take-over of one tenant."""

    tenant_id: str
    owner: str  # the user's e-mail address
    at: datetime
    reason: str
    what: str  # "set the policy to …" or "took over the policy"
    owner_state: str  # active, disabled, removed, or unnamed (changed with no deskhand user)

    @property
    def owner_gone(self) -> bool:
        return self.owner_state != "active"

    def sentence(self) -> str:
        """'Last changed by dana@msp.example on 7 Dec 2026: stricter replies'."""
        why = self.reason or "no reason given"
        return f"Last changed by {self.owner} on {self.at:%d %b %Y}: {why}"

    def warning(self) -> str | None:
        """What the Tenants page and the doctor say when the owner can no longer explain it."""
        if not self.owner_gone:
            return None
        pick = f"pick a new owner with `deskhand tenants owner {self.tenant_id} --as you`"
        if self.owner_state == "unnamed":
            return f"No deskhand user owns this policy (changed as {self.owner}): {pick}"
        return f"Policy owner {self.owner} is {self.owner_state}: {pick}"


def policy_hash(path: str | None) -> str:
    """SHA-256 of the policy file's text as deskhand reads it (the built-in one for None)."""
    if path is None:
        from importlib import resources

        text = resources.files("deskhand.policy").joinpath("default_policy.yaml").read_bytes()
    else:
        text = Path(path).read_bytes()
    return hashlib.sha256(text).hexdigest()


def record_policy(
    session: Session, tenant_id: str, actor: ev.Actor, path: str | None, reason: str
) -> None:
    """``actor`` (a user, who then owns it) gave the tenant the policy at ``path`` (None: the
    built-in one), for ``reason``."""
    event_log.append(
        session,
        ev.TenantPolicySet(path, policy_hash(path), reason.strip()),
        actor=actor,
        tenant_id=tenant_id,
    )


def take_over(session: Session, tenant_id: str, user: User, reason: str) -> Change | None:
    """``user`` becomes the owner of the tenant's policy; the owner before, if any."""
    before = last_changes(session, [tenant_id]).get(tenant_id)
    event_log.append(
        session,
        ev.TenantOwnerSet(before.owner if before else None, reason.strip()),
        actor=ev.Actor(ev.ActorKind.USER, user.email),
        tenant_id=tenant_id,
    )
    return before


def last_changes(session: Session, tenant_ids: list[str]) -> dict[str, Change]:
    """The newest policy change or take-over of each tenant that has one, with whether its
    owner is still an active user."""
    if not tenant_ids:
        return {}
    rows = session.execute(
        select(EventRecord.tenant_id, EventRecord.type, EventRecord.actor, EventRecord.at)
        .add_columns(EventRecord.data, EventRecord.actor_kind)
        .where(EventRecord.type.in_(OWNER_EVENTS), EventRecord.tenant_id.in_(tenant_ids))
        .order_by(EventRecord.id)
    ).all()
    newest = {
        tenant_id: (type_, actor, at, data, kind)
        for tenant_id, type_, actor, at, data, kind in rows
    }
    owners = {actor for _, actor, _, _, kind in newest.values() if kind == ev.ActorKind.USER.value}
    disabled = {
        email: user_disabled
        for email, user_disabled in session.execute(
            select(User.email, User.disabled_at).where(User.email.in_(sorted(owners)))
        )
    }
    changes = {}
    for tenant_id, (type_, actor, at, data, kind) in newest.items():
        if kind != ev.ActorKind.USER.value:
            state = "unnamed"
        elif actor not in disabled:
            state = "removed"
        elif disabled[actor] is not None:
            state = "disabled"
        else:
            state = "active"
        if type_ == ev.TenantPolicySet.TYPE:
            what = f"set the policy to {data.get('path') or 'the built-in policy'}"
        else:
            what = "took over the policy"
        changes[tenant_id] = Change(
            tenant_id, actor, at, str(data.get("reason") or ""), what, state
        )
    return changes
