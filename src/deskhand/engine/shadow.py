"""Shadow mode: a tenant (or one specialist within it) whose plans are recorded as "what
deskhand would have done", never drafted and never run, and compared with what the technicians
then did by hand. A new tenant starts in shadow; only an admin moves it to live, and the
change is recorded with the shadow record that supported it.

Everything here reads the outside systems only: the snapshot taken when a plan is shadowed and
the read-back when the ticket was worked are each action's own read-only ``snapshot`` and
``check``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.accounts import find_user
from deskhand.actions import action
from deskhand.actions.contract import Baseline
from deskhand.audit.log import append
from deskhand.connectors.capabilities import PSA_COMMENTS
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.factory import Connectors
from deskhand.domain import events as ev
from deskhand.domain.actions import DIRECTORY_KINDS
from deskhand.domain.events import Actor, ActorKind
from deskhand.engine import state
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import EventRecord, Run, Tenant, Ticket, User

log = logging.getLogger(__name__)

SHADOW, LIVE = "shadow", "live"
MODES = (SHADOW, LIVE)
MATCHED, NOT_MATCHED, NOT_COMPARED = "matched", "not matched", "not compared"
NOTHING_TO_COMPARE = "nothing to compare"
WORKERS = ("tech", "approver", "admin")  # the roles that work tickets by hand


class ShadowError(DeskhandError):
    """A mode change or a worked ticket that cannot be taken; the message says what to do."""

    exit_code = 2
    http_status = 409


class TicketNotFoundError(ShadowError):
    """No such ticket, or one of a tenant outside the user's scope (which looks the same)."""

    http_status = 404


class NotAllowedError(ShadowError):
    """The user's role does not allow it."""

    http_status = 403


def mode_of(tenant: Tenant, specialist: str | None = None) -> str:
    """The mode a specialist works in for this tenant: its own if an admin set one, else the
    tenant's."""
    overrides = tenant.specialist_modes or {}
    if specialist is not None and specialist in overrides:
        return str(overrides[specialist])
    return tenant.mode


def in_shadow(tenant: Tenant, specialist: str | None = None) -> bool:
    return mode_of(tenant, specialist) == SHADOW


def shadowed(
    connectors: Connectors, specialist: str, summary: str, steps: Sequence[state.DecidedStep]
) -> ev.PlanShadowed:
    """The plan as "what deskhand would have done", each step with a read-only snapshot of what
    it would have changed (None when it cannot be read now, e.g. a user a step would create)."""
    shown = []
    for position, step in enumerate(steps, start=1):
        snapshot: dict[str, Any] | None
        try:
            spec = action(step.action)
            snapshot = spec.snapshot(spec.validate(step.params), connectors)
        except Exception:
            snapshot = None
        shown.append(
            {
                "position": position,
                "action": step.action,
                "description": step.description,
                "params": step.params,
                "blast_radius": step.blast_radius,
                "decision": step.decision,
                "snapshot": snapshot,
            }
        )
    return ev.PlanShadowed(specialist=specialist, summary=summary, steps=shown)


@dataclass(frozen=True)
class Comparison:
    ticket_id: int
    specialist: str
    outcome: str  # MATCHED, NOT_MATCHED or NOTHING_TO_COMPARE
    steps: list[dict[str, Any]]


def worked(rt: Runtime, ticket_id: int, email: str) -> Comparison:
    """A technician worked a shadowed ticket by hand: read back each step of the shadow plan
    (reads only), record the comparison and resolve the ticket."""
    with rt.db.reading() as session:
        user = _worker(session, email)
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or not _sees(user, ticket.tenant_id):
            raise TicketNotFoundError(
                f"No ticket {ticket_id}.", hint="`deskhand tickets list` lists them."
            )
        if ticket.status != "left_to_technicians":
            raise ShadowError(
                f"Ticket {ticket_id} is {ticket.status.replace('_', ' ')}, not left to the "
                "technicians by shadow mode: there is no shadow plan to compare.",
                hint="Only a ticket of a tenant or specialist in shadow is marked worked.",
            )
        run, record = _shadow_run(session, ticket_id)
        tenant = session.get(Tenant, ticket.tenant_id)
        assert tenant is not None
        plan = record.data
        shadowed_at = record.at
        run_id = run.id
    connectors = rt.ticket_connectors(tenant)
    steps = [_compare(connectors, run_id, shadowed_at, step) for step in plan["steps"]]
    event = ev.ShadowCompared(specialist=plan["specialist"], outcome=_overall(steps), steps=steps)
    with rt.db.session() as session:
        user = _worker(session, email)
        found = session.get(Run, run_id)
        assert found is not None
        state.close_shadowed(session, found, event, user)
    return Comparison(ticket_id, event.specialist, event.outcome, steps)


