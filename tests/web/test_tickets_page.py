"""The Tickets page finds a ticket by what a technician has in hand — words of it, its number or
the PSA's, the requester, the tenant, the status, whose escalation it is — keeps the search in
its address, refuses hostile text in words, and says per row where the ticket's escalation and
plan stand, from a fixed number of queries however many rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from deskhand.engine import approvals
from deskhand.engine import escalation_work as work
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Requester, Run, Tenant, Ticket
from deskhand.web.app import create_app
from tests.web.conftest import sign_in
from tests.web.test_api import token_for

DANA, LEE = "dana@msp.example", "lee@msp.example"
PHONE = "called Emily back on 555-0100, the number on file"
CALLED_PRIYA = "called Priya back on 555-0100, the number on file"


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest) -> Runtime:
    """The demo after one worker turn (four plans waiting, Jake's request escalated), with a
    ticket of Northwind Law whose subject holds LIKE's wildcards; on both databases."""
    rt: Runtime = request.getfixturevalue("web_rt" if request.param == "sqlite" else "pg_web_rt")
    if request.param == "postgresql":
        Worker(rt, "test-worker").run_once()
    add_ticket(
        rt,
        "northwind-law",
        "marta.ruiz@northwindlaw.example",
        "Printer at 100% toner_low",
        "The printer on floor 2 says toner_low at 100%.",
        name="Marta Ruiz",
    )
    return rt


@pytest.fixture
def client(desk: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(desk), base_url="https://127.0.0.1") as client:
        yield client


def ticket_id(rt: Runtime, subject: str) -> int:
    with rt.db.reading() as session:
        found = session.scalar(select(Ticket.id).where(Ticket.subject == subject))
    assert found is not None, subject
    return found


def shown(client: TestClient, **params: str) -> list[int]:
    """The ticket ids of the page's rows, in order."""
    answer = client.get("/tickets", params=params)
    assert answer.status_code == 200, answer.text
    return [int(n) for n in re.findall(r'<tr id="ticket-(\d+)"', answer.text)]


def subjects(rt: Runtime, *names: str) -> list[int]:
    """The ids of these tickets, newest first as the page lists them."""
    return sorted((ticket_id(rt, name) for name in names), reverse=True)


def row(html: str, ticket: int) -> str:
    found = re.search(rf'<tr id="ticket-{ticket}">(.*?)</tr>', html, re.S)
    assert found, f"ticket {ticket} is on the page"
    return unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def test_text_matches_every_word_in_the_subject_or_body_in_any_case(
    desk: Runtime, client: TestClient
) -> None:
    sign_in(client, DANA)
    assert shown(client, q="OUTLOOK") == subjects(desk, "Forgot my password")  # in the body
    assert shown(client, q="password") == subjects(
        desk, "Forgot my password", "Password reset for Dr. Raman"
    )
    assert shown(client, q="tom premium") == subjects(desk, "Business Premium licence")
    assert shown(client, q="  locked   EMILY ") == subjects(desk, "Locked out")
    assert shown(client, q="nothing like this") == []


def test_a_number_finds_the_ticket_and_the_psa_ticket(desk: Runtime, client: TestClient) -> None:
    locked = ticket_id(desk, "Locked out")
    premium = ticket_id(desk, "Business Premium licence")
    with desk.db.session() as session:
        session.execute(update(Ticket).where(Ticket.id == premium).values(psa_ticket_id="88231"))
    sign_in(client, DANA)
    assert shown(client, q=str(locked)) == [locked]
    assert shown(client, q=f"#{locked}") == [locked]
    assert shown(client, q="# 88231") == [premium]
    assert shown(client, q="88231") == [premium]
    assert shown(client, q="#999999999999999999") == []  # past any id: no match, no error
    assert shown(client, q="#99999999999999999999") == []
    assert shown(client, q="100") == subjects(desk, "Printer at 100% toner_low")  # body text too


def test_wildcards_in_search_text_are_taken_literally(desk: Runtime, client: TestClient) -> None:
    sign_in(client, DANA)
    printer = subjects(desk, "Printer at 100% toner_low")
    assert shown(client, q="%") == printer
    assert shown(client, q="100%") == printer
    assert shown(client, q="r_l") == printer
    assert shown(client, q="_") == printer
    assert shown(client, requester="%") == []
    assert shown(client, requester="_") == []
    assert shown(client, q="\\") == []
    assert shown(client, q="'; drop table tickets; --") == []


def test_requester_matches_a_part_of_the_address_or_the_name(
    desk: Runtime, client: TestClient
) -> None:
    karens = subjects(desk, "Finance share access for Tom", "Business Premium licence")
    sign_in(client, DANA)
    assert shown(client, requester="KAREN.whit") == karens
    assert shown(client, requester="Whitfield") == karens
    assert shown(client, requester="lisa chen") == subjects(desk, "Forgot my password")
    assert shown(client, requester="marta ruiz") == subjects(desk, "Printer at 100% toner_low")
    assert len(shown(client, requester="@contosodental.example")) == 5
    assert shown(client, requester="northwind") == subjects(desk, "Printer at 100% toner_low")


def test_tenant_and_status_narrow_and_combine_with_the_rest(
    desk: Runtime, client: TestClient
) -> None:
    sign_in(client, DANA)
    assert shown(client, tenant="northwind-law") == subjects(desk, "Printer at 100% toner_low")
    assert shown(client, status="escalated") == subjects(desk, "Password reset for Dr. Raman")
    assert shown(client, q="password", status="awaiting_approval") == subjects(
        desk, "Forgot my password"
    )
    assert shown(client, q="password", tenant="northwind-law") == []
    assert shown(client, requester="karen", q="finance", status="awaiting_approval") == subjects(
        desk, "Finance share access for Tom"
    )
    assert shown(client, status="resolved") == []
    assert shown(client, status="no such status") == []


def test_a_tech_never_finds_another_tenants_ticket(desk: Runtime, client: TestClient) -> None:
    sign_in(client, LEE)  # Contoso Dental only
    assert shown(client, q="printer") == []
    assert shown(client, tenant="northwind-law") == []
    assert "Northwind" not in client.get("/tickets").text


def test_assignee_finds_whose_open_escalation_it_is(desk: Runtime, client: TestClient) -> None:
    raman = ticket_id(desk, "Password reset for Dr. Raman")
    (escalation,) = work.list_escalations(desk, work.EscalationFilter(ticket_id=raman))
    sign_in(client, LEE)
    assert shown(client, assignee="nobody") == [raman]
    assert shown(client, assignee="me") == []
    work.take(desk, escalation.id, LEE)
    assert shown(client, assignee="me") == [raman]
    assert shown(client, assignee="nobody") == []
    assert shown(client, assignee="me", status="escalated", q="raman") == [raman]
    assert shown(client, assignee="me", q="outlook") == []

    sign_in(client, DANA)
    assert shown(client, assignee="me") == []
    assert shown(client, assignee=LEE) == [raman]
    assert shown(client, assignee="LEE@msp.example ") == [raman]
    page = client.get("/tickets", params={"assignee": LEE}).text
    assert f'<option value="{LEE}" selected>Assigned to Lee Morgan</option>' in page

    work.resolve(desk, escalation.id, LEE, "Reset by phone with Priya.")
    assert shown(client, assignee=LEE) == []  # a closed escalation is nobody's work any more


def test_the_search_is_in_the_address_and_in_the_older_tickets_link(
    desk: Runtime, client: TestClient
) -> None:
    with desk.db.session() as session:
        lisa = session.scalars(select(Requester).where(Requester.name == "Lisa Chen")).one()
        session.add_all(
            Ticket(
                tenant_id="contoso-dental",
                requester_id=lisa.id,
                psa_ticket_id=f"bulk-{n}",
                subject=f"Printer jam {n}",
                body="Paper stuck again & again.",
                status="new",
            )
            for n in range(60)
        )
    sign_in(client, DANA)
    search = {"q": "jam & again", "requester": "lisa", "tenant": "contoso-dental"}
    first = client.get("/tickets", params=search | {"status": "new"})
    assert "60 tickets match" in first.text
    assert len(re.findall(r'<tr id="ticket-', first.text)) == 50
    older = re.search(r'href="([^"]+)">Older tickets', first.text)
    assert older, "a link to the older tickets"
    address = unescape(older.group(1))
    assert address == (
        "/tickets?q=jam+%26+again&requester=lisa&tenant=contoso-dental&status=new&page_number=2"
    )
    second = client.get(address)
    assert len(re.findall(r'<tr id="ticket-', second.text)) == 10
    assert "Older tickets" not in second.text
    assert 'value="jam &amp; again"' in second.text  # the form shows the search it made
    newer = re.search(r'href="([^"]+)">Newer tickets', second.text)
    assert newer
    assert unescape(newer.group(1)) == (
        "/tickets?q=jam+%26+again&requester=lisa&tenant=contoso-dental&status=new"
    )


def test_hostile_search_text_gets_a_page_that_says_what_is_wrong(
    desk: Runtime, client: TestClient
) -> None:
    sign_in(client, DANA)
    long = client.get("/tickets", params={"q": "password " * 1000})
    assert long.status_code == 400
    assert "The search text is 9,000 characters long; a search takes at most 200." in long.text
    assert "Search for a few words" in long.text
    long = client.get("/tickets", params={"requester": "x" * 201})
    assert long.status_code == 400
    assert "The requester is 201 characters long" in long.text
    nul = client.get("/tickets", params={"q": "pass\x00word"})
    assert nul.status_code == 400
    assert "The query parameter &#39;q&#39; contains a NUL character." in nul.text
    far = client.get("/tickets", params={"page_number": str(10**30)})
    assert far.status_code == 400
    assert "That address or form is not valid (page_number" in far.text
    for text in ("<script>alert(1)</script>", "ü" * 200, "😀", "\u202e", "#", "#-1", "0x10"):
        answer = client.get("/tickets", params={"q": text, "requester": text})
        assert answer.status_code == 200, (text, answer.text[:300])
    echoed = client.get("/tickets", params={"q": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in echoed


def test_each_row_says_where_the_escalation_and_the_plan_stand(
    desk: Runtime, client: TestClient
) -> None:
    forgot = ticket_id(desk, "Forgot my password")
    raman = ticket_id(desk, "Password reset for Dr. Raman")
    locked = ticket_id(desk, "Locked out")
    printer = ticket_id(desk, "Printer at 100% toner_low")
    sign_in(client, LEE)
    page = client.get("/tickets").text
    with desk.db.reading() as session:
        forgot_run = session.scalar(select(Run.id).where(Run.ticket_id == forgot))
        locked_run = session.scalar(select(Run.id).where(Run.ticket_id == locked))
    assert "3 steps waiting for approval" in row(page, forgot)
    assert f'href="/plans/{forgot_run}"' in page
    assert "open, nobody on it yet" in row(page, raman)
    assert "the requester could not be verified for a security change" in row(page, raman)
    assert "stopped" in row(page, raman)
    assert "escalation" not in row(page, forgot).lower()
    assert "identity_unverified" not in page
    assert "_" not in row(page, raman)  # no raw names of states or reasons

    (escalation,) = work.list_escalations(desk, work.EscalationFilter(ticket_id=raman))
    work.take(desk, escalation.id, LEE)
    assert "open, taken by you" in row(client.get("/tickets").text, raman)
    sign_in(client, DANA)
    page = client.get("/tickets").text
    assert "open, taken by Lee Morgan" in row(page, raman)
    assert "being planned" in row(page, printer)  # no worker turn since it came in

    approvals.approve_plan(desk, locked_run, DANA, verification=PHONE)
    Worker(desk, "test-worker").run_once()
    work.resolve(desk, escalation.id, LEE, "Reset by phone with Priya.")
    page = client.get("/tickets").text
    assert "done (3 steps)" in row(page, locked)
    assert "resolved by Lee Morgan" in row(page, raman)
    assert "the requester could not be verified" in row(page, raman)


def test_a_resumed_ticket_shows_its_new_plan_and_who_worked_it_again(
    desk: Runtime, client: TestClient
) -> None:
    raman = ticket_id(desk, "Password reset for Dr. Raman")
    (escalation,) = work.list_escalations(desk, work.EscalationFilter(ticket_id=raman))
    work.resume(desk, escalation.id, LEE, CALLED_PRIYA)
    Worker(desk, "test-worker").run_once()
    with desk.db.reading() as session:
        newest = max(session.scalars(select(Run.id).where(Run.ticket_id == raman)))
    sign_in(client, DANA)
    page = client.get("/tickets").text
    assert "worked again by Lee Morgan" in row(page, raman)
    assert "waiting for approval" in row(page, raman)
    assert f'href="/plans/{newest}"' in page

    approvals.reject_plan(desk, newest, DANA, "Priya asked us to wait until Monday.")
    again = row(client.get("/tickets").text, raman)
    assert "open, nobody on it yet" in again  # the newest escalation, not the resumed one
    assert "a technician rejected a draft" in again
    assert "stopped" in again


def test_the_page_asks_the_same_number_of_queries_for_one_row_or_fifty(
    desk: Runtime, client: TestClient
) -> None:
    sign_in(client, DANA)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(desk.db.engine, "before_cursor_execute", count)
    try:
        client.get("/tickets", params={"tenant": "northwind-law"})
        one = len(statements)
        statements.clear()
        client.get("/tickets")
        six = len(statements)
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", count)
    assert len(shown(client)) == 6
    assert six == one, statements


def test_a_plan_approved_ahead_says_when_it_runs_in_the_tenant_s_time_not_awaiting_approval(
    web_rt: Runtime, tmp_path: Path
) -> None:
    policy = tmp_path / "london.yaml"
    policy.write_text(
        "approvers: [approver]\napproval_expiry_hours: 24\ntime_zone: Europe/London\n"
    )
    with web_rt.db.session() as session:
        tenant = session.get(Tenant, "contoso-dental")
        assert tenant is not None
        tenant.policy_path = str(policy)
    received = add_ticket(
        web_rt,
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        "Offboarding Marcus Lee",
        "Marcus Lee's last day is 11 December 2026. Please offboard him then.",
    )
    Worker(web_rt, "w").run_once()
    with TestClient(create_app(web_rt), base_url="https://127.0.0.1") as client:
        sign_in(client, "dana@msp.example")
        card = " ".join(
            unescape(re.sub(r"<[^>]+>", " ", client.get(f"/plans/{received.run_id}").text)).split()
        )
    assert "nothing runs before Fri 11 Dec 2026 17:00 (Europe/London)" in card
    approvals.approve_plan(web_rt, received.run_id, "dana@msp.example")
    said = "Approved — runs Fri 11 Dec 2026 17:00 (Europe/London)"  # 17:00 UTC in winter

    with web_rt.db.reading() as session:
        ticket = session.get(Ticket, received.ticket_id)
        assert ticket is not None and ticket.status == "working"
    headers = {"Authorization": f"Bearer {token_for(web_rt, 'dana@msp.example')}"}
    with TestClient(create_app(web_rt), base_url="https://127.0.0.1") as client:
        api = client.get(f"/api/v1/tickets/{received.ticket_id}", headers=headers).json()
        sign_in(client, "dana@msp.example")
        page = unescape(client.get(f"/tickets/{received.ticket_id}").text)
        listed = unescape(row(client.get("/tickets").text, received.ticket_id))
        plan = " ".join(
            unescape(re.sub(r"<[^>]+>", " ", client.get(f"/plans/{received.run_id}").text)).split()
        )
    assert (api["status"], api["status_words"]) == ("working", said)
    assert api["runs_at"].startswith("2026-12-11T17:00:00")
    [status] = re.findall(r'id="ticket-status">([^<]*)<', page)
    assert status == said
    assert said in listed and "awaiting approval" not in listed
    assert f"Plan {received.run_id}: {said}, not before. Its ticket shows" in plan
