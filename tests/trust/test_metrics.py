"""The trust figures, computed from the event log alone: how drafts ended, how fast they were
approved, what escalated and what failed — per ISO week, specialist and tenant. Every test runs
on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, update

from deskhand.demo import SAMPLE_TICKETS
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.errors import InputError
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Approval, now
from deskhand.trust.metrics import (
    NO_SPECIALIST,
    Decisions,
    Executions,
    Row,
    TrustReport,
    TrustScope,
    trust_report,
    week_label,
)
from tests.trust.conftest import History

TODAY = date(2026, 3, 18)  # a Wednesday of ISO week 2026-W12
MONDAY = datetime(2026, 3, 16, tzinfo=UTC)  # 00:00 UTC, when 2026-W12 starts
CONTOSO = "contoso-dental"
NORTHWIND = "northwind-law"
APPROVER = "dana@msp.example"


def report(rt: Runtime, **scope: Any) -> TrustReport:
    scope.setdefault("today", TODAY)
    with rt.db.reading() as session:
        return trust_report(session, TrustScope(**scope))


def row(rows: tuple[Row, ...], **key: Any) -> Row:
    found = [r for r in rows if all(getattr(r, k) == v for k, v in key.items())]
    assert len(found) == 1, f"{key}: {found}"
    return found[0]


def test_weeks_are_iso_weeks_starting_monday_midnight_utc(rt: Runtime, history: History) -> None:
    # Sunday 23:59:59 UTC is still last week; Monday 00:00:00 UTC is this week.
    history.plan(MONDAY - timedelta(days=2), 1, CONTOSO, "password_reset")
    history.draft(MONDAY - timedelta(hours=1), 1, 11, CONTOSO)
    history.approve(MONDAY - timedelta(seconds=1), 1, 11, CONTOSO)
    history.plan(MONDAY - timedelta(minutes=10), 2, CONTOSO, "password_reset")
    history.draft(MONDAY - timedelta(minutes=10), 2, 21, CONTOSO)
    history.approve(MONDAY, 2, 21, CONTOSO)
    # 01:30 on Monday in UTC+2 is 23:30 on Sunday in UTC: last week.
    east = timezone(timedelta(hours=2))
    history.plan(MONDAY - timedelta(hours=3), 3, CONTOSO, "password_reset")
    history.draft(MONDAY - timedelta(hours=3), 3, 31, CONTOSO)
    history.approve(datetime(2026, 3, 16, 1, 30, tzinfo=east), 3, 31, CONTOSO)
    # Two weeks back: outside a two-week window.
    history.plan(MONDAY - timedelta(days=10), 4, CONTOSO, "password_reset")
    history.draft(MONDAY - timedelta(days=10), 4, 41, CONTOSO)
    history.approve(MONDAY - timedelta(days=10), 4, 41, CONTOSO)

    two = report(rt, weeks=2)
    assert two.weeks == (date(2026, 3, 9), date(2026, 3, 16))
    assert [week_label(w) for w in two.weeks] == ["2026-W11", "2026-W12"]
    assert [r.figures.decisions.unchanged for r in two.by_week] == [2, 1]
    assert two.this_week.decisions.unchanged == 1
    assert two.total.decisions.unchanged == 3
    three = report(rt, weeks=3)
    assert [r.figures.decisions.unchanged for r in three.by_week] == [1, 2, 1]
    assert week_label(date(2025, 12, 29)) == "2026-W01"  # ISO years start on a Monday


def test_each_way_a_draft_ends_is_counted_per_specialist_and_tenant(
    rt: Runtime, history: History
) -> None:
    t = MONDAY + timedelta(hours=9)
    history.plan(t, 10, CONTOSO, "password_reset")
    for step in (101, 102):
        history.draft(t, 10, step, CONTOSO)
    history.approve(t + timedelta(minutes=1), 10, 101, CONTOSO)
    history.approve(t + timedelta(minutes=2), 10, 102, CONTOSO, edited=True)
    history.verified(t + timedelta(minutes=3), 10, 101, CONTOSO)
    history.plan(t, 11, CONTOSO, "access_change")
    history.draft(t, 11, 111, CONTOSO)
    history.reject(t + timedelta(minutes=5), 11, 111, CONTOSO)
    history.escalate(t + timedelta(minutes=5), 11, CONTOSO, "approval_rejected")
    history.plan(t, 12, NORTHWIND, "password_reset")
    history.draft(t, 12, 121, NORTHWIND)
    history.expire(t + timedelta(days=1), 12, 121, NORTHWIND)
    history.escalate(t + timedelta(days=1), 12, NORTHWIND, "approval_expired")
    # Approved, then the approval ran out before the step started: it counts as approved.
    history.plan(t, 13, NORTHWIND, "password_reset")
    history.draft(t, 13, 131, NORTHWIND)
    history.approve(t + timedelta(minutes=4), 13, 131, NORTHWIND)
    history.expire(t + timedelta(days=1), 13, 131, NORTHWIND)
    history.escalate(t + timedelta(days=1), 13, NORTHWIND, "approval_expired")
    # Escalated before any specialist planned anything.
    history.escalate(t, 14, CONTOSO, "identity_unverified")

    figures = report(rt)
    assert figures.total.decisions == Decisions(unchanged=2, edited=1, rejected=1, expired=1)
    assert figures.total.decisions.unchanged_rate == pytest.approx(0.4)
    assert figures.total.escalations == {
        "approval_expired": 2,
        "approval_rejected": 1,
        "identity_unverified": 1,
    }
    assert figures.escalation_reasons == (
        "approval_expired",
        "approval_rejected",
        "identity_unverified",
    )
    assert figures.specialists == ("(no plan)", "access_change", "password_reset")
    assert figures.tenants == (CONTOSO, NORTHWIND)

    pairs = figures.by_specialist_tenant
    reset_contoso = row(pairs, specialist="password_reset", tenant_id=CONTOSO).figures
    assert reset_contoso.decisions == Decisions(unchanged=1, edited=1)
    assert reset_contoso.decisions.unchanged_rate == 0.5
    assert reset_contoso.executions == Executions(verified=1)
    access = row(pairs, specialist="access_change", tenant_id=CONTOSO).figures
    assert access.decisions == Decisions(rejected=1)
    assert access.decisions.unchanged_rate == 0.0
    assert access.escalations == {"approval_rejected": 1}
    reset_northwind = row(pairs, specialist="password_reset", tenant_id=NORTHWIND).figures
    assert reset_northwind.decisions == Decisions(unchanged=1, expired=1)
    assert reset_northwind.escalations == {"approval_expired": 2}
    unplanned = row(pairs, specialist=NO_SPECIALIST, tenant_id=CONTOSO).figures
    assert unplanned.decisions == Decisions()
    assert unplanned.decisions.unchanged_rate is None
    assert unplanned.escalations == {"identity_unverified": 1}

    this_week = date(2026, 3, 16)
    by_specialist = figures.by_week_specialist
    assert row(by_specialist, week=this_week, specialist="password_reset").figures.decisions == (
        Decisions(unchanged=2, edited=1, expired=1)
    )
    by_tenant = figures.by_week_tenant
    assert row(by_tenant, week=this_week, tenant_id=CONTOSO).figures.decisions == Decisions(
        unchanged=1, edited=1, rejected=1
    )
    assert len(figures.cells) == 4  # (week, tenant, specialist) with anything in them


def test_median_time_to_approve_runs_from_draft_to_approval(rt: Runtime, history: History) -> None:
    t = MONDAY + timedelta(days=1)
    for run, seconds in ((20, 60), (21, 180), (22, 600)):
        history.plan(t, run, CONTOSO, "password_reset")
        history.draft(t, run, run * 10, CONTOSO)
        history.approve(t + timedelta(seconds=seconds), run, run * 10, CONTOSO, edited=run == 22)
    for run, seconds in ((30, 100), (31, 300)):
        history.plan(t, run, NORTHWIND, "access_change")
        history.draft(t, run, run * 10, NORTHWIND)
        history.approve(t + timedelta(seconds=seconds), run, run * 10, NORTHWIND)
    # A rejection is not an approval: its 5 seconds are in no median.
    history.plan(t, 32, NORTHWIND, "access_change")
    history.draft(t, 32, 320, NORTHWIND)
    history.reject(t + timedelta(seconds=5), 32, 320, NORTHWIND)
    # Last week: one slow approval.
    earlier = t - timedelta(weeks=1)
    history.plan(earlier, 40, NORTHWIND, "access_change")
    history.draft(earlier, 40, 400, NORTHWIND)
    history.approve(earlier + timedelta(seconds=1000), 40, 400, NORTHWIND)

    figures = report(rt, weeks=2)
    assert figures.this_week.median_seconds_to_approve == 180.0  # 60 100 [180] 300 600
    assert figures.this_week.approvals_timed == 5
    assert figures.by_week[0].figures.median_seconds_to_approve == 1000.0
    assert figures.total.median_seconds_to_approve == 240.0  # (180 + 300) / 2
    pairs = figures.by_specialist_tenant
    assert row(pairs, specialist="password_reset").figures.median_seconds_to_approve == 180.0
    assert row(pairs, specialist="access_change").figures.median_seconds_to_approve == 300.0
    week = date(2026, 3, 16)
    by_tenant = figures.by_week_tenant
    assert row(by_tenant, week=week, tenant_id=NORTHWIND).figures.median_seconds_to_approve == (
        200.0
    )


def test_executions_failed_or_unverified(rt: Runtime, history: History) -> None:
    t = MONDAY + timedelta(hours=2)
    history.plan(t, 50, CONTOSO, "access_change")
    history.verified(t, 50, 501, CONTOSO)
    history.verified(t, 50, 502, CONTOSO)
    history.failed(t, 50, 503, CONTOSO, "act")
    history.failed(t, 50, 504, CONTOSO, "check")
    history.refused(t, 50, 505, CONTOSO)
    history.failed(t, 50, 506, CONTOSO, "verify")

    executions = report(rt).total.executions
    assert executions == Executions(verified=2, failed=3, unverified=1)
    assert executions.failed_or_unverified == 4
    assert executions.total == 6


def test_scope_narrows_tenants_and_specialists(rt: Runtime, history: History) -> None:
    t = MONDAY + timedelta(hours=3)
    for run, tenant, specialist in (
        (60, CONTOSO, "password_reset"),
        (61, CONTOSO, "access_change"),
        (62, NORTHWIND, "password_reset"),
    ):
        history.plan(t, run, tenant, specialist)
        history.draft(t, run, run * 10, tenant)
        history.approve(t, run, run * 10, tenant)
    history.escalate(t, 63, NORTHWIND, "no_specialist")

    northwind = report(rt, tenants=(NORTHWIND,))
    assert northwind.tenants == (NORTHWIND,)
    assert northwind.total.decisions.unchanged == 1
    assert northwind.total.escalations == {"no_specialist": 1}
    assert report(rt, tenants=()).empty
    assert report(rt, tenants=("no-such-tenant",)).empty
    both = report(rt, tenants=(CONTOSO, NORTHWIND))
    assert both.total.decisions.unchanged == 3
    resets = report(rt, specialist="password_reset")
    assert resets.specialists == ("password_reset",)
    assert resets.total.decisions.unchanged == 2
    assert resets.total.escalated == 0
    unplanned = report(rt, specialist=NO_SPECIALIST)
    assert unplanned.total.decisions.total == 0
    assert unplanned.total.escalations == {"no_specialist": 1}
    assert report(rt, tenants=(CONTOSO,), specialist="access_change").total.decisions == (
        Decisions(unchanged=1)
    )


def test_the_window_is_1_to_104_weeks() -> None:
    with pytest.raises(InputError, match="1 to 104 weeks, not 105"):
        TrustScope(weeks=105)
    with pytest.raises(InputError, match="not 0"):
        TrustScope(weeks=0)
    assert len(TrustScope(weeks=104, today=TODAY).week_starts()) == 104
    assert TrustScope(today=TODAY).week_starts()[0] == date(2025, 12, 29)  # 12 weeks


def _sample(rt: Runtime, subject: str) -> int:
    """One of the demo's sample tickets (all of Contoso Dental), opened anew."""
    [(tenant, sender, body)] = [(t, f, b) for t, f, s, b in SAMPLE_TICKETS if s == subject]
    return add_ticket(rt, tenant, sender, subject, body).ticket_id


