"""What a human does with a draft: look at it, approve it (as proposed or edited), reject it,
and see the temporary password a verified reset produced.

Approving needs a role the tenant's policy lets approve, scope on the draft's tenant, and not
being the person who asked for the change. The approval is bound to the exact payload that will
run by a keyed hash (an HMAC with the server's key, ``deskhand.keys``, kept outside the
database) that the executor checks again; an edit is stored beside the specialist's proposal,
never over it, and is re-planned, not patched (``deskhand.engine.edits``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from deskhand.actions import action, catalogue
from deskhand.connectors.errors import ConnectorError
from deskhand.domain.decisions import Decision
from deskhand.domain.escalations import Reason
from deskhand.domain.origin import outside_psa
from deskhand.domain.risks import BlastRadius, risk_rank
from deskhand.engine import state
from deskhand.engine.binding import BindingError, TicketRef
from deskhand.engine.carried_edits import ApprovedEdit, StaleMention, approved_edits, stale_mentions
from deskhand.engine.edits import EditPlan, EditRefused, RunNow, StepNow, plan_edit
from deskhand.engine.escalation import escalate
from deskhand.engine.left_undone import left_of_run
from deskhand.engine.planning import kept_inputs
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.keys import APPROVAL_BINDING, STEP_SECRET
from deskhand.store.models import Approval, Run, Step, StepSecret, Tenant, Ticket, User, now


class ApprovalError(DeskhandError):
    """The approval cannot be given, edited, rejected or shown by this user."""

    exit_code = 2


class DraftNotFoundError(ApprovalError):
    """No such draft, or one of a tenant outside the user's scope (which looks the same)."""

    http_status = 404


class NotAllowedError(ApprovalError):
    """The user may not decide this draft: their role, or they asked for the change."""

    http_status = 403


class DraftClosedError(ApprovalError):
    """The draft is no longer pending: decided, or expired."""

    http_status = 409


class StaleDraftError(ApprovalError):
    """The draft still mentions a value an approver edited away in another draft of its plan."""

    http_status = 409


class EditRefusedError(ApprovalError):
    """The edit, worked out as a new plan, cannot be approved (see deskhand.engine.edits)."""

    http_status = 409


class ReclassifiedError(ApprovalError):
    """The edit raised a step's blast radius or changed the requester check: the approver must
    accept the new class (``needed``; and verify the requester when ``verify``) to approve it."""

    http_status = 409

    def __init__(self, message: str, hint: str, *, needed: str, verify: bool) -> None:
        super().__init__(message, hint)
        self.needed = needed
        self.verify = verify


class VerificationRequiredError(ApprovalError):
    """A security draft whose requester check says ``needs_verification``: the approver must
    say how they verified the requester (e.g. called back the number on file) first."""

    http_status = 409


# The requester check's verdicts, as a technician reads them.
VERDICTS = {
    "target": "the requester is the person concerned",
    "manager": "the requester is their manager",
    "authorised_contact": "the requester is an authorised contact of the client",
    "needs_verification": "the requester may ask but must be called back first",
    "unverified": "the requester is not verified",
    "unchecked": "not checked",
}

# A verification note shorter than this says nothing ("ok", "yes").
MIN_VERIFICATION_CHARS = 8


def needs_verification(requester_check: dict[str, Any], blast_radius: str) -> bool:
    """Must the approver verify the requester before approving a step of ``blast_radius``?"""
    return blast_radius == "security" and requester_check.get("verdict") == "needs_verification"


class NoSecretError(ApprovalError):
    """The draft has no secret to show: not a verified reset, or shown and erased already."""

    http_status = 409


class DraftView(BaseModel):
    """A draft as the approval queue shows it."""

    id: int
    status: str
    tenant_id: str
    ticket_id: int
    psa_ticket_id: str
    in_psa: bool = True  # the tenant's PSA holds the ticket (not mailed in, not imported)
    run_id: int
    step_position: int
    specialist: str
    action: str
    description: str
    target: str
    blast_radius: str
    decision_rule: str
    reason: str
    undo: str  # how the step would be undone, or that it cannot be
    proposed_params: dict[str, Any]
    approved_params: dict[str, Any] | None
    changes: dict[str, list[Any]]
    excerpt: str
    requester: str
    requester_check: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    payload_hash: str | None
    step_status: str
    secret_available: bool
    # Mentions of values an approver changed in another draft of the plan (pending drafts only).
    stale: list[StaleMention] = []
    # A security draft whose requester must be verified (called back) before it is approved.
    verify_first: bool = False
    # The draft's step was planned again after draft ``replanned_by`` was approved with an
    # edit; ``first_params`` is what the specialist first proposed.
    replanned_by: int | None = None
    first_params: dict[str, Any] | None = None
    manual: bool = False  # a manual step: the approval is the tick that says it was done
    from_directory: list[str] = []  # parameters filled in from the directory, never edited
    secret_expires_at: datetime | None = None  # when an unshown temporary password is erased


