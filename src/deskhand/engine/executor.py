"""The executor: performs a run's steps in order — snapshot, act, read back — and reports a
step done only when reading back shows the change.

Before acting it checks, again, that the step may run as stored: the references are resolved
against the tenant's systems and the blast radius and policy decision worked out anew; a step
that needs approval must have an unexpired approval whose keyed binding (``deskhand.keys``)
matches the step, its payload, its approver and expiry, and the binding and payload hash must
also be the ones recorded in the chained ``draft.approved`` event. Anything else fails closed
and escalates.

After a takeover (a worker died or was paused and its lease ran out), a step found
``executing`` is read back first: if the change is there it is verified, not repeated; if not,
it is acted again only when its action is declared safe to repeat — otherwise the run escalates
as an uncertain execution with what reading back showed. A worker checks that it still holds
the run in the transaction that marks a step executing and again just before it acts; a call
that returns after the lease was lost is recorded and nothing else is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.actions import action
from deskhand.actions.contract import Action, Baseline
from deskhand.audit.log import event_hash
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.factory import Connectors
from deskhand.domain import events as ev
from deskhand.domain.actions import ActionError, Params
from deskhand.domain.asks import listing
from deskhand.domain.dates import readable
from deskhand.domain.decisions import Decision
from deskhand.domain.escalations import Reason
from deskhand.domain.risks import APPROVAL_FLOOR, BlastRadius
from deskhand.engine import psa_status, state
from deskhand.engine.binding import BindingError, TicketRef, bind, created_by
from deskhand.engine.escalation import escalate
from deskhand.engine.left_undone import left_of_run
from deskhand.engine.runtime import Runtime
from deskhand.keys import APPROVAL_BINDING, STEP_SECRET
from deskhand.store.models import EventRecord, Step, StepSecret, Tenant, now
from deskhand.trust import autonomy

# How long a manual step of a scheduled plan is waited for (technicians are told it is due).
MANUAL_WINDOW = timedelta(hours=8)


class _Halt(Exception):  # noqa: N818 - control flow: the run stops and escalates
    """The run cannot go on as approved. ``local``: one step failed while acting or reading
    back; the steps that wait for it do not run, the others still do, and the run escalates
    after them. Otherwise (a refusal before acting, an uncertain takeover) nothing more runs."""

    def __init__(self, reason: Reason, detail: str, *, local: bool = False) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.local = local


class _Wait(Exception):  # noqa: N818 - control flow: the run pauses until ``until``
    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


@dataclass(frozen=True)
class _Turn:
    """A step of the run as read when the run is taken up: what it waits for, and how an
    earlier pass (before the run paused for a change to show) left it."""

    step_id: int
    position: int
    waits_for: tuple[int, ...]
    status: str
    description: str
    error: str | None


@dataclass(frozen=True)
class _Work:
    """One step as read at the start of its turn."""

    step_id: int
    position: int
    action: str
    description: str
    key: str
    params: Params
    payload: str  # SHA-256 of the payload acted on
    operation: Action
    recovering: Baseline | None  # set when a takeover found it executing
    safe_to_repeat: bool
    # How long reading back may take to show the change (None: it shows at once), and how
    # often it is read again meanwhile.
    settles: timedelta | None = None
    recheck: timedelta = timedelta(minutes=5)


def execute(rt: Runtime, run_id: int, worker: str) -> None:
    """Run every step of a run this worker holds, each once the steps it waits for are
    verified, then complete it; or pause it until a change can show; or escalate."""
    with rt.db.session() as session:
        run = state.hold(session, run_id, worker)
        tenant = session.get(Tenant, run.tenant_id)
        assert tenant is not None
        turns = [
            _Turn(
                step.id,
                step.position,
                state.waits_for(step),
                step.status,
                step.description,
                step.error,
            )
            for step in run.steps
        ]
        ticket = TicketRef.of(run.ticket)
    connectors = rt.ticket_connectors(tenant)
    first: _Halt | None = None
    stopped: set[int] = set()  # positions that failed, or did not run because of one
    held: set[int] = set()  # waiting for a change to show, or for a step that is
    until: datetime | None = None  # when the first of the waiting steps is read back again
    for turn in turns:
        if turn.status == "failed":  # in a pass before the run paused
            first = first or _Halt(
                Reason.EXECUTION_FAILED,
                f"Step {turn.position} ({turn.description}) failed: {turn.error}",
                local=True,
            )
            stopped.add(turn.position)
            continue
        if stopped.intersection(turn.waits_for):
            stopped.add(turn.position)
            continue
        if held.intersection(turn.waits_for):
            held.add(turn.position)  # runs in a later pass, once what it waits for shows
            continue
        try:
            _run_step(rt, run_id, turn.step_id, worker, connectors, ticket, tenant)
        except _Wait as wait:  # the steps that do not wait for it go on
            held.add(turn.position)
            until = wait.until if until is None else min(until, wait.until)
            continue
        except _Halt as halt:
            if not halt.local:
                escalate(rt, run_id, halt.reason, halt.detail, worker=worker)
                return
            first = first or halt
            stopped.add(turn.position)
    if first is not None:
        escalate(rt, run_id, first.reason, first.detail, worker=worker)
        return
    if until is not None:
        _pause(rt, run_id, worker, until)
        return
    with rt.db.session() as session:
        run = state.hold(session, run_id, worker)
        left = left_of_run(run)
        if not left:
            state.complete_run(session, run)
            asked = run.ticket.status == "waiting_on_requester"
    if left:  # done as approved; the rest of what the ticket asks is a person's
        detail = f"Left for a technician: {listing(left)}."
        escalate(rt, run_id, Reason.LEFT_FOR_TECHNICIAN, detail, worker=worker)
        return
    psa_status.follow(rt, tenant, run_id, "waiting" if asked else "resolved")


def _run_step(
    rt: Runtime,
    run_id: int,
    step_id: int,
    worker: str,
    c: Connectors,
    ticket: TicketRef,
    tenant: Tenant,
) -> None:
    work = _prepare(rt, run_id, step_id, worker, c, ticket, tenant)
    if work is None:
        return
    baseline = work.recovering
    if baseline is not None and _already_done(rt, run_id, worker, work, c, baseline):
        return
    if baseline is None:
        baseline = _start(rt, run_id, worker, work, c)
    secret = _secret(rt, run_id, worker, work)
    try:
        work.operation.act(work.params, c, work.key, secret)
    except ConnectorError as error:
        _after_act(rt, run_id, worker, work, f"failed: {error}")
        _fail(rt, run_id, worker, step_id, "act", str(error))
        raise _Halt(
            Reason.EXECUTION_FAILED,
            f"Step {work.position} ({work.description}) failed: {error}",
            local=True,
        ) from None
    _after_act(rt, run_id, worker, work, "the call returned")
    _verify(rt, run_id, worker, work, c, baseline)


def _prepare(
    rt: Runtime,
    run_id: int,
    step_id: int,
    worker: str,
    c: Connectors,
    ticket: TicketRef,
    tenant: Tenant,
) -> _Work | None:
    """Read the step and check it may run; None when it is already done.

    A refusal is recorded (and committed) before the run halts: raising inside the
    transaction would roll back the very record of why nothing ran.
    """
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        step = _step(session, step_id)
        if step.status == "verified":
            return None
        spec = action(step.action)
        values = state.effective_params(step)
        try:
            params = spec.validate(values)
        except ActionError as error:
            _refuse_and_fail(session, step, str(error))
            halt: _Halt | None = _Halt(Reason.PLAN_INVALID, str(error))
        else:
            recovering = step.status == "executing"
            halt = (
                None if recovering else _check_may_run(rt, session, step, params, c, ticket, tenant)
            )
        if halt is None:
            work = _Work(
                step_id=step.id,
                position=step.position,
                action=step.action,
                description=step.description,
                key=step.idempotency_key,
                params=params,
                payload=state.payload_hash(step.tenant_id, step.action, values),
                operation=spec,
                recovering=(
                    Baseline(step.started_at, step.snapshot or {})
                    if recovering and step.started_at is not None
                    else None
                ),
                safe_to_repeat=spec.safe_to_repeat,
                settles=_settles(spec, scheduled=step.run.not_before is not None),
                recheck=spec.recheck_every,
            )
    if halt is not None:
        raise halt
    return work


def _check_may_run(
    rt: Runtime,
    session: Session,
    step: Step,
    params: Params,
    c: Connectors,
    ticket: TicketRef,
    tenant: Tenant,
) -> _Halt | None:
    """Fail closed unless the step may run exactly as it is stored now: a refusal is
    recorded on the step and returned, for the caller to halt once it has been committed."""
    if step.status not in ("ready", "approved"):
        raise state.StateError(f"Step {step.id} is {step.status}; it cannot run.")
    spec = action(step.action)
    values = params.model_dump(mode="json")
    try:
        earlier = created_by(
            [
                (s.action, state.effective_params(s))
                for s in step.run.steps
                if s.position < step.position
            ]
        )
        bound = bind(spec, values, c, ticket, earlier)
    except (BindingError, ActionError, ConnectorError) as error:
        _refuse_and_fail(session, step, str(error))
        return _Halt(Reason.PLAN_INVALID, f"Step {step.position}: {error}")
    if bound.params.model_dump(mode="json") != values:
        changed = "; ".join(f"{f} is now {new!r}, not {old!r}" for f, old, new in bound.mismatched)
        why = f"the directory changed since it was approved: {changed or 'an id was renamed'}"
        _refuse_and_fail(session, step, why)
        return _Halt(
            Reason.APPROVAL_MISMATCH,
            f"Step {step.position} ({step.description}): {why}. Nothing ran.",
        )
    radius = spec.blast_radius(bound.params, bound.facts)
    decision, rule = rt.policy(tenant).decide(spec.name, radius, manual=spec.manual)
    if decision is Decision.FORBID:
        _refuse_and_fail(session, step, f"the tenant's policy forbids it now: {rule}")
        return _Halt(Reason.POLICY_FORBID, f"Step {step.position} ({step.description}): {rule}.")
    approval = step.approval
    if (
        step.decision == "auto"
        and radius not in APPROVAL_FLOOR
        and approval is None
        and (decision is Decision.AUTO or _still_earned(rt, session, step, spec, tenant, radius))
    ):
        return None
    current = state.payload_hash(step.tenant_id, step.action, values)
    if approval is None or approval.status != "approved" or approval.payload_hash is None:
        state.refuse_payload(session, step, "", current)
        return _Halt(
            Reason.APPROVAL_MISMATCH,
            f"Step {step.position} ({step.description}) is {radius.value} and has no valid "
            "approval. Nothing ran.",
        )
    if approval.expires_at <= rt.clock():
        state.expire(session, approval)
        return _Halt(
            Reason.APPROVAL_EXPIRED,
            f"The approval of step {step.position} ({step.description}) expired at "
            f"{readable(approval.expires_at)} before it could run.",
        )
    problem = _binding_problem(rt, session, step, values, current)
    if problem is not None:
        state.refuse_payload(session, step, approval.payload_hash, current)
        return _Halt(
            Reason.APPROVAL_MISMATCH,
            f"Step {step.position} ({step.action}): {problem} Nothing ran.",
        )
    return None


def _still_earned(
    rt: Runtime, session: Session, step: Step, spec: Action, tenant: Tenant, radius: BlastRadius
) -> bool:
    """Whether a step planned to run on earned autonomy (``deskhand.trust.autonomy``) still
    may, the policy sending it for approval: its radius (read now) can earn autonomy, it is
    not manual, and the grant it was planned under was not revoked since, nor autonomy turned
    off. Fails closed: otherwise the step needs an approval it does not have."""
    return (
        radius in autonomy.EARNABLE
        and radius not in APPROVAL_FLOOR
        and not spec.manual
        and rt.policy(tenant).autonomy.enabled
        and step.run.specialist is not None
        and autonomy.holds(session, step.tenant_id, step.run.specialist, step.action)
    )


def _binding_problem(
    rt: Runtime, session: Session, step: Step, values: dict[str, object], current: str
) -> str | None:
    """Why the approval does not bind what is about to run, or None when it does: the keyed
    binding over the step as stored now, and the binding and hash the chained event recorded
    when the human approved."""
    approval = step.approval
    assert approval is not None and approval.payload_hash is not None
    approver = approval.approver.email if approval.approver is not None else ""
    message = state.binding_message(step, approval, values, approver)
    if not approval.binding or not rt.keys.check(APPROVAL_BINDING, message, approval.binding):
        return (
            "the approval's keyed binding does not match the step as stored (its payload, "
            "approval, approver or expiry changed after it was approved, or it was approved "
            "before bindings were keyed)."
        )
    if current != approval.payload_hash:
        return (
            f"the payload to run (sha256 {current[:12]}…) is not the approved one (sha256 "
            f"{approval.payload_hash[:12]}…)."
        )
    recorded = session.scalars(
        select(EventRecord)
        .where(EventRecord.step_id == step.id, EventRecord.type == ev.DraftApproved.TYPE)
        .order_by(EventRecord.id.desc())
        .limit(1)
    ).first()
    if recorded is None or not _chained(session, recorded):
        return "the event that recorded the approval is missing or no longer in the hash chain."
    data = recorded.data
    if (
        data.get("approval_id") != str(approval.id)
        or data.get("binding") != approval.binding
        or data.get("payload_hash") != current
    ):
        return (
            "the approval does not match the chained event that recorded it (sha256 "
            f"{str(data.get('payload_hash'))[:12]}… was approved)."
        )
    return None


def _chained(session: Session, record: EventRecord) -> bool:
    """The event's content matches its hash, and the next event (if any) links to it."""
    if event_hash(record, record.prev_hash) != record.hash:
        return False
    following = session.scalar(select(EventRecord.prev_hash).where(EventRecord.id == record.id + 1))
    return following is None or following == record.hash


