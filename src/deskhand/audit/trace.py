"""Everything that happened on one ticket, in order, and who or what did it: ``deskhand trace``.

Read from the event log alone, the one record of what happened. Each event becomes a line with
a one-line summary in plain words, made by a small function per event type.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from itertools import groupby
from operator import attrgetter
from typing import Any

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.actions import catalogue
from deskhand.audit.log import canonical_json
from deskhand.domain.asks import listing
from deskhand.domain.dates import readable
from deskhand.domain.directory import KEPT_NOTE
from deskhand.domain.events import (
    EVENT_TYPES,
    ActedAfterLeaseLost,
    AutonomyGranted,
    AutonomyRevoked,
    DraftApproved,
    DraftCreated,
    DraftExpired,
    DraftRejected,
    EntityResolved,
    EscalationAssigned,
    EscalationNoted,
    EscalationResolved,
    EscalationResumed,
    EscalationTaken,
    Event,
    IdentityChecked,
    NoteWritten,
    NoticeDelivered,
    NoticeGivenUp,
    NoticeQueued,
    Notified,
    PayloadRefused,
    PlanApproved,
    PlanProposed,
    PlanShadowed,
    PlanTrimmed,
    PsaStatusFollowed,
    RegressionCleared,
    RegressionFlagged,
    ReplyReceived,
    RunClaimed,
    RunCompleted,
    RunEscalated,
    RunQueued,
    SecretErased,
    SecretRevealed,
    ShadowCompared,
    StepDecided,
    StepFailed,
    StepRecovered,
    StepReplanned,
    StepStarted,
    StepUncertain,
    StepVerified,
    StepWaiting,
    TenantModeChanged,
    TenantOwnerSet,
    TenantPolicySet,
    TicketReceived,
    TicketTriaged,
    UndoProposed,
    UserAdded,
    UserDisabled,
    UserEnabled,
    UserPasswordChanged,
    UserRemoved,
    UserRoleChanged,
    UserTenantsChanged,
)
from deskhand.errors import InputError
from deskhand.store.models import EventRecord, Requester, Ticket

FALLBACK_WIDTH = 160  # characters of raw data shown for an event no summary knows


class TicketHeader(BaseModel):
    """The ticket as deskhand stores it now."""

    id: int
    tenant_id: str
    psa_ticket_id: str
    subject: str
    requester: str  # the requester's e-mail address
    status: str


class TraceActor(BaseModel):
    """Who or what caused an event."""

    kind: str  # an ActorKind value: system, specialist, user, connector
    name: str


class TraceLine(BaseModel):
    """One event of the ticket, with its summary in words and its data as recorded."""

    event_id: int
    at: datetime
    actor: TraceActor
    type: str
    run_id: int | None
    step_id: int | None
    summary: str
    data: dict[str, Any]


class Trace(BaseModel):
    """A ticket and its events in id order; ``model_dump(mode="json")`` is the JSON form."""

    ticket: TicketHeader
    lines: list[TraceLine]


def trace(session: Session, ticket_id: int) -> Trace:
    """The ticket's header and every event recorded for it, oldest first."""
    header = session.execute(
        select(
            Ticket.id,
            Ticket.tenant_id,
            Ticket.psa_ticket_id,
            Ticket.subject,
            Requester.email.label("requester"),
            Ticket.status,
        )
        .join(Requester, Ticket.requester_id == Requester.id)
        .where(Ticket.id == ticket_id)
    ).one_or_none()
    if header is None:
        raise InputError(
            f"No ticket {ticket_id}.",
            hint="Check the id: it is deskhand's own ticket id, not the PSA's ticket number.",
        )
    events = session.execute(
        select(*EventRecord.__table__.columns)
        .where(EventRecord.ticket_id == ticket_id)
        .order_by(EventRecord.id)
    ).mappings()
    lines = [
        TraceLine(
            event_id=event["id"],
            at=event["at"],
            actor=TraceActor(kind=event["actor_kind"], name=event["actor"]),
            type=event["type"],
            run_id=event["run_id"],
            step_id=event["step_id"],
            summary=summarise(event["type"], event["data"], event["actor"]),
            data=event["data"],
        )
        for event in events
    ]
    return Trace(ticket=TicketHeader.model_validate(header._mapping), lines=lines)