def visible_to(user: User, tenant_id: str) -> bool:
    return "*" in user.tenants or tenant_id in user.tenants


@dataclass(frozen=True)
class DraftFilter:
    """Which drafts to list. ``tenants`` None means every tenant."""

    status: str | None = "pending"
    tenants: tuple[str, ...] | None = None
    ticket_id: int | None = None
    specialist: str | None = None
    blast_radius: str | None = None
    after_id: int | None = None  # only drafts newer than this (for live updates)
    limit: int | None = None
    offset: int = 0


def list_drafts(
    rt: Runtime,
    user_email: str | None,
    status: str | None = "pending",
    ticket_id: int | None = None,
) -> list[DraftView]:
    """Drafts in the tenants the user may see (all when no user is given), riskiest and then
    oldest first; only one ticket's when ``ticket_id`` is given."""
    tenants = None
    if user_email:
        with rt.db.reading() as session:
            user = _user(session, user_email)
            tenants = None if "*" in user.tenants else tuple(user.tenants)
    return query_drafts(rt, DraftFilter(status=status, tenants=tenants, ticket_id=ticket_id))


def query_drafts(rt: Runtime, where: DraftFilter) -> list[DraftView]:
    """The drafts ``where`` asks for, loaded in a fixed number of queries however many."""
    # One ticket's drafts read in the order its plan will run them; the queue riskiest first
    # (deskhand.domain.risks.QUEUE_ORDER), in the order of an index over the approvals.
    order: tuple[Any, ...] = (
        (Run.id, Step.position)
        if where.ticket_id is not None
        else (Approval.risk_rank, Approval.created_at, Approval.id)
    )
    # The page is picked from narrow rows and only its drafts are then loaded whole.
    query = (
        select(Approval.id, *(key.label(f"key{n}") for n, key in enumerate(order)))
        .join(Step, Step.id == Approval.step_id)
        .join(Run, Run.id == Step.run_id)
        .order_by(*order)
    )
    if where.status:
        query = query.where(Approval.status == where.status)
    if where.tenants is not None:
        query = query.where(Approval.tenant_id.in_(where.tenants))
    if where.ticket_id is not None:
        query = query.where(Run.ticket_id == where.ticket_id)
    if where.specialist:
        query = query.where(Approval.specialist == where.specialist)
    if where.blast_radius:
        query = query.where(Step.blast_radius == where.blast_radius)
    if where.after_id is not None:
        query = query.where(Approval.id > where.after_id)
    if where.limit is not None:
        query = query.limit(where.limit).offset(where.offset)
    page = query.subquery()
    loading = (
        select(Approval)
        .join(page, page.c.id == Approval.id)
        .options(
            joinedload(Approval.step)
            .joinedload(Step.run)
            .joinedload(Run.ticket)
            .joinedload(Ticket.requester),
            joinedload(Approval.approver),
        )
        .order_by(*list(page.c)[1:])
    )
    with rt.db.reading() as session:
        approvals = list(session.execute(loading).unique().scalars())
        step_ids = [a.step_id for a in approvals]
        edits = approved_edits(session, [a.step.run_id for a in approvals if a.status == "pending"])
        with_secret = {
            step_id: expires_at
            for step_id, expires_at in session.execute(
                select(StepSecret.step_id, StepSecret.expires_at).where(
                    StepSecret.step_id.in_(step_ids), StepSecret.value.is_not(None)
                )
            )
        }
        return [
            _view(
                session,
                a,
                (a.step_id in with_secret, with_secret.get(a.step_id)),
                edits.get(a.step.run_id, []),
            )
            for a in approvals
        ]


def count_drafts(rt: Runtime, where: DraftFilter) -> int:
    query = select(func.count()).select_from(Approval)
    if where.status:
        query = query.where(Approval.status == where.status)
    if where.tenants is not None:
        query = query.where(Approval.tenant_id.in_(where.tenants))
    if where.specialist:
        query = query.where(Approval.specialist == where.specialist)
    if where.blast_radius:
        # Joined only when filtered on: a long queue is otherwise counted off its own index.
        query = query.join(Step, Step.id == Approval.step_id)
        query = query.where(Step.blast_radius == where.blast_radius)
    with rt.db.reading() as session:
        return int(session.scalar(query) or 0)


