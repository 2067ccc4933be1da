"""An approver's edit, re-planned — never patched into the step.

An edit is a new instruction, checked as if a specialist had proposed it: every directory
reference in the edited parameters is resolved again against the tenant's directory (ids are
the truth; the names shown come from the directory, never from the edit); when a reference
changed, the specialist plans the ticket again from what it first planned from, with the
edited object in place of the old one — so the note, the client reply and every other step say
what will now run — the requester check is made again for the new target, and each step's
blast radius is worked out again from the directory's facts.

``plan_edit`` only works this out; ``deskhand.engine.approvals`` decides whether the approver
may approve what it found (an edit that raises a step's blast radius or changes the requester
check needs the approver to accept the new class, with the requester verified), and the state
machine stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deskhand.actions import action
from deskhand.actions.contract import Action
from deskhand.connectors.errors import ConnectorError
from deskhand.domain.actions import ActionError
from deskhand.domain.decisions import Decision
from deskhand.domain.directory import DirectoryGroup, DirectoryUser
from deskhand.domain.risks import QUEUE_ORDER, BlastRadius, risk_rank
from deskhand.engine import state
from deskhand.engine.binding import (
    BindingError,
    Bound,
    DirectoryObject,
    TicketRef,
    bind,
    created_by,
)
from deskhand.engine.planning import PlanInputs, make_plan, requester_check
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.policy.tenant_policy import TenantPolicy
from deskhand.specialists.contract import PlanContext
from deskhand.store.models import Tenant


class EditRefused(DeskhandError):  # noqa: N818 - what the approver is told
    """The edit cannot be approved as it stands: the message says why and what to do."""

    exit_code = 2
    http_status = 409


@dataclass(frozen=True)
class StepNow:
    """A step of the run as it stands when the edit is made."""

    id: int
    position: int
    action: str
    status: str
    decision: str
    blast_radius: str
    params: dict[str, Any]  # what it would run now: approved edit, re-plan or first proposal
    approval_status: str | None


@dataclass(frozen=True)
class RunNow:
    """The run of the edited draft as read before the edit is worked out."""

    run_id: int
    specialist: str | None
    ticket: TicketRef
    inputs: PlanInputs | None
    steps: tuple[StepNow, ...]
    requester_check: dict[str, Any]

    def fingerprint(self) -> tuple[tuple[Any, ...], ...]:
        """What must not change between working the edit out and storing it."""
        return tuple(
            (s.id, s.status, s.approval_status, sorted(s.params.items())) for s in self.steps
        )


@dataclass(frozen=True)
class PlannedStep:
    """A step as the edit makes it: what will run, how risky, and what policy says."""

    step_id: int
    position: int
    action: str
    params: dict[str, Any]
    description: str
    radius: BlastRadius
    radius_before: str
    decision: Decision
    rule: str
    changed: bool  # differs from what the step would have run before the edit
    why: str  # why its blast radius is what it is, in words

    @property
    def raised(self) -> bool:
        return risk_rank(self.radius.value) < risk_rank(self.radius_before)


@dataclass(frozen=True)
class EditPlan:
    """The edited step and every other step the re-plan changed, and the requester check made
    again when the edit changed whom or what the plan acts on."""

    edited: PlannedStep
    others: tuple[PlannedStep, ...] = ()
    check: dict[str, str] | None = None
    check_before: dict[str, Any] = field(default_factory=dict)
    target: str = ""  # whom the new requester check is about

    @property
    def raised(self) -> list[PlannedStep]:
        return [s for s in (self.edited, *self.others) if s.raised]

    @property
    def identity_changed(self) -> bool:
        return self.check is not None and self.check["verdict"] != self.check_before.get("verdict")

    @property
    def approval_class(self) -> BlastRadius:
        """The class the approver accepts: the riskiest blast radius the edit brings."""
        radii = [s.radius for s in (self.edited, *self.raised)]
        return min(radii, key=lambda r: QUEUE_ORDER.index(r))


def _created(run: RunNow, step: StepNow) -> frozenset[str]:
    """The users the steps before ``step`` create (a starter named before they exist)."""
    return created_by([(s.action, s.params) for s in run.steps if s.position < step.position])


def plan_edit(
    rt: Runtime, tenant: Tenant, run: RunNow, step_id: int, edit: Mapping[str, Any]
) -> EditPlan:
    """Work out what approving draft step ``step_id`` with ``edit`` would run. An EditRefused
    (or BindingError) says why it cannot be approved at all."""
    connectors = rt.ticket_connectors(tenant)
    policy = rt.policy(tenant)
    step = next(s for s in run.steps if s.id == step_id)
    spec = action(step.action)
    unknown = sorted(set(edit) - set(spec.Params.model_fields))
    if unknown:
        raise EditRefused(
            f"{spec.name} has no parameter {', '.join(unknown)}.",
            hint=f"It has: {', '.join(spec.Params.model_fields)}.",
        )
    try:
        bound = bind(spec, {**step.params, **edit}, connectors, run.ticket, _created(run, step))
    except (ActionError, BindingError) as error:
        raise EditRefused(f"The edit cannot be approved: {error}") from None
    _refuse_edited_names(spec, bound, step, edit)
    if not edit and bound.params.model_dump(mode="json") != step.params:
        raise EditRefused(
            "The directory changed since this draft was made: "
            + "; ".join(f"{f} is now {new!r}, not {old!r}" for f, old, new in bound.mismatched)
            + ".",
            hint="Reject the draft; deskhand plans the ticket again with what the directory "
            "says now.",
        )
    changed = {name: obj for name, obj in bound.objects.items() if obj.id != step.params.get(name)}
    if not changed:
        return EditPlan(
            edited=_planned(spec, bound, step, policy), check_before=run.requester_check
        )
    return _replanned(rt, tenant, run, step, spec, edit, changed, policy)


def _refuse_edited_names(
    spec: Action, bound: Bound, step: StepNow, edit: Mapping[str, Any]
) -> None:
    """A name shown from the directory is never taken from an edit."""
    for shown, given, directory_value in bound.mismatched:
        if shown in edit and edit[shown] != step.params.get(shown):
            source = next(n for n, r in spec.references.items() if shown in r.shows)
            raise EditRefused(
                f"{shown} is filled in from the directory ({directory_value!r} for {source} "
                f"{bound.params.model_dump()[source]}); it cannot be edited to {given!r}.",
                hint=f"To act on something else, edit {source} (an id from the directory"
                + (", or a user's sign-in name" if spec.references[source].kind == "user" else "")
                + ").",
            )


def _replanned(
    rt: Runtime,
    tenant: Tenant,
    run: RunNow,
    step: StepNow,
    spec: Action,
    edit: Mapping[str, Any],
    changed: dict[str, DirectoryObject],
    policy: TenantPolicy,
) -> EditPlan:
    """The whole plan made again by its specialist, with the edited objects in place."""
    specialist = rt.registry.by_name.get(run.specialist or "")
    if run.inputs is None or specialist is None:
        made = {
            state.UNDO: "it undoes another plan, step by step from what each step kept",
            state.ASK_REQUESTER: "it is a question to the requester",
        }.get(run.specialist or "", "it was planned before deskhand kept what plans are made from")
        raise EditRefused(
            "This edit changes whom or what the step acts on, and this plan cannot be made "
            f"again: {made}.",
            hint="Reject the draft, saying what should change; the ticket goes to a technician.",
        )
    connectors = rt.ticket_connectors(tenant)
    context = _substituted(run.inputs.context, step.params, changed)
    check: dict[str, str] | None = None
    target = ""
    if specialist.needs_identity and context.targets:
        try:
            result = requester_check(connectors, run.inputs.ticket, context)
        except ConnectorError as error:
            raise EditRefused(f"The requester check could not be made again: {error}") from None
        target = context.targets[0].user_principal_name
        check = {"verdict": result.verdict.value, "detail": result.detail}
        if not result.verified:
            raise EditRefused(
                f"With this edit the requester is not verified for {target}: {result.detail}",
                hint="deskhand would not have drafted this. Reject the draft; the ticket goes "
                "to a technician (identity_unverified).",
            )
        context = context.model_copy(update={"identity": result.verdict.value})
    inputs = run.inputs.model_copy(update={"context": context})
    try:
        plan = make_plan(specialist, inputs, policy.time_entries, run.ticket)
    except Exception as error:  # a plugin's bug refuses the edit, it does not stop the desk
        raise EditRefused(f"{specialist.name} failed to plan with this edit: {error!r}") from None
    if plan.handoff is not None:
        raise EditRefused(
            f"With this edit, {specialist.name} would not plan the ticket: {plan.handoff}",
            hint="Reject the draft, saying what should change; the ticket goes to a technician.",
        )
    before = [s.action for s in run.steps]
    after = [p.action for p in plan.steps]
    if before != after:
        raise EditRefused(
            "This edit changes the plan itself, not only this step: it was "
            f"{', '.join(before)}; with the edit it would be {', '.join(after)}.",
            hint="Reject the draft, saying what should change; the ticket goes to a technician "
            "who can plan it.",
        )
    edited: PlannedStep | None = None
    others = []
    for stored, proposed in zip(run.steps, plan.steps, strict=True):
        raw = dict(proposed.params)
        stored_spec = action(stored.action)
        if stored.id == step.id:
            # The approver's own edits of plain values (not references, not names) stay theirs.
            raw.update(
                {k: v for k, v in edit.items() if k not in spec.references and k not in spec.shown}
            )
        try:
            bound = bind(stored_spec, raw, connectors, run.ticket, _created(run, stored))
        except (ActionError, BindingError) as error:
            raise EditRefused(f"Step {stored.position} of the new plan: {error}") from None
        planned = _planned(stored_spec, bound, stored, policy)
        if stored.id == step.id:
            _same_references(spec, planned, changed)
            edited = planned
            continue
        if planned.decision.value != stored.decision:
            raise EditRefused(
                f"With this edit, step {stored.position} ({stored.action}) would be "
                f"{planned.decision.value}, not {stored.decision} ({planned.rule}).",
                hint="Reject the draft, saying what should change; the ticket goes to a "
                "technician.",
            )
        if planned.changed:
            others.append(planned)
    assert edited is not None
    return EditPlan(
        edited=edited,
        others=tuple(others),
        check=check,
        check_before=run.requester_check,
        target=target,
    )


def _substituted(
    context: PlanContext, params: Mapping[str, Any], changed: Mapping[str, DirectoryObject]
) -> PlanContext:
    """``context`` with each object the step named replaced by the one the edit names."""
    update: dict[str, Any] = {}
    for name, new in changed.items():
        old_id = params.get(name)
        kind = _kind(new)
        objects: tuple[DirectoryObject, ...] = tuple(update.get(kind, getattr(context, kind)))
        if not any(o.id == old_id for o in objects):
            raise EditRefused(
                f"The step's {kind} {old_id} is not one the plan was made from, so the plan "
                "cannot be made again with the edit.",
                hint="Reject the draft, saying what should change.",
            )
        update[kind] = tuple(new if o.id == old_id else o for o in objects)
    return context.model_copy(update=update)


def _kind(obj: DirectoryObject) -> str:
    """Where the plan's context keeps objects like ``obj``."""
    if isinstance(obj, DirectoryUser):
        return "targets"
    if isinstance(obj, DirectoryGroup):
        return "groups"
    return "skus"


