"""The application database: tenants, users, tickets, runs, steps, approvals, escalations, the
event log. Rows of tickets, runs, steps, approvals and escalations change only through
``deskhand.engine.state``, which writes the matching event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

_clock: Callable[[], datetime] | None = None


def now() -> datetime:
    """The time, UTC: the machine's, or the simulated one ``use_clock`` set."""
    return _clock() if _clock is not None else datetime.now(UTC)


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """Make ``now`` (every timestamp deskhand takes, column defaults included) read ``clock``;
    None: the machine's clock again. For a simulation (``deskhand.simulation``), never a desk."""
    global _clock
    _clock = clock


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored and read back as timezone-aware UTC on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: deskhand stores UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Tenant(Base):
    """A client of the MSP, with how deskhand reaches its systems."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # a slug: contoso-dental
    name: Mapped[str] = mapped_column(String(200))
    psa_customer_id: Mapped[str] = mapped_column(String(64))
    domains: Mapped[list[str]] = mapped_column(default=list)
    connector: Mapped[str] = mapped_column(String(32), default="sandbox")
    policy_path: Mapped[str | None] = mapped_column(Text)  # None: the built-in default policy
    # The tenant's connection file (PSA, Microsoft 365, AD, mail); None: the sandbox.
    config_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # shadow: plans are recorded and compared with what technicians did, nothing is drafted
    # or run; live: plans go to the approval queue. A new tenant starts in shadow
    # (deskhand.engine.shadow); an admin moves it to live.
    mode: Mapped[str] = mapped_column(String(8), default="shadow")
    # Per specialist within the tenant: {"password_reset": "shadow"} overrides ``mode``.
    specialist_modes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class User(Base):
    """A person at the MSP who uses deskhand, with a role and the tenants they may see."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # viewer, tech, approver, admin
    tenants: Mapped[list[str]] = mapped_column(default=list)  # tenant ids, or ["*"] for all
    password_hash: Mapped[str | None] = mapped_column(Text)  # argon2id; None: cannot sign in
    created_at: Mapped[datetime] = mapped_column(default=now)
    # Set while the account is disabled: no sign-in, no session, no API token works.
    disabled_at: Mapped[datetime | None]


class Requester(Base):
    """A person at a client who raises tickets."""

    __tablename__ = "requesters"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("tenant_id", "psa_ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("requesters.id"))
    psa_ticket_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24))
    # The name the message came with ("Dana Reyes" <dana@…>): compared with the directory's.
    requester_display_name: Mapped[str | None] = mapped_column(Text)
    # The Message-ID of the e-mail a mailed request came as ("<abc@mail.example>"), so that
    # deskhand's reply threads under it; None for a ticket of a PSA.
    message_id: Mapped[str | None] = mapped_column(Text)
    # How it reached deskhand (deskhand.domain.origin.TicketOrigin): psa, mailbox or export.
    # Every intake path sets it; the default is only what migration 0011 started rows with.
    origin: Mapped[str] = mapped_column(String(16), server_default="psa")
    # The PSA whose export an imported ticket came from ("ConnectWise Manage"); None otherwise.
    exported_from: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)

    requester: Mapped[Requester] = relationship()
    runs: Mapped[list[Run]] = relationship(back_populates="ticket", order_by="Run.id")


class Run(Base):
    """One dispatch of a ticket: triage, plan, drafts, execution. Claimed by one worker at a
    time through a lease it renews; a lease that expires lets another worker take over."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_claimable", "status", "lease_expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    status: Mapped[str] = mapped_column(String(24))
    specialist: Mapped[str | None] = mapped_column(String(64))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None]
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    claims: Mapped[int] = mapped_column(Integer, default=0)
    # What the specialist planned from (deskhand.engine.replan.PlanInputs): an approver's edit
    # of a directory reference is planned again from these, never patched into the old plan.
    plan_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Nothing of the run is done before this moment (a leaver's last day; a step waiting for a
    # directory sync to show a change): a worker claims it only then. None: at once.
    not_before: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)

    ticket: Mapped[Ticket] = relationship(back_populates="runs")
    steps: Mapped[list[Step]] = relationship(back_populates="run", order_by="Step.position")


class Step(Base):
    """One action of a run's plan, with policy's decision and what happened when it ran."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    position: Mapped[int]
    action: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]]  # as the specialist proposed them; never overwritten
    # The plan made again after an approver edited another step of it (replanned_by: that
    # draft's id): what is proposed now, kept beside the first proposal.
    replanned_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    replanned_by: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    # The positions of the steps that must be verified before this one runs (a failure stops
    # its dependents only). None: every earlier step, as runs planned before dependencies were.
    depends_on: Mapped[list[int] | None] = mapped_column(JSON)
    blast_radius: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24))
    idempotency_key: Mapped[str] = mapped_column(String(96), unique=True)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    run: Mapped[Run] = relationship(back_populates="steps")
    approval: Mapped[Approval | None] = relationship(back_populates="step")


