"""A leaver's mailbox converted to a shared mailbox: Graph cannot do it, so it is drafted as
exact Exchange admin center instructions that a technician follows and ticks off by approving;
deskhand reads mailboxSettings.userPurpose back and escalates a tick without the conversion.
On SQLite and PostgreSQL, against the sandbox tenant."""

from __future__ import annotations

from sqlalchemy import select
from tests.engine.test_manual_steps import CONTOSO, KAREN, TOM, tick_off, ticket_status

from deskhand.connectors.sandbox.store import SandboxUser
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Escalation, Step

REQUEST = "Tom Becker has moved on. Please convert Tom Becker's mailbox to a shared mailbox."


def planned(rt: Runtime, body: str = REQUEST) -> tuple[int, list[approvals.DraftView]]:
    ticket_id = add_ticket(rt, CONTOSO, KAREN, "Tom Becker's mailbox", body).ticket_id
    assert Worker(rt, "test-worker").run_once() == 1
    return ticket_id, approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id)


def in_exchange(rt: Runtime, upn: str, **values: object) -> None:
    """What happens in Exchange admin center, seen in the sandbox's directory."""
    with rt.sandbox.session() as session:
        user = session.scalars(
            select(SandboxUser).where(SandboxUser.tenant_id == CONTOSO, SandboxUser.upn == upn)
        ).one()
        for name, value in values.items():
            setattr(user, name, value)


def escalation_of(rt: Runtime, ticket_id: int) -> Escalation:
    with rt.db.session() as session:
        return session.scalars(select(Escalation).where(Escalation.ticket_id == ticket_id)).one()


def test_a_conversion_is_drafted_as_a_manual_step_a_human_approves(rt: Runtime) -> None:
    _, drafts = planned(rt)

    manual = drafts[0]
    assert manual.action == "exchange.convert_to_shared_mailbox"
    assert manual.description == (
        f"Exchange admin center → Recipients → Mailboxes → {TOM} → Others → Convert to shared "
        "mailbox → Confirm"
    )
    assert manual.blast_radius == "security"
    assert manual.status == "pending"
    assert [d.action for d in drafts[1:]] == ["psa.send_reply"]  # the internal note is auto


def test_ticking_off_before_converting_is_not_verified_and_escalates(rt: Runtime) -> None:
    ticket_id, drafts = planned(rt)

    tick_off(rt, drafts)

    escalation = escalation_of(rt, ticket_id)
    assert escalation.reason == "verification_failed"
    assert f"the mailbox of {TOM} is still a user mailbox" in escalation.detail
    assert "ticked off before it was converted in Exchange admin center" in escalation.detail
    with rt.db.session() as session:
        first = session.scalars(select(Step).order_by(Step.position)).first()
    assert first is not None and first.status != "verified"
    assert ticket_status(rt, ticket_id) != "resolved"
    calls = rt.sandbox.calls(CONTOSO)
    assert [c.operation for c in calls if c.system == "sandbox-m365"] == []
    assert not any(c.operation == "add_comment" and not c.arguments["hidden"] for c in calls)


def test_converting_then_ticking_off_is_verified_through_graph(rt: Runtime) -> None:
    ticket_id, drafts = planned(rt)

    in_exchange(rt, TOM, mailbox_purpose="shared")
    tick_off(rt, drafts)

    assert ticket_status(rt, ticket_id) == "resolved"
    with rt.db.session() as session:
        steps = session.scalars(select(Step).order_by(Step.position)).all()
        assert {s.status for s in steps} == {"verified"}
        assert steps[0].action == "exchange.convert_to_shared_mailbox"
        assert steps[0].result == {"purpose": "shared"}


def test_a_user_without_a_mailbox_escalates_with_a_plain_message(rt: Runtime) -> None:
    ticket_id, drafts = planned(rt)
    in_exchange(rt, TOM, mail=None)

    tick_off(rt, drafts)

    escalation = escalation_of(rt, ticket_id)
    assert escalation.reason == "execution_failed"
    assert f"{TOM} has no Exchange Online mailbox" in escalation.detail


def test_a_second_person_to_give_access_is_not_guessed_between(rt: Runtime) -> None:
    ticket_id, drafts = planned(rt, REQUEST + " And give Anna Kowalski access to it.")

    assert drafts == []
    escalation = escalation_of(rt, ticket_id)
    assert escalation.reason == "low_confidence"
    assert "more than one user" in escalation.detail