def render_trace(trace: Trace, console: Console) -> None:
    """Print the ticket's header, then its events as a timeline, one section per run."""
    ticket = trace.ticket
    console.print(
        Text.assemble(
            (f"Ticket {ticket.id}", "bold"),
            f" · {ticket.tenant_id} · PSA ticket {ticket.psa_ticket_id} · {ticket.status}",
        )
    )
    # Ticket text is untrusted: Text keeps "[...]" in a subject from being read as markup.
    console.print(Text(f'"{ticket.subject}" from {ticket.requester}'))
    if not trace.lines:
        console.print("No events are recorded for this ticket.")
        return
    table = Table("time (UTC)", "actor", "what happened", box=box.SIMPLE_HEAD, show_edge=False)
    for index, (run_id, lines) in enumerate(groupby(trace.lines, key=attrgetter("run_id"))):
        if index:
            table.add_section()
        table.add_row(Text("ticket" if run_id is None else f"run {run_id}", style="bold"), "", "")
        for line in lines:
            table.add_row(
                line.at.strftime("%Y-%m-%d %H:%M:%S"),
                Text(f"{line.actor.kind}:{line.actor.name}"),
                Text(line.summary),
            )
    console.print(table)


def summarise(type_: str, data: dict[str, Any], actor: str) -> str:
    """An event of the log in one line of plain words (the trace's, and the Audit page's); one
    no summary knows, or recorded with fields this deskhand does not have, as its raw data."""
    event_class = EVENT_TYPES.get(type_)
    if event_class is None:
        return _raw(type_, data)
    try:
        event = event_class(**data)
    except TypeError:  # recorded with fields this deskhand's event class does not have
        return _raw(type_, data)
    return _summary(event, actor)


def _raw(type_: str, data: dict[str, Any]) -> str:
    compact = canonical_json(data)
    if len(compact) > FALLBACK_WIDTH:
        compact = compact[: FALLBACK_WIDTH - 1] + "…"
    return f"{type_} {compact}"


@singledispatch
def _summary(event: Event, actor: str) -> str:
    """One line in plain words; an event type with no summary of its own shows its raw data."""
    return _raw(event.TYPE, event.data())


@_summary.register
def _ticket_received(event: TicketReceived, actor: str) -> str:
    return f'received PSA ticket {event.psa_ticket_id} from {event.requester}: "{event.subject}"'


@_summary.register
def _run_queued(event: RunQueued, actor: str) -> str:
    return f"run queued: {event.reason}"


@_summary.register
def _run_claimed(event: RunClaimed, actor: str) -> str:
    claimed = f"worker {event.worker} claimed the run to {event.phase}"
    if event.took_over_from:
        return f"{claimed}, taking over from {event.took_over_from} (its lease had expired)"
    return claimed


@_summary.register
def _ticket_triaged(event: TicketTriaged, actor: str) -> str:
    intent = event.intent.replace("_", " ") if event.intent else "no intent recognised"
    method = event.method if event.model_version is None else f"model v{event.model_version}"
    triaged = f"triage: {intent} ({event.confidence:.0%} sure, by {method})"
    named = "; ".join(
        _named(kind, values) for kind, values in sorted(event.entities.items()) if values
    )
    return f"{triaged} — {named}" if named else triaged


def _named(kind: str, values: list[str]) -> str:
    """What triage found in the ticket, in words: "for themselves", "to remove", "user: …"."""
    if kind == "first_person":
        return "asks for themselves" if values == ["true"] else "asks for someone else"
    if kind == "operation":
        return f"asks to {', '.join(values)}"
    words = {"emails": "addresses"}.get(kind, kind.replace("_", " "))
    return f"{words}: {', '.join(values)}"


@_summary.register
def _entity_resolved(event: EntityResolved, actor: str) -> str:
    asked = f'directory: {event.kind} "{event.query}"'
    if event.resolved:
        return f"{asked} → {event.resolved}"
    if event.candidates:
        return f"{asked} is ambiguous: {', '.join(event.candidates)}"
    return f"{asked} was not found"


@_summary.register
def _reply_received(event: ReplyReceived, actor: str) -> str:
    who = "the requester" if event.from_requester else "someone who is not the requester"
    return f'reply from {event.sender} ({who}): "{event.text}"'


