"""An escalation worked to the end in the browser: a receptionist's password reset for a
colleague stops as unverified; the technician takes it from the human queue, notes the
call-back, resumes the ticket after verifying the caller by phone, and the fresh plan is
approved on its card (the verification said once) and runs verified."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import Desk, Shoot

JAKE = "jake.morrison@contosodental.example"  # a receptionist, not authorised for others
PHONE = "called Priya back on 555-0100, the number on file"


def escalated(desk: Desk, ticket_id: int, timeout: float = 60.0) -> int:
    """The open escalation of ``ticket_id`` once the embedded worker has escalated it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in desk.json("escalations", "list") if e["ticket_id"] == ticket_id]
        if found:
            return int(found[0]["id"])
        assert time.monotonic() < deadline, f"ticket {ticket_id} was not escalated in {timeout} s"
        time.sleep(0.3)


def test_take_note_and_resume_after_a_phone_verification_makes_fresh_drafts(
    approver: Page, desk: Desk, shoot: Shoot
) -> None:
    page = approver
    subject = "Reset Priya's password, she is locked out"
    desk.run(
        "tickets", "add", "--tenant", "contoso-dental", "--from", JAKE, "--subject", subject,
        "--body", "Please reset the password for Priya Raman.",
    )  # fmt: skip
    ticket_id = desk.ticket_id(subject)
    escalation_id = escalated(desk, ticket_id)

    page.goto("/escalations")
    expect(page.locator("#open-escalations")).to_be_visible()
    row = page.locator(f"#escalation-{escalation_id}")
    expect(row).to_contain_text("the requester could not be verified")
    expect(row).to_contain_text("nobody yet")
    shoot("queue")
    row.get_by_role("button", name="Take it").click()
    expect(page.locator("#messages")).to_contain_text(f"Escalation {escalation_id} is yours")
    row = page.locator(f"#escalation-{escalation_id}")
    expect(row).to_contain_text("Dana")

    row.get_by_text("Assign, note, resolve, resume").click()
    row.get_by_label("Note (also written on the PSA ticket").fill("Calling Priya back now.")
    row.get_by_role("button", name="Add the note").click()
    expect(page.locator("#messages")).to_contain_text("Note kept and written on the PSA ticket")

    page.goto(f"/tickets/{ticket_id}")
    card = page.locator("#escalation")
    expect(card).to_contain_text("Calling Priya back now.")
    shoot("ticket")
    card.get_by_text("Assign, note, resolve, resume").click()
    card.get_by_label("How you verified the requester").fill(PHONE)
    card.get_by_role("button", name="Resume: plan it again").click()
    expect(page.locator("#messages")).to_contain_text(f"Ticket {ticket_id} is worked again")
    expect(page.locator("#escalation")).to_contain_text(PHONE)

    desk.wait_for_drafts(ticket_id)
    fresh = [d for d in desk.json("approvals", "list") if d["ticket_id"] == ticket_id]
    reset = next(d for d in fresh if d["blast_radius"] == "security")
    assert reset["requester_check"]["verdict"] == "needs_verification"
    assert PHONE in reset["requester_check"]["detail"]
    page.goto(f"/tickets/{ticket_id}")
    expect(page.locator("body")).to_contain_text("awaiting approval")
    shoot("fresh-drafts")

    # The fresh plan, approved whole on its card with the call-back said once, runs verified.
    run_id = reset["run_id"]
    page.goto("/plans")
    card = page.locator(f"#plan-{run_id}")
    expect(card).to_contain_text("Verify the requester first")
    card.get_by_label(f"How you verified the requester of plan {run_id}").fill(PHONE)
    card.get_by_role("button", name="Approve plan").click()
    expect(page.locator(f"#plan-{run_id}.decided.approved")).to_be_visible()
    shoot("fresh-plan-approved")
    deadline = time.monotonic() + 60
    while desk.json("tickets", "list") and not any(
        t["id"] == ticket_id and t["status"] == "resolved" for t in desk.json("tickets", "list")
    ):
        assert time.monotonic() < deadline, "the approved plan did not run"
        time.sleep(0.3)
    page.goto(f"/tickets/{ticket_id}")
    expect(page.locator("body")).to_contain_text("verified")
    shoot("fresh-plan-verified")
