"""The Audit page: searching the event log, exporting it as JSON Lines and verifying the hash
chain — for approvers and admins only, and within their tenant scope."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, select, update

from deskhand.audit import verification
from deskhand.audit.chain import ChainReport
from deskhand.audit.log import append, event_hash
from deskhand.domain.events import RunQueued
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import ChainHead, EventRecord
from deskhand.web.app import create_app
from tests.audit.tampering import as_dba, cut_to, tamper
from tests.web.conftest import sign_in

ROW = re.compile(r'<tr class="event" data-event="(\d+)">(.*?)</tr>', re.S)


def _ids(page: str) -> list[int]:
    return [int(i) for i, _ in ROW.findall(page)]


def _events(rt: Runtime, *where: ColumnElement[bool]) -> list[EventRecord]:
    with rt.db.reading() as session:
        return list(session.scalars(select(EventRecord).where(*where).order_by(EventRecord.id)))


def _newest_ids(rt: Runtime, *where: ColumnElement[bool]) -> list[int]:
    return [e.id for e in reversed(_events(rt, *where))][:100]


def _export(client: TestClient, query: str = "") -> list[dict[str, object]]:
    response = client.get(f"/audit/export.jsonl{query}")
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def _system_event(rt: Runtime, reason: str = "nightly housekeeping") -> int:
    """An event of no tenant, like the system's own."""
    with rt.db.session() as session:
        return append(session, RunQueued(reason=reason)).id


