"""Every kind of event deskhand records, one small class each.

An event is one immutable line of the audit log: what happened, to which tenant, ticket, run
and step, and who or what did it (the actor). The log is the only record of what happened;
``deskhand trace`` and the trust figures are read from it. Add a class here for a new kind of
event; never change or remove the fields of an existing one, and give a field added to one a
default (old events must still read the same).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class ActorKind(StrEnum):
    SYSTEM = "system"  # the dispatcher, executor, worker, escalation
    SPECIALIST = "specialist"  # a specialist plugin, by name
    USER = "user"  # a person, by e-mail
    CONNECTOR = "connector"  # an outside system, by connector name


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


SYSTEM = Actor(ActorKind.SYSTEM, "deskhand")


@dataclass(frozen=True)
class Event:
    """Base class. ``TYPE`` is the stored name; the fields are the event's data."""

    TYPE: ClassVar[str] = ""

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TicketReceived(Event):
    """A ticket arrived from the PSA (or was added by hand) and was stored."""

    TYPE: ClassVar[str] = "ticket.received"
    psa_ticket_id: str
    requester: str
    subject: str


@dataclass(frozen=True)
class RunQueued(Event):
    """A run (one dispatch of a ticket) was queued for a worker."""

    TYPE: ClassVar[str] = "run.queued"
    reason: str


@dataclass(frozen=True)
class RunClaimed(Event):
    """A worker took a run, holding it with a lease it renews while it works."""

    TYPE: ClassVar[str] = "run.claimed"
    worker: str
    phase: str  # what it will do: dispatch or execute
    took_over_from: str | None = None  # the worker whose lease had expired


@dataclass(frozen=True)
class TicketTriaged(Event):
    """What the ticket asks for, how sure triage is, and what it names."""

    TYPE: ClassVar[str] = "ticket.triaged"
    intent: str | None
    confidence: float
    method: str
    entities: dict[str, list[str]] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    model_version: int | None = None  # the trained model that decided; None: keyword triage
    llm_intent: str | None = None  # the optional LLM's proposal, when one is configured
    llm_confidence: float | None = None
    llm_entities: dict[str, list[str]] = field(default_factory=dict)  # names it read, to look up
    llm_error: str | None = None  # why the configured LLM gave no proposal


@dataclass(frozen=True)
class EntityResolved(Event):
    """A name from the ticket looked up in the tenant's directory: found, ambiguous or absent."""

    TYPE: ClassVar[str] = "entity.resolved"
    kind: str  # user, group, licence
    query: str
    resolved: str | None
    candidates: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # how close each candidate is (0–1)


@dataclass(frozen=True)
class ReplyReceived(Event):
    """Someone answered a ticket that was waiting on its requester. From the requester, the
    answer joins the ticket's text and the ticket is dispatched again; from anyone else it is
    kept here and not acted on — the ticket escalates so that a person reads it."""

    TYPE: ClassVar[str] = "reply.received"
    sender: str
    from_requester: bool
    text: str  # as received: untrusted, like the ticket's own text


@dataclass(frozen=True)
class IdentityChecked(Event):
    """Whether the requester may ask for a security change to the target user, and why."""

    TYPE: ClassVar[str] = "identity.checked"
    requester: str
    target: str
    verdict: str  # target, manager, authorised_contact, unverified
    detail: str


@dataclass(frozen=True)
class PlanProposed(Event):
    """A specialist turned the ticket into a plan of steps."""

    TYPE: ClassVar[str] = "plan.proposed"
    specialist: str
    summary: str
    actions: list[str]
    not_before: str = ""  # ISO 8601: nothing runs before it (a leaver's last day); "": at once
    # What earned autonomy holds for (deskhand.trust.autonomy.Fingerprint): the specialist's
    # version, the tenant's policy and directory shape it was planned under; {}: not known.
    fingerprint: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StepDecided(Event):
    """Policy decided a step: auto, approve or forbid, by which rule."""

    TYPE: ClassVar[str] = "step.decided"
    position: int
    action: str
    description: str
    blast_radius: str
    decision: str
    rule: str


