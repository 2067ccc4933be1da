"""Undo as a plan (issue 15): for a finished run, a person proposes a new plan of the same
ticket that puts back what the run changed — the steps that undo each verified step, worked out
from its parameters and the snapshot it kept before it acted (``Action.undo_steps``), last done
first undone. Each undo step waits only for the undo of the steps that waited for the step it
undoes (the plan's dependencies reversed), so one undo that fails stops only what depends on
it. Each step is bound to the tenant's systems and decided by its policy, and the drafts are
approved like any plan's, each bound to its own payload: an undo is a change like any other.
What deskhand cannot undo is named on the plan (``Plan.left``, kept with the run) in its
action's own words, so the card says what a technician does by hand, and the ticket goes to
them once the plan has run. What the run wrote on the ticket itself (a note, the reply, time,
its status) stays, as the record of what happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.actions import action, catalogue
from deskhand.actions.contract import Action
from deskhand.connectors.errors import ConnectorError
from deskhand.domain.actions import ActionError
from deskhand.domain.decisions import Decision
from deskhand.engine import psa_status, state
from deskhand.engine.approvals import ApprovalError, NotAllowedError, PlanNotFoundError, visible_to
from deskhand.engine.binding import BindingError, TicketRef, bind
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.store.models import Run, Step, Tenant, Ticket, User

# A run that is still going on, in the words of a refusal.
_STILL = {
    "queued": "waiting for a worker",
    "dispatching": "being planned",
    "awaiting_approval": "waiting for approval",
    "ready": "approved and waiting to run",
    "executing": "running",
}


class UndoRefusedError(ApprovalError):
    """The run cannot be undone now: still open, changed nothing, or its undo is proposed."""

    http_status = 409


@dataclass(frozen=True)
class UndoOffer:
    """Whether a person may propose undoing a run now, for a page to offer it or say why not."""

    possible: bool
    why_not: str = ""  # plain words; empty when possible
    proposed: int | None = None  # the undo plan proposed already, open or done


@dataclass(frozen=True)
class _Done:
    """A step of the run to undo, as it ran."""

    position: int
    action: str
    description: str
    status: str
    params: dict[str, Any]
    snapshot: dict[str, Any]
    started: bool  # it began to act (a failed step may have changed part of what it meant to)
    waits_for: tuple[int, ...]  # the positions of the steps it waited for


def undo_offer(rt: Runtime, run_id: int, user_email: str) -> UndoOffer:
    """Whether ``user_email`` may propose undoing run ``run_id`` now, read without asking the
    tenant's systems anything; a PlanNotFoundError for a run they may not see."""
    with rt.db.reading() as session:
        run = _visible(session, run_id, user_email)
        try:
            _may_propose(rt, session, run, user_email)
        except NotAllowedError as error:
            return UndoOffer(False, error.message)
        why, proposed = _refusal(run)
    return UndoOffer(why is None, why or "", proposed)


def propose_undo(rt: Runtime, run_id: int, user_email: str) -> int:
    """Propose undoing the finished run ``run_id`` as a new plan of its ticket, drafted and
    decided by policy like any plan; the new run's id. Refused in plain words
    (UndoRefusedError) for a run still open, one that changed nothing deskhand can undo, and
    one whose undo is proposed already; a PlanNotFoundError for a run the user may not see."""
    with rt.db.reading() as session:
        run = _visible(session, run_id, user_email)
        _may_propose(rt, session, run, user_email)
        _refuse(run)
        done = [_as_done(step) for step in run.steps]
        ticket = TicketRef.of(run.ticket)
        ticket_id, subject = run.ticket_id, run.ticket.subject
        tenant = session.get(Tenant, run.tenant_id)
        assert tenant is not None
    steps, left = _undo_steps(rt, tenant, ticket, run_id, done)  # reads the tenant's systems
    if not steps:
        raise UndoRefusedError(
            f"Nothing of plan {run_id} can be undone by deskhand now: {'; '.join(left)}.",
            hint="Do these by hand; the ticket's page shows what each step changed.",
        )
    policy = rt.policy(tenant)
    with rt.db.session() as session:
        # Checked again with the ticket locked: two people proposing at once make one plan.
        session.execute(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).one()
        original = session.get(Run, run_id)
        assert original is not None
        _refuse(original)
        user = _user(session, user_email)
        undoing = state.queue_undo(session, original, user, steps=len(steps), left=len(left))
        state.store_plan(
            session,
            undoing,
            specialist=state.UNDO,
            summary=f"Undo of plan {run_id}: {_count(len(steps), 'step')} put back what it "
            "changed" + (f"; {_count(len(left), 'change')} left for a technician" if left else ""),
            steps=steps,
            expires_in=policy.expiry,
            approver_roles=sorted(policy.approvers),
            excerpt=f"Undo of plan {run_id}, proposed by {user.email}: put back what it changed "
            f"for the ticket “{subject[:200]}”.",
            requester_check={
                "verdict": "unchecked",
                "detail": f"an undo proposed by {user.email}, not a request of the client: "
                "there is no requester to check",
            },
            plan_inputs={"undo_of": run_id, "left": left},
        )
        new_id = undoing.id
    psa_status.follow(rt, tenant, new_id, "working")
    return new_id


