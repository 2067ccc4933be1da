"""The state machine of tickets, runs, steps and approvals — the only code that changes them.

Every function here changes state *and* appends the event that records it, in the caller's
transaction: either both are stored or neither is. A transition not in the tables below is a
bug (or a race another worker won) and raises ``StateError``; nothing is half-done.

    ticket    new → working → awaiting_approval → working → resolved | escalated
              (working again once its run's last draft is approved, though it runs later)
              working → waiting_on_requester (a question run sent its reply) → working | escalated
              (working: the requester answered and a new run is queued)
              escalated → working (a technician resumed it: a new run is queued) | resolved
              resolved | escalated → working (a person proposed undoing a finished run: the
              undo plan is a new run of the ticket)
              working → left_to_technicians (shadow: the plan was only recorded) → resolved
              (a technician worked it by hand) | working
    run       queued → dispatching → awaiting_approval → ready → executing → completed
              dispatching → ready (nothing to approve) ; any open state → escalated
              dispatching → shadowed (shadow mode: the plan is recorded, nothing drafted or run)
              awaiting_approval → replanned (an approver left a group out: a new run plans it)
              executing → ready (paused until a change can show: taken up again at not_before)
    step      proposed → awaiting_approval → approved → executing → verified | failed
              proposed → ready → executing (policy: auto) ; proposed → forbidden
              awaiting_approval → rejected | expired ; approved → expired
              approved → awaiting_approval (re-planned after another step's edit)
              executing → uncertain (taken over, not shown done, not safe to repeat)
              not yet run when the run escalates → cancelled ; waiting to be read back again
              when the run escalates → failed (it gave up waiting)
    approval  pending → approved → used ; pending → rejected ; pending | approved → expired
              approved → pending (its step was re-planned: the approval was for the old payload)
              pending | approved when the run escalates → cancelled
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.audit.log import append, canonical_json
from deskhand.domain import events as ev
from deskhand.domain.answers import ANSWER_HEADING
from deskhand.domain.asks import listing
from deskhand.domain.dates import readable
from deskhand.domain.events import SYSTEM, Actor, ActorKind
from deskhand.domain.origin import TicketOrigin
from deskhand.domain.risks import risk_rank
from deskhand.errors import DeskhandError
from deskhand.store.models import (
    Approval,
    Escalation,
    EventRecord,
    Requester,
    Run,
    Step,
    StepSecret,
    Tenant,
    Ticket,
    User,
    now,
)
from deskhand.triage.warning_signs import canonical_address
from deskhand.trust import autonomy

TICKET_MOVES = {
    "new": {"working", "escalated"},
    "working": {
        "awaiting_approval",
        "resolved",
        "escalated",
        "working",
        "waiting_on_requester",
        "left_to_technicians",
    },
    "awaiting_approval": {"working", "escalated"},
    "waiting_on_requester": {"working", "escalated"},
    "resolved": {"working"},
    "escalated": {"working", "resolved"},
    "left_to_technicians": {"resolved", "working"},
}
RUN_MOVES = {
    "queued": {"dispatching", "escalated"},
    "dispatching": {"dispatching", "awaiting_approval", "ready", "escalated", "shadowed"},
    "awaiting_approval": {"ready", "escalated", "replanned"},
    "ready": {"executing", "escalated"},
    "executing": {"executing", "completed", "escalated", "ready"},
    "completed": set(),
    "escalated": set(),
    "replanned": set(),
    "shadowed": set(),
}
STEP_MOVES = {
    "proposed": {"awaiting_approval", "ready", "forbidden", "cancelled"},
    "awaiting_approval": {"approved", "rejected", "expired", "cancelled"},
    "approved": {"executing", "expired", "cancelled", "failed", "awaiting_approval"},
    "ready": {"executing", "cancelled", "failed"},
    "executing": {"verified", "failed", "uncertain"},
    "uncertain": set(),
    "verified": set(),
    "failed": set(),
    "forbidden": set(),
    "rejected": set(),
    "expired": set(),
    "cancelled": set(),
}
APPROVAL_MOVES = {
    "pending": {"approved", "rejected", "expired", "cancelled"},
    "approved": {"used", "expired", "cancelled", "pending"},
    "used": set(),
    "rejected": set(),
    "expired": set(),
    "cancelled": set(),
}
OPEN_RUN = frozenset({"queued", "dispatching", "awaiting_approval", "ready", "executing"})
# The planner of a run whose plan is a question to the requester (whom did they mean?): when
# it completes, the ticket waits on the requester's answer instead of being resolved.
ASK_REQUESTER = "ask_requester"
# The planner of a run that undoes another (deskhand.engine.undo): a person proposed it.
UNDO = "undo"


class StateError(DeskhandError):
    """A transition that is not allowed from the current state."""


class LeaseLost(StateError):  # noqa: N818 - a condition, not a failure of this worker's code
    """Another worker holds the run now: this one must stop without writing."""


def _move(kind: str, table: Mapping[str, set[str]], row: Any, new: str) -> None:
    old = row.status
    if new not in table.get(old, set()):
        raise StateError(f"{kind} {row.id} cannot go from {old} to {new}.")
    row.status = new


def waits_for(step: Step) -> tuple[int, ...]:
    """The positions of the steps this one waits for: those it names, or every earlier one."""
    if step.depends_on is None:
        return tuple(range(1, step.position))
    return tuple(step.depends_on)


def payload_hash(tenant_id: str, action: str, params: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical payload: how people and the log name what was approved."""
    payload = {"tenant_id": tenant_id, "action": action, "params": dict(params)}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def binding_message(
    step: Step, approval: Approval, params: Mapping[str, Any], approver: str
) -> bytes:
    """What an approval's keyed binding is made over: the step and its payload, the approval,
    who gave it and until when. Changing any of them in the database voids the binding."""
    return canonical_json(
        {
            "v": 1,
            "tenant_id": step.tenant_id,
            "run_id": step.run_id,
            "step_id": step.id,
            "position": step.position,
            "approval_id": approval.id,
            "action": step.action,
            "params": dict(params),
            "approver": approver,
            "expires_at": approval.expires_at.isoformat(timespec="microseconds"),
        }
    ).encode()