def show(rt: Runtime, approval_id: int, user_email: str | None = None) -> DraftView:
    with rt.db.reading() as session:
        approval = _approval(session, approval_id, lock=False)
        if user_email is not None and not visible_to(
            _user(session, user_email), approval.tenant_id
        ):
            raise DraftNotFoundError(f"No draft {approval_id}.")  # another tenant's: not even that
        return _view(session, approval)


def approve(
    rt: Runtime,
    approval_id: int,
    user_email: str,
    edit: dict[str, Any] | None = None,
    *,
    acknowledge_stale: bool = False,
    verification: str = "",
    approve_as: str | None = None,
) -> DraftView:
    """Approve a draft, as proposed or with ``edit`` (fields to change) re-planned.

    The edit is worked out as a new plan (``deskhand.engine.edits``): references resolved
    again, the plan made again, the requester checked again, each blast radius recomputed. An
    edit that raises a step's blast radius or changes the requester check is refused unless
    ``approve_as`` names the new class (and ``verification`` says how the requester was
    verified, for a security change). A draft that still mentions a value an approver edited
    away in another draft of the same plan is refused unless the edit corrects it or
    ``acknowledge_stale`` says it is meant. A security draft whose requester needs
    verification is refused until ``verification`` says how the approver verified them."""
    decided = _decide(
        rt,
        approval_id,
        user_email,
        edit or {},
        acknowledge_stale=acknowledge_stale,
        verification=verification,
        approve_as=approve_as,
    )
    with rt.db.session() as session:
        approval = _approval(session, approval_id)
        user = _authorise(rt, session, approval, user_email)
        if _run_now(approval.step.run).fingerprint() != decided.run.fingerprint():
            raise DraftClosedError(
                f"Draft {approval_id}: its plan changed while you were deciding (another of "
                "its drafts was decided).",
                hint="Look at the draft again, then decide.",
            )
        _store(rt, session, approval, user, decided)
        return _view(session, approval)


@dataclass(frozen=True)
class _Decided:
    """An approval worked out outside the transaction that stores it: the plan as it stood,
    the edit's new plan, and what the approver said."""

    run: RunNow
    plan: EditPlan
    values: dict[str, Any]
    changes: dict[str, list[Any]]
    stale: list[StaleMention]
    verification: str
    approved_as: str


def _decide(
    rt: Runtime,
    approval_id: int,
    user_email: str,
    edit: dict[str, Any],
    *,
    acknowledge_stale: bool,
    verification: str,
    approve_as: str | None,
) -> _Decided:
    """Everything an approval checks before it is stored, as ``approve`` describes; an
    ApprovalError saying what is missing."""
    with rt.db.session() as session:
        approval = _approval(session, approval_id)
        tenant = session.get(Tenant, approval.tenant_id)
        assert tenant is not None
        _authorise(rt, session, approval, user_email)
        step = approval.step
        run = _run_now(step.run)
        step_id = step.id
        proposed = state.proposed_params(step)
        edits = approved_edits(session, [step.run_id]).get(step.run_id, [])
    try:
        plan = plan_edit(rt, tenant, run, step_id, edit)
    except (EditRefused, BindingError, ConnectorError) as error:
        raise EditRefusedError(error.message, hint=getattr(error, "hint", None)) from None
    edited = plan.edited
    if edited.decision is Decision.FORBID:
        raise ApprovalError(f"The edited step is forbidden by the tenant's policy: {edited.rule}.")
    check = plan.check or dict(run.requester_check)
    verification = " ".join(verification.split())
    approved_as = _accepted_class(approval_id, plan, approve_as, verification)
    if (
        needs_verification(check, _step_now(run, step_id).blast_radius)
        or needs_verification(check, edited.radius.value)
    ) and len(verification) < MIN_VERIFICATION_CHARS:
        raise VerificationRequiredError(
            f"Draft {approval_id}: verify the requester before approving — "
            f"{check.get('detail') or 'the ticket shows warning signs'}",
            hint="Call back the number on file (not one from the ticket), then say how you "
            "verified them (web: the verification box; API: verification; CLI: --verified).",
        )
    values = edited.params
    changes = {k: [proposed.get(k), v] for k, v in values.items() if proposed.get(k) != v}
    stale = stale_mentions(values, step_id, edits)
    if stale and not acknowledge_stale:
        raise StaleDraftError(
            f"Draft {approval_id}: {'; '.join(m.describe() for m in stale)}.",
            hint="Edit the draft (the edit form carries the change over), or approve it as "
            "written if the mention is meant (API: acknowledge_stale; CLI: --as-written).",
        )
    return _Decided(run, plan, values, changes, stale, verification, approved_as)