@_summary.register
def _identity_checked(event: IdentityChecked, actor: str) -> str:
    return f"identity: {event.requester} for {event.target} → {event.verdict} — {event.detail}"


@_summary.register
def _plan_proposed(event: PlanProposed, actor: str) -> str:
    steps = _count(len(event.actions), "step")
    when = f", to run at {readable(event.not_before)}" if event.not_before else ""
    return (
        f"plan by {event.specialist}: {event.summary} — {steps}: {', '.join(event.actions)}{when}"
    )


@_summary.register
def _step_decided(event: StepDecided, actor: str) -> str:
    return f"policy: {event.action} ({event.blast_radius}) → {event.decision} — {event.rule}"


@_summary.register
def _draft_created(event: DraftCreated, actor: str) -> str:
    return (
        f"draft {event.approval_id} waits for approval until {readable(event.expires_at)} "
        f"(payload {event.payload_hash[:12]}…)"
    )


@_summary.register
def _notice_queued(event: NoticeQueued, actor: str) -> str:
    kind = event.kind.replace("_", " ")
    return f"notification ({kind}) about {event.about} queued for {_count(event.targets, 'target')}"


@_summary.register
def _notice_delivered(event: NoticeDelivered, actor: str) -> str:
    tries = _count(event.attempts, "attempt")
    return f"notification ({event.kind.replace('_', ' ')}) delivered to {event.target} ({tries})"


@_summary.register
def _notice_given_up(event: NoticeGivenUp, actor: str) -> str:
    return (
        f"notification ({event.kind.replace('_', ' ')}) to {event.target} given up after "
        f"{_count(event.attempts, 'attempt')}: {event.reason}"
    )


@_summary.register
def _psa_status_followed(event: PsaStatusFollowed, actor: str) -> str:
    said = f'PSA status set to "{event.status}" ({event.stage})'
    return said if event.outcome == "set" else f"{said}: {event.outcome}"


@_summary.register
def _undo_proposed(event: UndoProposed, actor: str) -> str:
    planned = f"undo of plan {event.undo_of} proposed by {actor}: {_count(event.steps, 'step')}"
    return f"{planned}; {event.left} left for a technician" if event.left else planned


@_summary.register
def _plan_approved(event: PlanApproved, actor: str) -> str:
    drafts = ", ".join(str(step["approval_id"]) for step in event.steps)
    verified = f"; requester verified: {event.verification}" if event.verification else ""
    return f"plan approved whole by {actor}: drafts {drafts}{verified}"


@_summary.register
def _plan_trimmed(event: PlanTrimmed, actor: str) -> str:
    without = "them" if len(event.names) > 1 else "it"
    return (
        f"{listing(event.names)} left out of the plan by {actor} (step {event.position}, "
        f"draft {event.approval_id}): {event.reason}; the ticket is planned again without "
        f"{without}"
    )


@_summary.register
def _draft_approved(event: DraftApproved, actor: str) -> str:
    if not event.edited:
        how = "unchanged"
    elif event.changes:
        how = "edited: " + catalogue().edited(sorted(event.changes))
    else:
        how = "edited"
    kept = f"; kept as written: {'; '.join(event.acknowledged)}" if event.acknowledged else ""
    verified = f"; requester verified: {event.verification}" if event.verification else ""
    raised = (
        f"; now {event.blast_radius} (proposed as {event.proposed_radius})"
        if event.proposed_radius
        else ""
    )
    accepted = f"; approved as a {event.approved_as} change" if event.approved_as else ""
    return (
        f"draft {event.approval_id} approved by {actor} ({how}){raised}{accepted}{kept}{verified}"
    )


@_summary.register
def _draft_rejected(event: DraftRejected, actor: str) -> str:
    return f"draft {event.approval_id} rejected by {actor}: {event.reason}"


@_summary.register
def _draft_expired(event: DraftExpired, actor: str) -> str:
    return (
        f"draft {event.approval_id} expired: nobody decided, or the approved step did not "
        "start, in time"
    )


@_summary.register
def _step_started(event: StepStarted, actor: str) -> str:
    return f"step {event.position} started: {event.action} (the state before it recorded)"


@_summary.register
def _step_verified(event: StepVerified, actor: str) -> str:
    return f"step {event.position} done: {event.action}, read back and verified"