def _verdict(client: TestClient, csrf: str) -> str:
    """Start a verification and wait for its verdict; the chain section's HTML."""
    started = client.post("/audit/verify", headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert started.status_code == 200, started.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        section = client.get("/audit/verify").text
        if "hx-trigger" not in section:
            return section
        time.sleep(0.05)
    pytest.fail("the verification did not finish within a minute")


def northwind_ticket(rt: Runtime) -> None:
    """A northwind-law ticket, dispatched: the demo's tickets are all contoso-dental's."""
    add_ticket(
        rt,
        "northwind-law",
        "grace.liu@northwindlaw.example",
        "Forgot my password",
        "I can't sign in to Outlook, please reset my password. Grace",
    )
    Worker(rt, "test-worker").run_once()


@pytest.fixture
def web_rt(web_rt: Runtime) -> Runtime:
    """The web tests' demo runtime, with a northwind-law ticket as well."""
    northwind_ticket(web_rt)
    return web_rt


@pytest.fixture
def riley(app_client: TestClient) -> tuple[TestClient, str]:
    """riley, approver of northwind-law only, signed in."""
    return app_client, sign_in(app_client, "riley@msp.example")


@pytest.mark.parametrize("email", ["lee@msp.example", "vic@msp.example"])
def test_techs_and_viewers_are_refused_every_audit_route(
    app_client: TestClient, email: str
) -> None:
    csrf = sign_in(app_client, email)
    assert 'href="/audit"' not in app_client.get("/tickets").text  # not in the nav either
    for response in (
        app_client.get("/audit"),
        app_client.get("/audit?tenant=contoso-dental"),
        app_client.get("/audit/export.jsonl"),
        app_client.get("/audit/verify"),
        app_client.post("/audit/verify", data={"csrf": csrf}),
    ):
        assert response.status_code == 403
        assert "This needs the approver role" in response.text
        assert "data-event=" not in response.text and '"hash"' not in response.text


def test_the_audit_pages_need_a_session(app_client: TestClient) -> None:
    for path in ("/audit", "/audit/export.jsonl", "/audit/verify"):
        response = app_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_events_are_listed_newest_first_with_who_what_and_the_ticket(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    page = client.get("/audit").text
    assert _ids(page) == _newest_ids(web_rt)
    newest = _events(web_rt)[-1]
    cells = dict(ROW.findall(page))[str(newest.id)]
    assert newest.type in cells and newest.actor in cells
    if newest.ticket_id:
        assert f'<a href="/tickets/{newest.ticket_id}">' in cells
    assert "<details><summary>The event's data</summary><pre>" in cells


def test_an_event_reads_as_a_sentence_with_its_raw_data_one_click_away(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    page = client.get("/audit?type=ticket.received").text
    received = _events(web_rt, EventRecord.type == "ticket.received")[-1]
    cells = dict(ROW.findall(page))[str(received.id)]
    words, raw = cells.split("<details>", 1)
    assert '<p class="summary">' in words and '{"' not in words  # words, not JSON
    assert "&#34;" in raw or '"' in raw  # the JSON, inside the details
    assert json.dumps(received.data, indent=2).split("\n")[1].split(":")[0].strip() in (
        raw.replace("&#34;", '"')
    )


def test_event_data_is_escaped(signed_in: tuple[TestClient, str], web_rt: Runtime) -> None:
    client, _ = signed_in
    add_ticket(
        web_rt,
        "contoso-dental",
        "lisa.chen@contosodental.example",
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
    )
    page = client.get("/audit?type=ticket.received").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page


def test_a_scoped_approver_finds_and_exports_only_their_tenants_events(
    riley: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = riley
    system = _system_event(web_rt)
    page = client.get("/audit").text
    northwind = _newest_ids(web_rt, EventRecord.tenant_id == "northwind-law")
    assert northwind, "the demo has northwind-law events"
    assert _ids(page) == northwind
    assert system not in _ids(page)
    assert "Contoso" not in page  # not even in the tenant choices
    assert _ids(client.get("/audit?tenant=contoso-dental").text) == []
    contoso_ticket = _events(web_rt, EventRecord.tenant_id == "contoso-dental")[0].ticket_id
    assert _ids(client.get(f"/audit?ticket={contoso_ticket}").text) == []
    northwind_ticket = _events(web_rt, EventRecord.tenant_id == "northwind-law")[0].ticket_id
    assert _ids(client.get(f"/audit?ticket={northwind_ticket}").text) == _newest_ids(
        web_rt, EventRecord.ticket_id == northwind_ticket
    )
    exported = _export(client)
    assert {line["tenant_id"] for line in exported} == {"northwind-law"}
    assert [line["id"] for line in exported] == sorted(northwind)
    assert _export(client, "?tenant=contoso-dental") == []


def test_an_all_tenant_approver_exports_everything_including_system_events(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    system = _system_event(web_rt)
    with web_rt.db.session() as session:  # enough lines to be streamed in several pieces
        for n in range(1200):
            append(session, RunQueued(reason=f"export {n}"), tenant_id="northwind-law")
    response = client.get("/audit/export.jsonl")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="deskhand-events-\d{8}T\d{6}Z\.jsonl"', disposition)
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == [e.id for e in _events(web_rt)]
    assert any(line["id"] == system and line["tenant_id"] is None for line in lines)
    # Each line carries what its hash covers: it re-verifies outside deskhand.
    first = _events(web_rt)[0]
    assert lines[0]["hash"] == first.hash == event_hash(first, lines[0]["prev_hash"])
    named = client.get("/audit/export.jsonl?tenant=northwind-law&type=run.queued")
    assert "deskhand-events-northwind-law-run.queued-" in named.headers["content-disposition"]


def test_each_filter_narrows_the_page_and_the_export_alike(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    # A user's own event to find by actor: dana approves a draft.
    approved = client.post(
        "/drafts/1/approve", headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    )
    assert approved.status_code == 200
    ticket_id = _events(web_rt, EventRecord.ticket_id.is_not(None))[-1].ticket_id
    cases = {
        f"ticket={ticket_id}": [EventRecord.ticket_id == ticket_id],
        f"ticket=%23{ticket_id}": [EventRecord.ticket_id == ticket_id],  # "#12" as people write it
        "tenant=northwind-law": [EventRecord.tenant_id == "northwind-law"],
        "actor=dana%40msp.example": [EventRecord.actor == "dana@msp.example"],
        "type=step.decided": [EventRecord.type == "step.decided"],
        "tenant=contoso-dental&type=ticket.received": [
            EventRecord.tenant_id == "contoso-dental",
            EventRecord.type == "ticket.received",
        ],
    }
    for query, where in cases.items():
        expected = _newest_ids(web_rt, *where)
        assert expected, query
        assert expected != _newest_ids(web_rt), query  # the filter does narrow
        assert _ids(client.get(f"/audit?{query}").text) == expected, query
        assert [line["id"] for line in _export(client, f"?{query}")] == sorted(expected), query


def test_the_date_filters_take_whole_utc_days(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    with as_dba(web_rt.db.engine) as connection:  # the log is append-only to deskhand itself
        connection.execute(
            update(EventRecord)
            .where(EventRecord.id <= 3)
            .values(at=datetime(2024, 1, 15, 23, 59, 59, tzinfo=UTC))
        )
        connection.execute(
            update(EventRecord)
            .where(EventRecord.id.between(4, 5))
            .values(at=datetime(2024, 1, 16, 0, 0, tzinfo=UTC))
        )
    assert sorted(_ids(client.get("/audit?until=2024-01-15").text)) == [1, 2, 3]
    assert sorted(_ids(client.get("/audit?since=2024-01-16&until=2024-01-16").text)) == [4, 5]
    later = _ids(client.get("/audit?since=2024-01-16").text)
    assert 4 in later and 3 not in later
    exported = _export(client, "?since=2024-01-15&until=2024-01-15")
    assert [line["id"] for line in exported] == [1, 2, 3]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ticket=abc", "is not a ticket id"),
        ("since=2024-13-01", "cannot read the date"),
        ("since=2024-02-01&until=2024-01-01", "wrong way round"),
        ("before=x", "is not an event id"),
    ],
)
def test_a_search_that_cannot_be_read_says_why_and_keeps_the_form(
    signed_in: tuple[TestClient, str], query: str, message: str
) -> None:
    client, _ = signed_in
    response = client.get(f"/audit?{query}")
    assert response.status_code == 400
    assert message in response.text
    assert '<form class="filters audit-search"' in response.text
    assert _ids(response.text) == []
    if not query.startswith("before"):
        assert client.get(f"/audit/export.jsonl?{query}").status_code == 400


def test_pages_of_a_hundred_follow_each_other_without_gaps(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    with web_rt.db.session() as session:
        for n in range(150):
            append(session, RunQueued(reason=f"paging {n}"), tenant_id="contoso-dental")
    everything = [
        e.id for e in reversed(_events(web_rt, EventRecord.tenant_id == "contoso-dental"))
    ]
    assert len(everything) > 200
    seen: list[int] = []
    url: str | None = "/audit?tenant=contoso-dental"
    pages = 0
    while url:
        page = client.get(url).text
        ids = _ids(page)
        assert len(ids) == (
            100 if len(everything) - len(seen) > 100 else len(everything) - len(seen)
        )
        seen += ids
        pages += 1
        found = re.search(r'<a href="(/audit\?[^"]+)" role="button" [^>]*rel="next">', page)
        url = found.group(1).replace("&amp;", "&") if found else None
        if pages > 1:
            assert 'href="/audit?tenant=contoso-dental" role="button"' in page  # back to newest
    assert seen == everything
    assert pages == -(-len(everything) // 100)


def test_verify_needs_the_csrf_token(signed_in: tuple[TestClient, str]) -> None:
    client, _ = signed_in
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        response = client.post("/audit/verify", headers=headers, data={"csrf": "forged"})
        assert response.status_code == 403
        assert "did not come from deskhand" in response.text
    assert "Not verified since this server started" in client.get("/audit/verify").text


def test_verify_reports_an_intact_chain_with_its_count_and_head(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    section = _verdict(client, csrf)
    with web_rt.db.reading() as session:
        count = len(session.scalars(select(EventRecord.id)).all())
        head = session.execute(select(ChainHead.last_event_id, ChainHead.last_hash)).one()
    assert "Intact" in section
    assert f"{count:,} events checked" in section
    assert (
        f'Head: event {head.last_event_id}, hash <code class="hash">{head.last_hash}</code>'
        in section
    )
    assert "Intact" in client.get("/audit").text  # the last verdict stays on the page


def test_verify_without_htmx_redirects_back_to_the_page(signed_in: tuple[TestClient, str]) -> None:
    client, csrf = signed_in
    response = client.post("/audit/verify", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/audit#chain"
    assert "Intact" in _verdict(client, csrf)  # joins or repeats the walk: none is left running


def _tamper(rt: Runtime, tenant_id: str) -> int:
    """Edit one event's data behind deskhand's back, as someone with the database file could."""
    event = _events(rt, EventRecord.tenant_id == tenant_id)[2]
    tamper(
        rt.db.engine,
        "UPDATE events SET data = :data WHERE id = :id",
        data={"reason": "nothing to see"},
        id=event.id,
    )
    return event.id


def test_verify_finds_the_edited_event(signed_in: tuple[TestClient, str], web_rt: Runtime) -> None:
    client, csrf = signed_in
    bad = _tamper(web_rt, "contoso-dental")
    section = _verdict(client, csrf)
    assert "Broken" in section
    assert f'class="bad-event">#{bad}</a>' in section
    assert f"event {bad}: its content does not match its hash" in section
    assert "Head:" not in section


def test_a_scoped_approver_sees_the_verdict_but_not_where_in_other_tenants(
    riley: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = riley
    bad = _tamper(web_rt, "contoso-dental")
    section = _verdict(client, csrf)
    assert "Broken" in section and "outside your tenants" in section
    assert re.search(r"checked [\d,]+ events up to the first bad one", section)
    assert f"#{bad}" not in section and f"event {bad}" not in section
    assert "does not match" not in section


def test_a_scoped_approver_sees_where_the_chain_breaks_in_their_tenant(
    riley: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = riley
    bad = _tamper(web_rt, "northwind-law")
    section = _verdict(client, csrf)
    assert f'class="bad-event">#{bad}</a>' in section
    assert "does not match" not in section  # the wording names neighbouring events


def test_an_intact_verdict_for_a_scoped_approver_has_no_head_hash(
    riley: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = riley
    section = _verdict(client, csrf)
    with web_rt.db.reading() as session:
        head_hash = session.scalar(select(ChainHead.last_hash))
    assert "Intact" in section and "events checked" in section
    assert str(head_hash) not in section


def test_verify_writes_the_first_checkpoint_and_then_finds_the_log_cut_short(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    first = _verdict(client, csrf)
    assert "Intact" in first
    assert "No signed checkpoints to compare with" in first
    assert "The first checkpoint was written now." in first
    assert web_rt.settings.audit_checkpoints().exists()  # the deployment's file, not another
    with web_rt.db.reading() as session:
        newest = session.scalar(select(ChainHead.last_event_id))
    assert newest is not None
    cut_to(web_rt.db, newest - 2)
    cut = _verdict(client, csrf)
    assert "Broken" in cut and "does not match the signed checkpoints" in cut
    assert (
        f"saw event {newest}, but the log now ends at event {newest - 2}: events "
        f"{newest - 1}–{newest} were removed from its end, and the chain head moved back to "
        f"{newest - 2}." in cut
    )


def test_a_scoped_approver_learns_the_log_was_cut_short_but_not_where(
    riley: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = riley
    assert "The first checkpoint was written now." in _verdict(client, csrf)
    with web_rt.db.reading() as session:
        newest = session.scalar(select(ChainHead.last_event_id))
    assert newest is not None
    cut_to(web_rt.db, newest - 1)
    section = _verdict(client, csrf)
    assert "does not match the signed checkpoints" in section
    assert "Someone who sees every tenant can see where." in section
    assert f"event {newest}" not in section and "checkpoint-problems" not in section


@pytest.fixture
def held_walk(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, list[int]]]:
    """Walks of the chain that wait until released, counting how many were started."""
    release = threading.Event()
    walks: list[int] = []

    def verify(session: object) -> ChainReport:
        walks.append(1)
        release.wait(30)
        return ChainReport(ok=True, events_checked=7)

    monkeypatch.setattr(verification, "verify", verify)
    yield release, walks
    release.set()


def test_a_running_verification_polls_and_a_second_request_joins_it(
    signed_in: tuple[TestClient, str], held_walk: tuple[threading.Event, list[int]]
) -> None:
    client, csrf = signed_in
    release, walks = held_walk
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    first = client.post("/audit/verify", headers=headers).text
    assert 'hx-get="/audit/verify" hx-trigger="every 2s"' in first
    assert "Verifying the chain" in first and "about a minute per million events" in first
    assert "Verify the chain now" not in first
    assert "Verifying the chain" in client.post("/audit/verify", headers=headers).text
    assert "Verifying the chain" in client.get("/audit").text
    release.set()
    deadline = time.monotonic() + 30
    while "hx-trigger" in (section := client.get("/audit/verify").text):
        assert time.monotonic() < deadline, "the held walk did not end"
        time.sleep(0.05)
    assert "Intact" in section and "7 events checked" in section
    assert walks == [1]


def test_search_export_and_verify_on_postgresql(pg_web_rt: Runtime) -> None:
    northwind_ticket(pg_web_rt)
    with pg_web_rt.db.session() as session:  # enough lines to be streamed in several pieces
        for n in range(1200):
            append(session, RunQueued(reason=f"export {n}"), tenant_id="northwind-law")
    with TestClient(create_app(pg_web_rt), base_url="https://127.0.0.1") as client:
        csrf = sign_in(client, "riley@msp.example")
        northwind = _events(pg_web_rt, EventRecord.tenant_id == "northwind-law")
        assert _ids(client.get("/audit").text) == [e.id for e in reversed(northwind)][:100]
        assert [line["id"] for line in _export(client)] == [e.id for e in northwind]
        assert _ids(client.get("/audit?type=ticket.received").text) == _newest_ids(
            pg_web_rt,
            EventRecord.tenant_id == "northwind-law",
            EventRecord.type == "ticket.received",
        )
        bad = _tamper(pg_web_rt, "northwind-law")
        section = _verdict(client, csrf)
        assert "Broken" in section and f'class="bad-event">#{bad}</a>' in section