def _store(
    rt: Runtime, session: Session, approval: Approval, user: User, decided: _Decided
) -> None:
    """The approval worked out by ``_decide``, stored and bound to its payload, with the other
    steps an edit planned again."""
    plan, values, changes = decided.plan, decided.values, decided.changes
    step = approval.step
    for other in plan.others:
        sibling = next(s for s in step.run.steps if s.id == other.step_id)
        state.replan_step(
            session,
            sibling,
            params=other.params,
            description=other.description,
            blast_radius=other.radius.value,
            cause=approval,
            user=user,
        )
    if plan.check is not None and plan.check != decided.run.requester_check:
        state.recheck_requester(
            session, step.run, plan.check, plan.target, step.run.ticket.requester.email, user
        )
    message = state.binding_message(step, approval, values, user.email)
    state.approve(
        session,
        approval,
        user,
        approved_params=values if changes else None,
        bound_hash=state.payload_hash(approval.tenant_id, step.action, values),
        binding=rt.keys.sign(APPROVAL_BINDING, message),
        changes=changes,
        acknowledged=[m.describe() for m in decided.stale],
        verification=decided.verification,
        blast_radius=plan.edited.radius.value,
        description=plan.edited.description,
        approved_as=decided.approved_as,
    )


def _accepted_class(
    approval_id: int, plan: EditPlan, approve_as: str | None, verification: str
) -> str:
    """The class the approver accepted for an edit that raised a blast radius or changed the
    requester check ("" when it did neither); a ReclassifiedError saying what it needs if the
    approver has not accepted it, or has not said how the requester was verified."""
    if not plan.raised and not plan.identity_changed:
        return ""
    needed = plan.approval_class
    reasons = [
        f"makes step {s.position} {s.radius.value.upper().replace('_', ' ')}: {s.why}"
        for s in plan.raised
    ]
    if plan.identity_changed and plan.check is not None:
        before = str(plan.check_before.get("verdict", "unchecked"))
        reasons.append(
            f"changes the requester check: it said {VERDICTS.get(before, before)}, it now says "
            f"{VERDICTS.get(plan.check['verdict'], plan.check['verdict'])} "
            f"({plan.check['detail']})"
        )
    verify = needed is BlastRadius.SECURITY or plan.identity_changed
    what = f"approve it as a {needed.value.replace('_', ' ')} change" + (
        ", with the requester verified" if verify else ""
    )
    if approve_as != needed.value or (verify and len(verification) < MIN_VERIFICATION_CHARS):
        raise ReclassifiedError(
            f"Draft {approval_id}: this edit {'; '.join(reasons)} — {what}.",
            hint=f"Web: tick “approve as {needed.value.replace('_', ' ')}”"
            + (" and say how you verified the requester" if verify else "")
            + f'; API: "approve_as": "{needed.value}"'
            + (', "verification": "…"' if verify else "")
            + f"; CLI: --approve-as {needed.value}"
            + (" --verified '…'" if verify else "")
            + ".",
            needed=needed.value,
            verify=verify,
        )
    return needed.value


def _step_now(run: RunNow, step_id: int) -> StepNow:
    return next(s for s in run.steps if s.id == step_id)


def _run_now(run: Run) -> RunNow:
    """The run of a draft as it stands, for working an edit out outside the transaction."""
    ticket = run.ticket
    first = next((s.approval for s in run.steps if s.approval is not None), None)
    return RunNow(
        run_id=run.id,
        specialist=run.specialist,
        ticket=TicketRef.of(ticket),
        inputs=kept_inputs(run.plan_inputs),
        steps=tuple(
            StepNow(
                id=s.id,
                position=s.position,
                action=s.action,
                status=s.status,
                decision=s.decision,
                blast_radius=s.blast_radius,
                params=state.effective_params(s),
                approval_status=s.approval.status if s.approval is not None else None,
            )
            for s in run.steps
        ),
        requester_check=dict(first.requester_check or {}) if first is not None else {},
    )