def _refuse_and_fail(session: Session, step: Step, why: str) -> None:
    if step.status in ("ready", "approved"):
        state.fail_step(session, step, "check", why)


def _already_done(
    rt: Runtime, run_id: int, worker: str, work: _Work, c: Connectors, baseline: Baseline
) -> bool:
    """After a takeover: read state before acting again, and record what was found. A change
    not seen is acted again only if the action is safe to repeat; otherwise the run halts as
    an uncertain execution. A step waiting for a change to show is read back again: done,
    waiting again, or failed past its bound."""
    if work.settles is not None:
        _verify(rt, run_id, worker, work, c, baseline)
        return True
    try:
        check = work.operation.check(work.params, c, work.key, baseline)
    except ConnectorError as error:
        _fail(rt, run_id, worker, work.step_id, "verify", str(error))
        raise _Halt(
            Reason.VERIFICATION_FAILED, f"Re-checking step {work.position}: {error}"
        ) from None
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        step = _step(session, work.step_id)
        state.recover_step(session, step, already_done=check.done)
        if check.done:
            state.verify_step(session, step, check.observed, work.payload)
        elif not work.safe_to_repeat:
            state.uncertain_step(session, step, check.observed)
    if check.done or work.safe_to_repeat:
        return check.done
    raise _Halt(
        Reason.UNCERTAIN_EXECUTION,
        f"Step {work.position} ({work.description}) was started by a worker that stopped before "
        f"it finished. Reading back shows {check.observed}: not done, as far as deskhand can "
        f"see. {work.action} is not safe to repeat, so it was not done again. Check in the "
        "system whether it happened, and finish or undo it by hand.",
    )


