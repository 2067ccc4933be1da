"""The plan card's "Leave out" control: on each step that gives a group or a licence, for an
approver only; leaving one out (the reason optional: "left out by" the approver) closes the plan
and the card says the ticket is being planned again without it; a refusal stays on the card."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from tests.web.conftest import sign_in
from tests.web.test_plans_page import card

DANA = "dana@msp.example"


def group_plan(web_rt: Runtime) -> tuple[approvals.PlanView, approvals.PlanStepView]:
    """The demo's waiting plan that adds a user to a group, and its group step."""
    [plan] = [
        p
        for p in approvals.list_plans(web_rt, DANA)
        if p.steps[0].action == "m365.add_group_member" and len(p.steps) == 3
    ]
    return plan, plan.steps[0]


def test_only_a_step_that_gives_a_group_has_the_control_and_only_for_an_approver(
    app_client: TestClient, web_rt: Runtime
) -> None:
    plan, step = group_plan(web_rt)
    sign_in(app_client, DANA)
    shown = card(app_client.get("/plans").text, plan.run_id)
    assert re.findall(r'hx-post="/drafts/(\d+)/leave-out"', shown) == [str(step.approval_id)]
    assert f"Leave out {step.gives[0]}" in shown

    sign_in(app_client, "lee@msp.example")  # a tech: sees the plan, decides nothing
    assert "leave-out" not in card(app_client.get("/plans").text, plan.run_id)


def test_leaving_a_group_out_closes_the_card_and_says_the_ticket_is_planned_again(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    plan, step = group_plan(web_rt)
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}

    answer = client.post(
        f"/drafts/{step.approval_id}/leave-out", headers=headers, data={"reason": "  "}
    )

    assert answer.status_code == 200, answer.text
    assert 'data-verb="left out"' in answer.text
    said = " ".join(re.sub(r"<[^>]+>", "", answer.text).split())
    assert f"Plan {plan.run_id} closed" in said
    assert f"{step.gives[0]} left out (left out by {DANA})." in said
    assert "the ticket is being planned again without it" in said
    assert approvals.show_plan(web_rt, plan.run_id).pending == []
    assert f'id="plan-{plan.run_id}"' not in client.get("/plans").text


def test_a_refusal_is_shown_on_the_card_with_what_to_do(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    plan, _ = group_plan(web_rt)
    reply = next(s for s in plan.steps if s.approval_id is not None and not s.gives)
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}

    refused = client.post(
        f"/drafts/{reply.approval_id}/leave-out", headers=headers, data={"reason": "no"}
    )

    assert refused.status_code == 409
    shown = card(refused.text, plan.run_id)
    assert "gives no group or licence to leave out" in shown
    assert "Reject the plan, or edit the step" in shown
    assert approvals.show_plan(web_rt, plan.run_id).pending