def reject(rt: Runtime, approval_id: int, user_email: str, reason: str) -> DraftView:
    """Reject a draft: nothing of the run is done, and the ticket goes to the human queue."""
    if not reason.strip():
        raise ApprovalError("Say why the draft is rejected (--reason).")
    with rt.db.session() as session:
        approval = _approval(session, approval_id)
        _authorise(rt, session, approval, user_email)
        run_id = approval.step.run_id
        description = approval.step.description

    def reject_it(session: Session, run: Run) -> None:
        approval = _approval(session, approval_id)
        user = _authorise(rt, session, approval, user_email)
        state.reject(session, approval, user, reason)

    escalate(
        rt,
        run_id,
        Reason.APPROVAL_REJECTED,
        f"{user_email} rejected draft {approval_id} ({description}): {reason}",
        prepare=reject_it,
    )
    return show(rt, approval_id)


def reveal_secret(rt: Runtime, approval_id: int, user_email: str) -> str:
    """The temporary password a verified step set, shown once to a user who may approve."""
    with rt.db.session() as session:
        approval = _approval(session, approval_id)
        user = _user(session, user_email)
        if not visible_to(user, approval.tenant_id):
            raise DraftNotFoundError(f"No draft {approval_id}.")
        tenant = session.get(Tenant, approval.tenant_id)
        assert tenant is not None
        if not rt.policy(tenant).may_approve(user.role):
            raise NotAllowedError(
                f"{user.email} ({user.role}) may not see secrets for {tenant.name}."
            )
        step = approval.step
        secret = session.execute(
            select(StepSecret).where(StepSecret.step_id == step.id)
        ).scalar_one_or_none()
        if secret is None or step.status != "verified":
            raise NoSecretError(
                f"Draft {approval_id} has no secret to show (not a verified reset)."
            )
        if secret.value is None:
            raise NoSecretError(
                f"The secret of draft {approval_id} was already shown and erased.",
                hint="Reset the password again if it was lost.",
            )
        expired_at = secret.expires_at
        if expired_at is not None and expired_at <= now():
            state.erase_secret(session, secret, step, "not shown before it expired")
            token = None
        else:
            token = state.reveal_secret(session, secret, step, user)
    if token is None:
        assert expired_at is not None
        raise NoSecretError(
            f"The temporary password of draft {approval_id} was erased unshown at "
            f"{expired_at:%Y-%m-%d %H:%M} UTC.",
            hint="Reset the password again: temporary passwords are kept for "
            f"{rt.settings.secret_hours:g} hours (DESKHAND_SECRET_HOURS).",
        )
    value = rt.keys.decrypt(STEP_SECRET, token)
    if value is None:
        raise NoSecretError(
            f"The temporary password of draft {approval_id} cannot be decrypted: the server "
            "key that encrypted it is not in this deployment's key file.",
            hint="Every deskhand process must read the same key file (DESKHAND_SERVER_KEY_FILE). "
            "Reset the password again if the key was lost.",
        )
    return value


def _authorise(rt: Runtime, session: Session, approval: Approval, user_email: str) -> User:
    """The user, if they may decide this draft now; an ApprovalError saying why not otherwise."""
    user = _user(session, user_email)
    tenant = session.get(Tenant, approval.tenant_id)
    assert tenant is not None
    if not visible_to(user, tenant.id):
        raise DraftNotFoundError(f"No draft {approval.id}.")
    policy = rt.policy(tenant)
    if not policy.may_approve(user.role) or user.role not in approval.approver_roles:
        raise NotAllowedError(
            f"{user.email} is a {user.role}; drafts of {tenant.name} are approved by: "
            f"{', '.join(approval.approver_roles)}."
        )
    requester = approval.step.run.ticket.requester.email
    if user.email.lower() == requester.lower():
        raise NotAllowedError(
            f"{user.email} asked for this change (ticket {approval.step.run.ticket_id}); someone "
            "else must approve it."
        )
    if approval.status != "pending":
        raise DraftClosedError(
            f"Draft {approval.id} is {approval.status}; only pending drafts can be decided."
        )
    if approval.expires_at <= now():
        raise DraftClosedError(
            f"Draft {approval.id} expired at {approval.expires_at:%Y-%m-%d %H:%M} UTC.",
            hint="A worker escalates expired drafts; the ticket is in the human queue.",
        )
    return user