def _start(rt: Runtime, run_id: int, worker: str, work: _Work, c: Connectors) -> Baseline:
    try:
        snapshot = work.operation.snapshot(work.params, c)
    except ConnectorError as error:
        _fail(rt, run_id, worker, work.step_id, "act", f"snapshot failed: {error}")
        raise _Halt(
            Reason.EXECUTION_FAILED,
            f"Step {work.position} ({work.description}): reading the state before it failed, "
            f"so nothing was changed: {error}",
            local=True,
        ) from None
    secret = work.operation.secret()
    with rt.db.session() as session:
        state.hold(session, run_id, worker)  # the lease, checked where the step is marked
        step = _step(session, work.step_id)
        state.start_step(
            session,
            step,
            snapshot,
            payload=work.payload,
            secret=rt.keys.encrypt(STEP_SECRET, secret) if secret is not None else None,
            secret_expires_at=now() + timedelta(hours=rt.settings.secret_hours),
        )
        assert step.started_at is not None
        return Baseline(step.started_at, snapshot)


def _secret(rt: Runtime, run_id: int, worker: str, work: _Work) -> str | None:
    """The secret to set (decrypted), read in a transaction that also checks, one last time
    before acting, that this worker still holds the run — and extends its lease for the call."""
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        state.renew(session, run_id, worker, timedelta(seconds=rt.settings.lease_seconds))
        token = session.execute(
            select(StepSecret.value).where(StepSecret.step_id == work.step_id)
        ).scalar_one_or_none()
    if token is None:
        return None
    value = rt.keys.decrypt(STEP_SECRET, token)
    if value is None:
        _fail(rt, run_id, worker, work.step_id, "act", "its secret cannot be decrypted")
        raise _Halt(
            Reason.EXECUTION_FAILED,
            f"Step {work.position}: the temporary password stored for it cannot be decrypted "
            "(the server key file changed). Nothing ran.",
        )
    return value


