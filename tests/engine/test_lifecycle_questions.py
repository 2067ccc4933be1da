"""What a lifecycle ticket leaves out or says two ways becomes one question to the requester,
not a guess and not a technician's phone call: which day, who takes over, the starter's name,
what access they need. The question is a reply a technician approves; the requester's answer
plans the ticket again. Through the real runtime on SQLite and PostgreSQL with the sandbox
tenant."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from tests.engine.test_flow import KAREN, approve_all, drafts, escalation, status, ticket, work
from tests.engine.test_offboarding import the_plan

from deskhand.engine.runtime import Runtime
from deskhand.intake.answers import receive_reply
from deskhand.store.models import Run

JAKE = "jake.morrison@contosodental.example"
PRIYA = "priya.raman@contosodental.example"  # Marcus's manager


def asked(rt: Runtime, ticket_id: int) -> str:
    """The one question the ticket's plan is, approved and sent: its text."""
    [question] = [d for d in drafts(rt, ticket_id) if d.status == "pending"]
    assert question.action == "psa.send_reply"
    assert question.proposed_params["to"] == KAREN
    approve_all(rt, ticket_id)
    work(rt)
    assert status(rt, ticket_id) == "waiting_on_requester"
    return str(question.proposed_params["body"])


def answered(rt: Runtime, ticket_id: int, text: str) -> None:
    receive_reply(rt, ticket_id, KAREN, text)
    work(rt)


def last_run(rt: Runtime, ticket_id: int) -> Run:
    with rt.db.reading() as session:
        run = session.scalars(
            select(Run).where(Run.ticket_id == ticket_id).order_by(Run.id.desc()).limit(1)
        ).one()
        session.expunge(run)
        return run


def test_a_leaver_ticket_naming_two_days_asks_which_and_the_answer_schedules_it(
    rt: Runtime,
) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "Offboarding Marcus Lee",
        "Marcus Lee leaves us. His last day is 18 December 2026 or maybe 21 December 2026, "
        "please offboard him then.",
    )
    work(rt)
    question = asked(rt, ticket_id)
    assert "Which day is Marcus Lee's last day: Friday 18 December 2026 or Monday 21 " in question
    answered(rt, ticket_id, "It is 21 December, thanks.")
    plan = the_plan(rt, ticket_id)
    assert plan.specialist == "offboarding"
    assert plan.not_before == datetime(2026, 12, 21, 17, 0, tzinfo=UTC)


def test_a_scheduled_leaver_s_unknown_colleague_is_asked_for_and_takes_over(
    rt: Runtime,
) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "Offboarding Marcus Lee",
        "Marcus Lee's last day is 30 December 2026. Please offboard him then and forward his "
        "mail to Tina.",
    )
    work(rt)
    question = asked(rt, ticket_id)
    assert "Who should take over Marcus Lee's mail and files?" in question
    assert "nobody called Tina" in question
    answered(rt, ticket_id, f"Sorry, Tina is on leave. Please use {JAKE} instead.")
    plan = the_plan(rt, ticket_id)
    forward = next(s for s in plan.steps if s.action == "m365.forward_mail")
    assert f"to {JAKE}" in forward.description
    assert not any(PRIYA in s.description for s in plan.steps)  # not the manager instead
    assert not any("Tina" in line for line in plan.left)


def test_a_ticket_naming_two_possible_leavers_asks_which_one(rt: Runtime) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "Offboarding",
        "Marcus Lee and Jake Morrison: one of them leaves on 30 December 2026, I forget which. "
        "Please offboard them.",
    )
    work(rt)
    question = asked(rt, ticket_id)
    assert "Which of these people is leaving?" in question
    assert "Marcus Lee" in question and "Jake Morrison" in question
    answered(rt, ticket_id, "Marcus Lee.")
    plan = the_plan(rt, ticket_id)
    assert plan.specialist == "offboarding"
    assert "marcus.lee@contosodental.example" in plan.steps[0].description


def test_a_starter_ticket_without_a_name_asks_for_it_and_the_answer_names_the_account(
    rt: Runtime,
) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "New starter Monday",
        "We have a new starter, please set them up with the same access as Jake Morrison.",
    )
    work(rt)
    question = asked(rt, ticket_id)
    assert "What is the new starter's first and last name" in question
    answered(rt, ticket_id, "Jane Doe.\n\nThanks, Karen")
    plan = the_plan(rt, ticket_id)
    assert "Jane Doe (jane.doe@contosodental.example)" in plan.steps[0].description


def test_a_starter_ticket_naming_no_access_asks_whose_to_copy(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "New starter", "New starter: Jane Doe joins us today.")
    work(rt)
    question = asked(rt, ticket_id)
    assert "Whose access should Jane Doe get?" in question
    answered(rt, ticket_id, "Same as Jake Morrison please")
    plan = the_plan(rt, ticket_id)
    assert plan.specialist == "onboarding"
    groups = [s.description for s in plan.steps if s.action == "m365.add_group_member"]
    assert len(groups) == 2  # Jake's groups, as in tests/engine/test_onboarding.py


def test_a_question_answered_twice_without_settling_it_goes_to_a_technician(
    rt: Runtime,
) -> None:
    ticket_id = ticket(rt, KAREN, "New starter", "New starter: Jane Doe joins us today.")
    work(rt)
    asked(rt, ticket_id)
    answered(rt, ticket_id, "Not sure yet.")
    asked(rt, ticket_id)
    answered(rt, ticket_id, "Still not sure, sorry.")
    assert status(rt, ticket_id) == "escalated"
    found = escalation(rt, ticket_id)
    assert found.reason == "needs_human"
    assert "Whose access should Jane Doe get?" in found.detail
    assert "answered 2 questions already" in found.detail
    assert last_run(rt, ticket_id).status == "escalated"
