"""The plan queue page: one compact card per plan, the steps in words before any id, and a
plan decided whole — approved, approved after the requester was verified once, or rejected."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Approval
from tests.engine.test_shared_mailbox_steps import in_exchange
from tests.web.conftest import sign_in

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LISA = "lisa.chen@contosodental.example"


def card(page: str, run_id: int) -> str:
    found = re.search(
        rf'<article class="draft plan[^"]*" id="plan-{run_id}".*?</article>', page, re.S
    )
    assert found, f"no card for plan {run_id}"
    return found.group(0)


def test_the_queue_shows_one_card_per_plan_with_the_steps_in_words_first(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    page = client.get("/plans").text
    plans = approvals.list_plans(web_rt, "dana@msp.example")

    assert re.findall(r'id="plan-(\d+)"', page) == [str(p.run_id) for p in plans]
    assert f"{len(plans)} plans waiting" in page
    reset = next(p for p in plans if p.steps[0].action == "m365.reset_password")
    shown = card(page, reset.run_id)
    words, _, technical = shown.partition("Technical detail")
    assert "Reset the Microsoft 365 password of" in words and "Reply to" in words
    assert "(automatic)" in words  # the internal note is on the card though nobody approves it
    assert not GUID.search(words)  # ids, raw parameters and hashes only behind the click
    assert "m365.reset_password" in technical and "m365.reset_password" not in words
    assert "Client will be told" in words


def test_a_plan_is_approved_in_one_request_and_its_card_says_so(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    plan = approvals.list_plans(web_rt, "dana@msp.example")[0]

    answer = client.post(
        f"/plans/{plan.run_id}/approve", headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    )

    assert answer.status_code == 200, answer.text
    assert f"Plan {plan.run_id} approved" in answer.text and 'data-verb="approved"' in answer.text
    for approval_id in plan.pending:
        assert approvals.show(web_rt, approval_id).status == "approved"
    assert f'id="plan-{plan.run_id}"' not in client.get("/plans").text


def test_a_requester_to_verify_is_asked_once_on_the_plans_card(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    ticket = add_ticket(
        web_rt,
        "contoso-dental",
        LISA,
        "Password",
        "Reset my password now, urgent, don't call me, I'm in a meeting.",
    )
    Worker(web_rt, "w").run_once()
    [plan] = [
        p
        for p in approvals.list_plans(web_rt, "dana@msp.example")
        if p.ticket_id == ticket.ticket_id
    ]
    assert plan.verify_first
    shown = card(client.get("/plans").text, plan.run_id)
    assert shown.count('name="verification"') == 1
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}

    refused = client.post(f"/plans/{plan.run_id}/approve", headers=headers)
    assert refused.status_code == 409
    assert "verify the requester before approving it" in refused.text
    assert all(approvals.show(web_rt, i).status == "pending" for i in plan.pending)

    how = "called back 555-0142 on file, Lisa confirmed"
    approved = client.post(
        f"/plans/{plan.run_id}/approve", headers=headers, data={"verification": how}
    )
    assert approved.status_code == 200, approved.text
    assert all(approvals.show(web_rt, i).status == "approved" for i in plan.pending)


def test_a_rejected_plan_goes_to_escalations_and_a_tech_cannot_decide(
    app_client: TestClient, web_rt: Runtime
) -> None:
    csrf = sign_in(app_client, "lee@msp.example")
    plan = approvals.list_plans(web_rt, "lee@msp.example")[0]
    assert "Approve plan" not in card(app_client.get("/plans").text, plan.run_id)
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    assert app_client.post(f"/plans/{plan.run_id}/approve", headers=headers).status_code == 403

    csrf = sign_in(app_client, "dana@msp.example")
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    rejected = app_client.post(
        f"/plans/{plan.run_id}/reject", headers=headers, data={"reason": "duplicate of 4"}
    )

    assert rejected.status_code == 200 and 'data-verb="rejected"' in rejected.text
    assert "Reason: duplicate of 4" in rejected.text
    assert approvals.show_plan(web_rt, plan.run_id).pending == []


def test_a_plan_with_a_step_above_the_approvers_authority_says_so_on_its_card(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    plan = approvals.list_plans(web_rt, "dana@msp.example")[0]
    first = plan.pending[0]
    with web_rt.db.session() as session:
        session.get(Approval, first).approver_roles = ["admin"]  # type: ignore[union-attr]

    shown = card(client.get("/plans").text, plan.run_id)

    position = next(s.position for s in plan.steps if s.approval_id == first)
    assert f"Step {position} is above your authority: approved by admin." in shown
    assert "Approve plan" not in shown


def test_a_plan_has_a_page_of_its_own_for_links_and_says_when_it_is_decided(
    app_client: TestClient, web_rt: Runtime
) -> None:
    csrf = sign_in(app_client, "dana@msp.example")
    first, second = approvals.list_plans(web_rt, "dana@msp.example")[:2]

    page = app_client.get(f"/plans/{second.run_id}").text
    assert re.findall(r'id="plan-(\d+)"', page) == [str(second.run_id)]
    assert f"<h1>Plan {second.run_id}</h1>" in page
    assert 'href="/plans?tenant=contoso-dental"' in page

    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    app_client.post(f"/plans/{first.run_id}/reject", headers=headers, data={"reason": "dup"})
    page = app_client.get(f"/plans/{first.run_id}").text
    assert 'id="plan-' not in page
    assert f"Plan {first.run_id} has nothing waiting for approval any more" in page
    assert f'href="/tickets/{first.ticket_id}"' in page

    sign_in(app_client, "riley@msp.example")  # northwind-law only: contoso's are not hers
    assert app_client.get(f"/plans/{second.run_id}").status_code == 404
    assert app_client.get("/plans/999999").status_code == 404


def test_a_plan_card_says_what_the_ticket_asks_that_a_technician_still_does(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    received = add_ticket(
        web_rt,
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        "Marcus Lee left",
        "Please convert Marcus Lee's mailbox to a shared mailbox and forward his mail to me.",
    )
    Worker(web_rt, "w").run_once()
    [plan] = [
        p for p in approvals.list_plans(web_rt, "dana@msp.example")
        if p.ticket_id == received.ticket_id
    ]  # fmt: skip

    shown = card(client.get("/plans").text, plan.run_id)
    assert "<strong>Left for a technician</strong>" in shown
    assert "forward the mail." in shown
    page = client.get("/plans").text
    others = [p.run_id for p in approvals.list_plans(web_rt, "dana@msp.example")]
    assert [r for r in others if "Left for a technician" in card(page, r)] == [plan.run_id]


def test_a_scheduled_plan_s_card_says_when_it_runs_and_what_each_step_waits_for(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    received = add_ticket(
        web_rt,
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        "Offboarding Marcus Lee",
        "Marcus Lee's last day is 30 December 2026. Please offboard him then.",
    )
    Worker(web_rt, "w").run_once()
    [plan] = [
        p for p in approvals.list_plans(web_rt, "dana@msp.example")
        if p.ticket_id == received.ticket_id
    ]  # fmt: skip

    shown = card(client.get("/plans").text, plan.run_id)
    assert "<strong>Scheduled:</strong> nothing runs before" in shown
    assert "Wed 30 Dec 2026 17:00 (UTC)" in shown  # in the tenant's time zone
    assert '<span class="muted after">after step 1</span>' in shown
    assert '<span class="muted after">after steps 5, 6, 7</span>' in shown
    decided = client.post(
        f"/plans/{plan.run_id}/approve", headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    ).text
    assert "it runs Wed 30 Dec 2026 17:00 (UTC), not before" in decided


def _finished_group_change(web_rt: Runtime) -> int:
    """The demo's plan that adds a user to a group, approved and run: its number."""
    [plan] = [
        p
        for p in approvals.list_plans(web_rt, "dana@msp.example")
        if p.steps[0].action == "m365.add_group_member" and len(p.steps) == 3
    ]
    approvals.approve_plan(web_rt, plan.run_id, "dana@msp.example")
    Worker(web_rt, "w").run_once()
    return plan.run_id