def _same_references(
    spec: Action, planned: PlannedStep, changed: Mapping[str, DirectoryObject]
) -> None:
    for name, obj in changed.items():
        if planned.params.get(name) != obj.id:
            raise EditRefused(
                f"Planned again, the step does not act on the edited {name} ({obj.id}): the "
                "specialist planned it differently.",
                hint="Reject the draft, saying what should change.",
            )


def _planned(spec: Action, bound: Bound, step: StepNow, policy: TenantPolicy) -> PlannedStep:
    radius = spec.blast_radius(bound.params, bound.facts)
    decision, rule = policy.decide(spec.name, radius, manual=spec.manual)
    params = bound.params.model_dump(mode="json")
    return PlannedStep(
        step_id=step.id,
        position=step.position,
        action=spec.name,
        params=params,
        description=spec.describe(bound.params),
        radius=radius,
        radius_before=step.blast_radius,
        decision=decision,
        rule=rule,
        changed=params != step.params,
        why=_why(spec, bound, radius),
    )


def _why(spec: Action, bound: Bound, radius: BlastRadius) -> str:
    privileged = [
        o.display_name
        for o in bound.objects.values()
        if isinstance(o, DirectoryGroup) and o.id in bound.facts.privileged_groups
    ]
    if privileged and radius == spec.privileged_radius:
        return (
            f"{', '.join(privileged)} is a privileged group: membership gives administrative "
            "control"
        )
    if bound.facts.privileged_groups and radius == spec.privileged_radius:
        # The groups are the user's, read when the step was bound (remove from every group).
        return (
            "a privileged group is among the groups it changes: membership gives "
            "administrative control"
        )
    return f"{spec.name} is always {radius.value}"
