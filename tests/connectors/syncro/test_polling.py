"""Polling intake: Syncro's new tickets become deskhand tickets once each, on SQLite and on
PostgreSQL, and a read that breaks off resumes where its cursor says."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.factory import Connectors, Factory
from deskhand.connectors.syncro import SyncroPsa, SyncroSettings
from deskhand.connectors.syncro.limiter import RequestLimiter
from deskhand.engine import state
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake import psa_poller
from deskhand.intake.polling import poll_all
from deskhand.store.models import IntakeCursor, Quarantined, Run, Tenant, Ticket
from tests.connectors.syncro.conftest import Client
from tests.connectors.syncro.standin import API_KEY


@pytest.fixture
def rt(
    database_url: str, tmp_path: Path, syncro: Client, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """A runtime with two tenants: contoso on Syncro (the stand-in), fabrikam on the sandbox."""
    monkeypatch.setenv("DESKHAND_DATA_DIR", str(tmp_path))
    runtime = Runtime.from_settings(
        Settings(data_dir=tmp_path, database_url=database_url, poll_intake_seconds=60)
    )
    runtime.db.upgrade()
    with runtime.db.session() as session:
        session.add(Tenant(id="contoso", name="Contoso Dental", psa_customer_id="101"))
        session.add(Tenant(id="fabrikam", name="Fabrikam", psa_customer_id="102"))
    psa = syncro.psa()

    # Until the factory reads the tenant's connection file, the test hands it the client.
    def connectors(self: Runtime, tenant: Tenant) -> Connectors:
        sandbox = Factory(self.sandbox).for_tenant(tenant)
        return dataclasses.replace(sandbox, psa=psa) if tenant.id == "contoso" else sandbox

    monkeypatch.setattr(Runtime, "connectors", connectors)
    yield runtime
    runtime.close()


def _tickets(rt: Runtime) -> list[tuple[str, str, str]]:
    with rt.db.reading() as session:
        rows = session.execute(
            select(Ticket.psa_ticket_id, Ticket.subject, Ticket.status).order_by(Ticket.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _cursor(rt: Runtime) -> dict[str, Any]:
    with rt.db.reading() as session:
        cursor = session.get(IntakeCursor, ("contoso", "syncro"))
        assert cursor is not None
        return dict(cursor.position)


def _add(syncro: Client, count: int, **options: Any) -> list[int]:
    return [
        syncro.standin.add_ticket(
            syncro.customer_id, f"Ticket {n}", f"body {n}", contact_id=syncro.dana, **options
        )
        for n in range(count)
    ]


def test_new_tickets_become_deskhand_tickets_with_their_requester(
    rt: Runtime, syncro: Client
) -> None:
    [ticket_id] = _add(syncro, 1)
    syncro.standin.add_ticket(syncro.other_customer_id, "Fabrikam's", "not contoso's")
    [report] = psa_poller.poll(rt)
    assert (report.tenant_id, report.new, report.skipped, report.error) == (
        "contoso",
        [str(syncro.standin.tickets[ticket_id]["number"])],
        [],
        None,
    )
    assert _tickets(rt) == [(str(ticket_id), "Ticket 0", "new")]
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.requester.email == "dana.reyes@contoso-dental.example"
        assert ticket.requester.name == "Dana Reyes"
        assert ticket.requester_display_name == "Dana Reyes"
        assert (ticket.origin, ticket.exported_from) == ("psa", None)
        assert ticket.body == "body 0"
        assert session.scalar(select(Run.status).where(Run.ticket_id == ticket.id)) == "queued"


def test_every_page_is_read_and_no_ticket_is_stored_twice(rt: Runtime, syncro: Client) -> None:
    start = datetime.now(UTC) - timedelta(hours=2)
    ids = [
        syncro.standin.add_ticket(
            syncro.customer_id, f"T{n}", "body", updated_at=start + timedelta(minutes=n)
        )
        for n in range(60)
    ]
    [first] = psa_poller.poll(rt)
    assert (len(first.new), first.pages) == (60, 3)
    assert _cursor(rt)["page"] == 0  # a full read: the next one starts from the newest change
    syncro.psa().add_comment(str(ids[0]), "note", "touched", hidden=True)
    [second] = psa_poller.poll(rt)
    assert second.new == []
    # The touched ticket, and the newest one again (the one-second overlap): both known.
    numbers = {str(syncro.standin.tickets[i]["number"]) for i in (ids[0], ids[-1])}
    assert {number for number, _ in second.skipped} == numbers
    assert {why for _, why in second.skipped} == {"already in deskhand"}
    assert len(_tickets(rt)) == 60


def test_only_tickets_nobody_has_picked_up_are_taken(rt: Runtime, syncro: Client) -> None:
    _add(syncro, 1, status="In Progress")
    _add(syncro, 1, status="Resolved")
    syncro.standin.add_ticket(syncro.customer_id, "Phone", "called", contact_id=syncro.phone_only)
    [report] = psa_poller.poll(rt)
    assert report.new == []
    assert sorted(why for _, why in report.skipped) == [
        "no requester e-mail: give the ticket a contact with an address in Syncro",
        "status 'In Progress': someone at the MSP has it",
        "status 'Resolved': someone at the MSP has it",
    ]
    assert _tickets(rt) == []


def test_a_read_broken_off_by_syncro_resumes_after_the_last_stored_page(
    rt: Runtime, syncro: Client
) -> None:
    _add(syncro, 60)
    syncro.standin.fail_next(503, times=4, method="GET", path=r"/tickets\?.*page=2")
    [broken] = psa_poller.poll(rt)
    assert broken.error is not None and "503" in broken.error
    assert (len(broken.new), broken.pages) == (25, 1)
    assert _cursor(rt)["page"] == 1
    [resumed] = psa_poller.poll(rt)
    assert (len(resumed.new), resumed.pages, resumed.error) == (35, 2, None)
    tickets = _tickets(rt)
    assert len(tickets) == len({psa_id for psa_id, _, _ in tickets}) == 60
    first_pages = [r.query["page"] for r in syncro.standin.requests_to("GET", "/api/v1/tickets")]
    assert first_pages == ["1", "2", "2", "2", "2", "2", "3"]


def test_a_crash_while_storing_a_page_stores_none_of_it_and_the_cursor_stays(
    rt: Runtime, syncro: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(syncro, 60)
    receive = state.receive_ticket
    calls = {"n": 0}

    def crash_on_the_thirtieth(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 30:  # the process ends: no ticket's fault, so nothing is quarantined
            raise SystemExit("the worker died")
        return receive(*args, **kwargs)

    monkeypatch.setattr(state, "receive_ticket", crash_on_the_thirtieth)
    with pytest.raises(SystemExit):
        psa_poller.poll(rt)
    assert len(_tickets(rt)) == 25
    assert _cursor(rt)["page"] == 1
    monkeypatch.setattr(state, "receive_ticket", receive)
    [resumed] = psa_poller.poll(rt)
    assert len(resumed.new) == 35 and len(_tickets(rt)) == 60


def test_an_answer_to_a_waiting_ticket_is_handed_to_receive_reply(
    rt: Runtime, syncro: Client
) -> None:
    [psa_id] = _add(syncro, 1)
    psa_poller.poll(rt)
    with rt.db.session() as session:  # as after deskhand's question was sent
        session.execute(update(Ticket).values(status="waiting_on_requester"))
    psa = syncro.psa()
    psa.add_comment(str(psa_id), "Update on your ticket", "Which Dana?", hidden=False)
    syncro.standin.client_replies(psa_id, "Dana Reyes, the one at the front desk")
    handed: list[tuple[int, str, str]] = []
    [report] = psa_poller.poll(
        rt, on_reply=lambda rt, t, sender, body: handed.append((t, sender, body))
    )
    with rt.db.reading() as session:
        ticket_id = session.scalar(select(Ticket.id))
    assert handed == [
        (ticket_id, "dana.reyes@contoso-dental.example", "Dana Reyes, the one at the front desk")
    ]
    assert report.updated == [str(syncro.standin.tickets[psa_id]["number"])]


def test_the_requesters_answer_requeues_the_waiting_ticket(rt: Runtime, syncro: Client) -> None:
    [psa_id] = _add(syncro, 1)
    psa_poller.poll(rt)
    with rt.db.session() as session:
        session.execute(update(Ticket).values(status="waiting_on_requester"))
    syncro.psa().add_comment(str(psa_id), "Update on your ticket", "Which Dana?", hidden=False)
    syncro.standin.client_replies(psa_id, "Dana Reyes, at the front desk")
    [report] = psa_poller.poll(rt)  # intake's own receive_reply
    assert len(report.updated) == 1
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.status == "working"
        assert ticket.body.endswith("Dana Reyes, at the front desk")
        runs = session.scalars(select(Run.status).where(Run.ticket_id == ticket.id)).all()
        assert sorted(runs) == ["queued", "queued"]


def test_the_request_itself_is_never_taken_for_an_answer(rt: Runtime, syncro: Client) -> None:
    [psa_id] = _add(syncro, 1)
    psa_poller.poll(rt)
    with rt.db.session() as session:  # the question went out by mail, not as a PSA comment
        session.execute(update(Ticket).values(status="waiting_on_requester"))
    syncro.standin.client_replies(psa_id, "the one at the front desk")
    handed: list[str] = []
    psa_poller.poll(rt, on_reply=lambda rt, t, sender, body: handed.append(body))
    assert handed == ["the one at the front desk"]


def test_a_waiting_ticket_without_an_answer_waits(rt: Runtime, syncro: Client) -> None:
    [psa_id] = _add(syncro, 1)
    psa_poller.poll(rt)
    with rt.db.session() as session:
        session.execute(update(Ticket).values(status="waiting_on_requester"))
    syncro.psa().add_comment(str(psa_id), "Update on your ticket", "Which Dana?", hidden=False)
    [report] = psa_poller.poll(rt, on_reply=lambda *args: pytest.fail("nobody answered"))
    assert report.skipped == [
        (
            str(syncro.standin.tickets[psa_id]["number"]),
            "waiting on the requester, who has not answered yet",
        )
    ]


def test_worker_reads_the_psa_on_its_schedule(rt: Runtime, syncro: Client) -> None:
    _add(syncro, 2)
    worker = Worker(rt, "w1", intake=poll_all)
    assert worker.poll_intake_when_due() is True
    assert worker.poll_intake_when_due() is False  # not again within poll_intake_seconds
    assert len(_tickets(rt)) == 2
    assert Worker(rt, "w2").poll_intake_when_due() is False  # a worker given no intake
    rt.settings.poll_intake_seconds = 0
    assert Worker(rt, "w3", intake=poll_all).poll_intake_when_due() is False


def test_cli_poll_prints_what_it_read(
    rt: Runtime, syncro: Client, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(syncro, 2)
    _add(syncro, 1, status="Resolved")
    runner = CliRunner()
    result = runner.invoke(app, ["--db", database_url, "intake", "poll", "--tenant", "contoso"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "contoso: 2 new, 0 updated, 1 skipped (1 page(s) read)"
    assert lines[2] == "  skipped 1: status 'Resolved': someone at the MSP has it"
    with rt.db.reading() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 2


def test_cli_poll_of_an_unknown_tenant_says_how_to_list_them(
    rt: Runtime, database_url: str
) -> None:
    result = CliRunner().invoke(app, ["--db", database_url, "intake", "poll", "--tenant", "nope"])
    assert result.exit_code != 0
    assert "No tenant 'nope'" in result.output and "deskhand tenants list" in result.output


def test_cli_poll_of_a_sandbox_tenant_says_there_is_nothing_to_read(
    rt: Runtime, database_url: str
) -> None:
    result = CliRunner().invoke(
        app, ["--db", database_url, "intake", "poll", "--tenant", "fabrikam"]
    )
    assert result.exit_code == 0
    assert "Tenant fabrikam has no Syncro PSA to read from" in result.output


def test_the_poller_reads_only_syncro_tenants(rt: Runtime) -> None:
    assert isinstance(rt.connectors(_tenant(rt, "contoso")).psa, SyncroPsa)
    assert [report.tenant_id for report in psa_poller.poll(rt)] == ["contoso"]


def _tenant(rt: Runtime, tenant_id: str) -> Tenant:
    with rt.db.reading() as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        session.expunge(tenant)
        return tenant


def test_a_tenant_whose_connection_file_says_syncro_is_read_through_the_factory(
    syncro: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = tmp_path / "contoso.yaml"
    connection.write_text(
        "name: Contoso Dental\n"
        "psa:\n"
        "  kind: syncro\n"
        f'  customer_id: "{syncro.customer_id}"\n'
        f"  base_url: {syncro.standin.base_url}\n"
        "  api_key: env:CONTOSO_SYNCRO_KEY\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CONTOSO_SYNCRO_KEY", API_KEY)
    database = f"sqlite:///{tmp_path / 'deskhand.db'}"
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path, database_url=database))
    try:
        runtime.db.upgrade()
        with runtime.db.session() as session:
            session.add(
                Tenant(
                    id="contoso",
                    name="Contoso Dental",
                    psa_customer_id=str(syncro.customer_id),
                    config_path=str(connection),
                )
            )
        _add(syncro, 3)
        [report] = psa_poller.poll(runtime)
        assert (len(report.new), report.error) == (3, None)
        assert len(_tickets(runtime)) == 3
    finally:
        runtime.close()


def test_a_poller_whose_cursor_another_moved_meanwhile_stores_nothing(
    rt: Runtime, syncro: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(syncro, 3)
    psa = rt.connectors(_tenant(rt, "contoso")).psa
    assert isinstance(psa, SyncroPsa)
    read_contacts = psa.contacts
    read_contacts()  # known now: listing tickets needs no contacts, only the poller asks
    others: list[psa_poller.PollReport] = []
    meanwhile = iter([True])

    def contacts_while_another_worker_polls() -> list[Any]:
        if next(meanwhile, False):  # between reading the page and storing it, once
            others.extend(psa_poller.poll(rt))
        return read_contacts()

    monkeypatch.setattr(psa, "contacts", contacts_while_another_worker_polls)
    [report] = psa_poller.poll(rt)
    assert len(others[0].new) == 3
    assert report.new == [] and report.error is not None and "another poller" in report.error
    assert len(_tickets(rt)) == 3


def test_a_tenant_whose_connection_file_is_broken_does_not_stop_the_others(
    rt: Runtime, syncro: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskhand.errors import InputError

    connectors = Runtime.connectors

    def broken_for_fabrikam(self: Runtime, tenant: Tenant) -> Connectors:
        if tenant.id == "fabrikam":
            raise InputError("fabrikam.yaml, line 3: `psa.api_key` is missing.")
        return connectors(self, tenant)

    monkeypatch.setattr(Runtime, "connectors", broken_for_fabrikam)
    _add(syncro, 1)
    reports = {report.tenant_id: report for report in psa_poller.poll(rt)}
    assert reports["fabrikam"].error == "fabrikam.yaml, line 3: `psa.api_key` is missing."
    assert len(reports["contoso"].new) == 1


def test_a_ticket_with_nul_in_its_text_is_taken_cleaned(rt: Runtime, syncro: Client) -> None:
    """PostgreSQL refuses NUL in text (DataError): the ticket is stored without it."""
    syncro.standin.add_ticket(
        syncro.customer_id, "reset\x00my password", "locked out\x00 again", contact_id=syncro.dana
    )
    [report] = psa_poller.poll(rt)
    assert (len(report.new), report.quarantined, report.error) == (1, [], None)
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.subject, ticket.body) == ("reset my password", "locked out again")


def test_a_ticket_that_cannot_be_taken_is_quarantined_and_the_rest_of_its_page_stored(
    rt: Runtime, syncro: Client
) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    odd = syncro.standin.add_contact(
        syncro.customer_id, "Odd", "x" * 300 + "@contoso-dental.example"
    )
    ids = [
        syncro.standin.add_ticket(
            syncro.customer_id, subject, "body", contact_id=contact, updated_at=start + offset
        )
        for subject, contact, offset in [
            ("First", syncro.dana, timedelta(minutes=1)),
            ("Second", syncro.sam, timedelta(minutes=2)),
            ("From an odd contact", odd, timedelta(minutes=3)),  # the newest: listed again
        ]
    ]
    [report] = psa_poller.poll(rt)
    assert sorted(subject for _, subject, _ in _tickets(rt)) == ["First", "Second"]
    assert _cursor(rt)["page"] == 0  # past the page, the quarantined ticket with it
    number = syncro.standin.tickets[ids[2]]["number"]
    [(reference, reason)] = report.quarantined
    assert reference.endswith(f"ticket #{number} (id {ids[2]})")
    assert "is not an e-mail address (it is 323 characters long)" in reason
    with rt.db.reading() as session:
        held = session.scalars(select(Quarantined)).one()
        assert (held.tenant_id, held.source, held.status) == ("contoso", "syncro", "held")
        assert json.loads(held.content)["subject"] == "From an odd contact"
    [again] = psa_poller.poll(rt)  # listed again in the overlap: still one item, not two
    assert len(again.quarantined) == 1
    with rt.db.reading() as session:
        assert session.scalar(select(func.count(Quarantined.id))) == 1


def test_an_answer_that_breaks_intake_is_quarantined_and_the_read_goes_on(
    rt: Runtime, syncro: Client
) -> None:
    [psa_id] = _add(syncro, 1)
    psa_poller.poll(rt)
    with rt.db.session() as session:
        session.execute(update(Ticket).values(status="waiting_on_requester"))
    syncro.standin.client_replies(psa_id, "the one at the front desk")
    _add(syncro, 1)

    def broken_hand_over(*args: object) -> object:
        raise KeyError("run")

    [report] = psa_poller.poll(rt, on_reply=broken_hand_over)
    assert len(report.new) == 1 and report.error is None
    [(reference, reason)] = report.quarantined
    assert "answer on ticket #" in reference and "KeyError: 'run'" in reason
    with rt.db.reading() as session:
        held = session.scalars(select(Quarantined)).one()
        assert json.loads(held.content)["answer"] == "the one at the front desk"


def test_one_syncro_tenants_broken_read_never_stops_the_next(
    rt: Runtime, syncro: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    fabrikam_psa = _psa_for(syncro, "fabrikam", syncro.other_customer_id)
    connectors = Runtime.connectors

    def both_on_syncro(self: Runtime, tenant: Tenant) -> Connectors:
        found = connectors(self, tenant)
        return dataclasses.replace(found, psa=fabrikam_psa) if tenant.id == "fabrikam" else found

    monkeypatch.setattr(Runtime, "connectors", both_on_syncro)
    _add(syncro, 1)
    syncro.standin.add_ticket(syncro.other_customer_id, "Fabrikam's printer", "jammed")
    with rt.db.session() as session:  # contoso's cursor edited by hand into something unreadable
        session.add(IntakeCursor(tenant_id="contoso", source="syncro", position={"since": "?"}))
    reports = {report.tenant_id: report for report in psa_poller.poll(rt)}
    assert reports["contoso"].error is not None and "the read stopped" in reports["contoso"].error
    assert len(reports["fabrikam"].new) == 1 and reports["fabrikam"].error is None
    assert [subject for _, subject, _ in _tickets(rt)] == ["Fabrikam's printer"]


def _psa_for(syncro: Client, tenant_id: str, customer_id: int) -> SyncroPsa:
    """A client of the stand-in for another of the MSP's customers."""
    config = SyncroSettings(base_url=syncro.standin.base_url, customer_id=customer_id)
    caller = Caller(
        tenant_id,
        "syncro",
        policy=CallPolicy(timeout_seconds=5),
        breakers=Breakers(clock=syncro.clock),
        sleep=syncro.clock.sleep,
        jitter=lambda: 0.0,
    )
    limiter = RequestLimiter(180, clock=syncro.clock, sleep=syncro.clock.sleep)
    return SyncroPsa(tenant_id, config, API_KEY, caller=caller, limiter=limiter)