class Approval(Base):
    """A draft waiting for a human, then the human's decision bound to the payload's SHA-256.
    A human's edit is kept beside the specialist's proposal, never over it."""

    __tablename__ = "approvals"
    # The queue's order, so that its page is read off an index however long the backlog.
    __table_args__ = (Index("ix_approvals_queue", "status", "risk_rank", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Copied from the step and the run when the draft is made, for the queue's order and filter
    # (deskhand.domain.risks.risk_rank: 0 is the riskiest blast radius).
    risk_rank: Mapped[int] = mapped_column(Integer)
    specialist: Mapped[str] = mapped_column(String(64))
    approver_roles: Mapped[list[str]] = mapped_column(default=list)
    excerpt: Mapped[str] = mapped_column(Text)
    requester_check: Mapped[dict[str, Any]] = mapped_column(default=dict)
    approved_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # set only on an edit
    payload_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256, shown to people
    # The keyed binding (deskhand.keys, "KEYID:HMAC") over the step, its payload, this approval,
    # its approver and expiry: what the executor checks; no one without the key can make one.
    binding: Mapped[str | None] = mapped_column(String(128))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]

    step: Mapped[Step] = relationship(back_populates="approval")
    approver: Mapped[User | None] = relationship()


class Escalation(Base):
    """A ticket in the human queue, with the reason code that put it there."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # open, closed
    created_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None]
    # Who works it now (``deskhand.engine.escalation_work``); None: nobody has taken it.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # How it was closed: "resolved" (by a person, with ``resolution``) or "resumed" (the
    # technician fixed the cause and deskhand worked the ticket again as ``resumed_run_id``).
    closed_as: Mapped[str | None] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # How the technician verified the requester (a call-back) before resuming; the new run's
    # identity check reads it, and its drafts still ask the approver to confirm.
    verification: Mapped[str | None] = mapped_column(Text)
    resumed_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))

    ticket: Mapped[Ticket] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    notes: Mapped[list[EscalationNote]] = relationship(order_by="EscalationNote.id")


class EscalationNote(Base):
    """A technician's note on an escalation, kept here and copied to the PSA ticket as an
    internal note; a PSA that refused it is recorded in ``psa_error`` and the note stays."""

    __tablename__ = "escalation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    psa_comment_id: Mapped[str | None] = mapped_column(String(64))
    psa_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)

    author: Mapped[User] = relationship()


class StepSecret(Base):
    """A secret a step produced (a temporary password), shown once to a technician and then
    erased. Never written to the event log."""

    __tablename__ = "step_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    value: Mapped[str | None] = mapped_column(Text)  # encrypted with the server key; None: erased
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime | None]  # erased then if nobody was shown it
    revealed_at: Mapped[datetime | None]
    revealed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EventRecord(Base):
    """One line of the append-only, hash-chained event log."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now)
    type: Mapped[str] = mapped_column(String(48))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(320))
    tenant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    step_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The newest event's hash. Every append locks this one row, so events from any number of
    workers form one chain, in id order."""

    __tablename__ = "event_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_seen_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A token for automation, acting as its user with the same role and tenant scope."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings; the rest is secret
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """A sign-in attempt, kept to slow down password guessing from any web process."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=now)
    succeeded: Mapped[bool]


class Analysis(Base):
    """A PSA export uploaded in the web app and the `analyze` report made from it."""

    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(400))
    folder: Mapped[str] = mapped_column(Text)  # where the upload and the report are kept
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    stage: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None]


class TriageModelVersion(Base):
    """A trained triage classifier: the fitted model, its held-out figures, and whether the
    dispatcher uses it (one version at most is active)."""

    __tablename__ = "triage_models"

    id: Mapped[int] = mapped_column(primary_key=True)  # the version number
    created_at: Mapped[datetime] = mapped_column(default=now)
    active: Mapped[bool] = mapped_column(default=False, index=True)
    tickets: Mapped[int]  # labelled tickets it learnt from
    target_precision: Mapped[float]
    thresholds: Mapped[dict[str, Any]]  # intent -> lowest probability routed; null: never
    figures: Mapped[dict[str, Any]]  # held-out accuracy, macro-F1, coverage, per intent
    training: Mapped[dict[str, Any]]  # sources, label column, mapping, intents set aside
    library: Mapped[str] = mapped_column(String(64))  # scikit-learn version that pickled it
    sha256: Mapped[str] = mapped_column(String(64))  # of the blob, checked before unpickling
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class IntakeCursor(Base):
    """How far an intake source (the Syncro poller, a mailbox) has read a tenant's tickets, so a
    restarted poller resumes there instead of reading everything again."""

    __tablename__ = "intake_cursors"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)  # syncro, imap
    position: Mapped[dict[str, Any]] = mapped_column(JSON)  # e.g. {"updated_since": "…"}
    updated_at: Mapped[datetime] = mapped_column(default=now)


class TicketNote(Base):
    """A note or a reply on a ticket that no PSA holds (it came by e-mail or from an export):
    deskhand keeps it, as a PSA keeps its comments (``deskhand.engine.kept_notes``)."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=now)


class Quarantined(Base):
    """An incoming message or row that could not be taken, kept with its reason and its content
    as it came, so that nothing is lost and the rest is never held up behind it
    (``deskhand.intake.quarantine``)."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_tenant_status", "tenant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    source: Mapped[str] = mapped_column(String(16))  # imap, syncro, import, cli
    reference: Mapped[str] = mapped_column(Text)  # the source's own: a UID, a PSA id, file and row
    reason: Mapped[str] = mapped_column(Text)  # in plain words
    content: Mapped[bytes] = mapped_column(LargeBinary)  # as it came, its first MAX_CONTENT bytes
    size: Mapped[int]  # the content's whole size in bytes
    status: Mapped[str] = mapped_column(String(16))  # held, taken, dismissed
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))  # once taken
    resolved_by: Mapped[str | None] = mapped_column(String(320))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