def _after_act(rt: Runtime, run_id: int, worker: str, work: _Work, outcome: str) -> None:
    """A call that returned after this worker lost the run is recorded, and the worker stops:
    another worker owns the step now, and the log must still show the side effect."""
    with rt.db.session() as session:
        if state.renew(session, run_id, worker, timedelta(seconds=rt.settings.lease_seconds)):
            return
        state.acted_after_lease_lost(session, _step(session, work.step_id), worker, outcome)
    raise state.LeaseLost(f"Run {run_id} was taken over while step {work.position} ran.")


def _verify(
    rt: Runtime, run_id: int, worker: str, work: _Work, c: Connectors, baseline: Baseline
) -> None:
    try:
        check = work.operation.check(work.params, c, work.key, baseline)
    except ConnectorError as error:
        _fail(rt, run_id, worker, work.step_id, "verify", str(error))
        raise _Halt(
            Reason.VERIFICATION_FAILED, f"Reading back step {work.position}: {error}", local=True
        ) from None
    settles = work.settles
    waiting: datetime | None = None  # raised once the wait is committed, not inside it
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        step = _step(session, work.step_id)
        if check.done:
            state.verify_step(session, step, check.observed, work.payload)
            return
        why = f"reading back showed {check.observed}"
        if settles is not None:
            # Counted from the first read-back that did not show it, by the runtime's clock.
            moment = rt.clock()
            since = state.waiting_since(step) or moment
            deadline = since + settles
            if moment < deadline:
                waiting = min(deadline, moment + work.recheck)
                state.wait_step(session, step, check.observed, waiting, deadline, since)
            else:
                why = f"it did not show within {_span(settles)}: {why}"
        if waiting is None:
            state.fail_step(session, step, "verify", why)
    if waiting is not None:
        raise _Wait(waiting)
    raise _Halt(
        Reason.VERIFICATION_FAILED,
        f"Step {work.position} ({work.description}) ran, but {why}.",
        local=True,
    )


def _settles(spec: Action, *, scheduled: bool) -> timedelta | None:
    """How long a step's change may take to show. A manual step of a scheduled plan was
    approved ahead: the technician does it when the plan runs, so it is read back until it
    shows, for up to MANUAL_WINDOW; its dependents wait for it, the other steps go on."""
    if spec.settles_within is not None:
        return spec.settles_within
    return MANUAL_WINDOW if spec.manual and scheduled else None


def _pause(rt: Runtime, run_id: int, worker: str, until: datetime) -> None:
    """The run waits for a change to show: another worker (or this one) takes it up again at
    ``until``, with the step still executing, to read it back again."""
    with rt.db.session() as session:
        run = state.hold(session, run_id, worker)
        state.pause_run(session, run, until)


def _span(length: timedelta) -> str:
    minutes = round(length.total_seconds() / 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _step(session: Session, step_id: int) -> Step:
    step = session.get(Step, step_id)
    assert step is not None
    return step


def _fail(rt: Runtime, run_id: int, worker: str, step_id: int, phase: str, error: str) -> None:
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        state.fail_step(session, _step(session, step_id), phase, error)
