"""Signing in and out, tenant scope as the browser sees it, and every page rendering cleanly."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    APPROVER,
    OTHER_PASSWORD,
    OTHER_TECH,
    Console,
    Desk,
    Shoot,
    sign_in,
)


def test_wrong_password_then_sign_in_and_sign_out(
    page: Page, desk: Desk, console: Console, shoot: Shoot
) -> None:
    console.expect_status(401)
    page.goto("/queue")
    page.wait_for_url(re.compile(r"/login\?next=(/|%2F)queue$"))
    shoot("login")
    page.get_by_label("E-mail").fill(APPROVER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_value(APPROVER)
    shoot("login-refused")

    sign_in(page, APPROVER, desk.approver_password)
    expect(page.get_by_role("heading", name="Approvals")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    expect(page.locator(".flash")).to_have_text("Signed out.")
    shoot("signed-out")
    page.goto("/queue")
    page.wait_for_url(re.compile(r"/login\?next="))  # the session really ended


def test_a_tech_of_another_tenant_finds_neither_the_draft_nor_the_ticket(
    page: Page, desk: Desk, console: Console, shoot: Shoot
) -> None:
    ticket = desk.ticket_id("Forgot my password")
    reset = desk.pending_draft(ticket, "m365.reset_password")
    console.expect_status(404)
    sign_in(page, OTHER_TECH, OTHER_PASSWORD)
    expect(page.locator("#drafts article.draft")).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Contoso")
    shoot("queue-empty")

    for address in (f"/tickets/{ticket}", f"/drafts/{reset}/edit"):
        response = page.goto(address)
        assert response is not None and response.status == 404, address
        expect(page.get_by_role("heading", level=1)).to_contain_text("There is no")
        expect(page.locator("main")).not_to_contain_text("lisa.chen")
    shoot("not-found")

    page.goto("/tickets")
    expect(page.locator("main")).not_to_contain_text("Forgot my password")
    page.goto("/escalations")
    expect(page.locator("main")).not_to_contain_text("Contoso")
    shoot("escalations-empty")


def test_every_page_renders_without_console_errors(
    approver: Page, desk: Desk, console: Console, shoot: Shoot
) -> None:
    page = approver
    page.goto("/tickets")
    expect(page.locator("table tbody tr").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Forgot my password")
    shoot("tickets")

    escalated = desk.ticket_id("Password reset for Dr. Raman")
    page.goto(f"/tickets/{escalated}")
    expect(page.locator("table.timeline")).to_contain_text("identity_unverified")
    shoot("ticket-escalated")

    waiting = desk.ticket_id("Locked out")
    page.goto(f"/tickets/{waiting}")
    expect(page.locator("ol.steps .status").first).to_have_text("awaiting approval")
    expect(page.locator("ol.steps .approval").first).to_contain_text("waits for approval")
    details = page.locator("ol.steps details").first
    details.locator("summary").click()
    details.evaluate("element => { element.dataset.drawn = 'before' }")
    expect(details).not_to_have_attribute("data-drawn", "before")  # the page redrew itself
    expect(details).to_have_attribute("open", "")  # and what the reader opened stayed open
    shoot("ticket-waiting")

    page.goto("/escalations")
    row = page.locator("table.escalations tbody tr", has_text="Password reset for Dr. Raman")
    expect(row).to_contain_text("identity_unverified")
    shoot("escalations")

    page.goto("/queue?radius=billing")
    expect(page.locator("#drafts")).not_to_contain_text("Reset the Microsoft 365 password")
    shoot("queue-filtered")

    console.expect_status(404)
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_text("There is no such page.")
    shoot("error")

    # Pages tested in depth elsewhere: here, that they draw, without a console error.
    page.goto("/analysis")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Analysis")
    shoot("analysis")
    page.goto("/trust")
    expect(page.locator("canvas").first).to_be_visible()
    assert page.locator("canvas").first.evaluate("c => c.width > 0 && c.height > 0")
    shoot("trust")
    page.goto("/tenants")
    expect(page.locator("main")).to_contain_text("Contoso Dental")
    shoot("tenants")
    page.goto("/audit")
    expect(page.locator("main")).to_contain_text("chain")
    shoot("audit")
