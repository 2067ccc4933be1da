"""The executor: performs a run's steps in order — snapshot, act, read back — and reports a
step done only when reading back shows the change.

Before acting it checks, again, that the step may run as stored: the blast radius is worked
out anew from the directory, a step that needs approval must have a valid, unexpired approval,
and the SHA-256 of the payload about to run must be the one a human approved. Anything else
fails closed and escalates. After a crash, a step found ``executing`` is first checked by
reading state: if the change is there it is verified, not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import ActionError, Params, action
from deskhand.domain.risks import APPROVAL_FLOOR
from deskhand.engine import state
from deskhand.engine.binding import BindingError, check_binding
from deskhand.engine.escalation import escalate
from deskhand.engine.operations import OPERATIONS, Baseline, Operation
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Step, StepSecret, Tenant, now


class _Halt(Exception):  # noqa: N818 - control flow: the run stops and escalates
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class _Work:
    """One step as read at the start of its turn."""

    step_id: int
    position: int
    description: str
    key: str
    params: Params
    operation: Operation
    recovering: Baseline | None  # set when a crash left it executing


def execute(rt: Runtime, run_id: int, worker: str) -> None:
    """Run every step of a run this worker holds, then complete it; or escalate."""
    with rt.db.session() as session:
        run = state.hold(session, run_id, worker)
        tenant = session.get(Tenant, run.tenant_id)
        assert tenant is not None
        step_ids = [step.id for step in run.steps]
        psa_ticket_id = run.ticket.psa_ticket_id
    connectors = rt.ticket_connectors(tenant)
    try:
        for step_id in step_ids:
            _run_step(rt, run_id, step_id, worker, connectors, psa_ticket_id)
    except _Halt as halt:
        escalate(rt, run_id, halt.reason, halt.detail, worker=worker)
        return
    with rt.db.session() as session:
        state.complete_run(session, state.hold(session, run_id, worker))


def _run_step(
    rt: Runtime, run_id: int, step_id: int, worker: str, c: Connectors, psa_ticket_id: str
) -> None:
    work = _prepare(rt, run_id, step_id, worker, c, psa_ticket_id)
    if work is None:
        return
    baseline = work.recovering
    if baseline is not None and _already_done(rt, run_id, worker, work, c, baseline):
        return
    if baseline is None:
        baseline = _start(rt, run_id, worker, work, c)
    with rt.db.session() as session:
        secret = session.execute(
            select(StepSecret.value).where(StepSecret.step_id == step_id)
        ).scalar_one_or_none()
    try:
        work.operation.act(work.params, c, work.key, secret)
    except ConnectorError as error:
        _fail(rt, run_id, worker, step_id, "act", str(error))
        raise _Halt(
            "execution_failed", f"Step {work.position} ({work.description}) failed: {error}"
        ) from None
    _verify(rt, run_id, worker, work, c, baseline)


def _prepare(
    rt: Runtime, run_id: int, step_id: int, worker: str, c: Connectors, psa_ticket_id: str
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
        try:
            params = action(step.action).validate(state.effective_params(step))
        except ActionError as error:
            _refuse_and_fail(session, step, str(error))
            halt: _Halt | None = _Halt("plan_invalid", str(error))
        else:
            recovering = step.status == "executing"
            halt = None if recovering else _check_may_run(session, step, params, c, psa_ticket_id)
        if halt is None:
            work = _Work(
                step_id=step.id,
                position=step.position,
                description=step.description,
                key=step.idempotency_key,
                params=params,
                operation=OPERATIONS[step.action],
                recovering=(
                    Baseline(step.started_at, step.snapshot or {})
                    if recovering and step.started_at is not None
                    else None
                ),
            )
    if halt is not None:
        raise halt
    return work


def _check_may_run(
    session: Session, step: Step, params: Params, c: Connectors, psa_ticket_id: str
) -> _Halt | None:
    """Fail closed unless the step may run exactly as it is stored now: a refusal is
    recorded on the step and returned, for the caller to halt once it has been committed."""
    if step.status not in ("ready", "approved"):
        raise state.StateError(f"Step {step.id} is {step.status}; it cannot run.")
    try:
        facts = check_binding(params, c, psa_ticket_id)
    except (BindingError, ConnectorError) as error:
        _refuse_and_fail(session, step, str(error))
        return _Halt("plan_invalid", f"Step {step.position}: {error}")
    radius = action(step.action).blast_radius(params, facts)
    approval = step.approval
    if step.decision == "auto" and radius not in APPROVAL_FLOOR and approval is None:
        return None
    current = state.payload_hash(step.tenant_id, step.action, state.effective_params(step))
    if approval is None or approval.status != "approved" or approval.payload_hash is None:
        state.refuse_payload(session, step, "", current)
        return _Halt(
            "approval_mismatch",
            f"Step {step.position} ({step.description}) is {radius.value} and has no valid "
            "approval. Nothing ran.",
        )
    if approval.expires_at <= now():
        state.expire(session, approval)
        return _Halt(
            "approval_expired",
            f"The approval of step {step.position} ({step.description}) expired at "
            f"{approval.expires_at:%Y-%m-%d %H:%M} UTC before it could run.",
        )
    if current != approval.payload_hash:
        state.refuse_payload(session, step, approval.payload_hash, current)
        return _Halt(
            "approval_mismatch",
            f"Step {step.position} ({step.action}): the payload to run (sha256 {current[:12]}…) "
            f"is not the approved one (sha256 {approval.payload_hash[:12]}…). Nothing ran.",
        )
    return None


def _refuse_and_fail(session: Session, step: Step, why: str) -> None:
    if step.status in ("ready", "approved"):
        state.fail_step(session, step, "check", why)


def _already_done(
    rt: Runtime, run_id: int, worker: str, work: _Work, c: Connectors, baseline: Baseline
) -> bool:
    """After a crash: read state before acting again, and record what was found."""
    try:
        check = work.operation.check(work.params, c, work.key, baseline)
    except ConnectorError as error:
        _fail(rt, run_id, worker, work.step_id, "verify", str(error))
        raise _Halt("verification_failed", f"Re-checking step {work.position}: {error}") from None
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        step = _step(session, work.step_id)
        state.recover_step(session, step, already_done=check.done)
        if check.done:
            state.verify_step(session, step, check.observed)
    return check.done


def _start(rt: Runtime, run_id: int, worker: str, work: _Work, c: Connectors) -> Baseline:
    try:
        snapshot = work.operation.snapshot(work.params, c)
    except ConnectorError as error:
        _fail(rt, run_id, worker, work.step_id, "act", f"snapshot failed: {error}")
        raise _Halt("execution_failed", f"Step {work.position}: snapshot failed: {error}") from None
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        step = _step(session, work.step_id)
        state.start_step(session, step, snapshot, work.operation.secret())
        assert step.started_at is not None
        return Baseline(step.started_at, snapshot)


def _verify(
    rt: Runtime, run_id: int, worker: str, work: _Work, c: Connectors, baseline: Baseline
) -> None:
    try:
        check = work.operation.check(work.params, c, work.key, baseline)
    except ConnectorError as error:
        _fail(rt, run_id, worker, work.step_id, "verify", str(error))
        raise _Halt("verification_failed", f"Reading back step {work.position}: {error}") from None
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        step = _step(session, work.step_id)
        if check.done:
            state.verify_step(session, step, check.observed)
            return
        state.fail_step(session, step, "verify", f"reading back showed {check.observed}")
    raise _Halt(
        "verification_failed",
        f"Step {work.position} ({work.description}) ran, but reading back showed {check.observed}.",
    )


def _step(session: Session, step_id: int) -> Step:
    step = session.get(Step, step_id)
    assert step is not None
    return step


def _fail(rt: Runtime, run_id: int, worker: str, step_id: int, phase: str, error: str) -> None:
    with rt.db.session() as session:
        state.hold(session, run_id, worker)
        state.fail_step(session, _step(session, step_id), phase, error)