@_summary.register
def _step_failed(event: StepFailed, actor: str) -> str:
    phase = {"act": "acting", "verify": "verifying"}.get(event.phase, event.phase)
    return f"step {event.position} failed while {phase}: {event.action} — {event.error}"


@_summary.register
def _step_recovered(event: StepRecovered, actor: str) -> str:
    if event.already_done:
        outcome = "had already taken effect, so it is not repeated"
    else:
        outcome = "had not taken effect"
    return f"step {event.position} re-checked after a restart: {event.action} {outcome}"


@_summary.register
def _step_waiting(event: StepWaiting, actor: str) -> str:
    return (
        f"step {event.position} not showing yet: {event.action} is read back again at "
        f"{readable(event.until)}, until {readable(event.deadline)} at the latest"
    )


@_summary.register
def _payload_refused(event: PayloadRefused, actor: str) -> str:
    return (
        f"step {event.position} refused: the payload is not the one approved (approved "
        f"{event.approved_hash[:12]}…, now {event.current_hash[:12]}…); nothing ran"
    )


@_summary.register
def _run_completed(event: RunCompleted, actor: str) -> str:
    return f"run completed: {_count(event.steps, 'step')}, all verified"


@_summary.register
def _run_escalated(event: RunEscalated, actor: str) -> str:
    return f"escalated: {event.reason} — {event.detail}"


@_summary.register
def _escalation_taken(event: EscalationTaken, actor: str) -> str:
    before = f" (from {event.previous})" if event.previous else ""
    return f"escalation {event.escalation_id} taken by {actor}{before}"


@_summary.register
def _escalation_assigned(event: EscalationAssigned, actor: str) -> str:
    return f"escalation {event.escalation_id} given to {event.assignee} by {actor}"


@_summary.register
def _escalation_noted(event: EscalationNoted, actor: str) -> str:
    psa = "also on the PSA ticket" if event.psa_ok else f"the PSA refused it: {event.psa_detail}"
    return f'note by {actor} ({psa}): "{event.text}"'


@_summary.register
def _escalation_resolved(event: EscalationResolved, actor: str) -> str:
    return f'escalation {event.escalation_id} resolved by {actor}: "{event.resolution}"'


@_summary.register
def _escalation_resumed(event: EscalationResumed, actor: str) -> str:
    verified = f"; requester verified: {event.verification}" if event.verification else ""
    return f"ticket resumed by {actor}: planned again{verified}"


@_summary.register
def _note_written(event: NoteWritten, actor: str) -> str:
    kind = "internal" if event.hidden else "public"
    if event.comment_id.startswith(KEPT_NOTE):  # the ticket is in no PSA: deskhand keeps it
        return f"{kind} note kept in deskhand for {event.psa_ticket_id} ({event.comment_id})"
    return f"{kind} note written on PSA ticket {event.psa_ticket_id} (comment {event.comment_id})"


@_summary.register
def _notified(event: Notified, actor: str) -> str:
    outcome = "announced" if event.ok else "could not be announced"
    return f"escalation {outcome} via {event.channel}: {event.detail}"


@_summary.register
def _secret_revealed(event: SecretRevealed, actor: str) -> str:
    return f"step {event.position}: its temporary secret was shown to {actor}, then erased"


@_summary.register
def _step_replanned(event: StepReplanned, actor: str) -> str:
    changed = catalogue().edited(sorted(event.changes)) or "nothing"
    radius = (
        f"; {event.blast_radius_before} → {event.blast_radius}"
        if event.blast_radius != event.blast_radius_before
        else ""
    )
    reopened = "; its approval is void and it waits for approval again" if event.reopened else ""
    return (
        f"step {event.position} planned again after {actor} edited draft "
        f"{event.cause_approval_id}: {event.description} (changed: {changed}){radius}{reopened}"
    )


@_summary.register
def _step_uncertain(event: StepUncertain, actor: str) -> str:
    return (
        f"step {event.position} ({event.action}) was started by a worker that stopped; reading "
        f"back did not show it done, and it is not safe to repeat, so it was not repeated "
        f"— read back: {canonical_json(event.observed)}"
    )


@_summary.register
def _acted_after_lease_lost(event: ActedAfterLeaseLost, actor: str) -> str:
    return (
        f"step {event.position} ({event.action}): worker {event.worker} had lost the run when "
        f"its call returned ({event.outcome}); it wrote nothing more"
    )