def proposed_params(step: Step) -> dict[str, Any]:
    """What is proposed now: the plan made again after another step's edit, else the
    specialist's first proposal."""
    return dict(step.replanned_params if step.replanned_params is not None else step.params)


def effective_params(step: Step) -> dict[str, Any]:
    """What runs: the approver's edit when there is one, else what is proposed."""
    if step.approval is not None and step.approval.approved_params is not None:
        return dict(step.approval.approved_params)
    return proposed_params(step)


def _ids(run: Run) -> dict[str, Any]:
    return {"tenant_id": run.tenant_id, "ticket_id": run.ticket_id, "run_id": run.id}


def _touch(run: Run, ticket: Ticket | None = None) -> None:
    moment = now()
    run.updated_at = moment
    if ticket is not None:
        ticket.updated_at = moment


# --- arrival ----------------------------------------------------------------------------------


def receive_ticket(
    session: Session,
    tenant: Tenant,
    *,
    requester_email: str,
    requester_name: str,
    psa_ticket_id: str,
    subject: str,
    body: str,
    origin: TicketOrigin,
    exported_from: str | None = None,
    display_name: str | None = None,
    message_id: str | None = None,
) -> tuple[Ticket, Run]:
    """Store a ticket and queue its first run. ``origin`` is how it came (``exported_from``: the
    PSA of the export it was imported from). ``display_name`` is the name the ticket came with
    (the From name, the PSA contact's), which identity compares with the directory's; None when
    it came with none (``requester_name`` may then be made up). ``message_id`` is the Message-ID
    of the e-mail a mailed request came as."""
    email = canonical_address(requester_email)  # a look-alike stays itself
    requester = session.execute(
        select(Requester).where(Requester.tenant_id == tenant.id, Requester.email == email)
    ).scalar_one_or_none()
    if requester is None:
        requester = Requester(tenant_id=tenant.id, email=email, name=requester_name)
        session.add(requester)
        session.flush()
    ticket = Ticket(
        tenant_id=tenant.id,
        requester_id=requester.id,
        psa_ticket_id=psa_ticket_id,
        subject=subject,
        body=body,
        status="new",
        requester_display_name=display_name or None,
        message_id=message_id,
        origin=TicketOrigin(origin).value,
        exported_from=exported_from,
    )
    session.add(ticket)
    session.flush()
    run = Run(ticket_id=ticket.id, tenant_id=tenant.id, status="queued")
    session.add(run)
    session.flush()
    actor = Actor(ActorKind.CONNECTOR, f"psa:{tenant.id}")
    append(
        session,
        ev.TicketReceived(psa_ticket_id=psa_ticket_id, requester=email, subject=subject),
        actor=actor,
        tenant_id=tenant.id,
        ticket_id=ticket.id,
    )
    append(session, ev.RunQueued(reason="new ticket"), **_ids(run))
    return ticket, run


