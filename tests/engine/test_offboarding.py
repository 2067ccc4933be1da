"""Offboarding a leaver now, through the real runtime on SQLite and PostgreSQL: "Please
offboard Marcus" no longer escalates as no specialist. Sign-in is blocked first (in AD for a
synced user, never through Graph), every session revoked, the mailbox kept as a shared mailbox
(a manual step, read back); what deskhand does not do yet — the licences after the conversion,
the groups, forwarding — is left for a technician on the plan, in the note and the reply, and
the ticket goes to the human queue for it. A leaver whose last day is later is scheduled
(tests/engine/test_schedules.py)."""

from __future__ import annotations

from sqlalchemy import select
from tests.engine.test_flow import KAREN, approve_all, status, ticket, work
from tests.engine.test_shared_mailbox_steps import in_exchange

from deskhand.connectors.sandbox.store import SandboxUser
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Escalation

APPROVER = "dana@msp.example"
CONTOSO = "contoso-dental"


def sandbox_user(rt: Runtime, upn: str) -> SandboxUser:
    with rt.sandbox.session() as session:
        user = session.scalars(
            select(SandboxUser).where(SandboxUser.tenant_id == CONTOSO, SandboxUser.upn == upn)
        ).one()
        session.expunge(user)
        return user


def escalation_of(rt: Runtime, ticket_id: int) -> Escalation:
    with rt.db.reading() as session:
        found = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket_id)).one()
        session.expunge(found)
        return found


def test_a_cloud_leaver_is_blocked_first_and_the_rest_is_named_for_a_technician(
    rt: Runtime,
) -> None:
    marcus = "marcus.lee@contosodental.example"
    ticket_id = ticket(
        rt,
        KAREN,
        "Please offboard Marcus Lee",
        "Marcus Lee has left the company. Please offboard him and forward his mail to me.",
    )
    work(rt)

    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    assert plan.specialist == "offboarding"
    assert [s.action for s in plan.steps] == [
        "m365.block_sign_in",
        "m365.revoke_sessions",
        "exchange.convert_to_shared_mailbox",
        "psa.add_internal_note",
        "psa.send_reply",
    ]
    assert plan.left == [
        "remove the licences once the mailbox is verified as shared",
        "remove the group memberships",
        "forward the mail",
    ]
    assert plan.reply is not None and "A technician will also remove the licences" in plan.reply

    in_exchange(rt, marcus, mailbox_purpose="shared")  # the manual step, done
    approve_all(rt, ticket_id)
    work(rt)

    assert sandbox_user(rt, marcus).account_enabled is False
    assert status(rt, ticket_id) == "escalated"
    escalation = escalation_of(rt, ticket_id)
    assert escalation.reason == "left_for_technician"
    assert "remove the group memberships" in escalation.detail


def test_a_synced_leaver_is_disabled_in_active_directory_not_through_graph(rt: Runtime) -> None:
    ticket_id = ticket(
        rt, KAREN, "Leaver: Tom Becker", "Tom Becker has left the company, please offboard him."
    )
    work(rt)
    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    actions = [s.action for s in plan.steps]
    assert actions[:2] == ["ad.disable_account", "m365.revoke_sessions"]
    assert "m365.block_sign_in" not in actions