@_summary.register
def _secret_erased(event: SecretErased, actor: str) -> str:
    return f"step {event.position}: its temporary secret was erased unshown ({event.reason})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _tenant_list(tenants: list[str]) -> str:
    if "*" in tenants:
        return "every tenant"
    return ", ".join(tenants) if tenants else "no tenant"


@_summary.register
def _user_added(event: UserAdded, actor: str) -> str:
    tenants = _tenant_list(event.tenants)
    return f"{event.user} given an account as {event.role} by {actor}, for {tenants}"


@_summary.register
def _user_role_changed(event: UserRoleChanged, actor: str) -> str:
    return f"{event.user}'s role changed from {event.before} to {event.after} by {actor}"


@_summary.register
def _user_tenants_changed(event: UserTenantsChanged, actor: str) -> str:
    return (
        f"{event.user}'s tenants changed from {_tenant_list(event.before)} to "
        f"{_tenant_list(event.after)} by {actor}"
    )


def _signed_out(sessions: int, tokens: int) -> str:
    return f"{_count(sessions, 'session')} ended, {_count(tokens, 'API token')} revoked"


@_summary.register
def _user_password_changed(event: UserPasswordChanged, actor: str) -> str:
    ended = _signed_out(event.sessions_ended, event.tokens_revoked)
    return f"{event.user}'s password set anew by {actor}; {ended}"


@_summary.register
def _user_disabled(event: UserDisabled, actor: str) -> str:
    ended = _signed_out(event.sessions_ended, event.tokens_revoked)
    return f"{event.user} disabled by {actor}; {ended}"


@_summary.register
def _user_enabled(event: UserEnabled, actor: str) -> str:
    return f"{event.user} may sign in again (enabled by {actor})"


@_summary.register
def _user_removed(event: UserRemoved, actor: str) -> str:
    return f"{event.user}'s account ({event.role}) removed by {actor}"


@_summary.register
def _tenant_policy_set(event: TenantPolicySet, actor: str) -> str:
    policy = event.path or "the built-in policy"
    why = f": {event.reason}" if event.reason else " (no reason given)"
    return f"{actor} set the tenant's policy to {policy} (sha256 {event.sha256[:12]}){why}"


@_summary.register
def _tenant_owner_set(event: TenantOwnerSet, actor: str) -> str:
    before = f" from {event.previous}" if event.previous else ""
    why = f": {event.reason}" if event.reason else ""
    return f"{actor} took over the tenant's policy{before}{why}"


@_summary.register
def _regression_flagged(event: RegressionFlagged, actor: str) -> str:
    return (
        f"regression flagged for {event.specialist}: {event.words} — {event.recent_hits} of "
        f"{event.recent_total} since {event.since[:10]}, against {event.baseline_hits} of "
        f"{event.baseline_total} before"
    )


@_summary.register
def _regression_cleared(event: RegressionCleared, actor: str) -> str:
    return (
        f"regression of {event.specialist} ({event.measure}) over: {event.recent_hits} of "
        f"{event.recent_total} recently, back in line with before"
    )


@_summary.register
def _tenant_mode_changed(event: TenantModeChanged, actor: str) -> str:
    what = f"{event.specialist} for the tenant" if event.specialist else "the tenant"
    record = (
        f"{event.matched} of {event.compared} shadow plans matched"
        if event.compared
        else "no shadow plan compared yet"
    )
    return f"{actor} moved {what} from {event.old} to {event.new}: {event.reason} ({record})"


@_summary.register
def _plan_shadowed(event: PlanShadowed, actor: str) -> str:
    steps = "; ".join(str(step["description"]) for step in event.steps) or "no step"
    return f"shadow: {event.specialist} would have planned (nothing drafted or run): {steps}"


@_summary.register
def _shadow_compared(event: ShadowCompared, actor: str) -> str:
    return f"worked by hand by {actor}; deskhand's shadow plan: {event.outcome}"


@_summary.register
def _autonomy_granted(event: AutonomyGranted, actor: str) -> str:
    return f"{event.action} by {event.specialist} now runs without approval: {event.reason}"


@_summary.register
def _autonomy_revoked(event: AutonomyRevoked, actor: str) -> str:
    return f"{event.action} by {event.specialist} no longer runs on its own. {event.reason}"