def take_answer(session: Session, ticket: Ticket, sender: str, text: str) -> Run:
    """The requester answered the question the ticket waits on: the answer is appended to the
    ticket's text and a run is queued to triage and resolve it again."""
    _waiting(ticket)
    _move("ticket", TICKET_MOVES, ticket, "working")
    ticket.body = f"{ticket.body.rstrip()}\n\n{ANSWER_HEADING}\n{text}"
    run = _reply_run(session, ticket, sender, text, from_requester=True)
    append(session, ev.RunQueued(reason="the requester answered"), **_ids(run))
    return run


def hold_stray_reply(
    session: Session, ticket: Ticket, sender: str, text: str, holder: str, lease: timedelta
) -> Run:
    """Someone else answered the question the ticket waits on: the answer is recorded, not
    added to the ticket, on a run ``holder`` holds — so no worker dispatches it — until the
    caller escalates it."""
    _waiting(ticket)
    run = _reply_run(session, ticket, sender, text, from_requester=False)
    append(
        session, ev.RunQueued(reason="a reply not from the requester, for a person"), **_ids(run)
    )
    claim(session, run, holder, lease, None)
    return run


def _waiting(ticket: Ticket) -> None:
    # "working → working" is a legal move: an answer to a ticket not waiting must not pass.
    if ticket.status != "waiting_on_requester":
        raise StateError(f"Ticket {ticket.id} is {ticket.status}, not waiting on its requester.")


def _reply_run(
    session: Session, ticket: Ticket, sender: str, text: str, *, from_requester: bool
) -> Run:
    run = Run(ticket_id=ticket.id, tenant_id=ticket.tenant_id, status="queued")
    session.add(run)
    session.flush()
    _touch(run, ticket)
    append(
        session,
        ev.ReplyReceived(sender=sender, from_requester=from_requester, text=text),
        actor=Actor(ActorKind.CONNECTOR, f"psa:{ticket.tenant_id}"),
        **_ids(run),
    )
    return run


# --- leases -------------------------------------------------------------------------------------


def claim(
    session: Session, run: Run, worker: str, lease: timedelta, took_over_from: str | None
) -> str:
    """Give ``run`` to ``worker`` until its lease runs out; return what it will do."""
    phase = "dispatch" if run.status in ("queued", "dispatching") else "execute"
    ticket = run.ticket
    _move("run", RUN_MOVES, run, "dispatching" if phase == "dispatch" else "executing")
    if ticket.status in ("new", "awaiting_approval"):
        _move("ticket", TICKET_MOVES, ticket, "working")
    run.lease_owner = worker
    run.lease_expires_at = now() + lease
    run.claims += 1
    _touch(run, ticket)
    append(
        session,
        ev.RunClaimed(worker=worker, phase=phase, took_over_from=took_over_from),
        **_ids(run),
    )
    return phase


def hold(session: Session, run_id: int, worker: str) -> Run:
    """The run, locked for this transaction, if ``worker`` still holds its lease."""
    run = session.execute(select(Run).where(Run.id == run_id).with_for_update()).scalar_one()
    if run.lease_owner != worker or run.status not in OPEN_RUN:
        raise LeaseLost(f"Run {run_id} is no longer held by {worker}.")
    return run


def renew(session: Session, run_id: int, worker: str, lease: timedelta) -> bool:
    """Extend the lease (a heartbeat; not an event). False when the lease was lost."""
    run = session.get(Run, run_id, with_for_update=True)
    if run is None or run.lease_owner != worker or run.status not in OPEN_RUN:
        return False
    run.lease_expires_at = now() + lease
    return True


def _release(run: Run) -> None:
    run.lease_owner = None
    run.lease_expires_at = None


# --- dispatch -----------------------------------------------------------------------------------


def record_triage(session: Session, run: Run, event: ev.TicketTriaged) -> None:
    """The triage event, and the intent and confidence it gives the run."""
    run.intent = event.intent
    run.confidence = event.confidence
    _touch(run)
    append(session, event, **_ids(run))


def record(session: Session, run: Run, event: ev.Event, actor: Actor = SYSTEM) -> None:
    """An event about a run that changes no state (a lookup, an identity check, a note)."""
    append(session, event, actor=actor, **_ids(run))


@dataclass(frozen=True)
class DecidedStep:
    """A step of the plan after policy: what the dispatcher hands over to be stored."""

    action: str
    params: dict[str, Any]
    description: str
    reason: str
    blast_radius: str
    decision: str
    rule: str
    depends_on: tuple[int, ...] | None = None  # positions; None: every earlier step


