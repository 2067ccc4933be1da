"""The one dispatcher: triage → the specialist for the intent → its plan → policy → drafts, or
escalation. Every ticket goes through here, whichever specialist ends up planning it.

Reading the outside systems (the directory, the PSA's contacts) happens before any database
transaction; what was learnt and decided is then written in one transaction, so a crash in
the middle leaves the run as it was and another worker simply dispatches it again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.actions import action, catalogue
from deskhand.connectors.capabilities import M365_USER_GROUPS
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.factory import Connectors
from deskhand.domain import events as ev
from deskhand.domain.actions import DIRECTORY_KINDS, ActionError
from deskhand.domain.decisions import Decision
from deskhand.domain.directory import DirectoryGroup, DirectoryUser
from deskhand.domain.escalations import Reason
from deskhand.domain.risks import APPROVAL_FLOOR, BlastRadius
from deskhand.engine import psa_status, shadow, state
from deskhand.engine.binding import BindingError, TicketRef, bind, created_by
from deskhand.engine.escalation import escalate
from deskhand.engine.leave_out import left_out
from deskhand.engine.planning import PlanInputs, make_plan, requester_check
from deskhand.engine.questions import asking, question, why_not_ask, why_not_ask_this
from deskhand.engine.resolution import resolve, with_lockout
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.specialists.contract import (
    Plan,
    PlanContext,
    Specialist,
    TenantView,
    TicketView,
    TriageView,
)
from deskhand.store.models import Escalation, Run, Tenant
from deskhand.triage import cold_start
from deskhand.triage.entities import extract
from deskhand.triage.identity import Verdict
from deskhand.triage.keywords import ROUTE_THRESHOLD, Triage, triage
from deskhand.triage.llm import LlmAnswer
from deskhand.trust import autonomy

EXCERPT_CHARS = 600


@dataclass
class Stop(Exception):  # noqa: N818 - control flow: the dispatch ends here
    """Dispatch ends in an escalation; ``events`` say what was learnt on the way."""

    reason: Reason
    detail: str
    events: list[ev.Event] = field(default_factory=list)


def dispatch(rt: Runtime, run_id: int, worker: str) -> None:
    """Dispatch a run this worker holds: store its plan and drafts, or escalate."""
    with rt.db.session() as session:
        run = state.hold(session, run_id, worker)
        ticket, tenant = run.ticket, session.get(Tenant, run.tenant_id)
        assert tenant is not None
        view = TicketView(
            id=ticket.id,
            tenant_id=tenant.id,
            psa_ticket_id=ticket.psa_ticket_id,
            subject=ticket.subject,
            body=ticket.body,
            requester_email=ticket.requester.email,
            requester_name=ticket.requester_display_name or ticket.requester.name,
            received_at=ticket.created_at,
        )
        tenant_view = TenantView(
            id=tenant.id,
            name=tenant.name,
            domains=tuple(tenant.domains),
            time_zone=rt.policy(tenant).time_zone,
        )
        ref = TicketRef.of(ticket)
        vouched = _vouched(session, run_id)
    try:
        outcome = _decide(rt, tenant, view, tenant_view, ref, vouched)
    except Stop as stop:
        routed = _routed_to(rt, stop.events)
        if shadow.in_shadow(tenant, routed):
            # In shadow even an escalation is only recorded: the technicians have the ticket.
            plan = shadow.would_escalate(routed, stop.reason.value, stop.detail)
            with rt.db.session() as session:
                run = state.hold(session, run_id, worker)
                _record(session, run, stop.events)
                state.shadow_plan(session, run, plan)
            return
        learnt = partial(_record, events=stop.events)
        escalate(rt, run_id, stop.reason, stop.detail, worker=worker, prepare=learnt)
        return
    if shadow.in_shadow(tenant, outcome.specialist):
        # Recorded as what deskhand would have done; nothing is drafted, nothing runs.
        plan = shadow.shadowed(
            rt.ticket_connectors(tenant), outcome.specialist, outcome.plan.summary, outcome.steps
        )
        with rt.db.session() as session:
            run = state.hold(session, run_id, worker)
            _record(session, run, outcome.events)
            state.shadow_plan(session, run, plan)
        if rt.policy(tenant).shadow.note:
            shadow.post_note(rt, tenant, run_id, plan)
        return
    with rt.db.session() as session:
        run = state.hold(session, run_id, worker)
        _record(session, run, outcome.events)
        state.store_plan(
            session,
            run,
            specialist=outcome.specialist,
            summary=outcome.plan.summary,
            steps=outcome.steps,
            expires_in=outcome.expiry,
            approver_roles=outcome.approvers,
            excerpt=_excerpt(view),
            requester_check={"verdict": outcome.identity, "detail": outcome.identity_detail},
            plan_inputs=(
                # with what the plan leaves for a technician, for the card and after the run
                {**outcome.inputs.model_dump(mode="json"), "left": list(outcome.plan.left)}
                if outcome.inputs
                else None
            ),
            not_before=outcome.plan.not_before,
            fingerprint=outcome.fingerprint,
        )
        forbidden = [s for s in outcome.steps if s.decision == Decision.FORBID]
    if forbidden:
        detail = "; ".join(f"{s.action}: {s.rule}" for s in forbidden)
        escalate(rt, run_id, Reason.POLICY_FORBID, detail, worker=worker)
        return
    psa_status.follow(rt, tenant, run_id, "working")


def plan_only(rt: Runtime, tenant: Tenant, view: TicketView, ref: TicketRef) -> _Outcome:
    """What the dispatch would decide for a ticket that is not stored (``deskhand replay``):
    triage, the specialist's plan and policy, reading the directory only. Raises ``Stop``
    where a dispatch would escalate."""
    tenant_view = TenantView(
        id=tenant.id,
        name=tenant.name,
        domains=tuple(tenant.domains),
        time_zone=rt.policy(tenant).time_zone,
    )
    return _decide(rt, tenant, view, tenant_view, ref)


def _routed_to(rt: Runtime, events: Sequence[ev.Event]) -> str | None:
    """The specialist triage chose, if the dispatch got that far."""
    for event in events:
        if isinstance(event, ev.TicketTriaged) and event.intent:
            specialist = rt.registry.for_intent(event.intent)
            return specialist.name if specialist is not None else None
    return None


def _vouched(session: Session, run_id: int) -> str | None:
    """How a technician verified the requester before resuming the ticket as this run (a
    call-back), in words for the requester check; None when nobody did."""
    found = session.execute(
        select(Escalation).where(Escalation.resumed_run_id == run_id)
    ).scalar_one_or_none()
    if found is None or not found.verification:
        return None
    who = found.closed_by.email if found.closed_by is not None else "a technician"
    return f"{who} verified the requester before resuming: {found.verification}"


def _record(session: Session, run: Run, events: list[ev.Event]) -> None:
    """What the dispatch learnt, in order; the triage also sets the run's intent and confidence."""
    for event in events:
        if isinstance(event, ev.TicketTriaged):
            state.record_triage(session, run, event)
        else:
            state.record(session, run, event)