@dataclass(frozen=True)
class DraftCreated(Event):
    """A step waits for a human; the draft shows exactly what would run."""

    TYPE: ClassVar[str] = "draft.created"
    approval_id: str
    payload_hash: str
    expires_at: str


@dataclass(frozen=True)
class DraftApproved(Event):
    """A human approved a draft, bound to the SHA-256 of the exact payload (edits included)."""

    TYPE: ClassVar[str] = "draft.approved"
    approval_id: str
    payload_hash: str
    edited: bool
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [proposed, approved]
    # Stale mentions of another draft's edit the approver chose to keep (see carried_edits).
    acknowledged: list[str] = field(default_factory=list)
    # How the approver verified a requester whose check said needs_verification.
    verification: str = ""
    # The keyed binding (deskhand.keys) the executor checks; empty before version 0007.
    binding: str = ""
    # The step's blast radius as approved, and as proposed when an edit changed it; the class
    # the approver accepted when the edit raised it or changed the requester check.
    blast_radius: str = ""
    proposed_radius: str = ""
    approved_as: str = ""


@dataclass(frozen=True)
class DraftRejected(Event):
    TYPE: ClassVar[str] = "draft.rejected"
    approval_id: str
    reason: str


@dataclass(frozen=True)
class DraftExpired(Event):
    """Nobody decided, or the approved step did not start, before the approval expired."""

    TYPE: ClassVar[str] = "draft.expired"
    approval_id: str


@dataclass(frozen=True)
class StepStarted(Event):
    """The executor is about to act; the state before was snapshotted for a rollback."""

    TYPE: ClassVar[str] = "step.started"
    position: int
    action: str
    idempotency_key: str
    snapshot: dict[str, Any]
    payload_hash: str = ""  # the SHA-256 of the payload it acts on
    binding: str = ""  # the approval's keyed binding it was checked against ("" for auto)
    blast_radius: str = ""


@dataclass(frozen=True)
class StepVerified(Event):
    """The change was read back from the outside system and is what was intended: done."""

    TYPE: ClassVar[str] = "step.verified"
    position: int
    action: str
    observed: dict[str, Any]
    payload_hash: str = ""  # the SHA-256 of the payload that was acted on
    blast_radius: str = ""


@dataclass(frozen=True)
class StepFailed(Event):
    TYPE: ClassVar[str] = "step.failed"
    position: int
    action: str
    phase: str  # act or verify
    error: str


@dataclass(frozen=True)
class StepRecovered(Event):
    """After a crash, a step that had started was re-checked by reading state before acting."""

    TYPE: ClassVar[str] = "step.recovered"
    position: int
    action: str
    already_done: bool


@dataclass(frozen=True)
class StepWaiting(Event):
    """A change that shows only after a while (a user created in AD appears in Microsoft 365 at
    the next directory sync) was not there yet: read back again at ``until``, up to
    ``deadline``, after which the step fails and the run escalates."""

    TYPE: ClassVar[str] = "step.waiting"
    position: int
    action: str
    observed: dict[str, Any]
    until: str  # ISO 8601
    deadline: str  # ISO 8601


@dataclass(frozen=True)
class PayloadRefused(Event):
    """The payload about to run is not the one that was approved: nothing runs."""

    TYPE: ClassVar[str] = "payload.refused"
    position: int
    approved_hash: str
    current_hash: str


@dataclass(frozen=True)
class RunCompleted(Event):
    """Every step of the run is verified."""

    TYPE: ClassVar[str] = "run.completed"
    steps: int


@dataclass(frozen=True)
class RunEscalated(Event):
    """The run stopped and the ticket went to the human queue, with a reason code."""

    TYPE: ClassVar[str] = "run.escalated"
    escalation_id: str
    reason: str
    detail: str


@dataclass(frozen=True)
class NoteWritten(Event):
    """deskhand wrote a note on the PSA ticket."""

    TYPE: ClassVar[str] = "psa.note_written"
    psa_ticket_id: str
    comment_id: str
    hidden: bool