def store_plan(
    session: Session,
    run: Run,
    *,
    specialist: str,
    summary: str,
    steps: Sequence[DecidedStep],
    expires_in: timedelta,
    approver_roles: Sequence[str],
    excerpt: str,
    requester_check: Mapping[str, Any],
    plan_inputs: Mapping[str, Any] | None = None,
    not_before: datetime | None = None,
    fingerprint: Mapping[str, str] | None = None,
) -> list[Step]:
    """Store the steps; drafts for those that need approval; the run waits or is ready.

    A run scheduled for later (``not_before``) is approved ahead: its drafts expire
    ``expires_in`` after that moment, not after now, so the approval holds until it runs.

    When policy forbade a step, the run stays with its worker, which escalates it next: it
    must never become ready for another worker to execute in between.
    """
    run.specialist = specialist
    run.plan_inputs = dict(plan_inputs) if plan_inputs is not None else None
    run.not_before = not_before
    expires_at = max(now(), not_before or now()) + expires_in
    actor = Actor(ActorKind.SPECIALIST, specialist)
    append(
        session,
        ev.PlanProposed(
            specialist=specialist,
            summary=summary,
            actions=[s.action for s in steps],
            not_before=not_before.isoformat() if not_before is not None else "",
            fingerprint=dict(fingerprint or {}),
        ),
        actor=actor,
        **_ids(run),
    )
    stored: list[Step] = []
    for position, decided in enumerate(steps, start=1):
        step = Step(
            run_id=run.id,
            tenant_id=run.tenant_id,
            position=position,
            action=decided.action,
            params=decided.params,
            description=decided.description,
            reason=decided.reason,
            depends_on=list(decided.depends_on) if decided.depends_on is not None else None,
            blast_radius=decided.blast_radius,
            decision=decided.decision,
            rule=decided.rule,
            status="proposed",
            idempotency_key=f"dh-{run.id}-{position}",
        )
        session.add(step)
        session.flush()
        append(
            session,
            ev.StepDecided(
                position=position,
                action=decided.action,
                description=decided.description,
                blast_radius=decided.blast_radius,
                decision=decided.decision,
                rule=decided.rule,
            ),
            step_id=step.id,
            **_ids(run),
        )
        stored.append(step)
    for step in stored:
        if step.decision == "auto":
            _move("step", STEP_MOVES, step, "ready")
        elif step.decision == "approve":
            _move("step", STEP_MOVES, step, "awaiting_approval")
            approval = Approval(
                step_id=step.id,
                tenant_id=run.tenant_id,
                status="pending",
                risk_rank=risk_rank(step.blast_radius),
                specialist=specialist,
                approver_roles=list(approver_roles),
                excerpt=excerpt,
                requester_check=dict(requester_check),
                expires_at=expires_at,
            )
            session.add(approval)
            session.flush()
            append(
                session,
                ev.DraftCreated(
                    approval_id=str(approval.id),
                    payload_hash=payload_hash(run.tenant_id, step.action, step.params),
                    expires_at=approval.expires_at.isoformat(),
                ),
                step_id=step.id,
                **_ids(run),
            )
        else:
            _move("step", STEP_MOVES, step, "forbidden")
    if any(step.status == "forbidden" for step in stored):
        return stored
    waiting = any(step.status == "awaiting_approval" for step in stored)
    _move("run", RUN_MOVES, run, "awaiting_approval" if waiting else "ready")
    if waiting:
        _move("ticket", TICKET_MOVES, run.ticket, "awaiting_approval")
    _release(run)
    _touch(run, run.ticket)
    return stored


def shadow_plan(session: Session, run: Run, event: ev.PlanShadowed) -> None:
    """Shadow mode: record what deskhand would have done; nothing is drafted and nothing runs,
    the ticket is left to the technicians."""
    run.specialist = event.specialist
    _move("run", RUN_MOVES, run, "shadowed")
    _move("ticket", TICKET_MOVES, run.ticket, "left_to_technicians")
    _release(run)
    _touch(run, run.ticket)
    append(session, event, actor=Actor(ActorKind.SPECIALIST, event.specialist), **_ids(run))


def close_shadowed(session: Session, run: Run, event: ev.ShadowCompared, user: User) -> None:
    """A technician worked a shadowed ticket by hand: it is resolved, with the comparison."""
    _move("ticket", TICKET_MOVES, run.ticket, "resolved")
    _touch(run, run.ticket)
    append(session, event, actor=Actor(ActorKind.USER, user.email), **_ids(run))


