"""The approval queue as an L1 technician uses it: with the keyboard, from draft to verified."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import APPROVER, Console, Desk, Shoot

RISK_ORDER = ("destructive", "security", "billing", "external_communication", "internal", "read")
VERIFY_TIMEOUT = 60_000  # the embedded worker's turn, the sandbox's change and its read-back


def draft(page: Page, draft_id: int) -> Locator:
    return page.locator(f"#draft-{draft_id}")


def focus_with_keys(page: Page, draft_id: int) -> Locator:
    """Walk the queue with j (and back with k) until draft ``draft_id`` has the focus."""
    order = page.locator("#drafts article.draft").evaluate_all(
        "drafts => drafts.map(d => Number(d.dataset.draftId))"
    )
    assert draft_id in order, f"draft {draft_id} is not in the queue: {order}"
    page.locator("body").focus()
    for _ in range(order.index(draft_id) + 1):
        page.keyboard.press("j")
    if order[-1] != draft_id:  # one too far, and back
        page.keyboard.press("j")
        expect(draft(page, draft_id)).not_to_be_focused()
        page.keyboard.press("k")
    expect(draft(page, draft_id)).to_be_focused()
    return draft(page, draft_id)


def test_edit_approve_with_the_keyboard_and_watch_steps_verify(
    approver: Page, desk: Desk, shoot: Shoot, console: Console
) -> None:
    page = approver
    console.expect_status(409)  # the edit to a privileged group, refused until accepted
    ticket = desk.ticket_id("Finance share access for Tom")
    access = desk.pending_draft(ticket, "m365.add_group_member")
    reply = desk.pending_draft(ticket, "psa.send_reply")
    card = draft(page, access)
    expect(card).to_contain_text("Add tom.becker@contosodental.example to the group Finance Share")
    expect(card).to_contain_text("Contoso Dental")
    expect(card).to_contain_text("karen.whitfield@contosodental.example")
    expect(card.locator(".check")).to_contain_text("authorised contact")
    expect(card.locator(".excerpt")).to_contain_text(
        "taking over the billing", use_inner_text=False
    )
    expect(card).to_contain_text("expires in")
    shoot("queue")

    focus_with_keys(page, access)
    page.keyboard.press("e")
    page.wait_for_url(f"**/drafts/{access}/edit")
    expect(page.locator("#diff")).to_contain_text("No changes yet")
    shoot("edit")
    # A privileged group makes the step a security change: refused until accepted as such.
    page.locator("select[name=group_id]").select_option(label="Domain Admins")
    page.get_by_role("button", name="Approve with these parameters").click()
    expect(page.locator("p.error")).to_contain_text("makes step 1 SECURITY: Domain Admins")
    expect(page.locator("input[name=approve_as]")).to_be_visible()
    expect(page.locator("input[name=verification]")).to_be_visible()
    shoot("edit-reclassified")
    page.locator("select[name=group_id]").select_option(label="Front Desk")
    changes = page.locator("#diff table.changes")
    expect(changes).to_contain_text("Finance Share")
    expect(changes.locator("ins").first).to_contain_text(re.compile(r"\S"))
    expect(changes).to_contain_text("Front Desk")
    shoot("edit-diff")
    page.get_by_role("button", name="Approve with these parameters").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue")
    expect(page.locator(".flash")).to_contain_text(f"Draft #{access} approved with your edit")
    expect(draft(page, access)).to_have_count(0)

    # The reply was planned again with the edit: it says Front Desk, and says why.
    card = draft(page, reply)
    expect(card.locator(".replanned")).to_contain_text(f"draft #{access}")
    expect(card.locator("table.params")).to_contain_text("added to: Front Desk")
    expect(card.locator("table.params")).not_to_contain_text("Finance Share")
    expect(card.locator(".stale")).to_have_count(0)
    shoot("queue-replanned")
    focus_with_keys(page, reply)
    page.keyboard.press("a")
    expect(draft(page, reply)).to_have_class(re.compile(r"\bdecided\b"))

    page.goto(f"/tickets/{ticket}")
    steps = page.locator("ol.steps > li")
    expect(steps.first).to_be_visible()
    statuses = steps.locator(".step-head .status")
    expect(statuses).to_have_text(["verified"] * steps.count(), timeout=VERIFY_TIMEOUT)
    expect(page.locator("#ticket-status")).to_have_text("resolved", timeout=VERIFY_TIMEOUT)
    expect(steps.first).to_contain_text("Front Desk")
    timeline = page.locator("table.timeline")
    expect(timeline).to_contain_text(f"user: {APPROVER}")
    expect(timeline).to_contain_text("specialist: access_change")
    reply_note = page.locator("section.notes article.note.public").last  # the request is first
    expect(reply_note).to_contain_text("added to: Front Desk")
    expect(reply_note).not_to_contain_text("Finance Share")
    page.locator("ol.steps details").first.locator("summary").click()
    expect(page.locator("ol.steps details").first).to_contain_text("State before")
    shoot("ticket-verified")


def test_reject_with_a_reason_lands_in_escalations(
    approver: Page, desk: Desk, shoot: Shoot
) -> None:
    page = approver
    ticket = desk.ticket_id("Business Premium licence")
    seats = desk.pending_draft(ticket, "m365.add_license_seats")
    reply = desk.pending_draft(ticket, "psa.send_reply")
    waiting = page.locator("#waiting-count")
    before = int(waiting.get_attribute("data-count") or 0)
    focus_with_keys(page, seats)
    page.keyboard.press("r")
    reason = draft(page, seats).locator("input[name=reason]")
    expect(reason).to_be_focused()
    page.keyboard.type("The owner has not agreed to a new seat")
    shoot("reject-reason")
    page.keyboard.press("Enter")
    decided = draft(page, seats)
    expect(decided).to_have_class(re.compile(r"\bdecided\b"))
    expect(decided).to_contain_text(f"#{seats} rejected by {APPROVER}")
    expect(decided).to_contain_text("The owner has not agreed to a new seat")
    sibling = draft(page, reply)  # the same run's reply will never be sent: withdrawn with it
    expect(sibling).to_have_class(re.compile(r"\bwithdrawn\b"))
    expect(sibling.get_by_role("button", name="Approve")).to_be_hidden()
    withdrawn = page.locator("#drafts article.draft.withdrawn").count()
    expect(waiting).to_have_attribute("data-count", str(before - 1 - withdrawn))
    shoot("queue-rejected")

    decided.get_by_role("link", name="Escalations").click()
    page.wait_for_url("**/escalations")
    row = page.locator("table.escalations tbody tr", has_text="Business Premium licence")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("approval_rejected")
    expect(row).to_contain_text("The owner has not agreed to a new seat")
    expect(row).to_contain_text("Contoso Dental")
    shoot("escalations")

    page.goto("/queue")
    expect(page.locator("#drafts")).not_to_contain_text("Business Premium")


def test_new_drafts_appear_in_the_queue_without_a_reload(
    approver: Page, desk: Desk, shoot: Shoot
) -> None:
    page = approver
    page.evaluate("window.deskhandNotReloaded = true")
    waiting = page.locator("#waiting-count")
    before = int(waiting.get_attribute("data-count") or 0)
    ticket = desk.run(
        "tickets", "add", "--tenant", "contoso-dental",
        "--from", "anna.kowalski@contosodental.example",
        "--subject", "Password expired", "--body", "My password expired, please reset it.",
    ).strip()  # fmt: skip
    arrived = page.locator("#drafts article.draft", has_text=f"ticket {ticket}")
    expect(arrived.first).to_be_visible(timeout=30_000)
    expect(arrived.first).to_contain_text("anna.kowalski@contosodental.example")
    assert page.evaluate("window.deskhandNotReloaded === true"), "the queue page was reloaded"
    expect(waiting).not_to_have_attribute("data-count", str(before))
    assert int(waiting.get_attribute("data-count") or 0) == before + arrived.count()
    radii = page.locator("#drafts article.draft").evaluate_all(
        "cards => cards.map(c => [...c.classList].find(k => k.startsWith('radius-')))"
    )
    order = [f"radius-{r}" for r in RISK_ORDER]
    assert radii == sorted(radii, key=order.index), f"arrivals out of risk order: {radii}"
    focus_with_keys(page, int(arrived.first.get_attribute("data-draft-id") or 0))
    shoot("queue-new-draft")


def test_the_temporary_password_is_shown_once_on_the_ticket_page(
    approver: Page, desk: Desk, shoot: Shoot
) -> None:
    page = approver
    ticket = desk.run(
        "tickets", "add", "--tenant", "contoso-dental",
        "--from", "david.osei@contosodental.example",
        "--subject", "Locked out of Outlook", "--body", "I forgot my password, please reset it.",
    ).strip()  # fmt: skip
    desk.wait_for_drafts(int(ticket))
    for found in desk.json("approvals", "list"):
        if found["ticket_id"] == int(ticket):
            desk.run("approvals", "approve", str(found["id"]), "--as", APPROVER)
    page.goto(f"/tickets/{ticket}")
    expect(page.locator("#ticket-status")).to_have_text("resolved", timeout=VERIFY_TIMEOUT)
    reveal = page.get_by_role("button", name="Show the temporary password (once)")
    reveal.click()
    password = page.locator(".secret.revealed code.password")
    expect(password).to_have_text(re.compile(r"^\S{12,}$"))
    shoot("secret-shown")
    page.reload()
    expect(page.locator("table.timeline")).to_contain_text(
        f"its temporary secret was shown to {APPROVER}, then erased"
    )
    expect(page.get_by_role("button", name="Show the temporary password (once)")).to_have_count(0)


def test_a_requester_with_warning_signs_is_verified_before_approving(
    approver: Page, desk: Desk, shoot: Shoot, console: Console
) -> None:
    page = approver
    console.expect_status(409)  # the approval refused until the requester is verified
    ticket = int(
        desk.run(
            "tickets", "add", "--tenant", "contoso-dental",
            "--from", "hannah.brooks@contosodental.example", "--subject", "Password now",
            "--body", "Reset my password right now, it's urgent. Don't call me, I'm in a meeting.",
        ).strip()
    )  # fmt: skip
    desk.wait_for_drafts(ticket)
    reset = desk.pending_draft(ticket, "m365.reset_password")
    page.goto("/queue")
    card = draft(page, reset)
    expect(card.locator(".check")).to_contain_text("verify first")
    expect(card.locator(".verify")).to_contain_text("Verify the requester before approving.")
    shoot("queue-verify-first")
    focus_with_keys(page, reset)
    page.keyboard.press("a")  # not yet verified: refused, the card stays and says why
    expect(draft(page, reset).locator(".error")).to_contain_text("verify the requester")
    draft(page, reset).locator("input[name=verification]").fill(
        "called back 555-0188 on file, Hannah confirmed"
    )
    draft(page, reset).get_by_role("button", name="Approve").click()
    expect(draft(page, reset)).to_contain_text(f"#{reset} approved by {APPROVER}")
    page.goto(f"/tickets/{ticket}")
    expect(page.locator("table.timeline")).to_contain_text(
        "requester verified: called back 555-0188 on file, Hannah confirmed"
    )