@dataclass(frozen=True)
class Notified(Event):
    """An escalation was announced outside deskhand (a webhook)."""

    TYPE: ClassVar[str] = "escalation.notified"
    channel: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class SecretRevealed(Event):
    """A technician was shown a secret a step produced (a temporary password), which was then
    erased. The value itself is never in the log."""

    TYPE: ClassVar[str] = "secret.revealed"
    position: int


@dataclass(frozen=True)
class StepReplanned(Event):
    """An approver's edit of another step changed what this step will do: the plan was made
    again from the edited references, and this step now proposes ``changes``. A draft that was
    already approved is open again (``reopened``): its approval was for the old payload."""

    TYPE: ClassVar[str] = "step.replanned"
    position: int
    action: str
    cause_approval_id: str
    changes: dict[str, list[Any]]
    blast_radius_before: str
    blast_radius: str
    description: str
    reopened: bool


@dataclass(frozen=True)
class StepUncertain(Event):
    """After a takeover, a step found started could not be shown done by reading back, and
    its action is not safe to repeat: it is not repeated, and a person decides."""

    TYPE: ClassVar[str] = "step.uncertain"
    position: int
    action: str
    observed: dict[str, Any]


@dataclass(frozen=True)
class ActedAfterLeaseLost(Event):
    """A worker returned from an outside call after its lease was gone (it was paused or cut
    off): what the call did is recorded, and the worker writes nothing else for the run."""

    TYPE: ClassVar[str] = "step.acted_after_lease_lost"
    position: int
    action: str
    worker: str
    outcome: str


@dataclass(frozen=True)
class SecretErased(Event):
    """A secret nobody was shown (a temporary password) was erased when it expired."""

    TYPE: ClassVar[str] = "secret.erased"
    position: int
    reason: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        TicketReceived,
        RunQueued,
        RunClaimed,
        TicketTriaged,
        EntityResolved,
        ReplyReceived,
        IdentityChecked,
        PlanProposed,
        StepDecided,
        DraftCreated,
        DraftApproved,
        DraftRejected,
        DraftExpired,
        StepStarted,
        StepVerified,
        StepFailed,
        StepRecovered,
        StepWaiting,
        PayloadRefused,
        RunCompleted,
        RunEscalated,
        NoteWritten,
        Notified,
        SecretRevealed,
        StepReplanned,
        StepUncertain,
        ActedAfterLeaseLost,
        SecretErased,
    )
}


# The MSP's user accounts (deskhand.accounts). ``user`` is the account's e-mail address; the
# actor is whoever made the change (on the command line: ``system:cli:<login name>``).


@dataclass(frozen=True)
class UserAdded(Event):
    """A person was given a deskhand account."""

    TYPE: ClassVar[str] = "user.added"
    user: str
    role: str
    tenants: list[str]


@dataclass(frozen=True)
class UserRoleChanged(Event):
    """A user's role changed; it applies from their next request on."""

    TYPE: ClassVar[str] = "user.role_changed"
    user: str
    before: str
    after: str


@dataclass(frozen=True)
class UserTenantsChanged(Event):
    """The tenants a user may see changed; it applies from their next request on."""

    TYPE: ClassVar[str] = "user.tenants_changed"
    user: str
    before: list[str]
    after: list[str]


@dataclass(frozen=True)
class UserPasswordChanged(Event):
    """A user's password was set anew: their browser sessions ended and API tokens were revoked."""

    TYPE: ClassVar[str] = "user.password_changed"
    user: str
    sessions_ended: int
    tokens_revoked: int


@dataclass(frozen=True)
class UserDisabled(Event):
    """A user can no longer sign in: their browser sessions ended and API tokens were revoked."""

    TYPE: ClassVar[str] = "user.disabled"
    user: str
    sessions_ended: int
    tokens_revoked: int