@dataclass
class _Outcome:
    specialist: str  # the specialist that planned, or state.ASK_REQUESTER for a question
    plan: Plan
    steps: list[state.DecidedStep]
    events: list[ev.Event]
    identity: str
    identity_detail: str
    expiry: timedelta
    approvers: list[str]
    inputs: PlanInputs | None = None  # what a specialist's plan was made from (not a question)
    fingerprint: dict[str, str] | None = None  # what earned autonomy holds for (a specialist's)


def _decide(
    rt: Runtime,
    tenant: Tenant,
    view: TicketView,
    tenant_view: TenantView,
    ref: TicketRef,
    vouched: str | None = None,
) -> _Outcome:
    # The optional LLM is asked up front so that its proposal (or its failure) is in the triage
    # event whatever happens next; it never raises, and without one nothing changes.
    intents = rt.registry.intents
    llm = rt.llm.propose(view.subject, view.body, intents) if rt.llm is not None else None
    found, specialist, events = _triage(rt, view, llm)
    connectors = rt.connectors(tenant)
    try:
        resolution = resolve(
            view.subject,
            view.body,
            view.requester_email,
            found,
            connectors.m365,
            tenant_name=tenant_view.name,
            strict=specialist.resolves,
            several=specialist.several_users,
            new_people=specialist.new_people,
        )
        resolution.targets = with_lockout(resolution.targets, connectors.ad)
    except ConnectorError as error:
        raise Stop(
            Reason.EXECUTION_FAILED, f"Looking up the directory failed: {error}", events
        ) from None
    events.extend(resolution.events)
    if resolution.problem is not None:
        raise Stop(Reason.LOW_CONFIDENCE, resolution.problem, events)
    if resolution.unresolved is not None:
        refusal = why_not_ask(resolution, view.requester_email)
        if refusal is not None:
            raise Stop(Reason.LOW_CONFIDENCE, refusal, events)
        msp_name = PlanContext.model_fields["msp_name"].default
        template = rt.policy(tenant).reply_template
        ask = question(
            view,
            resolution.unresolved,
            msp_name,
            template,
            tenant_view.name,
            resolution.requester,
        )
        unchecked = "no target user yet: the requester is asked whom they meant"
        return _with_policy(
            rt, tenant, ref, state.ASK_REQUESTER, ask, events, "unchecked", unchecked
        )
    context = PlanContext(
        tenant=tenant_view,
        triage=TriageView(
            intent=found.intent or "",
            confidence=found.confidence,
            removal=found.removal,
            evidence=found.evidence,
        ),
        requester=resolution.requester,
        targets=tuple(resolution.targets),
        groups=tuple(resolution.groups),
        skus=tuple(resolution.skus),
        devices=found.named.devices,
        dates=found.named.dates,
        identity="unchecked",
        lifecycle=rt.policy(tenant).lifecycle,
        managers=(_managers(connectors, resolution.targets) if specialist.needs_managers else ()),
        memberships=(
            _memberships(connectors, resolution.targets, events)
            if specialist.needs_memberships
            else {}
        ),
        directory="cloud" if getattr(connectors.ad, "absent", None) else "hybrid",
        subscriptions=(tuple(resolution.subscriptions) if specialist.new_people else ()),
        left_out=left_out(rt, view.id),
    )
    if specialist.several_users and len(context.targets) > 1:
        # The requester is checked against the user the plan is about, named first.
        subject = specialist.subject(view, context)
        if subject is None:
            unsure = _plan_or_stop(specialist, view, context, events)
            if unsure.question is not None:  # the specialist asks whom the ticket is about
                return _ask(
                    rt,
                    tenant,
                    view,
                    tenant_view,
                    ref,
                    specialist,
                    unsure,
                    context.requester,
                    events,
                )
            names = ", ".join(t.user_principal_name for t in context.targets)
            raise Stop(
                Reason.LOW_CONFIDENCE,
                f"The ticket names several users ({names}) and {specialist.name} cannot tell "
                "which one it is about.",
                events,
            )
        others = tuple(t for t in context.targets if t.id != subject.id)
        context = context.model_copy(update={"targets": (subject, *others)})
    identity, identity_detail = "unchecked", "the specialist does not ask for an identity check"
    if specialist.needs_identity:
        try:
            check = requester_check(connectors, view, context)
        except ConnectorError as error:
            raise Stop(
                Reason.EXECUTION_FAILED, f"The identity check failed: {error}", events
            ) from None
        identity, identity_detail = check.verdict.value, check.detail
        if vouched is not None and check.verdict in (
            Verdict.UNVERIFIED,
            Verdict.NEEDS_VERIFICATION,
        ):
            # A technician's call-back makes drafts possible, never approvals: the drafts still
            # ask their approver to say how the requester was verified (needs_verification).
            identity = Verdict.NEEDS_VERIFICATION.value
            identity_detail = f"{check.detail}; {vouched}"
        events.append(
            ev.IdentityChecked(
                requester=view.requester_email,
                target=context.targets[0].user_principal_name,
                verdict=identity,
                detail=identity_detail,
            )
        )
        if identity == Verdict.UNVERIFIED:
            raise Stop(Reason.IDENTITY_UNVERIFIED, check.detail, events)
        context = context.model_copy(update={"identity": identity})
    reply_text = None
    if rt.llm is not None and llm is not None and llm.proposal is not None:
        reply_text = llm.proposal.reply_draft
    inputs = PlanInputs(
        ticket=view,
        context=context,
        llm_reply=reply_text,
        llm_proposer=rt.llm.describe() if rt.llm is not None else "",
        reply_template=rt.policy(tenant).reply_template,
    )
    try:
        plan = make_plan(specialist, inputs, rt.policy(tenant).time_entries, ref)
    except Exception as error:  # a plugin's bug escalates the ticket, it does not stop the desk
        raise Stop(
            Reason.PLAN_INVALID, f"{specialist.name} failed to plan: {error!r}", events
        ) from None
    if plan.handoff is not None:
        raise Stop(Reason.NEEDS_HUMAN, f"{specialist.name}: {plan.handoff}", events)
    if plan.question is not None:
        return _ask(
            rt,
            tenant,
            view,
            tenant_view,
            ref,
            specialist,
            plan,
            context.requester,
            events,
            identity,
            identity_detail,
        )
    outcome = _with_policy(
        rt, tenant, ref, specialist.name, plan, events, identity, identity_detail
    )
    return replace(outcome, inputs=inputs)


