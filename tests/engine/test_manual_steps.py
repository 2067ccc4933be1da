"""Manual steps: what Graph cannot change (a distribution list) is drafted as exact
instructions that a technician follows and then ticks off by approving; deskhand reads the
result back through Graph and escalates a tick without the change. On SQLite and PostgreSQL,
against the sandbox tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.connectors.sandbox.store import SandboxGroup, SandboxGroupMember, SandboxUser
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Escalation, Step, Ticket

CONTOSO = "contoso-dental"
APPROVER = "dana@msp.example"
KAREN = "karen.whitfield@contosodental.example"  # office manager, authorised contact
TOM = "tom.becker@contosodental.example"
REQUEST = "Please add Tom Becker to the All Staff group."


def planned(rt: Runtime) -> tuple[int, list[approvals.DraftView]]:
    """Tom, who left the list by mistake, is asked back onto it; the plan is drafted."""
    with rt.sandbox.session() as session:
        member = _membership(session, TOM, "All Staff")
        session.delete(session.get_one(SandboxGroupMember, (CONTOSO, member[1], member[0])))
    ticket_id = add_ticket(rt, CONTOSO, KAREN, "Distribution list", REQUEST).ticket_id
    assert Worker(rt, "test-worker").run_once() == 1
    return ticket_id, approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id)


def tick_off(rt: Runtime, drafts: list[approvals.DraftView]) -> None:
    for draft in drafts:
        approvals.approve(rt, draft.id, APPROVER)
    Worker(rt, "test-worker").run_once()


def _membership(session: Session, upn: str, group_name: str) -> tuple[str, str]:
    """The sandbox ids of the user and the group."""
    user = session.scalars(
        select(SandboxUser).where(SandboxUser.tenant_id == CONTOSO, SandboxUser.upn == upn)
    ).one()
    group = session.scalars(
        select(SandboxGroup).where(
            SandboxGroup.tenant_id == CONTOSO, SandboxGroup.display_name == group_name
        )
    ).one()
    return user.id, group.id


def add_in_exchange(rt: Runtime, upn: str, group_name: str) -> None:
    """What the technician does in Exchange admin center, seen in the sandbox's directory."""
    with rt.sandbox.session() as session:
        user_id, group_id = _membership(session, upn, group_name)
        session.add(SandboxGroupMember(tenant_id=CONTOSO, group_id=group_id, user_id=user_id))


def ticket_status(rt: Runtime, ticket_id: int) -> str:
    with rt.db.session() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found.status


def test_a_distribution_list_change_is_drafted_as_a_manual_step(rt: Runtime) -> None:
    _, drafts = planned(rt)

    manual = drafts[0]
    assert manual.action == "exchange.add_distribution_list_member"
    assert manual.description == (
        "Exchange admin center → Recipients → Groups → Distribution list → All Staff → "
        f"Members → Add member → {TOM} → Save"
    )
    assert "then approve to tick it off" in manual.reason
    assert manual.status == "pending"


def test_ticking_off_before_doing_it_is_not_verified_and_escalates(rt: Runtime) -> None:
    ticket_id, drafts = planned(rt)

    tick_off(rt, drafts)

    with rt.db.session() as session:
        escalation = session.scalars(
            select(Escalation).where(Escalation.ticket_id == ticket_id)
        ).one()
        first = session.scalars(select(Step).order_by(Step.position)).first()
    assert escalation.reason == "verification_failed"
    assert "ticked off before it was done in Exchange admin center" in escalation.detail
    assert first is not None and first.status != "verified"
    assert ticket_status(rt, ticket_id) != "resolved"
    assert [c.operation for c in rt.sandbox.calls(CONTOSO, "add_group_member")] == []


def test_doing_it_then_ticking_off_is_verified_through_graph(rt: Runtime) -> None:
    ticket_id, drafts = planned(rt)

    add_in_exchange(rt, TOM, "All Staff")
    tick_off(rt, drafts)

    assert ticket_status(rt, ticket_id) == "resolved"
    with rt.db.session() as session:
        steps = session.scalars(select(Step).order_by(Step.position)).all()
        assert {s.status for s in steps} == {"verified"}
        assert steps[0].action == "exchange.add_distribution_list_member"