def _undo_steps(
    rt: Runtime, tenant: Tenant, ticket: TicketRef, run_id: int, done: list[_Done]
) -> tuple[list[state.DecidedStep], list[str]]:
    """The steps that undo what ``done`` changed, last done first, bound and decided by the
    tenant's policy; and, in words, each change deskhand cannot undo (now)."""
    connectors = rt.ticket_connectors(tenant)
    policy = rt.policy(tenant)
    steps: list[state.DecidedStep] = []
    undone_by: dict[int, list[int]] = {}  # a step's position → the positions of its undo steps
    undoes: list[int] = []  # for each undo step, the position of the step it undoes
    left: list[str] = []
    for step in reversed(done):
        spec = action(step.action)
        if _on_the_ticket(spec) or step.status not in ("verified", "failed", "uncertain"):
            continue
        params = spec.validate(step.params)
        # A manual step's description is its instructions: named by what it changed instead.
        what = f"{spec.name} for {spec.target(params)}" if spec.manual else step.description
        named = f"step {step.position} ({what})"
        words = spec.undo_words(params, catalogue())
        if step.status != "verified":
            if step.started:
                how = "failed" if step.status == "failed" else "was interrupted"
                left.append(
                    f"{named} {how} once it had started: check what it changed, and undo that "
                    f"by hand ({words})"
                )
            continue
        undoing = spec.undo_steps(params, step.snapshot or {})
        if undoing is None:
            left.append(f"{named}: {words}")
            continue
        for name, raw in undoing:
            try:
                undo = action(name)
                bound = bind(undo, raw, connectors, ticket)
            except (ActionError, BindingError, ConnectorError) as error:
                why = error.message if isinstance(error, DeskhandError) else str(error)
                left.append(f"{named} is not undone in full: {why}")
                continue
            radius = undo.blast_radius(bound.params, bound.facts)
            decision, rule = policy.decide(undo.name, radius, manual=undo.manual)
            description = undo.describe(bound.params)
            if decision is Decision.FORBID:
                left.append(f"{named}: {description} — the tenant's policy forbids it ({rule})")
                continue
            undone_by.setdefault(step.position, []).append(len(steps) + 1)
            undoes.append(step.position)
            steps.append(
                state.DecidedStep(
                    action=undo.name,
                    params=bound.params.model_dump(mode="json"),
                    description=description,
                    reason=f"Undoes step {step.position} of plan {run_id}: {step.description}",
                    blast_radius=radius.value,
                    decision=decision.value,
                    rule=rule,
                )
            )
    waits = _reversed_waits(done, undone_by)
    return [
        replace(decided, depends_on=waits[position])
        for decided, position in zip(steps, undoes, strict=True)
    ], left


def _reversed_waits(
    done: Sequence[_Done], undone_by: Mapping[int, list[int]]
) -> dict[int, tuple[int, ...]]:
    """For each step undone, the undo steps its undo waits for: those of the nearest steps that
    waited for it (through steps with nothing to undo, a note or a vendor item, to the steps
    that waited for those), as what was done after it is put back before it."""
    dependents: dict[int, list[int]] = {step.position: [] for step in done}
    for step in done:
        for position in step.waits_for:
            dependents.setdefault(position, []).append(step.position)
    waits: dict[int, tuple[int, ...]] = {}
    for position in undone_by:
        found: set[int] = set()
        seen: set[int] = set()
        frontier = list(dependents.get(position, []))
        while frontier:
            later = frontier.pop()
            if later in seen:
                continue
            seen.add(later)
            if later in undone_by:
                found.update(undone_by[later])
            else:
                frontier.extend(dependents.get(later, []))
        waits[position] = tuple(sorted(found))
    return waits