def _plan_or_stop(
    specialist: Specialist, view: TicketView, context: PlanContext, events: list[ev.Event]
) -> Plan:
    try:
        return specialist.plan(view, context)
    except Exception as error:  # a plugin's bug escalates the ticket, it does not stop the desk
        raise Stop(
            Reason.PLAN_INVALID, f"{specialist.name} failed to plan: {error!r}", events
        ) from None


def _ask(
    rt: Runtime,
    tenant: Tenant,
    view: TicketView,
    tenant_view: TenantView,
    ref: TicketRef,
    specialist: Specialist,
    plan: Plan,
    requester: DirectoryUser | None,
    events: list[ev.Event],
    identity: str = "unchecked",
    identity_detail: str = "no plan yet: the requester is asked what the ticket leaves open",
) -> _Outcome:
    """The specialist's question (``plan.question``) as the run's one reply to the requester,
    or the ticket to a technician when deskhand should not ask."""
    assert plan.question is not None
    refusal = why_not_ask_this(view, requester, specialist.name, plan.question)
    if refusal is not None:
        raise Stop(Reason.NEEDS_HUMAN, refusal, events)
    ask = asking(
        view,
        plan.question,
        plan.summary,
        PlanContext.model_fields["msp_name"].default,
        rt.policy(tenant).reply_template,
        tenant_view.name,
        requester,
    )
    return _with_policy(
        rt, tenant, ref, state.ASK_REQUESTER, ask, events, identity, identity_detail
    )