def _compare(
    connectors: Connectors, run_id: int, shadowed_at: datetime, step: dict[str, Any]
) -> dict[str, Any]:
    """One shadow step read back now: does the directory show the change it would have made?
    Steps that change no directory object (a reply, a note, time) are not compared: a
    technician's own words are not deskhand's."""
    found = {k: step[k] for k in ("position", "action", "description")}
    try:
        spec = action(step["action"])
    except DeskhandError:
        return {**found, "outcome": NOT_COMPARED, "observed": "the action is not installed"}
    if not any(ref.kind in DIRECTORY_KINDS for ref in spec.references.values()):
        return {**found, "outcome": NOT_COMPARED, "observed": "changes nothing in the directory"}
    baseline = Baseline(shadowed_at, step.get("snapshot") or {})
    try:
        check = spec.check(
            spec.validate(step["params"]),
            connectors,
            f"dh-{run_id}-{step['position']}",
            baseline,
        )
    except Exception as error:
        return {**found, "outcome": NOT_MATCHED, "observed": f"could not be read: {error}"}
    return {
        **found,
        "outcome": MATCHED if check.done else NOT_MATCHED,
        "observed": check.observed,
    }


def _overall(steps: Sequence[dict[str, Any]]) -> str:
    compared = [s["outcome"] for s in steps if s["outcome"] != NOT_COMPARED]
    if not compared:
        return NOTHING_TO_COMPARE
    return MATCHED if all(o == MATCHED for o in compared) else NOT_MATCHED


def _shadow_run(session: Session, ticket_id: int) -> tuple[Run, EventRecord]:
    run = session.scalars(
        select(Run)
        .where(Run.ticket_id == ticket_id, Run.status == "shadowed")
        .order_by(Run.id.desc())
    ).first()
    record = (
        session.scalars(
            select(EventRecord).where(
                EventRecord.run_id == run.id, EventRecord.type == ev.PlanShadowed.TYPE
            )
        ).first()
        if run is not None
        else None
    )
    if run is None or record is None:
        raise ShadowError(f"Ticket {ticket_id} has no shadow plan.")
    return run, record


@dataclass(frozen=True)
class ShadowRecord:
    """How the shadow plans of a tenant (or one specialist in it) compared with what the
    technicians did; tickets with nothing to compare are not counted."""

    compared: int
    matched: int

    @property
    def mismatched(self) -> int:
        return self.compared - self.matched

    def words(self) -> str:
        if not self.compared:
            return "no shadow plan compared yet"
        return (
            f"{self.matched} of {self.compared} shadow plans matched what the technicians did "
            f"({self.mismatched} did not)"
        )


def shadow_record(session: Session, tenant_id: str, specialist: str | None = None) -> ShadowRecord:
    compared = matched = 0
    for data in session.scalars(
        select(EventRecord.data).where(
            EventRecord.tenant_id == tenant_id, EventRecord.type == ev.ShadowCompared.TYPE
        )
    ):
        if specialist is not None and data.get("specialist") != specialist:
            continue
        if data.get("outcome") == NOTHING_TO_COMPARE:
            continue
        compared += 1
        matched += data.get("outcome") == MATCHED
    return ShadowRecord(compared, matched)


@dataclass(frozen=True)
class ModeChange:
    """The newest move of a whole tenant between shadow and live, as the log has it."""

    at: datetime
    by: str
    new: str
    reason: str
    record: ShadowRecord

    def words(self) -> str:
        """'Live since 2 Nov 2026, moved by sam@msp.example: good record. Then: 6 of 6 …'."""
        reason = self.reason.rstrip(".")
        return (
            f"{self.new.capitalize()} since {self.at.day} {self.at:%b %Y}, moved by {self.by}: "
            f"{reason}. Then: {self.record.words()}."
        )


def last_mode_change(session: Session, tenant_id: str) -> ModeChange | None:
    """The newest ``tenant.mode_changed`` of the whole tenant (not one specialist's), or None."""
    for record in session.scalars(
        select(EventRecord)
        .where(EventRecord.tenant_id == tenant_id, EventRecord.type == ev.TenantModeChanged.TYPE)
        .order_by(EventRecord.id.desc())
    ):
        data = record.data
        if data.get("specialist"):
            continue
        shown = ShadowRecord(int(data.get("compared", 0)), int(data.get("matched", 0)))
        return ModeChange(record.at, record.actor, str(data["new"]), str(data["reason"]), shown)
    return None


