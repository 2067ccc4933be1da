"""The PSA kept in step and technicians told, seen from the browser: one client's tickets in
the Syncro stand-in (over real HTTP, checked against Syncro's published API), its messages to
technicians sent to a local webhook receiver (the MSP's) and through the real SMTP server (the
client's own target); `deskhand serve` with its worker does the rest as in production.

A password reset walks every stage — drafted, rejected, resumed after a phone call, approved,
done — and the Syncro ticket's status follows each one, as Syncro's own requests show. The
links the messages carry are opened in Chromium: they land, after signing in, on the plan's
card and on the escalated ticket."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import APPROVER, SCREENSHOTS, Console, Desk, demo_desk, serving
from tests.connectors.mail.server import PASSWORD, USERNAME, SmtpServer, smtp_server
from tests.connectors.syncro.standin import SyncroStandIn
from tests.notifications.conftest import Receiver, receiving

TENANT = "northwind-law"  # the demo's sample tickets are contoso-dental's: this one starts empty
GRACE = "grace.liu@northwindlaw.example"
PHONE = "called Grace back on 555-0142, the number on file"
STATUSES = {  # Syncro's own statuses; "escalated" given one of its own to tell it apart
    "working": "In Progress",
    "waiting": "Waiting on Customer",
    "resolved": "Resolved",
    "escalated": "Waiting for Parts",
}


@dataclass
class Synced:
    desk: Desk
    syncro: SyncroStandIn
    receiver: Receiver
    smtp: SmtpServer


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """The demo, Northwind Law's PSA on the Syncro stand-in and its escalations mailed to its
    technicians; every tenant's messages also go to the MSP's webhook; `deskhand serve`."""
    folder = tmp_path_factory.mktemp("synced")
    syncro = SyncroStandIn(api_key=f"key-{uuid.uuid4().hex}").start()
    customer = syncro.add_customer("Northwind Law", "office@northwindlaw.example")
    syncro.add_contact(customer, "Grace Liu", GRACE)
    with receiving() as receiver, smtp_server(folder) as smtp:
        mail = (
            f"mailto://{quote(USERNAME, safe='')}:{quote(PASSWORD, safe='')}@{smtp.host}:"
            f"{smtp.port}?mode=starttls&from=deskhand@msp.example&to=techs@northwindlaw.example"
        )
        desk = demo_desk(
            folder,
            DESKHAND_NOTIFY_URLS=receiver.url("/msp"),
            DESKHAND_NOTIFY_SECONDS="0.3",
            NORTHWIND_SYNCRO_KEY=syncro.api_key,
            NORTHWIND_MAIL=mail,
            SSL_CERT_FILE=str(smtp.ca_file),  # trusts the SMTP server's certificate
        )
        # Connected as an MSP admin does it: `tenants add`, then the file's status map and
        # notification target written in by hand.
        connection = folder / "northwind-law.yaml"
        desk.run(
            "tenants", "add", TENANT, "--force", "--no-input", "--display-name", "Northwind Law",
            "--syncro-url", syncro.base_url, "--syncro-key", "env:NORTHWIND_SYNCRO_KEY",
            "--psa-customer-id", str(customer), "--config", str(connection),
        )  # fmt: skip
        written = yaml.safe_load(connection.read_text())
        written["psa"]["statuses"] = STATUSES
        written["notify"] = [{"url": "env:NORTHWIND_MAIL", "kinds": ["escalation"]}]
        connection.write_text(yaml.safe_dump(written))
        with serving(desk, public_url=True):
            yield Synced(desk, syncro, receiver, smtp)
    syncro.stop()
    assert syncro.violations == [], "\n".join(syncro.violations)


def until(what: str, found: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.2)
    return value


def statuses_set(syncro: SyncroStandIn, psa_ticket_id: str) -> list[str]:
    """Every status deskhand asked Syncro to set on the ticket, in order."""
    return [
        str(r.body["status"])
        for r in syncro.received
        if r.method == "PUT"
        and r.path.endswith(f"/tickets/{psa_ticket_id}")
        and isinstance(r.body, dict)
        and "status" in r.body
        and r.status == 200
    ]


def link_in(text: str, desk: Desk) -> str:
    found = re.search(rf"{re.escape(desk.url)}/\S+", text)
    assert found, f"no link to {desk.url} in: {text}"
    return found.group(0).rstrip(".")


def open_signed_in(browser: Browser, console: Console, desk: Desk, link: str) -> Page:
    """A new browser (no cookies) opens ``link``: the sign-in form, then the page linked."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    page.goto(link)
    page.get_by_label("E-mail").fill(APPROVER)
    page.get_by_label("Password").fill(desk.approver_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(link)
    return page


def shot(page: Page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"psa_and_notices-{step}.png"), full_page=True)