# --- approvals ----------------------------------------------------------------------------------


def approve(
    session: Session,
    approval: Approval,
    user: User,
    *,
    approved_params: dict[str, Any] | None,
    bound_hash: str,
    binding: str,
    changes: dict[str, list[Any]],
    acknowledged: list[str] | None = None,
    verification: str = "",
    blast_radius: str | None = None,
    description: str | None = None,
    approved_as: str = "",
) -> None:
    """A human approves the draft, bound to ``binding`` (keyed) over the payload whose SHA-256
    is ``bound_hash``; an edit is kept beside the proposal. ``blast_radius`` and
    ``description`` are the step's as approved, when an edit changed them."""
    step = approval.step
    run = step.run
    proposed_radius = step.blast_radius
    _move("approval", APPROVAL_MOVES, approval, "approved")
    _move("step", STEP_MOVES, step, "approved")
    approval.approver_id = user.id
    approval.approved_params = approved_params
    approval.payload_hash = bound_hash
    approval.binding = binding
    approval.decided_at = now()
    if blast_radius is not None:
        step.blast_radius = blast_radius
        approval.risk_rank = risk_rank(blast_radius)
    if description is not None:
        step.description = description
    approved = append(
        session,
        ev.DraftApproved(
            approval_id=str(approval.id),
            payload_hash=bound_hash,
            edited=approved_params is not None,
            changes=changes,
            acknowledged=acknowledged or [],
            verification=verification,
            binding=binding,
            blast_radius=step.blast_radius,
            proposed_radius=proposed_radius if proposed_radius != step.blast_radius else "",
            approved_as=approved_as,
        ),
        actor=Actor(ActorKind.USER, user.email),
        step_id=step.id,
        **_ids(run),
    )
    _watch(session, approved, step)
    if run.status == "awaiting_approval" and all(
        s.status != "awaiting_approval" for s in run.steps
    ):
        _move("run", RUN_MOVES, run, "ready")
        if run.ticket.status == "awaiting_approval":  # approved: no longer waits on anyone
            _move("ticket", TICKET_MOVES, run.ticket, "working")
    _touch(run, run.ticket)


def replan_step(
    session: Session,
    step: Step,
    *,
    params: dict[str, Any],
    description: str,
    blast_radius: str,
    cause: Approval,
    user: User,
) -> None:
    """Another step's edit made the plan again and this step changed: what it proposes now is
    kept beside its first proposal, and an approval it already had is open again — it was
    given for the old payload."""
    before = proposed_params(step)
    if step.approval is not None and step.approval.approved_params is not None:
        before = dict(step.approval.approved_params)
    radius_before = step.blast_radius
    step.replanned_params = params
    step.replanned_by = cause.id
    step.description = description
    step.blast_radius = blast_radius
    approval = step.approval
    reopened = approval is not None and approval.status == "approved"
    if approval is not None:
        if reopened:
            _move("approval", APPROVAL_MOVES, approval, "pending")
            _move("step", STEP_MOVES, step, "awaiting_approval")
            approval.approver_id = None
            approval.approved_params = None
            approval.payload_hash = None
            approval.binding = None
            approval.decided_at = None
        approval.risk_rank = risk_rank(blast_radius)
    append(
        session,
        ev.StepReplanned(
            position=step.position,
            action=step.action,
            cause_approval_id=str(cause.id),
            changes={k: [before.get(k), v] for k, v in params.items() if before.get(k) != v},
            blast_radius_before=radius_before,
            blast_radius=blast_radius,
            description=description,
            reopened=reopened,
        ),
        actor=Actor(ActorKind.USER, user.email),
        step_id=step.id,
        **_ids(step.run),
    )
    if reopened and step.run.status == "ready":
        _move("run", RUN_MOVES, step.run, "awaiting_approval")
        if step.run.ticket.status == "working":
            _move("ticket", TICKET_MOVES, step.run.ticket, "awaiting_approval")


def recheck_requester(
    session: Session, run: Run, check: Mapping[str, Any], target: str, requester: str, user: User
) -> None:
    """An edit changed whom the plan acts on, or how much it grants: the requester check made
    again is what every draft of the run shows now."""
    for step in run.steps:
        if step.approval is not None and step.approval.status in ("pending", "approved"):
            step.approval.requester_check = dict(check)
    append(
        session,
        ev.IdentityChecked(
            requester=requester,
            target=target,
            verdict=str(check.get("verdict", "")),
            detail=str(check.get("detail", "")),
        ),
        actor=Actor(ActorKind.USER, user.email),
        **_ids(run),
    )