def _on_the_ticket(spec: Action) -> bool:
    """A step that writes on the ticket itself (a note, the reply, time, its status): it stays
    as the record, never undone."""
    return any(ref.kind in ("ticket", "requester") for ref in spec.references.values())


def _undoable(step: Step) -> bool:
    """A verified step deskhand has steps to undo, read from what it kept (no system asked)."""
    if step.status != "verified":
        return False
    spec = action(step.action)
    if _on_the_ticket(spec):
        return False
    try:
        return bool(
            spec.undo_steps(spec.validate(state.effective_params(step)), step.snapshot or {})
        )
    except ActionError:
        return False


def _refusal(run: Run) -> tuple[str | None, int | None]:
    """Why ``run`` cannot be undone now, in plain words (None: it can), and the undo plan
    proposed for it already, if there is one."""
    ticket = run.ticket
    others = [r for r in ticket.runs if r.id != run.id]
    undone = [r for r in others if (r.plan_inputs or {}).get("undo_of") == run.id]
    open_undo = next((r for r in undone if r.status in state.OPEN_RUN), None)
    if run.status in state.OPEN_RUN:
        return f"Plan {run.id} is still {_STILL[run.status]}: only a finished plan is undone.", None
    if open_undo is not None:
        return (
            f"The undo of plan {run.id} is proposed already: plan {open_undo.id}, "
            f"{_STILL[open_undo.status]}.",
            open_undo.id,
        )
    # An undo that ran (an escalated one too: what it could not undo went to a technician).
    ran = next((r for r in undone if any(s.status == "verified" for s in r.steps)), None)
    if ran is not None:
        return (
            f"Plan {run.id} was undone already, by plan {ran.id}; to reverse that, undo plan "
            f"{ran.id}.",
            ran.id,
        )
    busy = next((r for r in others if r.status in state.OPEN_RUN), None)
    if busy is not None:
        return (
            f"Ticket {ticket.id} has plan {busy.id} {_STILL[busy.status]}: propose the undo once "
            "it has finished.",
            None,
        )
    if ticket.status not in ("resolved", "escalated"):
        return (
            f"Ticket {ticket.id} is {ticket.status.replace('_', ' ')}: propose the undo once it "
            "is resolved or with a technician.",
            None,
        )
    if not any(step.status == "verified" for step in run.steps):
        return f"Plan {run.id} changed nothing: none of its steps was done.", None
    if not any(_undoable(step) for step in run.steps):
        return (
            f"Nothing plan {run.id} did can be undone by deskhand: it only wrote on the "
            "ticket, or what it changed cannot be undone (each step's page says how).",
            None,
        )
    return None, None


def _refuse(run: Run) -> None:
    why, proposed = _refusal(run)
    if why is not None:
        hint = f"Plan {proposed} is at /plans/{proposed}." if proposed is not None else None
        raise UndoRefusedError(why, hint=hint)


def _as_done(step: Step) -> _Done:
    return _Done(
        position=step.position,
        action=step.action,
        description=step.description,
        status=step.status,
        params=state.effective_params(step),
        snapshot=dict(step.snapshot) if step.snapshot is not None else {},
        started=step.started_at is not None,
        waits_for=state.waits_for(step),
    )


def _visible(session: Session, run_id: int, user_email: str) -> Run:
    run = session.get(Run, run_id)
    if run is None or not visible_to(_user(session, user_email), run.tenant_id):
        raise PlanNotFoundError(f"No plan {run_id}.")  # another tenant's: not even that
    return run


def _may_propose(rt: Runtime, session: Session, run: Run, user_email: str) -> None:
    """Those who approve the tenant's plans propose undoing one (and approve it like any)."""
    tenant = session.get(Tenant, run.tenant_id)
    assert tenant is not None
    user = _user(session, user_email)
    policy = rt.policy(tenant)
    if not policy.may_approve(user.role):
        raise NotAllowedError(
            f"{user.email} is a {user.role}; an undo of a plan of {tenant.name} is proposed by "
            f"those who approve its plans: {', '.join(sorted(policy.approvers))}."
        )


def _user(session: Session, email: str) -> User:
    user = session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise ApprovalError(f"No user {email}.", hint="`deskhand users list` shows the users.")
    return user


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