@dataclass(frozen=True)
class UserEnabled(Event):
    """A disabled user may sign in again (their old API tokens stay revoked)."""

    TYPE: ClassVar[str] = "user.enabled"
    user: str


@dataclass(frozen=True)
class UserRemoved(Event):
    """An account with no history (no decision, no revealed secret, no analysis, no event of
    theirs) was deleted."""

    TYPE: ClassVar[str] = "user.removed"
    user: str
    role: str
    tenants: list[str]


USER_EVENTS: tuple[type[Event], ...] = (
    UserAdded,
    UserRoleChanged,
    UserTenantsChanged,
    UserPasswordChanged,
    UserDisabled,
    UserEnabled,
    UserRemoved,
)
EVENT_TYPES.update({cls.TYPE: cls for cls in USER_EVENTS})


# Telling technicians where they already are (deskhand.notifications). A notice is recorded
# once per thing it tells of when it is handed to delivery, so that no worker, and no restart,
# tells it again; its delivery to each target is recorded after. ``target`` is only ever the
# shown form of a URL (scheme and host, or the secret reference's name).


@dataclass(frozen=True)
class NoticeQueued(Event):
    """A message to technicians was decided and handed to delivery; ``about`` is what it
    tells of (``run:12``, ``approval:40``, ``escalation:7``), told once per kind."""

    TYPE: ClassVar[str] = "notice.queued"
    notice_id: str
    kind: str
    about: str
    targets: int


@dataclass(frozen=True)
class NoticeDelivered(Event):
    """A target accepted the message."""

    TYPE: ClassVar[str] = "notice.delivered"
    notice_id: str
    kind: str
    target: str
    attempts: int


@dataclass(frozen=True)
class NoticeGivenUp(Event):
    """A target did not take the message after every attempt (or cannot be used at all):
    nothing more is tried, and ``reason`` says why."""

    TYPE: ClassVar[str] = "notice.given_up"
    notice_id: str
    kind: str
    target: str
    attempts: int
    reason: str


NOTICE_EVENTS: tuple[type[Event], ...] = (NoticeQueued, NoticeDelivered, NoticeGivenUp)
EVENT_TYPES.update({cls.TYPE: cls for cls in NOTICE_EVENTS})


# Working an escalation to the end (deskhand.engine.escalation_work). ``escalation_id`` names
# it; the actor is the technician who did it, and ``assignee`` an e-mail address.


@dataclass(frozen=True)
class EscalationTaken(Event):
    """A technician took the escalation: they work it now."""

    TYPE: ClassVar[str] = "escalation.taken"
    escalation_id: str
    previous: str | None  # who had it before, if anyone


@dataclass(frozen=True)
class EscalationAssigned(Event):
    """A technician gave the escalation to a colleague who may work the tenant."""

    TYPE: ClassVar[str] = "escalation.assigned"
    escalation_id: str
    assignee: str
    previous: str | None


@dataclass(frozen=True)
class EscalationNoted(Event):
    """A technician added a note: kept in deskhand and written to the PSA ticket as an
    internal note (``psa_ok`` false when the PSA refused it; ``psa_detail`` says why)."""

    TYPE: ClassVar[str] = "escalation.noted"
    escalation_id: str
    note_id: str
    text: str
    psa_ok: bool
    psa_detail: str


@dataclass(frozen=True)
class EscalationResolved(Event):
    """A technician closed the escalation with a resolution; the ticket is resolved."""

    TYPE: ClassVar[str] = "escalation.resolved"
    escalation_id: str
    resolution: str


@dataclass(frozen=True)
class EscalationResumed(Event):
    """A technician fixed what stopped the run and deskhand works the ticket again: a new run
    is queued. ``verification`` says how they verified the requester (a call-back), if they
    did; the new run's identity check reads it."""

    TYPE: ClassVar[str] = "escalation.resumed"
    escalation_id: str
    verification: str


ESCALATION_EVENTS: tuple[type[Event], ...] = (
    EscalationTaken,
    EscalationAssigned,
    EscalationNoted,
    EscalationResolved,
    EscalationResumed,
)
EVENT_TYPES.update({cls.TYPE: cls for cls in ESCALATION_EVENTS})