def _drafts(rt: Runtime, ticket_id: int) -> list[approvals.DraftView]:
    return approvals.list_drafts(rt, None, ticket_id=ticket_id)


def test_figures_of_drafts_decided_through_the_engine_come_from_the_log_alone(
    rt: Runtime,
) -> None:
    reset = _sample(rt, "Forgot my password")
    access = _sample(rt, "Finance share access for Tom")
    licence = _sample(rt, "Business Premium licence")
    _sample(rt, "Password reset for Dr. Raman")  # the requester is not verified: escalated
    northwind = add_ticket(
        rt,
        NORTHWIND,
        "grace.liu@northwindlaw.example",
        "Forgot my password",
        "I forgot my password and cannot sign in. Can you reset it? Grace",
    ).ticket_id
    worker = Worker(rt, "test-worker")
    worker.run_once()

    for draft in _drafts(rt, reset):
        approvals.approve(rt, draft.id, APPROVER)
    member, reply = sorted(_drafts(rt, access), key=lambda d: d.step_position)
    approvals.approve(rt, member.id, APPROVER)
    approvals.approve(rt, reply.id, APPROVER, edit={"body": "Hi Karen, Tom is in the group now."})
    seats = min(_drafts(rt, licence), key=lambda d: d.step_position)
    approvals.reject(rt, seats.id, APPROVER, "We buy seats through the distributor.")
    with rt.db.session() as session:
        session.execute(
            update(Approval)
            .where(Approval.tenant_id == NORTHWIND)
            .values(expires_at=now() - timedelta(minutes=1))
        )
    assert len(_drafts(rt, northwind)) == 3
    worker.expire_drafts()
    worker.run_once()  # executes the approved runs

    statements: list[str] = []

    def seen(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's transaction control, no query
            statements.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", seen)
    try:
        figures = report(rt, today=None)
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", seen)
    assert statements, "the figures are read from the database"
    for statement in statements:
        assert "events" in statement
        assert not re.search(r"\b(approvals|steps|runs|tickets|escalations)\b", statement)

    pairs = figures.by_specialist_tenant
    resets = row(pairs, specialist="password_reset", tenant_id=CONTOSO).figures
    assert resets.decisions == Decisions(unchanged=3)
    assert resets.executions == Executions(verified=4)  # three approved steps and a note
    assert resets.approvals_timed == 3
    assert resets.median_seconds_to_approve is not None
    assert resets.median_seconds_to_approve >= 0
    changes = row(pairs, specialist="access_change", tenant_id=CONTOSO).figures
    assert changes.decisions == Decisions(unchanged=1, edited=1, rejected=1)
    assert changes.escalations == {"approval_rejected": 1}
    assert changes.executions == Executions(verified=3)
    expired = row(pairs, specialist="password_reset", tenant_id=NORTHWIND).figures
    assert expired.decisions == Decisions(expired=1)
    assert expired.escalations == {"approval_expired": 1}
    unplanned = row(pairs, specialist=NO_SPECIALIST, tenant_id=CONTOSO).figures
    assert unplanned.escalations == {"identity_unverified": 1}
    assert figures.this_week.decisions == Decisions(unchanged=4, edited=1, rejected=1, expired=1)
    assert figures.this_week.approvals_timed == 5
