"""Nothing a ticket asks for is dropped without a word: a leaver's ticket that asks to block
sign-in, remove the licence, convert the mailbox and forward mail, planned as the conversion
alone, says on the plan, in the internal note and in the client's reply what a technician still
does — and once the conversion has run, the ticket goes to the human queue for the rest instead
of being resolved. Through the real runtime, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from tests.engine.test_flow import KAREN, LISA, approve_all, status, ticket, work
from tests.engine.test_shared_mailbox_steps import in_exchange

from deskhand.domain.asks import asked, left_over
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Escalation, Step

APPROVER = "dana@msp.example"
LEAVER = (
    "Marcus Lee's last day was Friday. Please convert his mailbox to a shared mailbox, block his "
    "sign-in, remove his licence and forward his mail to Sarah."
)


def test_each_ask_is_found_within_its_sentence_and_a_step_that_does_it_covers_it() -> None:
    assert [a.kind for a in asked(LEAVER)] == [
        "block_sign_in",
        "remove_licence",
        "shared_mailbox",
        "forward_mail",
    ]
    assert [a.kind for a in asked("Terminate Dana's access now")] == ["block_sign_in"]
    assert asked("Looking forward to hearing from you. I forgot my password.") == []
    assert asked("Please add Tom to the Finance Share group.") == []
    assert [a.kind for a in asked("New phone. Please reset my MFA")] == ["reset_mfa"]
    done = ["exchange.convert_to_shared_mailbox", "m365.block_sign_in"]
    assert [a.kind for a in left_over(LEAVER, done)] == ["remove_licence", "forward_mail"]


def test_a_plan_that_does_part_of_the_ticket_says_what_a_technician_still_does(
    rt: Runtime,
) -> None:
    ticket_id = ticket(rt, KAREN, "Marcus Lee left", LEAVER)
    work(rt)

    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    assert "exchange.convert_to_shared_mailbox" in [s.action for s in plan.steps]
    assert plan.left == ["block sign-in", "remove the licence", "forward the mail"]
    assert plan.reply is not None
    assert (
        "A technician will also block sign-in, remove the licence and forward the mail for you"
        in plan.reply
    )
    with rt.db.reading() as session:
        note = session.scalars(
            select(Step.params).where(
                Step.run_id == plan.run_id, Step.action == "psa.add_internal_note"
            )
        ).one()
    assert "Left for a technician (deskhand does not do these):\n- block sign-in" in note["body"]

    in_exchange(rt, "marcus.lee@contosodental.example", mailbox_purpose="shared")
    approve_all(rt, ticket_id)  # the conversion, a manual step, done and ticked off
    work(rt)

    assert status(rt, ticket_id) == "escalated"
    with rt.db.reading() as session:
        escalation = session.scalars(
            select(Escalation).where(Escalation.ticket_id == ticket_id)
        ).one()
        assert escalation.reason == "left_for_technician"
        assert escalation.detail == (
            "Left for a technician: block sign-in, remove the licence and forward the mail."
        )


def test_a_plan_that_does_everything_asked_is_resolved_as_before(rt: Runtime) -> None:
    ticket_id = ticket(rt, LISA, "Password", "I forgot my password, please reset it")
    work(rt)
    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    assert plan.left == []
    approve_all(rt, ticket_id)
    work(rt)
    assert status(rt, ticket_id) == "resolved"