def _with_policy(
    rt: Runtime,
    tenant: Tenant,
    ticket: TicketRef,
    planner: str,
    plan: Plan,
    events: list[ev.Event],
    identity: str,
    identity_detail: str,
) -> _Outcome:
    """The plan's steps checked against the tenant and decided by its policy."""
    connectors = rt.ticket_connectors(tenant)
    policy = rt.policy(tenant)
    early = _reply_before_a_change(plan)
    if early is not None:
        raise Stop(Reason.PLAN_INVALID, f"{planner}: {early}", events)
    try:
        waits = dependencies(plan)
    except ValueError as error:
        raise Stop(Reason.PLAN_INVALID, f"{planner}: {error}", events) from None
    steps = []
    for position, (proposed, after) in enumerate(zip(plan.steps, waits, strict=True)):
        earlier = created_by([(s.action, s.params) for s in plan.steps[:position]])
        try:
            spec = action(proposed.action)
            bound = bind(spec, proposed.params, connectors, ticket, earlier)
        except (ActionError, BindingError) as error:
            raise Stop(Reason.PLAN_INVALID, f"{planner}: {error}", events) from None
        params = bound.params
        radius = spec.blast_radius(params, bound.facts)
        decision, rule = policy.decide(spec.name, radius, manual=spec.manual)
        if (
            decision is Decision.APPROVE
            and radius in autonomy.EARNABLE
            and not spec.manual
            and not shadow.in_shadow(tenant, planner)  # a shadow plan runs nothing: no grant
        ):
            decision, rule = _earned(
                rt, tenant, planner, spec.name, radius, events, (decision, rule)
            )
        steps.append(
            state.DecidedStep(
                action=spec.name,
                params=params.model_dump(mode="json"),
                description=spec.describe(params),
                reason=proposed.reason,
                blast_radius=radius.value,
                decision=decision.value,
                rule=rule,
                depends_on=after,
            )
        )
    found = _fingerprint(rt, tenant, planner)
    return _Outcome(
        specialist=planner,
        plan=plan,
        steps=steps,
        events=events,
        identity=identity,
        identity_detail=identity_detail,
        expiry=policy.expiry,
        approvers=list(policy.approvers),
        fingerprint=found.as_dict() if found is not None else None,
    )