def test_a_finished_plan_offers_its_undo_and_the_undo_plan_is_a_card_to_approve(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    finished = _finished_group_change(web_rt)
    page = client.get(f"/plans/{finished}").text
    assert f"What plan {finished} did" in page and "Propose undo" in page
    assert "Undo: Remove tom.becker@contosodental.example from the group Finance Share" in page

    proposed = client.post(f"/plans/{finished}/undo", data={"csrf": csrf}, follow_redirects=False)

    assert proposed.status_code == 303, proposed.text
    undo = int(proposed.headers["location"].rsplit("/", 1)[1])
    shown = client.get(proposed.headers["location"]).text
    assert f"Plan {undo} undoes plan {finished}" in shown  # the flash
    undoing = card(shown, undo)
    assert f'Undoes <a href="/plans/{finished}">plan {finished}</a>' in undoing
    assert "Remove tom.becker@contosodental.example from the group Finance Share" in undoing
    assert "Approve plan" in undoing
    assert f'id="plan-{undo}"' in client.get("/plans").text  # in the queue
    again = client.get(f"/plans/{finished}").text
    assert "Propose undo" not in again
    assert f"The undo of plan {finished} is proposed already: plan {undo}" in again
    twice = client.post(f"/plans/{finished}/undo", data={"csrf": csrf})
    assert twice.status_code == 409 and "proposed already" in twice.text


def test_the_ticket_page_offers_an_undo_to_an_approver_only(
    app_client: TestClient, web_rt: Runtime
) -> None:
    finished = _finished_group_change(web_rt)
    ticket_id = approvals.show_plan(web_rt, finished).ticket_id
    csrf = sign_in(app_client, "lee@msp.example")  # a tech of Contoso Dental
    assert "Propose undo" not in app_client.get(f"/tickets/{ticket_id}").text
    assert "Propose undo" not in app_client.get(f"/plans/{finished}").text
    refused = app_client.post(f"/plans/{finished}/undo", data={"csrf": csrf})
    assert refused.status_code == 403

    csrf = sign_in(app_client, "dana@msp.example")
    page = app_client.get(f"/tickets/{ticket_id}").text
    assert f'id="propose-undo-{finished}"' in page
    proposed = app_client.post(
        f"/plans/{finished}/undo", data={"csrf": csrf}, follow_redirects=False
    )
    assert proposed.status_code == 303
    after = app_client.get(f"/tickets/{ticket_id}").text
    assert f'id="propose-undo-{finished}"' not in after
    assert "Undoes <a" in after and "awaiting approval" in after


def test_the_ticket_page_names_the_groups_an_offboarding_left_for_a_technician(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    karen = "karen.whitfield@contosodental.example"
    ticket = add_ticket(web_rt, "contoso-dental", karen, "Leaver", "Please offboard Marcus Lee.")
    Worker(web_rt, "w").run_once()
    plan = approvals.show_plan(web_rt, ticket.run_id)
    in_exchange(web_rt, "marcus.lee@contosodental.example", mailbox_purpose="shared")
    approvals.approve_plan(web_rt, plan.run_id, "dana@msp.example")
    Worker(web_rt, "w").run_once()

    page = client.get(f"/tickets/{ticket.ticket_id}").text
    [left] = re.findall(r'<div class="left" role="note">(.*?)</div>', page, re.S)
    assert "Left for a technician" in left
    assert (
        "<li>remove marcus.lee@contosodental.example from All Staff in Exchange admin center"
        in left
    )
