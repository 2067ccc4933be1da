"""Scheduled plans, step dependencies and changes that take a while to show, through the real
runtime on SQLite and PostgreSQL with the sandbox tenant. Time is injected (``rt.clock``), never
slept: a leaver's plan approved today for a later day runs at that moment and not before, and
what was approved is checked against the directory again just before it runs; a step that fails
stops only the steps that wait for it, and the escalation says what is done and what is not; a
step whose change shows only after a directory sync is read back again, up to its bound."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select
from tests.engine.test_flow import KAREN, approve_all, status, ticket, work
from tests.engine.test_offboarding import sandbox_user, steps_of, with_policy
from tests.engine.test_shared_mailbox_steps import in_exchange

from deskhand.actions import registry
from deskhand.actions.exchange import ConvertToSharedMailbox
from deskhand.actions.registry import Catalogue, discover
from deskhand.connectors.sandbox.store import SandboxUser
from deskhand.domain.notifications import NoticeKind
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.notifications import due as notifications_due
from deskhand.notifications.messages import Links
from deskhand.specialists.access_change import AccessChange
from deskhand.specialists.contract import Plan, PlanContext, TicketView
from deskhand.specialists.offboarding import Offboarding
from deskhand.specialists.password_reset import PasswordReset
from deskhand.specialists.registry import Registry
from deskhand.store.models import Approval, Escalation, EventRecord, Run, Step, now

APPROVER = "dana@msp.example"
CONTOSO = "contoso-dental"
MARCUS = "marcus.lee@contosodental.example"
LATER = "Marcus Lee's last day is 30 December 2026. Please offboard him then."


def escalation_of(rt: Runtime, ticket_id: int) -> Escalation:
    with rt.db.reading() as session:
        found = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket_id)).one()
        session.expunge(found)
        return found


def run_of(rt: Runtime, ticket_id: int) -> Run:
    with rt.db.reading() as session:
        found = session.scalars(select(Run).where(Run.ticket_id == ticket_id)).one()
        session.expunge(found)
        return found


def at(rt: Runtime, moment: datetime) -> None:
    """The clock the worker schedules by now reads ``moment``."""
    rt.clock = lambda: moment


def escalation_note(rt: Runtime, ticket_id: int) -> str:
    """The internal note the escalation wrote on the PSA ticket."""
    with rt.db.reading() as session:
        run = session.scalars(select(Run).where(Run.ticket_id == ticket_id)).one()
        psa_ticket_id = run.ticket.psa_ticket_id
    connectors = rt.connectors(_tenant(rt))
    [note] = [
        c.body
        for c in connectors.psa.list_comments(psa_ticket_id)
        if c.body.startswith("deskhand escalated")
    ]
    return note


def renamed(rt: Runtime, upn: str, new: str) -> None:
    with rt.sandbox.session() as session:
        user = session.scalars(
            select(SandboxUser).where(SandboxUser.tenant_id == CONTOSO, SandboxUser.upn == upn)
        ).one()
        user.upn = new


def _tenant(rt: Runtime):  # type: ignore[no-untyped-def]
    from deskhand.store.models import Tenant

    with rt.db.reading() as session:
        found = session.get(Tenant, CONTOSO)
        session.expunge(found)
        return found


# --- scheduled plans ---------------------------------------------------------------------------


def test_a_leaver_s_plan_is_approved_ahead_and_runs_at_the_end_of_the_last_day(
    rt: Runtime,
) -> None:
    ticket_id = ticket(rt, KAREN, "Offboarding Marcus Lee", LATER)
    work(rt)
    run = run_of(rt, ticket_id)
    due = datetime(2026, 12, 30, 17, 0, tzinfo=UTC)  # the tenant's time zone is UTC
    assert run.not_before == due
    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    assert plan.not_before == due
    assert plan.waits_for[2] == [1] and plan.waits_for[5] == []

    approve_all(rt, ticket_id)
    with rt.db.reading() as session:
        expiries = session.scalars(
            select(Approval.expires_at).join(Step).join(Run).where(Run.ticket_id == ticket_id)
        ).all()
    assert expiries and all(e > due for e in expiries)  # the approval holds until it runs

    at(rt, due - timedelta(minutes=1))
    assert work(rt) == 0  # approved, and not due: nothing runs before the time
    assert sandbox_user(rt, MARCUS).account_enabled is True
    assert {s.status for s in steps_of(rt, ticket_id)} <= {"approved", "ready"}

    in_exchange(rt, MARCUS, mailbox_purpose="shared")
    at(rt, due)
    assert work(rt) == 1
    assert sandbox_user(rt, MARCUS).account_enabled is False
    assert {s.status for s in steps_of(rt, ticket_id)} == {"verified"}


def test_a_scheduled_plan_whose_target_changed_escalates_instead_of_acting(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Offboarding Marcus Lee", LATER)
    work(rt)
    approve_all(rt, ticket_id)
    renamed(rt, MARCUS, "marcus.lee.old@contosodental.example")  # in the directory, meanwhile

    at(rt, datetime(2026, 12, 30, 17, 0, tzinfo=UTC))
    work(rt)
    assert status(rt, ticket_id) == "escalated"
    found = escalation_of(rt, ticket_id)
    assert found.reason == "approval_mismatch"
    assert "the directory changed since it was approved" in found.detail
    assert sandbox_user(rt, "marcus.lee.old@contosodental.example").account_enabled is True
    assert "verified" not in {s.status for s in steps_of(rt, ticket_id)}


def test_a_leaver_leaving_today_is_offboarded_at_once(rt: Runtime) -> None:
    ticket_id = ticket(
        rt, KAREN, "Terminate Marcus Lee's access now", "Marcus Lee has left; offboard him now."
    )
    work(rt)
    assert run_of(rt, ticket_id).not_before is None


def test_the_tenant_s_time_zone_says_when_the_last_day_ends(rt: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = tmp_path / "contoso-policy.yaml"
    policy.write_text(
        "approvers: [approver, admin]\napproval_expiry_hours: 24\ntime_zone: Australia/Sydney\n"
    )
    from deskhand.store.models import Tenant

    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        tenant.policy_path = str(policy)
    ticket_id = ticket(rt, KAREN, "Offboarding Marcus Lee", LATER)
    work(rt)
    # 17:00 in Sydney on 30 December (summer time, UTC+11) is 06:00 UTC
    assert run_of(rt, ticket_id).not_before == datetime(2026, 12, 30, 6, 0, tzinfo=UTC)


# --- dependencies -------------------------------------------------------------------------------

# A tenant whose offboarding is only the block, the sign-out and the shared mailbox: five steps.
MINIMAL = "lifecycle:\n  offboarding:\n" + "".join(
    f"    {name}: false\n"
    for name in (
        "reset_password",
        "remove_mfa",
        "forward_to_manager",
        "files_to_manager",
        "remove_licences",
        "remove_groups",
        "hide_from_address_list",
    )
)


@pytest.fixture
def minimal(rt: Runtime, tmp_path: Path) -> Runtime:
    with_policy(rt, tmp_path, MINIMAL)
    return rt


class MailboxFirst(Offboarding):
    """The mailbox conversion placed first, waiting for nothing; the block and the revocation
    after it wait only for each other: a failed conversion must not stop them."""

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        plan = super().plan(ticket, context)
        block, revoke, convert, *rest = plan.steps
        return plan.model_copy(
            update={
                "steps": (
                    convert,
                    block.model_copy(update={"after": ()}),
                    revoke.model_copy(update={"after": (2,)}),
                    *rest,
                )
            }
        )


def test_a_failed_step_stops_only_the_steps_that_wait_for_it(minimal: Runtime) -> None:
    rt = minimal
    rt.registry = Registry([MailboxFirst(), PasswordReset(), AccessChange()])
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    approve_all(rt, ticket_id)  # the conversion ticked off, but not done in Exchange
    work(rt)

    steps = steps_of(rt, ticket_id)
    assert [s.status for s in steps] == ["failed", "verified", "verified", "cancelled", "cancelled"]
    assert sandbox_user(rt, MARCUS).account_enabled is False  # the block still ran
    assert status(rt, ticket_id) == "escalated"
    found = escalation_of(rt, ticket_id)
    assert found.reason == "verification_failed"
    assert "still a user mailbox" in found.detail
    note = escalation_note(rt, ticket_id)
    assert "- 1. Exchange admin center → Recipients" in note and ": failed: " in note
    assert f"- 2. Block {MARCUS} from signing in to Microsoft 365: done, read back" in note
    assert "- 5. " in note and "not done (it waits for step 1)" in note


def test_without_declared_dependencies_a_failure_stops_everything_after_it(
    minimal: Runtime,
) -> None:
    rt = minimal

    class InOrder(MailboxFirst):
        def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
            plan = super().plan(ticket, context)
            plain = tuple(s.model_copy(update={"after": None}) for s in plan.steps)
            return plan.model_copy(update={"steps": plain})

    rt.registry = Registry([InOrder(), PasswordReset(), AccessChange()])
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    approve_all(rt, ticket_id)
    work(rt)
    assert [s.status for s in steps_of(rt, ticket_id)] == ["failed"] + ["cancelled"] * 4
    assert sandbox_user(rt, MARCUS).account_enabled is True


def test_a_step_that_waits_for_a_later_step_is_an_invalid_plan(minimal: Runtime) -> None:
    rt = minimal

    class Backwards(Offboarding):
        def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
            plan = super().plan(ticket, context)
            first, *rest = plan.steps
            return plan.model_copy(
                update={"steps": (first.model_copy(update={"after": (2,)}), *rest)}
            )

    rt.registry = Registry([Backwards(), PasswordReset(), AccessChange()])
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    found = escalation_of(rt, ticket_id)
    assert found.reason == "plan_invalid"
    assert "step 1 (m365.block_sign_in) waits for step 2, which does not come before it" in (
        found.detail
    )


def test_a_reply_waits_for_every_step_whatever_it_declares(minimal: Runtime) -> None:
    rt = minimal

    class EagerReply(MailboxFirst):
        def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
            plan = super().plan(ticket, context)
            *rest, reply = plan.steps
            return plan.model_copy(
                update={"steps": (*rest, reply.model_copy(update={"after": ()}))}
            )

    rt.registry = Registry([EagerReply(), PasswordReset(), AccessChange()])
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    approve_all(rt, ticket_id)
    work(rt)
    assert steps_of(rt, ticket_id)[-1].status == "cancelled"  # step 1 failed: no reply


# --- changes that take a while to show ----------------------------------------------------------


class SyncedConversion(ConvertToSharedMailbox):
    """A conversion that shows through Graph only after a sync: read back every 5 minutes for
    up to 30."""

    name: ClassVar[str] = "test.convert_after_sync"
    settles_within = timedelta(minutes=30)
    recheck_every = timedelta(minutes=5)


class SlowMailbox(Offboarding):
    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        plan = super().plan(ticket, context)
        steps = tuple(
            s.model_copy(update={"action": SyncedConversion.name})
            if s.action == "exchange.convert_to_shared_mailbox"
            else s
            for s in plan.steps
        )
        return plan.model_copy(update={"steps": steps})


@pytest.fixture
def slow(minimal: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    rt = minimal
    monkeypatch.setattr(
        registry, "_catalogue", Catalogue([*discover().values(), SyncedConversion()])
    )
    rt.registry = Registry([SlowMailbox(), PasswordReset(), AccessChange()])
    yield rt


def _planned_and_approved(rt: Runtime) -> int:
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    approve_all(rt, ticket_id)
    return ticket_id


def test_a_change_that_shows_later_is_read_back_again_until_it_shows(slow: Runtime) -> None:
    rt = slow
    ticket_id = _planned_and_approved(rt)
    start = now()
    at(rt, start)
    work(rt)
    steps = steps_of(rt, ticket_id)
    assert [s.status for s in steps[:3]] == ["verified", "verified", "executing"]
    run = run_of(rt, ticket_id)
    assert run.status == "ready" and run.not_before is not None
    assert timedelta(minutes=4) < run.not_before - start <= timedelta(minutes=5)

    assert work(rt) == 0  # not due yet: nobody reads it back again early
    at(rt, start + timedelta(minutes=6))
    work(rt)  # still not shared: waits again
    assert steps_of(rt, ticket_id)[2].status == "executing"

    in_exchange(rt, MARCUS, mailbox_purpose="shared")  # the sync brought it
    at(rt, start + timedelta(minutes=12))
    work(rt)
    assert [s.status for s in steps_of(rt, ticket_id)] == ["verified"] * 5
    with rt.db.reading() as session:
        waits = session.scalars(
            select(EventRecord).where(
                EventRecord.ticket_id == ticket_id, EventRecord.type == "step.waiting"
            )
        ).all()
    assert len(waits) == 2


def test_a_change_that_never_shows_fails_after_its_bound_and_escalates(slow: Runtime) -> None:
    rt = slow
    ticket_id = _planned_and_approved(rt)
    start = now()
    at(rt, start)
    work(rt)
    at(rt, start + timedelta(minutes=31))
    work(rt)
    steps = steps_of(rt, ticket_id)
    assert [s.status for s in steps] == ["verified", "verified", "failed", "cancelled", "cancelled"]
    found = escalation_of(rt, ticket_id)
    assert found.reason == "verification_failed"
    assert "did not show within 30 minutes" in found.detail


# --- manual steps of a scheduled plan -----------------------------------------------------------


def test_a_scheduled_plan_waits_for_its_manual_steps_and_tells_the_technicians(
    rt: Runtime,
) -> None:
    ticket_id = ticket(rt, KAREN, "Offboarding Marcus Lee", LATER)
    work(rt)
    approve_all(rt, ticket_id)  # Tuesday: approved ahead, the mailbox cannot be converted yet
    due = datetime(2026, 12, 30, 17, 0, tzinfo=UTC)
    at(rt, due)
    work(rt)

    steps = {s.action: s.status for s in steps_of(rt, ticket_id)}
    assert steps["m365.block_sign_in"] == steps["m365.remove_all_groups"] == "verified"
    assert steps["exchange.convert_to_shared_mailbox"] == "executing"  # read back until shown
    assert steps["m365.remove_all_licences"] == "approved"  # waits for it, not cancelled
    assert steps["psa.send_reply"] == "approved"
    assert status(rt, ticket_id) != "escalated"
    with rt.db.reading() as session:
        notices = notifications_due.due(
            session,
            tenants={CONTOSO: "Contoso Dental"},
            moment=due,
            expiry_window=timedelta(minutes=30),
            links=Links(None),
        )
    [manual] = [n for n in notices if n.kind is NoticeKind.MANUAL_STEPS_DUE]
    assert "Convert to shared mailbox" in manual.body and manual.link.startswith("/plans/")

    in_exchange(rt, MARCUS, mailbox_purpose="shared")  # the technician, at 17:03
    at(rt, due + timedelta(minutes=6))
    work(rt)
    assert {s.status for s in steps_of(rt, ticket_id)} == {"verified"}
    # Marcus stays in All Staff, a distribution list Graph cannot change: a technician's
    assert escalation_of(rt, ticket_id).reason == "left_for_technician"


def test_a_manual_step_never_done_fails_after_the_window_and_keeps_the_licences(
    rt: Runtime,
) -> None:
    ticket_id = ticket(rt, KAREN, "Offboarding Marcus Lee", LATER)
    work(rt)
    approve_all(rt, ticket_id)
    due = datetime(2026, 12, 30, 17, 0, tzinfo=UTC)
    at(rt, due)
    work(rt)
    at(rt, due + timedelta(hours=9))  # the eight-hour window has passed
    work(rt)
    steps = {s.action: s.status for s in steps_of(rt, ticket_id)}
    assert steps["exchange.convert_to_shared_mailbox"] == "failed"
    assert steps["m365.remove_all_licences"] == "cancelled"
    assert escalation_of(rt, ticket_id).reason == "verification_failed"


class SlowerConversion(SyncedConversion):
    """The same read-back, bounded at two hours: still waiting when the other gives up."""

    name: ClassVar[str] = "test.convert_after_a_slower_sync"
    settles_within = timedelta(hours=2)


class TwoWaits(SlowMailbox):
    """Two waits side by side: the conversion read back for 30 minutes, and for two hours."""

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        plan = super().plan(ticket, context)
        block, revoke, convert, note, reply = plan.steps
        slower = convert.model_copy(update={"action": SlowerConversion.name})
        last = {"after": None}  # every step before them
        steps = (block, revoke, convert, slower, note.model_copy(update=last), reply)
        return plan.model_copy(update={"steps": steps})


def test_a_step_still_waiting_when_the_run_stops_is_not_left_executing(
    minimal: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = minimal
    monkeypatch.setattr(
        registry,
        "_catalogue",
        Catalogue([*discover().values(), SyncedConversion(), SlowerConversion()]),
    )
    rt.registry = Registry([TwoWaits(), PasswordReset(), AccessChange()])
    ticket_id = _planned_and_approved(rt)
    start = now()
    at(rt, start)
    work(rt)
    assert [s.status for s in steps_of(rt, ticket_id)][2:4] == ["executing", "executing"]

    at(rt, start + timedelta(minutes=31))  # the first gives up; the second could still wait
    work(rt)

    steps = steps_of(rt, ticket_id)
    assert [s.status for s in steps] == [
        "verified",
        "verified",
        "failed",
        "failed",
        "cancelled",
        "cancelled",
    ]
    assert escalation_of(rt, ticket_id).reason == "verification_failed"
    gave_up = steps[3].error or ""
    assert gave_up.startswith("it waited for its change to show from ")
    assert gave_up.endswith(", and gave up when the run stopped")
    note = escalation_note(rt, ticket_id)
    assert "started, not read back" not in note
    assert f"- 4. {steps[3].description}: not done: {gave_up}\n" in note
    assert f"- 3. {steps[2].description}: not done: it did not show within 30 minutes" in note