def _fingerprint(rt: Runtime, tenant: Tenant, planner: str) -> autonomy.Fingerprint | None:
    """What a grant to ``planner`` at this tenant would hold for now; None for a question to
    the requester (no specialist planned it)."""
    specialist = rt.registry.by_name.get(planner)
    if specialist is None:
        return None
    hybrid = not getattr(rt.connectors(tenant).ad, "absent", None)
    return autonomy.Fingerprint(
        specialist_version=autonomy.specialist_version(specialist),
        policy=autonomy.policy_fingerprint(rt.policy(tenant)),
        directory=autonomy.directory_shape(hybrid, tenant.domains),
    )


def _earned(
    rt: Runtime,
    tenant: Tenant,
    planner: str,
    action_name: str,
    radius: BlastRadius,
    events: list[ev.Event],
    decided: tuple[Decision, str],
) -> tuple[Decision, str]:
    """A step the policy sends for approval runs on its own when the specialist's record on
    this tenant earned it (``deskhand.trust.autonomy``); a grant made or revoked here is one
    of the dispatch's events, written with its plan. Never a floor radius, never manual."""
    assert radius not in APPROVAL_FLOOR, "a floor radius never runs on earned autonomy"
    fingerprint = _fingerprint(rt, tenant, planner)
    if fingerprint is None:  # a question to the requester, not a specialist's plan
        return decided
    policy = rt.policy(tenant)
    with rt.db.reading() as session:
        consulted = autonomy.consult(
            session,
            tenant_id=tenant.id,
            specialist=planner,
            action=action_name,
            radius=radius,
            manual=False,
            terms=policy.autonomy,
            fingerprint=fingerprint,
            now=rt.clock(),
        )
    # Once per plan, however many steps of the action it has: a grant or revocation made for
    # an earlier step of this plan decides the later ones too.
    earlier = [
        e
        for e in events
        if isinstance(e, ev.AutonomyGranted | ev.AutonomyRevoked) and e.action == action_name
    ]
    if earlier:
        granted = earlier[-1]
        if isinstance(granted, ev.AutonomyGranted):
            return Decision.AUTO, granted.reason
        return decided
    events.extend(consulted.events)
    if not consulted.auto:
        return decided
    return Decision.AUTO, consulted.reason