def set_mode(
    rt: Runtime,
    tenant_id: str,
    new: str,
    email: str,
    reason: str,
    specialist: str | None = None,
) -> ev.TenantModeChanged:
    """An admin moves a tenant, or one specialist within it, to shadow or live: recorded with
    the shadow record that supported it."""
    if new not in MODES:
        raise InputError(f"No mode {new!r}.", hint="A mode is shadow or live.")
    if not reason.strip():
        raise InputError("Say why (--reason): it goes in the log beside the change.")
    if specialist is not None and specialist not in rt.registry.by_name:
        known = ", ".join(sorted(rt.registry.by_name))
        raise InputError(f"No specialist {specialist!r}.", hint=f"Installed: {known}.")
    with rt.db.session() as session:
        user = find_user(session, email)
        if user.role != "admin" or user.disabled_at is not None:
            raise NotAllowedError(
                f"{user.email} is {user.role}: only an admin moves a tenant between shadow "
                "and live.",
                hint="Ask an admin to do it.",
            )
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise InputError(f"No tenant {tenant_id}.", hint="`deskhand tenants list`.")
        old = mode_of(tenant, specialist)
        who = f"{specialist} for {tenant_id}" if specialist else tenant_id
        if old == new:
            raise ShadowError(f"{who} is already {new}.")
        if specialist is None:
            tenant.mode = new
        else:
            tenant.specialist_modes = {**(tenant.specialist_modes or {}), specialist: new}
        record = shadow_record(session, tenant_id, specialist)
        event = ev.TenantModeChanged(
            specialist=specialist or "",
            old=old,
            new=new,
            reason=reason.strip(),
            compared=record.compared,
            matched=record.matched,
            mismatched=record.mismatched,
        )
        append(session, event, actor=Actor(ActorKind.USER, user.email), tenant_id=tenant_id)
    return event


def _worker(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user.role not in WORKERS or user.disabled_at is not None:
        raise NotAllowedError(
            f"{user.email} is {user.role}: a viewer cannot mark a ticket worked.",
            hint="A technician, approver or admin does.",
        )
    return user


def _sees(user: User, tenant_id: str) -> bool:
    return "*" in user.tenants or tenant_id in user.tenants


@dataclass(frozen=True)
class ShadowView:
    """A ticket's newest shadow plan, for its page: what deskhand would have done, and how it
    compared once a technician worked the ticket (None until then)."""

    specialist: str
    summary: str
    steps: list[dict[str, Any]]
    outcome: str | None
    compared: list[dict[str, Any]]
    worked_by: str | None


def of_ticket(session: Session, ticket_id: int) -> ShadowView | None:
    records = list(
        session.scalars(
            select(EventRecord)
            .where(
                EventRecord.ticket_id == ticket_id,
                EventRecord.type.in_((ev.PlanShadowed.TYPE, ev.ShadowCompared.TYPE)),
            )
            .order_by(EventRecord.id)
        )
    )
    plans = [r for r in records if r.type == ev.PlanShadowed.TYPE]
    if not plans:
        return None
    plan = plans[-1]
    compared = next(
        (r for r in records if r.type == ev.ShadowCompared.TYPE and r.run_id == plan.run_id),
        None,
    )
    return ShadowView(
        specialist=plan.data["specialist"],
        summary=plan.data["summary"],
        steps=plan.data["steps"],
        outcome=compared.data["outcome"] if compared is not None else None,
        compared=compared.data["steps"] if compared is not None else [],
        worked_by=compared.actor if compared is not None else None,
    )


def post_note(rt: Runtime, tenant: Tenant, run_id: int, event: ev.PlanShadowed) -> None:
    """The shadow plan as an internal note on the PSA ticket, when the tenant's policy asks for
    it (``shadow: {note: true}``): for the technicians, never the client. A PSA that refuses it
    leaves the ticket as it is; the note is recorded when written."""
    connectors = rt.ticket_connectors(tenant)
    if PSA_COMMENTS.missing(connectors) is not None:
        return  # a ticket no PSA holds
    with rt.db.reading() as session:
        run = session.get(Run, run_id)
        assert run is not None
        psa_ticket_id, ticket_id = run.ticket.psa_ticket_id, run.ticket_id
    steps = "\n".join(f"{s['position']}. {s['description']}" for s in event.steps)
    body = (
        f"deskhand is in shadow mode for this ticket: nothing was drafted or run. What it would "
        f"have done ({event.specialist}): {event.summary}\n{steps}\n\nWhen you have worked the "
        f"ticket: deskhand tickets worked {ticket_id} --as YOU"
    )
    try:
        note = PSA_COMMENTS.of(connectors).add_comment(psa_ticket_id, "deskhand shadow", body, True)
    except ConnectorError as error:
        log.warning("PSA ticket %s: the shadow note was refused: %s", psa_ticket_id, error)
        return
    with rt.db.session() as session:
        found = session.get(Run, run_id)
        assert found is not None
        state.record(session, found, ev.NoteWritten(psa_ticket_id, str(note.id), hidden=True))


def would_escalate(specialist: str | None, reason: str, detail: str) -> ev.PlanShadowed:
    """A dispatch that would have escalated, as a shadow plan with no step: in shadow the
    ticket is the technicians' already, so nothing reaches the queue or the PSA."""
    return ev.PlanShadowed(
        specialist=specialist or "triage",
        summary=f"would have escalated ({reason}): {detail}",
        steps=[],
    )