def for_decision(
    rt: Runtime, session: Session, approval_id: int, user_email: str
) -> tuple[Approval, User]:
    """The draft, locked, and the user, if they may decide it now — as approving checks; an
    ApprovalError saying why not otherwise. For verbs of their own (deskhand.engine.leave_out)."""
    approval = _approval(session, approval_id)
    return approval, _authorise(rt, session, approval, user_email)


def _user(session: Session, email: str) -> User:
    user = session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise ApprovalError(f"No user {email}.", hint="`deskhand users list` shows the users.")
    return user


def _approval(session: Session, approval_id: int, *, lock: bool = True) -> Approval:
    query = select(Approval).where(Approval.id == approval_id)
    approval = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if approval is None:
        raise DraftNotFoundError(f"No draft {approval_id}.")  # worded as another tenant's
    return approval


def _view(
    session: Session,
    approval: Approval,
    secret: tuple[bool, datetime | None] | None = None,
    edits: list[ApprovedEdit] | None = None,
) -> DraftView:
    step: Step = approval.step
    run = step.run
    spec = action(step.action)
    proposed = state.proposed_params(step)
    final = approval.approved_params or proposed
    stale: list[StaleMention] = []
    if approval.status == "pending":
        if edits is None:
            edits = approved_edits(session, [run.id]).get(run.id, [])
        stale = stale_mentions(final, step.id, edits)
    if secret is None:
        found = session.execute(
            select(StepSecret.expires_at).where(
                StepSecret.step_id == step.id, StepSecret.value.is_not(None)
            )
        ).one_or_none()
        secret = (found is not None, found[0] if found is not None else None)
    has_secret, secret_expires_at = secret
    return DraftView(
        id=approval.id,
        status=approval.status,
        tenant_id=approval.tenant_id,
        ticket_id=run.ticket_id,
        psa_ticket_id=run.ticket.psa_ticket_id,
        in_psa=outside_psa(run.ticket.origin, run.ticket.exported_from) is None,
        run_id=run.id,
        step_position=step.position,
        specialist=run.specialist or "",
        action=step.action,
        description=step.description,
        target=spec.target(spec.validate(final)),
        blast_radius=step.blast_radius,
        decision_rule=step.rule,
        reason=step.reason,
        undo=spec.undo_words(spec.validate(final), catalogue()),
        proposed_params=proposed,
        approved_params=approval.approved_params,
        changes={k: [proposed.get(k), v] for k, v in final.items() if proposed.get(k) != v},
        excerpt=approval.excerpt,
        requester=run.ticket.requester.email,
        requester_check=approval.requester_check,
        created_at=approval.created_at,
        expires_at=approval.expires_at,
        decided_by=approval.approver.email if approval.approver else None,
        decided_at=approval.decided_at,
        payload_hash=approval.payload_hash,
        step_status=step.status,
        secret_available=has_secret,
        stale=stale,
        verify_first=approval.status == "pending"
        and needs_verification(approval.requester_check or {}, step.blast_radius),
        replanned_by=step.replanned_by,
        first_params=dict(step.params) if step.replanned_params is not None else None,
        manual=spec.manual,
        from_directory=sorted(spec.shown),
        secret_expires_at=secret_expires_at,
    )


# --- plans: every draft of one ticket run, decided at once ------------------------------------


class PlanNotFoundError(ApprovalError):
    http_status = 404


class PlanStepView(BaseModel):
    """One step of a plan as its card shows it: what it does in words, how risky, its state."""

    position: int
    action: str
    description: str
    blast_radius: str
    decision: str  # approve, auto, forbid: what the tenant's policy said
    status: str
    approval_id: int | None
    approval_status: str | None
    undo: str
    manual: bool
    verify_first: bool
    payload_hash: str | None
    approver_roles: list[str] = []  # who may approve this step's draft (its policy's roles)
    # The groups and licences the step gives or takes away, by name: what an approver may
    # leave out of the plan (deskhand.engine.leave_out); empty for any other step.
    gives: list[str] = []


class PlanView(BaseModel):
    """A plan (one run of a ticket) as the queue shows it: the request, the requester check,
    every step, what will be said to the client, and when its drafts expire."""

    run_id: int
    ticket_id: int
    psa_ticket_id: str
    in_psa: bool = True  # the tenant's PSA holds the ticket (not mailed in, not imported)
    tenant_id: str
    specialist: str
    requester: str
    excerpt: str
    requester_check: dict[str, Any]
    steps: list[PlanStepView]
    reply: str | None  # what the client will be told, if the plan replies
    pending: list[int]  # the approval ids still waiting
    blast_radius: str  # the riskiest of the waiting steps
    verify_first: bool  # a waiting step needs the requester verified: asked once per plan
    expires_at: datetime | None  # when the first waiting draft expires
    left: list[str] = []  # what the ticket asks that no step does: a technician does it
    not_before: datetime | None = None  # scheduled: nothing runs before this moment
    # Steps that declared what they wait for (position → positions); the others wait for
    # every step before them.
    waits_for: dict[int, list[int]] = {}
    undo_of: int | None = None  # the plan this one undoes (deskhand.engine.undo)