def _reply_before_a_change(plan: Plan) -> str | None:
    """A reply to the client must come after every change it could describe: the executor
    stops at the first step that fails, so a reply placed last never claims a step that did not
    verify. Why the plan breaks that, or None."""
    replied = None
    for position, proposed in enumerate(plan.steps, start=1):
        spec = catalogue().get(proposed.action)
        if spec is None:
            continue  # named as unknown by the binding check
        if any(ref.kind == "requester" for ref in spec.references.values()):
            replied = replied or position
        elif replied and any(ref.kind in DIRECTORY_KINDS for ref in spec.references.values()):
            return (
                f"step {replied} replies to the client before step {position} "
                f"({proposed.action}) has run; a reply comes after the changes it reports."
            )
    return None


def _managers(
    connectors: Connectors, targets: Sequence[DirectoryUser]
) -> tuple[DirectoryUser, ...]:
    """The targets' managers, as the directory has them (one who cannot be read is left out:
    a plan that needs them says who is missing)."""
    found = []
    for target in targets:
        if not target.manager_id:
            continue
        try:
            found.append(connectors.m365.get_user(target.manager_id))
        except ConnectorError:
            continue
    return tuple(found)


def _memberships(
    connectors: Connectors, targets: Sequence[DirectoryUser], events: list[ev.Event]
) -> dict[str, tuple[DirectoryGroup, ...]]:
    """The groups of each target, as Microsoft 365 has them; a lookup that fails stops the
    dispatch like any failed lookup of the directory."""
    try:
        directory = M365_USER_GROUPS.of(connectors)
        return {t.id: tuple(directory.groups_of(t.id)) for t in targets}
    except ConnectorError as error:
        raise Stop(
            Reason.EXECUTION_FAILED, f"Reading group memberships failed: {error}", events
        ) from None


def dependencies(plan: Plan) -> list[tuple[int, ...] | None]:
    """What each step waits for, checked: earlier positions only (a ValueError that says which
    step is wrong otherwise). A reply to the client waits for every step before it, whatever
    the specialist declared, so that it never reports a change that did not verify."""
    found: list[tuple[int, ...] | None] = []
    for position, proposed in enumerate(plan.steps, start=1):
        after = proposed.after
        spec = catalogue().get(proposed.action)
        replies = spec is not None and any(
            ref.kind == "requester" for ref in spec.references.values()
        )
        if after is None or replies:
            found.append(None)
            continue
        wrong = sorted(p for p in set(after) if not 1 <= p < position)
        if wrong:
            raise ValueError(
                f"step {position} ({proposed.action}) waits for step "
                f"{', '.join(map(str, wrong))}, which does not come before it; a step can "
                "only wait for earlier steps."
            )
        found.append(tuple(sorted(set(after))))
    return found


def _triage(
    rt: Runtime, view: TicketView, llm: LlmAnswer | None
) -> tuple[Triage, Specialist, list[ev.Event]]:
    """The intent, its specialist and the triage event: by the active trained model when there
    is one, by the built-in taxonomy before any model exists; keywords always find the
    entities."""
    received = view.received_at or datetime.now(UTC)
    intents = rt.registry.intents  # triage knows the intents the installed specialists declare
    keywords = replace(
        triage(view.subject, view.body, intents), named=extract(view.subject, view.body, received)
    )
    try:
        model = rt.triage_model()
    except DeskhandError as error:
        raise Stop(
            Reason.LOW_CONFIDENCE, f"The active triage model cannot be used: {error}"
        ) from None
    if model is None:
        reading = cold_start.builtin(intents).read(view.subject, view.body, keywords)
        return _by_taxonomy(rt, reading, llm)
    intent, probability, routed = model.classify(f"{view.subject}\n{view.body}")
    agree = keywords.intent in (None, intent)
    found = replace(
        keywords,
        intent=intent,
        confidence=round(probability, 3),
        method="model",
        evidence=keywords.evidence if agree else (),
    )
    events: list[ev.Event] = [_triaged(found, model.version, llm)]
    said = f"Triage model v{model.version} says {intent} with probability {probability:.2f}"
    specialist = rt.registry.for_intent(intent)
    if specialist is None:
        raise Stop(Reason.NO_SPECIALIST, f"{said}; no specialist handles it.", events)
    if not routed:
        threshold = model.thresholds.get(intent, math.inf)
        below = (
            f"below its threshold {threshold:.2f} for {intent}"
            if math.isfinite(threshold)
            else f"but {intent} has no threshold: no cut-off reached the target"
        )
        raise Stop(
            Reason.LOW_CONFIDENCE,
            f"{said}, {below} (set for {model.target_precision:.0%} precision on held-out "
            f"history).",
            events,
        )
    if not agree:
        raise Stop(
            Reason.LOW_CONFIDENCE,
            f"{said}, but the keyword triage says {keywords.intent} (confidence "
            f"{keywords.confidence:.2f}); a person should decide.",
            events,
        )
    return _second_opinion(rt, found, specialist, events, llm)


