"""The engine frames every client reply of a plan in the tenant's template, greeting the
requester by the directory's name for them; a specialist writes only the body."""

from __future__ import annotations

from tests.specialists.test_builtin import KAREN, context

from deskhand.domain.directory import DirectoryUser
from deskhand.engine.binding import TicketRef
from deskhand.engine.planning import PlanInputs, make_plan
from deskhand.engine.replies import first_name, with_replies_framed, with_reply_text
from deskhand.specialists.contract import Plan, ProposedStep
from deskhand.specialists.password_reset import PasswordReset
from deskhand.testing.samples import TICKET

TEMPLATE = "Dear {{ first_name }},\n\n{{ body }}\n\n{{ msp }}, for {{ tenant }}"


def test_the_first_name_is_the_directory_s() -> None:
    assert first_name(KAREN) == "Karen"
    smith = DirectoryUser(id="u-1", user_principal_name="j@x.example", display_name="Smith, John")
    assert first_name(smith) == "John"
    assert first_name(None) == "there"  # not in the directory: the ticket's name is not used


def test_only_the_replies_of_a_plan_are_framed() -> None:
    note = ProposedStep(action="psa.add_internal_note", params={"body": "n"}, reason="r")
    reply = ProposedStep(
        action="psa.send_reply", params={"to": "a@x.example", "body": "Done."}, reason="r"
    )
    plan = Plan(summary="s", steps=(note, reply))
    framed = with_replies_framed(plan, context("password_reset"), TEMPLATE)
    assert framed.steps[0] == note
    assert framed.steps[1].params == {
        "to": "a@x.example",
        "body": "Dear Karen,\n\nDone.\n\nyour IT team, for Contoso Dental",
    }


def test_a_plan_s_reply_is_framed_once_with_the_llm_s_text_as_its_body() -> None:
    inputs = PlanInputs(
        ticket=TICKET,
        context=context("password_reset", requester=None),
        llm_reply="  Your password was reset.  ",
        llm_proposer="test-llm",
        reply_template=TEMPLATE,
    )
    ticket = TicketRef(TICKET.psa_ticket_id, TICKET.requester_email, None)
    plan = make_plan(PasswordReset(), inputs, None, ticket)
    body = plan.steps[-1].params["body"]
    assert body == "Dear there,\n\nYour password was reset.\n\nyour IT team, for Contoso Dental"
    assert "proposed by the LLM (test-llm)" in plan.steps[-1].reason
    assert with_reply_text(plan, "   ", "x") == plan  # no text, no change


def test_a_run_planned_before_the_engine_framed_replies_keeps_its_template() -> None:
    stored = PlanInputs(ticket=TICKET, context=context("password_reset")).model_dump(mode="json")
    stored["context"]["reply_template"] = TEMPLATE
    del stored["reply_template"]
    assert PlanInputs.model_validate(stored).reply_template == TEMPLATE