@dataclass(frozen=True)
class PlanApproved(Event):
    """A human approved a whole plan (one run of a ticket) in one decision. Each step keeps its
    own binding in its draft.approved event; this records which steps and payloads the one
    decision covered, and the requester verification it gave once for all of them."""

    TYPE: ClassVar[str] = "plan.approved"
    # One per approved step: approval_id, position, action, payload_hash.
    steps: list[dict[str, Any]] = field(default_factory=list)
    verification: str = ""


EVENT_TYPES[PlanApproved.TYPE] = PlanApproved


@dataclass(frozen=True)
class PsaStatusFollowed(Event):
    """The ticket's status in the PSA was set to follow deskhand's stage of it (working,
    waiting, resolved, escalated), or could not be: ``outcome`` is "set" or why not."""

    TYPE: ClassVar[str] = "psa.status_followed"
    stage: str
    status: str
    outcome: str


EVENT_TYPES[PsaStatusFollowed.TYPE] = PsaStatusFollowed


@dataclass(frozen=True)
class UndoProposed(Event):
    """A person (the actor) proposed undoing run ``undo_of``: this run's plan holds ``steps``
    steps that put back what it changed, drafts approved like any plan, and names ``left``
    changes deskhand cannot undo, for a technician. A resolved ticket is worked again."""

    TYPE: ClassVar[str] = "plan.undo_proposed"
    undo_of: int
    steps: int
    left: int


EVENT_TYPES[UndoProposed.TYPE] = UndoProposed


@dataclass(frozen=True)
class PlanTrimmed(Event):
    """An approver (``approver``, also the actor) left what one step gives or takes away out of
    a plan: ``left_out`` the directory ids (groups, licences), ``names`` their names, ``action``
    the step's action. The plan's drafts closed unused and the ticket is planned again without
    them; every later plan of the ticket leaves them out too."""

    TYPE: ClassVar[str] = "plan.trimmed"
    approval_id: str
    position: int
    action: str
    left_out: list[str]
    names: list[str]
    approver: str
    reason: str


EVENT_TYPES[PlanTrimmed.TYPE] = PlanTrimmed


@dataclass(frozen=True)
class TenantPolicySet(Event):
    """A person (the actor) gave a tenant its policy: ``path`` the file (None: the built-in
    policy), ``sha256`` the hash of its text as it was read, ``reason`` why. The actor owns the
    policy from then on (``deskhand.tenants.ownership``)."""

    TYPE: ClassVar[str] = "tenant.policy_set"
    path: str | None
    sha256: str
    reason: str = ""


EVENT_TYPES[TenantPolicySet.TYPE] = TenantPolicySet


@dataclass(frozen=True)
class TenantOwnerSet(Event):
    """A person (the actor) took over a tenant's policy as its owner, the one who can explain
    it, from ``previous`` (None: nobody was recorded), and why."""

    TYPE: ClassVar[str] = "tenant.owner_set"
    previous: str | None
    reason: str = ""


EVENT_TYPES[TenantOwnerSet.TYPE] = TenantOwnerSet


@dataclass(frozen=True)
class RegressionFlagged(Event):
    """A specialist's record at a tenant got significantly worse (``deskhand.trust.regressions``):
    ``measure`` (edit_rate, rejection_rate, expiry_rate, escalation:REASON, failed_execution,
    slow_approval) went from ``baseline_hits`` of ``baseline_total`` to ``recent_hits`` of
    ``recent_total`` since ``since``, with the test's statistic ``z``; ``tickets`` are the
    recent tickets behind it. Raised once per episode, until a regression.cleared."""

    TYPE: ClassVar[str] = "trust.regression_flagged"
    specialist: str
    measure: str
    words: str
    recent_hits: int
    recent_total: int
    baseline_hits: int
    baseline_total: int
    z: float
    test: str
    since: str
    tickets: list[int] = field(default_factory=list)
    p: float | None = None  # the test's p-value (None in an alarm from before it was kept)