def _by_taxonomy(
    rt: Runtime, reading: cold_start.Reading, llm: LlmAnswer | None
) -> tuple[Triage, Specialist, list[ev.Event]]:
    found = reading.found
    events: list[ev.Event] = [_triaged(found, None, llm)]
    said = "Triage by the built-in taxonomy (no trained model yet)"
    if reading.category is not None:
        raise Stop(
            Reason.NO_SPECIALIST,
            f"{said} reads it as {reading.category}; no specialist handles it.",
            events,
        )
    if found.intent is None:
        raise Stop(
            Reason.LOW_CONFIDENCE,
            f"{said} recognises no request in it: no taxonomy phrase or request pattern "
            f"matches. A person should read it.",
            events,
        )
    specialist = rt.registry.for_intent(found.intent)
    if specialist is None:
        raise Stop(
            Reason.NO_SPECIALIST, f"{said} found {found.intent}; no specialist handles it.", events
        )
    if found.confidence < ROUTE_THRESHOLD:
        raise Stop(
            Reason.LOW_CONFIDENCE,
            f"{said} says {found.intent} with confidence {found.confidence:.2f}, below "
            f"{ROUTE_THRESHOLD:.2f}.",
            events,
        )
    return _second_opinion(rt, found, specialist, events, llm)


def _second_opinion(
    rt: Runtime,
    found: Triage,
    specialist: Specialist,
    events: list[ev.Event],
    llm: LlmAnswer | None,
) -> tuple[Triage, Specialist, list[ev.Event]]:
    """The LLM can only lower confidence: if it reads another intent, a person decides. If it
    agrees, the addresses it read join the names to look up; resolution still has to find each
    in the tenant's own directory, and escalates on one it cannot."""
    if llm is None or llm.proposal is None or rt.llm is None:
        return found, specialist, events
    proposal = llm.proposal
    if proposal.intent != found.intent:
        decided = "the triage model" if found.method == "model" else "the taxonomy triage"
        raise Stop(
            Reason.LOW_CONFIDENCE,
            f"{decided.capitalize()} says {found.intent} (confidence {found.confidence:.2f}), "
            f"but the LLM ({rt.llm.describe()}) says {proposal.intent} (confidence "
            f"{proposal.confidence:.2f}); a person should decide.",
            events,
        )
    emails = tuple(dict.fromkeys((*found.emails, *proposal.addresses())))
    return replace(found, emails=emails), specialist, events


def _triaged(found: Triage, model_version: int | None, llm: LlmAnswer | None) -> ev.TicketTriaged:
    proposal = llm.proposal if llm is not None else None
    return ev.TicketTriaged(
        intent=found.intent,
        confidence=found.confidence,
        method=found.method,
        entities=found.entities(),
        evidence=list(found.evidence),
        model_version=model_version,
        llm_intent=proposal.intent if proposal is not None else None,
        llm_confidence=proposal.confidence if proposal is not None else None,
        llm_entities=proposal.entities.model_dump() if proposal is not None else {},
        llm_error=llm.error if llm is not None else None,
    )


def _excerpt(view: TicketView) -> str:
    text = f"{view.subject}\n\n{view.body}".strip()
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