def test_the_syncro_ticket_follows_each_stage_and_the_messages_links_open_the_work(
    synced: Synced, browser: Browser, console: Console
) -> None:
    desk, syncro = synced.desk, synced.syncro
    subject = "Locked out after the weekend"
    desk.run(
        "tickets", "add", "--tenant", TENANT, "--from", GRACE, "--subject", subject,
        "--body", "I forgot my password and cannot sign in, please reset it.",
    )  # fmt: skip
    ticket = next(t for t in desk.json("tickets", "list") if t["tenant_id"] == TENANT)
    psa_id = str(ticket["psa_ticket_id"])
    assert int(psa_id) in syncro.tickets  # opened in Syncro ("New"), then worked on
    until("In Progress once drafted", lambda: statuses_set(syncro, psa_id) == ["In Progress"])

    # The MSP's webhook hears of the waiting plan; its link opens the plan's card.
    plans_waiting = until(
        "the webhook's plans-waiting message",
        lambda: [m for m in synced.receiver.messages() if "Northwind Law" in m["title"]],
    )
    assert plans_waiting[0]["title"] == "[Northwind Law] 1 new plan(s) wait for approval"
    assert "forgot my password" not in plans_waiting[0]["message"].lower()  # no ticket body
    page = open_signed_in(browser, console, desk, link_in(plans_waiting[0]["message"], desk))
    card = page.locator("article.plan").filter(has_text="Northwind Law")
    expect(card).to_have_count(1)
    psa_link = card.get_by_role("link", name=f"PSA #{psa_id}")
    expect(psa_link).to_have_attribute(
        "href", f"{syncro.base_url.removesuffix('/api/v1')}/tickets/{psa_id}"
    )
    shot(page, "plan-from-webhook")

    # Rejected on its card: the ticket is escalated, in Syncro too.
    card.get_by_label("Reason").fill("the caller did not sound like Grace")
    card.get_by_role("button", name="Reject").click()
    expect(page.locator("article.plan.decided.rejected")).to_be_visible()
    until(
        "the escalated status",
        lambda: statuses_set(syncro, psa_id) == ["In Progress", "Waiting for Parts"],
    )

    # The client's technicians are mailed; the link opens the escalated ticket.
    mailed = until(
        "the escalation e-mail",
        lambda: [m for m in synced.smtp.received if "Escalated" in str(m.message["Subject"])],
    )
    text = mailed[0].message.get_payload(decode=True).decode()
    assert mailed[0].tls and mailed[0].rcpt_tos == ["techs@northwindlaw.example"]
    escalated_page = page.context.new_page()
    escalated_page.goto(link_in(text, desk))
    escalation = escalated_page.locator("#escalation")
    expect(escalation).to_contain_text("In the human queue")

    # Taken and noted: the note is on the Syncro ticket too, hidden from the client.
    escalation.get_by_role("button", name="Take it").click()
    expect(escalated_page.locator("#messages")).to_contain_text("is yours")
    escalation.get_by_text("Assign, note, resolve, resume").click()
    escalation.get_by_label("Note (also written on the PSA ticket").fill("Calling Grace back.")
    escalation.get_by_role("button", name="Add the note").click()
    expect(escalated_page.locator("#messages")).to_contain_text("Note kept and written")
    comments = syncro.tickets[int(psa_id)]["comments"]
    assert any("Calling Grace back." in c["body"] and c["hidden"] for c in comments)
    shot(escalated_page, "escalation-noted")

    # Resumed after the phone call: fresh drafts, and Syncro is told the work goes on.
    escalation.get_by_text("Assign, note, resolve, resume").click()
    escalation.get_by_label("How you verified the requester").fill(PHONE)
    escalation.get_by_role("button", name="Resume: plan it again").click()
    expect(escalated_page.locator("#messages")).to_contain_text("is worked again")
    until(
        "In Progress again once planned afresh",
        lambda: statuses_set(syncro, psa_id) == ["In Progress", "Waiting for Parts", "In Progress"],
    )

    # Approved with one key on the fresh card: it runs, and the Syncro ticket is resolved with
    # an internal note naming the technician who approved it.
    escalated_page.goto(f"{desk.url}/plans?tenant={TENANT}")
    fresh = escalated_page.locator("article.plan:not(.decided)")
    expect(fresh).to_have_count(1)
    fresh.focus()
    escalated_page.keyboard.press("a")
    expect(escalated_page.locator("article.plan.decided.approved")).to_be_visible()
    shot(escalated_page, "fresh-plan-approved")
    until(
        "Resolved once run",
        lambda: (
            statuses_set(syncro, psa_id)
            == ["In Progress", "Waiting for Parts", "In Progress", "Resolved"]
        ),
    )

    def approvers_note() -> bool:  # written just after the status, by the same worker turn
        notes = [c["body"] for c in syncro.tickets[int(psa_id)]["comments"] if c["hidden"]]
        return any(f"Approved by {APPROVER} in deskhand" in body for body in notes)

    until("the internal note naming the approver", approvers_note)
    escalated_page.goto(f"{desk.url}/tickets/{ticket['id']}")
    expect(escalated_page.locator("body")).to_contain_text("resolved")
    shot(escalated_page, "ticket-resolved")
    page.context.close()
    assert not console.problems, "the browser console reported:\n" + "\n".join(console.problems)