EVENT_TYPES[RegressionFlagged.TYPE] = RegressionFlagged


@dataclass(frozen=True)
class RegressionCleared(Event):
    """The episode a trust.regression_flagged event (``flagged``, its event id) opened ended:
    the recent window no longer differs from the baseline (``z`` below the clearing level)."""

    TYPE: ClassVar[str] = "trust.regression_cleared"
    specialist: str
    measure: str
    flagged: int
    recent_hits: int
    recent_total: int
    z: float


EVENT_TYPES[RegressionCleared.TYPE] = RegressionCleared


@dataclass(frozen=True)
class TenantModeChanged(Event):
    """An admin (the actor) moved a tenant, or one specialist within it (``specialist``; empty
    for the whole tenant), from ``old`` to ``new`` mode (shadow or live), for ``reason``. The
    shadow record that supported it: ``compared`` shadow plans compared with what the
    technicians did, ``matched`` and ``mismatched`` of them."""

    TYPE: ClassVar[str] = "tenant.mode_changed"
    specialist: str
    old: str
    new: str
    reason: str
    compared: int
    matched: int
    mismatched: int


EVENT_TYPES[TenantModeChanged.TYPE] = TenantModeChanged


@dataclass(frozen=True)
class PlanShadowed(Event):
    """What deskhand would have done for a ticket in shadow: the plan ``specialist`` made, its
    steps in words with their parameters, policy's decision and a read-only snapshot of the
    state before each (``steps``). Nothing was drafted and nothing ran; the ticket is left to
    the technicians."""

    TYPE: ClassVar[str] = "plan.shadowed"
    specialist: str
    summary: str
    # One per step: position, action, description, params, blast_radius, decision, snapshot.
    steps: list[dict[str, Any]] = field(default_factory=list)


EVENT_TYPES[PlanShadowed.TYPE] = PlanShadowed


@dataclass(frozen=True)
class ShadowCompared(Event):
    """A technician (the actor) worked a shadowed ticket by hand; each step of the shadow plan
    was read back against the systems now (``steps``: position, action, description, outcome
    matched / not matched / not compared, observed). ``outcome``: "matched" when every compared
    step shows the change deskhand would have made, "not matched" when one does not, "nothing
    to compare" when no step changes the directory (a reply, a note)."""

    TYPE: ClassVar[str] = "shadow.compared"
    specialist: str
    outcome: str
    steps: list[dict[str, Any]] = field(default_factory=list)


EVENT_TYPES[ShadowCompared.TYPE] = ShadowCompared


@dataclass(frozen=True)
class AutonomyGranted(Event):
    """Steps of ``action`` that ``specialist`` plans for this tenant, and that the policy sends
    for approval, now run without one: the record earned it (deskhand.trust.autonomy). Only an
    internal or read step can earn it. ``evidence``: the approvals in a row unchanged, the first
    and last, the Wilson bounds of the recent decisions, and what the grant holds for (the
    specialist's version, the policy's fingerprint, the directory's shape)."""

    TYPE: ClassVar[str] = "autonomy.granted"
    specialist: str
    action: str
    reason: str  # in words, as the step's rule shows it
    evidence: dict[str, Any] = field(default_factory=dict)


EVENT_TYPES[AutonomyGranted.TYPE] = AutonomyGranted


@dataclass(frozen=True)
class AutonomyRevoked(Event):
    """An earned autonomy ended: its steps wait for approval again until the record earns it
    anew. ``trigger``: edited, rejected, failed, unverified, drop (the Wilson bound),
    specialist_version, policy, directory or off; ``trigger_event`` the log's event that caused
    it (0 when a change found at the next plan caused it); ``evidence`` the figures."""

    TYPE: ClassVar[str] = "autonomy.revoked"
    specialist: str
    action: str
    trigger: str
    reason: str
    trigger_event: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)


EVENT_TYPES[AutonomyRevoked.TYPE] = AutonomyRevoked