def _plan_view(run: Run) -> PlanView:
    steps = sorted(run.steps, key=lambda s: s.position)
    approvals = [s.approval for s in steps if s.approval is not None]
    check = dict(approvals[0].requester_check or {}) if approvals else {}
    waiting = [s for s in steps if s.approval is not None and s.approval.status == "pending"]
    reply = next(
        (
            str(state.effective_params(s).get("body", ""))
            for s in steps
            if any(r.kind == "requester" for r in action(s.action).references.values())
        ),
        None,
    )
    views = []
    for s in steps:
        spec = action(s.action)
        pending = s.approval is not None and s.approval.status == "pending"
        views.append(
            PlanStepView(
                position=s.position,
                action=s.action,
                description=s.description,
                blast_radius=s.blast_radius,
                decision=s.decision,
                status=s.status,
                approval_id=s.approval.id if s.approval is not None else None,
                approval_status=s.approval.status if s.approval is not None else None,
                undo=spec.undo_words(spec.validate(state.effective_params(s)), catalogue()),
                manual=spec.manual,
                verify_first=pending and needs_verification(check, s.blast_radius),
                payload_hash=s.approval.payload_hash if s.approval is not None else None,
                approver_roles=list(s.approval.approver_roles) if s.approval is not None else [],
                gives=[name for _, name in spec.given(state.effective_params(s))],
            )
        )
    riskiest = min((s.blast_radius for s in waiting), key=risk_rank, default="")
    return PlanView(
        run_id=run.id,
        ticket_id=run.ticket_id,
        psa_ticket_id=run.ticket.psa_ticket_id,
        in_psa=outside_psa(run.ticket.origin, run.ticket.exported_from) is None,
        tenant_id=run.tenant_id,
        specialist=run.specialist or "",
        requester=run.ticket.requester.email,
        excerpt=approvals[0].excerpt if approvals else "",
        requester_check=check,
        steps=views,
        reply=reply,
        pending=[s.approval.id for s in waiting if s.approval is not None],
        blast_radius=riskiest,
        verify_first=any(v.verify_first for v in views),
        expires_at=min((s.approval.expires_at for s in waiting if s.approval), default=None),
        left=left_of_run(run),
        not_before=run.not_before,
        waits_for={s.position: list(state.waits_for(s)) for s in steps if s.depends_on is not None},
        undo_of=(run.plan_inputs or {}).get("undo_of"),
    )


def _plan_run(session: Session, run_id: int, user_email: str | None) -> Run:
    run = session.get(Run, run_id)
    if run is None or (
        user_email is not None and not visible_to(_user(session, user_email), run.tenant_id)
    ):
        raise PlanNotFoundError(f"No plan {run_id}.")  # another tenant's: not even that
    return run


def show_plan(rt: Runtime, run_id: int, user_email: str | None = None) -> PlanView:
    with rt.db.reading() as session:
        return _plan_view(_plan_run(session, run_id, user_email))


def _waiting_runs(session: Session, user_email: str | None, tenant: str | None) -> Any:
    """Runs with drafts waiting, in the tenants the user may see (or only ``tenant``), with
    the rank of their riskiest waiting draft and the time of their oldest."""
    query = (
        select(
            Step.run_id,
            func.min(Approval.risk_rank).label("rank"),
            func.min(Approval.created_at).label("since"),
        )
        .join(Approval, Approval.step_id == Step.id)
        .where(Approval.status == "pending")
        .group_by(Step.run_id)
    )
    if user_email:
        user = _user(session, user_email)
        if "*" not in user.tenants:
            query = query.where(Approval.tenant_id.in_(tuple(user.tenants)))
    if tenant is not None:
        query = query.where(Approval.tenant_id == tenant)
    return query