def record_plan_approval(
    session: Session, run: Run, user: User, approvals: list[Approval], verification: str
) -> None:
    """One decision approved these drafts of ``run`` (each already approved and bound)."""
    steps = [
        {
            "approval_id": str(a.id),
            "position": a.step.position,
            "action": a.step.action,
            "payload_hash": a.payload_hash,
        }
        for a in approvals
    ]
    append(
        session,
        ev.PlanApproved(steps=steps, verification=verification),
        actor=Actor(ActorKind.USER, user.email),
        **_ids(run),
    )


def reject(session: Session, approval: Approval, user: User, reason: str) -> None:
    step = approval.step
    _move("approval", APPROVAL_MOVES, approval, "rejected")
    _move("step", STEP_MOVES, step, "rejected")
    approval.approver_id = user.id
    approval.reason = reason
    approval.decided_at = now()
    rejected = append(
        session,
        ev.DraftRejected(approval_id=str(approval.id), reason=reason),
        actor=Actor(ActorKind.USER, user.email),
        step_id=step.id,
        **_ids(step.run),
    )
    _watch(session, rejected, step)


def expire(session: Session, approval: Approval) -> None:
    """The approval ran out before its step started: it can never be used."""
    step = approval.step
    _move("approval", APPROVAL_MOVES, approval, "expired")
    _move("step", STEP_MOVES, step, "expired")
    append(
        session,
        ev.DraftExpired(approval_id=str(approval.id)),
        step_id=step.id,
        **_ids(step.run),
    )


# --- execution ----------------------------------------------------------------------------------


def _watch(session: Session, written: EventRecord, step: Step) -> None:
    """An edit, a rejection, a failed or unverified step revokes, in the same transaction, the
    earned autonomy its record no longer supports (``deskhand.trust.autonomy``)."""
    autonomy.degraded(session, written, specialist=step.run.specialist, action=step.action)


def start_step(
    session: Session,
    step: Step,
    snapshot: dict[str, Any],
    *,
    payload: str,
    secret: str | None = None,
    secret_expires_at: datetime | None = None,
) -> None:
    """About to act on the payload whose SHA-256 is ``payload``: the prior state is kept, the
    approval counts as used from now, and a secret the action will set (a temporary password,
    already encrypted by the caller) is stored first, so that a crash after the change cannot
    lose it."""
    _move("step", STEP_MOVES, step, "executing")
    step.snapshot = snapshot
    step.started_at = now()
    if secret is not None:
        session.add(
            StepSecret(
                step_id=step.id,
                tenant_id=step.tenant_id,
                value=secret,
                expires_at=secret_expires_at,
            )
        )
    binding = ""
    if step.approval is not None:
        _move("approval", APPROVAL_MOVES, step.approval, "used")
        step.approval.used_at = step.started_at
        binding = step.approval.binding or ""
    append(
        session,
        ev.StepStarted(
            position=step.position,
            action=step.action,
            idempotency_key=step.idempotency_key,
            snapshot=snapshot,
            payload_hash=payload,
            binding=binding,
            blast_radius=step.blast_radius,
        ),
        step_id=step.id,
        **_ids(step.run),
    )


def wait_step(
    session: Session,
    step: Step,
    observed: dict[str, Any],
    until: datetime,
    deadline: datetime,
    since: datetime,
) -> None:
    """The step acted, and its change does not show yet (since ``since``): it stays
    executing, to be read back again at ``until`` (no later than ``deadline``)."""
    if step.status != "executing":
        raise StateError(f"Step {step.id} is {step.status}, not executing.")
    step.result = {
        "observed": observed,
        "waiting_since": since.isoformat(),
        "waiting_until": until.isoformat(),
    }
    append(
        session,
        ev.StepWaiting(
            position=step.position,
            action=step.action,
            observed=observed,
            until=until.isoformat(),
            deadline=deadline.isoformat(),
        ),
        step_id=step.id,
        **_ids(step.run),
    )


def waiting_since(step: Step) -> datetime | None:
    """When reading the step back first did not show its change (None: it has not waited)."""
    since = (step.result or {}).get("waiting_since")
    return datetime.fromisoformat(since) if isinstance(since, str) else None


def pause_run(session: Session, run: Run, until: datetime) -> None:
    """The run waits (a step's change does not show yet): ready again, due at ``until``."""
    _move("run", RUN_MOVES, run, "ready")
    run.not_before = until
    _release(run)
    _touch(run)


