"""``deskhand trace``: a ticket's events in order, who did each, and what it meant in words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from rich.console import Console

from deskhand.audit.log import append
from deskhand.audit.trace import Trace, render_trace, trace
from deskhand.domain.events import (
    EVENT_TYPES,
    SYSTEM,
    ActedAfterLeaseLost,
    Actor,
    ActorKind,
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
from deskhand.store.db import Database
from deskhand.store.models import Requester, Tenant, Ticket

SYNCRO = Actor(ActorKind.CONNECTOR, "syncro")
SPECIALIST = Actor(ActorKind.SPECIALIST, "password-reset")
DANA = Actor(ActorKind.USER, "dana@msp.example")
HASH_A, HASH_B = "a" * 64, "b" * 64

# One event of every type, who records it, its run, and the summary `deskhand trace` shows.
TIMELINE: list[tuple[Event, Actor, int | None, str]] = [
    (
        TicketReceived("4711", "alice@contoso.example", "Bob is locked out"),
        SYNCRO,
        None,
        'received PSA ticket 4711 from alice@contoso.example: "Bob is locked out"',
    ),
    (RunQueued("new ticket"), SYSTEM, 1, "run queued: new ticket"),
    (
        RunClaimed("worker-a", "dispatch"),
        SYSTEM,
        1,
        "worker worker-a claimed the run to dispatch",
    ),
    (
        TicketTriaged(
            "password_reset",
            0.92,
            "classifier",
            entities={"user": ["bob@contoso.example"], "group": []},
        ),
        SYSTEM,
        1,
        "triage: password reset (92% sure, by classifier) — user: bob@contoso.example",
    ),
    (
        TicketTriaged(
            "access_change",
            0.8,
            "taxonomy",
            entities={"first_person": ["true"], "operation": ["remove"], "emails": ["a@b.c"]},
        ),
        SYSTEM,
        1,
        "triage: access change (80% sure, by taxonomy) — addresses: a@b.c; asks for "
        "themselves; asks to remove",
    ),
    (
        EntityResolved("user", "Bob", "bob@contoso.example"),
        SYSTEM,
        1,
        'directory: user "Bob" → bob@contoso.example',
    ),
    (
        IdentityChecked(
            "alice@contoso.example",
            "bob@contoso.example",
            "unverified",
            "requester is not the target, their manager, or an authorised contact",
        ),
        SYSTEM,
        1,
        "identity: alice@contoso.example for bob@contoso.example → unverified — requester is "
        "not the target, their manager, or an authorised contact",
    ),
    (
        RunEscalated(
            "3",
            "identity_unverified",
            "requester is not the target, their manager, or an authorised contact",
        ),
        SYSTEM,
        1,
        "escalated: identity_unverified — requester is not the target, their manager, or an "
        "authorised contact",
    ),
    (
        Notified("webhook", ok=False, detail="HTTP 503 from hooks.msp.example"),
        SYSTEM,
        1,
        "escalation could not be announced via webhook: HTTP 503 from hooks.msp.example",
    ),
    (
        ReplyReceived("alice@contoso.example", from_requester=True, text="Bob Smith, not Bob Li"),
        SYNCRO,
        1,
        'reply from alice@contoso.example (the requester): "Bob Smith, not Bob Li"',
    ),
    (
        RunQueued("the technician confirmed the requester by phone"),
        DANA,
        2,
        "run queued: the technician confirmed the requester by phone",
    ),
    (
        RunClaimed("worker-b", "dispatch", took_over_from="worker-a"),
        SYSTEM,
        2,
        "worker worker-b claimed the run to dispatch, taking over from worker-a "
        "(its lease had expired)",
    ),
    (
        PlanProposed(
            "password-reset",
            "reset Bob's password and tell Alice",
            ["m365.reset_password", "psa.send_reply"],
        ),
        SPECIALIST,
        2,
        "plan by password-reset: reset Bob's password and tell Alice — 2 steps: "
        "m365.reset_password, psa.send_reply",
    ),
    (
        StepDecided(
            1,
            "m365.reset_password",
            "Reset the Microsoft 365 password of bob@contoso.example",
            "security",
            "approve",
            "blast radius security: approve (built-in policy)",
        ),
        SYSTEM,
        2,
        "policy: m365.reset_password (security) → approve — blast radius security: approve "
        "(built-in policy)",
    ),
    (
        DraftCreated("12", HASH_A, "2026-11-24T12:00:00+00:00"),
        SYSTEM,
        2,
        "draft 12 waits for approval until 24 Nov 2026 12:00 UTC (payload aaaaaaaaaaaa…)",
    ),
    (
        DraftApproved("12", HASH_A, edited=True, changes={"group_name": ["Sales", "Sales-EU"]}),
        DANA,
        2,
        "draft 12 approved by dana@msp.example (edited: the group)",
    ),
    (
        DraftApproved("13", HASH_B, edited=False),
        DANA,
        2,
        "draft 13 approved by dana@msp.example (unchanged)",
    ),
    (
        DraftRejected("14", "wrong user"),
        DANA,
        2,
        "draft 14 rejected by dana@msp.example: wrong user",
    ),
    (
        DraftExpired("15"),
        SYSTEM,
        2,
        "draft 15 expired: nobody decided, or the approved step did not start, in time",
    ),
    (
        PayloadRefused(2, HASH_A, HASH_B),
        SYSTEM,
        2,
        "step 2 refused: the payload is not the one approved (approved aaaaaaaaaaaa…, "
        "now bbbbbbbbbbbb…); nothing ran",
    ),
    (
        StepStarted(1, "m365.reset_password", "run-2-step-1", {"password_changed": "2026-01-01"}),
        SYSTEM,
        2,
        "step 1 started: m365.reset_password (the state before it recorded)",
    ),
    (
        StepFailed(1, "m365.reset_password", "verify", "Graph returned 504"),
        SYSTEM,
        2,
        "step 1 failed while verifying: m365.reset_password — Graph returned 504",
    ),
    (
        StepRecovered(1, "m365.reset_password", already_done=True),
        SYSTEM,
        2,
        "step 1 re-checked after a restart: m365.reset_password had already taken effect, so "
        "it is not repeated",
    ),
    (
        StepWaiting(
            2,
            "m365.await_user",
            {"found": False},
            "2026-12-30T17:05:00+00:00",
            "2026-12-30T18:00:00+00:00",
        ),
        SYSTEM,
        2,
        "step 2 not showing yet: m365.await_user is read back again at 30 Dec 2026 17:05 UTC, "
        "until 30 Dec 2026 18:00 UTC at the latest",
    ),
    (
        StepVerified(1, "m365.reset_password", {"force_change": True}),
        SYSTEM,
        2,
        "step 1 done: m365.reset_password, read back and verified",
    ),
    (
        SecretRevealed(1),
        DANA,
        2,
        "step 1: its temporary secret was shown to dana@msp.example, then erased",
    ),
    (
        StepReplanned(
            3,
            "psa.send_reply",
            "12",
            {"body": ["… Sales …", "… Sales-EU …"]},
            "external_communication",
            "external_communication",
            "Reply to alice@contoso.example on PSA ticket 4711",
            reopened=True,
        ),
        DANA,
        2,
        "step 3 planned again after dana@msp.example edited draft 12: Reply to "
        "alice@contoso.example on PSA ticket 4711 (changed: the text); its approval is void and it "
        "waits for approval again",
    ),
    (
        StepUncertain(2, "m365.add_license_seats", {"total": 5}),
        SYSTEM,
        2,
        "step 2 (m365.add_license_seats) was started by a worker that stopped; reading back did "
        "not show it done, and it is not safe to repeat, so it was not repeated — read back: "
        '{"total":5}',
    ),
    (
        ActedAfterLeaseLost(2, "m365.add_license_seats", "w-a", "the call returned"),
        SYSTEM,
        2,
        "step 2 (m365.add_license_seats): worker w-a had lost the run when its call returned "
        "(the call returned); it wrote nothing more",
    ),
    (
        SecretErased(1, "not shown before it expired"),
        SYSTEM,
        2,
        "step 1: its temporary secret was erased unshown (not shown before it expired)",
    ),
    (RunCompleted(1), SYSTEM, 2, "run completed: 1 step, all verified"),
    (
        NoteWritten("4711", "c-981", hidden=True),
        SYSTEM,
        2,
        "internal note written on PSA ticket 4711 (comment c-981)",
    ),
    (
        PlanApproved(
            [
                {
                    "approval_id": "7",
                    "position": 1,
                    "action": "m365.reset_password",
                    "payload_hash": "ab",
                },
                {
                    "approval_id": "8",
                    "position": 2,
                    "action": "psa.send_reply",
                    "payload_hash": "cd",
                },
            ],
            "called back 555-0100 on file",
        ),
        DANA,
        2,
        "plan approved whole by dana@msp.example: drafts 7, 8; requester verified: called "
        "back 555-0100 on file",
    ),
    (
        PlanTrimmed(
            approval_id="9",
            position=4,
            action="m365.add_group_member",
            left_out=["g-1"],
            names=["Practice Management App Users"],
            approver="dana@msp.example",
            reason="reception does not use the app",
        ),
        DANA,
        2,
        "Practice Management App Users left out of the plan by dana@msp.example (step 4, draft "
        "9): reception does not use the app; the ticket is planned again without it",
    ),
    (
        UndoProposed(undo_of=2, steps=9, left=3),
        DANA,
        3,
        "undo of plan 2 proposed by dana@msp.example: 9 steps; 3 left for a technician",
    ),
    (
        PsaStatusFollowed("resolved", "Resolved", "set"),
        SYSTEM,
        2,
        'PSA status set to "Resolved" (resolved)',
    ),
    (EscalationTaken("1", None), DANA, None, "escalation 1 taken by dana@msp.example"),
    (
        EscalationAssigned("1", "lee@msp.example", "dana@msp.example"),
        DANA,
        None,
        "escalation 1 given to lee@msp.example by dana@msp.example",
    ),
    (
        EscalationNoted("1", "3", "Calling Alice back", True, ""),
        DANA,
        None,
        'note by dana@msp.example (also on the PSA ticket): "Calling Alice back"',
    ),
    (
        EscalationResumed("1", "called back 555-0100 on file"),
        DANA,
        None,
        "ticket resumed by dana@msp.example: planned again; requester verified: called back "
        "555-0100 on file",
    ),
    (
        EscalationResolved("1", "Reset by hand after the call"),
        DANA,
        None,
        'escalation 1 resolved by dana@msp.example: "Reset by hand after the call"',
    ),
    (
        NoticeQueued("n1", "escalation", "escalation:1", 2),
        SYSTEM,
        None,
        "notification (escalation) about escalation:1 queued for 2 targets",
    ),
    (
        NoticeDelivered("n1", "escalation", "json://127.0.0.1", 1),
        SYSTEM,
        None,
        "notification (escalation) delivered to json://127.0.0.1 (1 attempt)",
    ),
    (
        NoticeGivenUp("n1", "escalation", "json://127.0.0.1", 4, "HTTP 500"),
        SYSTEM,
        None,
        "notification (escalation) to json://127.0.0.1 given up after 4 attempts: HTTP 500",
    ),
    # Account changes belong to no ticket, but the Audit page shows them in words too.
    (
        UserAdded("lee@msp.example", "tech", ["contoso"]),
        SYSTEM,
        None,
        "lee@msp.example given an account as tech by deskhand, for contoso",
    ),
    (
        UserRoleChanged("lee@msp.example", "tech", "approver"),
        SYSTEM,
        None,
        "lee@msp.example's role changed from tech to approver by deskhand",
    ),
    (
        UserTenantsChanged("lee@msp.example", ["contoso"], ["*"]),
        SYSTEM,
        None,
        "lee@msp.example's tenants changed from contoso to every tenant by deskhand",
    ),
    (
        UserPasswordChanged("lee@msp.example", 1, 2),
        SYSTEM,
        None,
        "lee@msp.example's password set anew by deskhand; 1 session ended, 2 API tokens revoked",
    ),
    (
        UserDisabled("lee@msp.example", 1, 0),
        SYSTEM,
        None,
        "lee@msp.example disabled by deskhand; 1 session ended, 0 API tokens revoked",
    ),
    (
        UserEnabled("lee@msp.example"),
        SYSTEM,
        None,
        "lee@msp.example may sign in again (enabled by deskhand)",
    ),
    (
        UserRemoved("lee@msp.example", "approver", ["*"]),
        SYSTEM,
        None,
        "lee@msp.example's account (approver) removed by deskhand",
    ),
    (
        TenantPolicySet("/etc/deskhand/contoso.yaml", "ab" * 32, "stricter replies"),
        Actor(ActorKind.USER, "dana@msp.example"),
        None,
        "dana@msp.example set the tenant's policy to /etc/deskhand/contoso.yaml "
        "(sha256 abababababab): stricter replies",
    ),
    (
        TenantOwnerSet("dana@msp.example", "Dana left"),
        Actor(ActorKind.USER, "lee@msp.example"),
        None,
        "lee@msp.example took over the tenant's policy from dana@msp.example: Dana left",
    ),
    (
        RegressionFlagged(
            "password_reset",
            "rejection_rate",
            "more drafts rejected",
            6,
            10,
            1,
            30,
            3.4,
            "two-proportion z-test",
            "2026-03-11T00:00:00+00:00",
            [1],
        ),
        SYSTEM,
        None,
        "regression flagged for password_reset: more drafts rejected — 6 of 10 since "
        "2026-03-11, against 1 of 30 before",
    ),
    (
        RegressionCleared("password_reset", "rejection_rate", 40, 1, 12, 0.2),
        SYSTEM,
        None,
        "regression of password_reset (rejection_rate) over: 1 of 12 recently, back in line "
        "with before",
    ),
    (
        TenantModeChanged("", "shadow", "live", "its plans matched", 12, 11, 1),
        Actor(ActorKind.USER, "sam@msp.example"),
        None,
        "sam@msp.example moved the tenant from shadow to live: its plans matched (11 of 12 "
        "shadow plans matched)",
    ),
    (
        PlanShadowed("access_change", "Add Tom", [{"description": "Add tom to Finance"}]),
        Actor(ActorKind.SPECIALIST, "access_change"),
        1,
        "shadow: access_change would have planned (nothing drafted or run): Add tom to Finance",
    ),
    (
        ShadowCompared("access_change", "matched", []),
        DANA,
        1,
        "worked by hand by dana@msp.example; deskhand's shadow plan: matched",
    ),
    (
        AutonomyGranted("access_change", "m365.add_group_member", "earned: 25 approvals"),
        SYSTEM,
        1,
        "m365.add_group_member by access_change now runs without approval: earned: 25 approvals",
    ),
    (
        AutonomyRevoked(
            "access_change",
            "m365.add_group_member",
            "rejected",
            "Waits for approval again: a draft of it was rejected.",
        ),
        SYSTEM,
        1,
        "m365.add_group_member by access_change no longer runs on its own. Waits for approval "
        "again: a draft of it was rejected.",
    ),
]


@dataclass(frozen=True)
class Unknown(Event):
    """A type this deskhand does not know, as a newer deskhand might have written."""

    TYPE: ClassVar[str] = "ticket.merged"
    into: int


@dataclass(frozen=True)
class TriagedWithOldFields(Event):
    """A known type whose recorded data no longer fits its class."""

    TYPE: ClassVar[str] = "ticket.triaged"
    label: str


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/d.db")
    database.upgrade()
    with database.session() as session:
        # Flushed one by one: with no relationships declared, nothing orders these inserts.
        session.add(Tenant(id="contoso", name="Contoso Dental", psa_customer_id="c-1"))
        session.flush()
        session.add(Requester(id=1, tenant_id="contoso", email="alice@contoso.example"))
        session.flush()
        for ticket_id, psa_id in ((1, "4711"), (2, "4712")):
            session.add(
                Ticket(
                    id=ticket_id,
                    tenant_id="contoso",
                    requester_id=1,
                    psa_ticket_id=psa_id,
                    subject="Bob is [bold]locked[/bold] out",
                    body="Please help.",
                    status="escalated",
                )
            )
    yield database
    database.dispose()


def record(db: Database, timeline: list[tuple[Event, Actor, int | None, str]]) -> None:
    for event, actor, run_id, _ in timeline:
        with db.session() as session:
            append(session, event, actor=actor, tenant_id="contoso", ticket_id=1, run_id=run_id)


def trace_of(db: Database, ticket_id: int) -> Trace:
    with db.session() as session:
        return trace(session, ticket_id)


def test_the_timeline_covers_every_event_type() -> None:
    assert {type(event).TYPE for event, *_ in TIMELINE} == set(EVENT_TYPES)


def test_every_event_is_a_line_in_order_with_its_actor_and_summary(db: Database) -> None:
    record(db, TIMELINE)
    with db.session() as session:
        append(session, RunQueued("another ticket"), tenant_id="contoso", ticket_id=2)
    result = trace_of(db, 1)
    assert result.ticket.model_dump() == {
        "id": 1,
        "tenant_id": "contoso",
        "psa_ticket_id": "4711",
        "subject": "Bob is [bold]locked[/bold] out",
        "requester": "alice@contoso.example",
        "status": "escalated",
    }
    assert [line.summary for line in result.lines] == [summary for *_, summary in TIMELINE]
    assert [(line.actor.kind, line.actor.name) for line in result.lines] == [
        (actor.kind.value, actor.name) for _, actor, *_ in TIMELINE
    ]
    assert [line.run_id for line in result.lines] == [run_id for _, _, run_id, _ in TIMELINE]
    assert [line.type for line in result.lines] == [type(event).TYPE for event, *_ in TIMELINE]
    assert [line.data for line in result.lines] == [event.data() for event, *_ in TIMELINE]
    ids = [line.event_id for line in result.lines]
    assert ids == sorted(ids)


def test_summaries_cover_the_other_outcomes(db: Database) -> None:
    record(
        db,
        [
            (TicketTriaged(None, 0.31, "classifier"), SYSTEM, 1, ""),
            (EntityResolved("group", "Sales", None, ["Sales", "Sales-EU"]), SYSTEM, 1, ""),
            (EntityResolved("user", "Zed", None), SYSTEM, 1, ""),
            (DraftApproved("12", HASH_A, edited=True), DANA, 1, ""),
            (StepFailed(2, "psa.send_reply", "act", "SMTP refused"), SYSTEM, 1, ""),
            (StepRecovered(2, "psa.send_reply", already_done=False), SYSTEM, 1, ""),
            (NoteWritten("4711", "c-982", hidden=False), SYSTEM, 1, ""),
            (Notified("webhook", ok=True, detail="HTTP 200"), SYSTEM, 1, ""),
            (RunCompleted(3), SYSTEM, 1, ""),
        ],
    )
    assert [line.summary for line in trace_of(db, 1).lines] == [
        "triage: no intent recognised (31% sure, by classifier)",
        'directory: group "Sales" is ambiguous: Sales, Sales-EU',
        'directory: user "Zed" was not found',
        "draft 12 approved by dana@msp.example (edited)",
        "step 2 failed while acting: psa.send_reply — SMTP refused",
        "step 2 re-checked after a restart: psa.send_reply had not taken effect",
        "public note written on PSA ticket 4711 (comment c-982)",
        "escalation announced via webhook: HTTP 200",
        "run completed: 3 steps, all verified",
    ]


def test_events_no_summary_knows_show_their_type_and_data(db: Database) -> None:
    record(
        db,
        [(Unknown(into=9), SYSTEM, None, ""), (TriagedWithOldFields("x" * 300), SYSTEM, 1, "")],
    )
    unknown, old = trace_of(db, 1).lines
    assert unknown.summary == 'ticket.merged {"into":9}'
    assert old.summary.startswith('ticket.triaged {"label":"xxx')
    assert old.summary.endswith("…") and len(old.summary) < 200


def test_a_ticket_with_no_events_has_no_lines(db: Database) -> None:
    assert trace_of(db, 2).lines == []


def test_a_missing_ticket_says_so(db: Database) -> None:
    with pytest.raises(InputError, match=r"^No ticket 42\.") as raised:
        trace_of(db, 42)
    assert raised.value.hint is not None
    assert "ticket id" in raised.value.hint


def test_the_json_form_is_one_document(db: Database) -> None:
    record(db, TIMELINE[:3])
    document = json.loads(json.dumps(trace_of(db, 1).model_dump(mode="json")))
    assert document["ticket"]["psa_ticket_id"] == "4711"
    assert [line["type"] for line in document["lines"]] == [
        "ticket.received",
        "run.queued",
        "run.claimed",
    ]
    assert document["lines"][0]["actor"] == {"kind": "connector", "name": "syncro"}
    assert document["lines"][0]["at"].endswith("Z")


def test_the_timeline_prints_grouped_by_run_with_ticket_text_shown_literally(
    db: Database,
) -> None:
    record(db, TIMELINE)
    console = Console(record=True, width=200)
    render_trace(trace_of(db, 1), console)
    printed = console.export_text()
    assert "Ticket 1 · contoso · PSA ticket 4711 · escalated" in printed
    assert '"Bob is [bold]locked[/bold] out" from alice@contoso.example' in printed
    assert printed.index("ticket") < printed.index("run 1") < printed.index("run 2")
    assert "user:dana@msp.example" in printed
    assert "draft 12 approved by dana@msp.example (edited: the group)" in printed


def test_an_empty_timeline_says_there_is_nothing_yet(db: Database) -> None:
    console = Console(record=True, width=120)
    render_trace(trace_of(db, 2), console)
    assert "No events are recorded for this ticket." in console.export_text()