def plan_page(
    rt: Runtime,
    user_email: str | None,
    *,
    tenant: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[PlanView], int]:
    """One page of ``list_plans`` and how many plans wait in all, from one pass over the
    waiting drafts (the count is taken over the grouped runs before the page is cut)."""
    with rt.db.reading() as session:
        first = (
            _waiting_runs(session, user_email, tenant)
            .add_columns(func.count().over().label("total"))
            .order_by("rank", "since", Step.run_id)
        )
        if limit is not None:
            first = first.limit(limit).offset(offset)
        rows = session.execute(first).all()
        run_ids = [row.run_id for row in rows]
        runs = {
            run.id: run
            for run in session.execute(
                select(Run)
                .where(Run.id.in_(run_ids))
                .options(
                    joinedload(Run.steps).joinedload(Step.approval),
                    joinedload(Run.ticket).joinedload(Ticket.requester),
                )
            )
            .unique()
            .scalars()
        }
        plans = [_plan_view(runs[run_id]) for run_id in run_ids]
    if rows:
        return plans, int(rows[0].total)
    if offset:  # past the last page: the count still says how many there are
        return plans, plan_page(rt, user_email, tenant=tenant, limit=1)[1]
    return plans, 0


def list_plans(
    rt: Runtime,
    user_email: str | None,
    *,
    tenant: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[PlanView]:
    """Plans with drafts waiting, in the tenants the user may see (or only ``tenant``): the
    riskiest waiting step first, then the oldest."""
    return plan_page(rt, user_email, tenant=tenant, limit=limit, offset=offset)[0]


def approve_plan(
    rt: Runtime,
    run_id: int,
    user_email: str,
    *,
    verification: str = "",
    acknowledge_stale: bool = False,
) -> PlanView:
    """Approve every waiting draft of a plan as proposed, in one decision: each is checked and
    bound to its own payload exactly as ``approve`` does, and one event records the plan's
    steps and hashes. A requester who must be verified is verified once, for the whole plan.
    Nothing is approved unless all of it can be; a step to change is edited on its own draft
    (and re-planned) first."""
    with rt.db.reading() as session:
        run = _plan_run(session, run_id, user_email)
        plan = _plan_view(run)
    if not plan.pending:
        raise DraftClosedError(f"Plan {run_id} has no drafts waiting for a decision.")
    verification = " ".join(verification.split())
    if plan.verify_first and len(verification) < MIN_VERIFICATION_CHARS:
        needing = ", ".join(str(s.position) for s in plan.steps if s.verify_first)
        raise VerificationRequiredError(
            f"Plan {run_id}: verify the requester before approving it (step {needing}) — "
            f"{plan.requester_check.get('detail') or 'the ticket shows warning signs'}",
            hint="Call back the number on file (not one from the ticket), then say once how you "
            "verified them (web: the verification box; API: verification; CLI: --verified).",
        )
    decided = {
        approval_id: _decide(
            rt,
            approval_id,
            user_email,
            {},
            acknowledge_stale=acknowledge_stale,
            verification=verification,
            approve_as=None,
        )
        for approval_id in plan.pending
    }
    for approval_id, decision in decided.items():
        if decision.changes or decision.plan.others:
            raise DraftClosedError(
                f"Plan {run_id}: the directory no longer says what draft {approval_id} shows "
                f"({', '.join(decision.changes) or 'another step changes with it'}).",
                hint="Look at the plan again: the drafts are shown as the directory has them now.",
            )
    with rt.db.session() as session:
        approvals = [_approval(session, approval_id) for approval_id in plan.pending]
        users = [_authorise(rt, session, approval, user_email) for approval in approvals]
        first = next(iter(decided.values()))
        if _run_now(approvals[0].step.run).fingerprint() != first.run.fingerprint():
            raise DraftClosedError(
                f"Plan {run_id} changed while you were deciding (one of its drafts was decided).",
                hint="Look at the plan again, then decide.",
            )
        for approval, user in zip(approvals, users, strict=True):
            _store(rt, session, approval, user, decided[approval.id])
        state.record_plan_approval(
            session, approvals[0].step.run, users[0], approvals, verification
        )
        return _plan_view(approvals[0].step.run)


def reject_plan(rt: Runtime, run_id: int, user_email: str, reason: str) -> PlanView:
    """Reject a plan: nothing of it is done, and the ticket goes to the human queue with the
    reason (as rejecting any one of its drafts does)."""
    with rt.db.reading() as session:
        plan = _plan_view(_plan_run(session, run_id, user_email))
    if not plan.pending:
        raise DraftClosedError(f"Plan {run_id} has no drafts waiting for a decision.")
    reject(rt, plan.pending[0], user_email, reason)
    return show_plan(rt, run_id, user_email)