def recover_step(session: Session, step: Step, already_done: bool) -> None:
    append(
        session,
        ev.StepRecovered(position=step.position, action=step.action, already_done=already_done),
        step_id=step.id,
        **_ids(step.run),
    )


def verify_step(session: Session, step: Step, observed: dict[str, Any], payload: str) -> None:
    """Read back and as intended: the step is done. ``payload`` is the SHA-256 acted on."""
    _move("step", STEP_MOVES, step, "verified")
    step.result = observed
    step.finished_at = now()
    append(
        session,
        ev.StepVerified(
            position=step.position,
            action=step.action,
            observed=observed,
            payload_hash=payload,
            blast_radius=step.blast_radius,
        ),
        step_id=step.id,
        **_ids(step.run),
    )


def uncertain_step(session: Session, step: Step, observed: dict[str, Any]) -> None:
    """Taken over mid-way, not shown done, and not safe to repeat: it is left for a person."""
    _move("step", STEP_MOVES, step, "uncertain")
    step.result = observed
    step.error = "started by a worker that stopped; reading back did not show it done"
    step.finished_at = now()
    uncertain = append(
        session,
        ev.StepUncertain(position=step.position, action=step.action, observed=observed),
        step_id=step.id,
        **_ids(step.run),
    )
    _watch(session, uncertain, step)


def acted_after_lease_lost(session: Session, step: Step, worker: str, outcome: str) -> None:
    """Record (only record) what an outside call did that returned after the worker lost the
    run: the worker changes no state, but the log must not miss a side effect."""
    append(
        session,
        ev.ActedAfterLeaseLost(
            position=step.position, action=step.action, worker=worker, outcome=outcome
        ),
        step_id=step.id,
        **_ids(step.run),
    )


def fail_step(session: Session, step: Step, phase: str, error: str) -> None:
    _move("step", STEP_MOVES, step, "failed")
    step.error = error
    step.finished_at = now()
    failed = append(
        session,
        ev.StepFailed(position=step.position, action=step.action, phase=phase, error=error),
        step_id=step.id,
        **_ids(step.run),
    )
    _watch(session, failed, step)


def refuse_payload(session: Session, step: Step, approved: str, current: str) -> None:
    """The payload to run is not what was approved: the step fails without acting."""
    _move("step", STEP_MOVES, step, "failed")
    step.error = "the payload differs from the approved one"
    step.finished_at = now()
    refused = append(
        session,
        ev.PayloadRefused(position=step.position, approved_hash=approved, current_hash=current),
        step_id=step.id,
        **_ids(step.run),
    )
    _watch(session, refused, step)


def complete_run(session: Session, run: Run) -> None:
    _move("run", RUN_MOVES, run, "completed")
    asked = run.specialist == ASK_REQUESTER
    _move("ticket", TICKET_MOVES, run.ticket, "waiting_on_requester" if asked else "resolved")
    _release(run)
    _touch(run, run.ticket)
    append(session, ev.RunCompleted(steps=len(run.steps)), **_ids(run))


# --- escalation ---------------------------------------------------------------------------------


def escalate(
    session: Session, run: Run, reason: str, detail: str, moment: datetime | None = None
) -> Escalation:
    """Stop the run: nothing more runs, open drafts close, the ticket goes to the human queue.
    A step still waiting for its change to show is not done: it fails, saying how long it
    waited (until ``moment``, by the runtime's clock)."""
    for step in run.steps:
        if step.status in ("proposed", "awaiting_approval", "approved", "ready"):
            _move("step", STEP_MOVES, step, "cancelled")
            if step.approval is not None and step.approval.status in ("pending", "approved"):
                _move("approval", APPROVAL_MOVES, step.approval, "cancelled")
        elif step.status == "executing" and (since := waiting_since(step)) is not None:
            fail_step(
                session,
                step,
                "verify",
                f"it waited for its change to show from {readable(since)} until "
                f"{readable(moment or now())}, and gave up when the run stopped",
            )
    _move("run", RUN_MOVES, run, "escalated")
    if run.ticket.status != "escalated":
        _move("ticket", TICKET_MOVES, run.ticket, "escalated")
    _release(run)
    _touch(run, run.ticket)
    escalation = Escalation(
        ticket_id=run.ticket_id,
        run_id=run.id,
        tenant_id=run.tenant_id,
        reason=reason,
        detail=detail,
        status="open",
    )
    session.add(escalation)
    session.flush()
    append(
        session,
        ev.RunEscalated(escalation_id=str(escalation.id), reason=reason, detail=detail),
        **_ids(run),
    )
    return escalation


def resume_ticket(session: Session, ticket: Ticket, actor: Actor) -> Run:
    """A technician fixed what stopped the ticket: it is worked again from triage, as a new
    run, so its plan and drafts are made afresh."""
    return _queue_again(session, ticket, actor, "a technician resumed the ticket")


def _queue_again(session: Session, ticket: Ticket, actor: Actor, reason: str) -> Run:
    _move("ticket", TICKET_MOVES, ticket, "working")
    run = Run(ticket_id=ticket.id, tenant_id=ticket.tenant_id, status="queued")
    session.add(run)
    session.flush()
    _touch(run, ticket)
    append(session, ev.RunQueued(reason=reason), actor=actor, **_ids(run))
    return run


def trim_plan(session: Session, approval: Approval, user: User, event: ev.PlanTrimmed) -> Run:
    """An approver left what ``approval``'s step gives (the event's names) out of the plan:
    that draft is rejected with the approver's reason, every other step not yet run is
    cancelled with its draft, the run ends as replanned, and a new run is queued to plan the
    ticket again without it."""
    run = approval.step.run
    names = listing(event.names)
    reject(session, approval, user, f"{event.reason} (planned again without {names})")
    for step in run.steps:
        if step.status in ("proposed", "awaiting_approval", "approved", "ready"):
            _move("step", STEP_MOVES, step, "cancelled")
            if step.approval is not None and step.approval.status in ("pending", "approved"):
                _move("approval", APPROVAL_MOVES, step.approval, "cancelled")
    _move("run", RUN_MOVES, run, "replanned")
    _release(run)
    actor = Actor(ActorKind.USER, user.email)
    append(session, event, actor=actor, **_ids(run))
    return _queue_again(session, run.ticket, actor, f"planned again without {names}")


def queue_undo(session: Session, original: Run, user: User, steps: int, left: int) -> Run:
    """``user`` proposed undoing the finished run ``original``: its ticket is worked again (a
    resolved one reopened) by a new run, held for its plan — which the caller stores next in
    this transaction (``store_plan``), so that no worker ever sees it without one."""
    ticket = original.ticket
    _move("ticket", TICKET_MOVES, ticket, "working")
    run = Run(ticket_id=ticket.id, tenant_id=ticket.tenant_id, status="queued")
    session.add(run)
    session.flush()
    _move("run", RUN_MOVES, run, "dispatching")  # planned here, not by a worker's dispatch
    _touch(run, ticket)
    append(
        session,
        ev.UndoProposed(undo_of=original.id, steps=steps, left=left),
        actor=Actor(ActorKind.USER, user.email),
        **_ids(run),
    )
    return run


def close_escalation(escalation: Escalation, user: User, how: str) -> None:
    """A technician closed the escalation (``how``: resolved or resumed); whoever closes an
    escalation nobody had taken worked it (the verb's event is the caller's)."""
    if escalation.status != "open":
        raise StateError(f"Escalation {escalation.id} is {escalation.status} already.")
    escalation.status = "closed"
    escalation.closed_as = how
    escalation.closed_at = now()
    escalation.closed_by_id = user.id
    if escalation.assignee_id is None:
        escalation.assignee_id = user.id


def resolve_escalated_ticket(ticket: Ticket) -> None:
    """A technician resolved the escalated ticket themselves (the event is the caller's)."""
    _move("ticket", TICKET_MOVES, ticket, "resolved")
    ticket.updated_at = now()


def erase_secret(session: Session, secret: StepSecret, step: Step, reason: str) -> None:
    """A secret nobody was shown is erased (it expired): the log says so, never the value."""
    secret.value = None
    append(
        session,
        ev.SecretErased(position=step.position, reason=reason),
        step_id=step.id,
        **_ids(step.run),
    )


def reveal_secret(session: Session, secret: StepSecret, step: Step, user: User) -> str | None:
    """The stored (encrypted) secret, once: it is erased as it is shown, and who saw it is
    recorded."""
    value = secret.value
    secret.value = None
    secret.revealed_at = now()
    secret.revealed_by = user.id
    append(
        session,
        ev.SecretRevealed(position=step.position),
        actor=Actor(ActorKind.USER, user.email),
        step_id=step.id,
        **_ids(step.run),
    )
    return value


def lease_expired(run: Run, moment: datetime | None = None) -> bool:
    return run.lease_expires_at is not None and run.lease_expires_at < (moment or now())
