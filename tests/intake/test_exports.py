"""Tickets from ConnectWise Manage, Autotask, HaloPSA and Syncro export files become deskhand
tickets once each, queued like polled ones; every row that does not is counted with its file
and row. Storage runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.errors import InputError
from deskhand.intake.arrival import add_ticket
from deskhand.intake.exports import ExportReading, import_export, read_export
from deskhand.store.models import Escalation, EventRecord, Run, Tenant, Ticket
from tests.support import WriteCsv

CONTOSO = "contoso-dental"
APPROVER = "dana@msp.example"
LISA = "lisa.chen@contosodental.example"
KAREN = "karen.whitfield@contosodental.example"

CW_HEADER = [
    "id", "summary", "board", "status", "company", "type", "dateEntered", "contactName",
    "contactEmailAddress", "initialDescription",
]  # fmt: skip
AUTOTASK_HEADER = [
    "TicketID", "Title", "Description", "Status", "IssueType", "CreateDate", "Contact",
    "Contact Email",
]  # fmt: skip
HALO_HEADER = [
    "id", "summary", "details", "status", "tickettype", "client_name", "dateoccurred",
    "user_name", "user_email",
]  # fmt: skip
SYNCRO_HEADER = [
    "Ticket Number", "Ticket Subject", "Ticket Initial Issue", "Ticket Status",
    "Ticket Customer", "Ticket Created", "Ticket Contact", "Contact Email",
]  # fmt: skip


def cw_row(number: str, summary: str, status: str = "New", email: str = LISA) -> list[str]:
    return [
        number, summary, "Service Desk", status, "Contoso Dental", "Access",
        "2026-11-20T09:00:00Z", "Lisa Chen", email, f"{summary}, please.",
    ]  # fmt: skip


def write_cw(write_csv: WriteCsv, rows: list[list[str]], name: str = "cw.csv") -> Path:
    return write_csv(name, CW_HEADER, rows)


@pytest.mark.parametrize(
    ("name", "header", "row", "psa_ticket_id"),
    [
        ("cw.csv", CW_HEADER, cw_row("24001", "Forgot my password"), "connectwise:24001"),
        (
            "autotask.csv",
            AUTOTASK_HEADER,
            ["5512", "Forgot my password", "Forgot my password, please.", "New", "Access",
             "2026-11-20 09:00", "Lisa Chen", LISA],
            "autotask:5512",
        ),
        (
            "halo.csv",
            HALO_HEADER,
            ["981", "Forgot my password", "Forgot my password, please.", "Open", "Incident",
             "Contoso Dental", "2026-11-20 09:00", "Lisa Chen", LISA],
            "halo:981",
        ),
        (
            "syncro.csv",
            SYNCRO_HEADER,
            ["1043", "Forgot my password", "Forgot my password, please.", "New",
             "Contoso Dental", "2026-11-20 09:00", "Lisa Chen", LISA],
            "syncro:1043",
        ),
    ],
)  # fmt: skip
def test_each_psas_export_is_read_as_open_tickets_with_their_requester(
    write_csv: WriteCsv, name: str, header: list[str], row: list[str], psa_ticket_id: str
) -> None:
    reading = read_export([write_csv(name, header, [row])])
    assert reading.skipped == []
    [ticket] = reading.tickets
    assert ticket.psa_ticket_id == psa_ticket_id
    assert (ticket.requester_email, ticket.requester_name) == (LISA, "Lisa Chen")
    assert (ticket.subject, ticket.body) == ("Forgot my password", "Forgot my password, please.")
    assert ticket.where == f"{name} row 2"


def test_a_connectwise_api_page_saved_as_json_is_read_too(tmp_path: Path) -> None:
    page = tmp_path / "tickets.json"
    page.write_text(
        '[{"id": 24001, "summary": "Forgot my password", "board": {"id": 1, "name": "Desk"},'
        ' "status": {"id": 5, "name": "New"}, "dateEntered": "2026-11-20T09:00:00Z",'
        ' "contact": {"id": 7, "name": "Lisa Chen"}, "contactName": "Lisa Chen",'
        f' "contactEmailAddress": "{LISA}", "initialDescription": "please reset it"}}]'
    )
    [ticket] = read_export([page]).tickets
    assert (ticket.psa_ticket_id, ticket.requester_email) == ("connectwise:24001", LISA)
    assert ticket.where == "tickets.json row 1"  # a JSON list has no header row


def test_closed_and_unusable_rows_are_counted_with_their_file_and_row(
    write_csv: WriteCsv,
) -> None:
    path = write_cw(
        write_csv,
        [
            cw_row("24001", "Forgot my password"),
            cw_row("24002", "Old one", status="Closed"),
            cw_row("24003", "Resolved one", status=">Resolved"),
            cw_row("", "No number"),
            cw_row("24005", "No address", email=""),
            cw_row("24006", "Bad address", email="Lisa Chen"),
            ["24007", "", "Service Desk", "New", "Contoso", "Access", "2026-11-20", "Lisa", LISA,
             ""],
            cw_row("24001", "Forgot my password again"),
        ],
    )  # fmt: skip
    reading = read_export([path])
    assert [t.number for t in reading.tickets] == ["24001"]
    assert [(s.where, s.reason, s.number, s.detail) for s in reading.skipped] == [
        ("cw.csv row 3", "closed", "24002", "status 'Closed'"),
        ("cw.csv row 4", "closed", "24003", "status '>Resolved'"),
        ("cw.csv row 5", "no ticket number", None, ""),
        ("cw.csv row 6", "no requester e-mail address", "24005", ""),
        (
            "cw.csv row 7",
            "no requester e-mail address",
            "24006",
            "'Lisa Chen' is not an e-mail address",
        ),
        ("cw.csv row 8", "no subject or body", "24007", ""),
        ("cw.csv row 9", "repeated in the export", "24001", "first at cw.csv row 2"),
    ]
    every_row = read_export([path], open_only=False)
    assert [t.number for t in every_row.tickets] == ["24001", "24002", "24003"]


def test_a_cp1252_export_keeps_the_requesters_accented_name(write_csv: WriteCsv) -> None:
    row = cw_row("24001", "Passwort vergessen", email="jose.nunez@contosodental.example")
    row[7] = "José Núñez"
    path = write_csv("cw.csv", CW_HEADER, [row], encoding="cp1252")
    reading = read_export([path])
    assert reading.files[0].encoding == "cp1252"
    assert reading.tickets[0].requester_name == "José Núñez"


def test_a_file_that_is_not_text_of_any_export_says_so(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_bytes(b"\x00\x01\x02garbage\xff\xfe\x00")
    with pytest.raises(InputError) as caught:
        read_export([path])
    assert "tickets.csv" in caught.value.message


def test_an_export_without_the_requesters_address_names_the_map_that_fixes_it(
    write_csv: WriteCsv,
) -> None:
    header = [("Email" if h == "contactEmailAddress" else h) for h in CW_HEADER]
    header[header.index("Email")] = "Requester Mail"
    path = write_csv("cw.csv", header, [cw_row("24001", "Forgot my password")])
    with pytest.raises(InputError) as caught:
        read_export([path])
    assert "cw.csv (ConnectWise Manage service tickets) has no column for the requester" in (
        caught.value.message
    )
    assert "--map requester_email=COLUMN" in (caught.value.hint or "")
    [ticket] = read_export([path], mapping={"requester_email": "Requester Mail"}).tickets
    assert ticket.requester_email == LISA


def test_a_map_naming_a_column_the_file_lacks_is_refused(write_csv: WriteCsv) -> None:
    path = write_cw(write_csv, [cw_row("24001", "Forgot my password")])
    with pytest.raises(InputError) as caught:
        read_export([path], mapping={"requester_email": "Mail"})
    assert "--map requester_email=Mail: cw.csv has no column named 'Mail'" in str(caught.value)


def test_without_a_status_column_open_tickets_cannot_be_told_and_it_says_what_to_do(
    write_csv: WriteCsv,
) -> None:
    header = [h for h in CW_HEADER if h != "status"]
    row = cw_row("24001", "Forgot my password")
    del row[CW_HEADER.index("status")]
    path = write_csv("cw.csv", header, [row])
    with pytest.raises(InputError) as caught:
        read_export([path])
    assert "--map status=COLUMN" in (caught.value.hint or "")
    assert "--all" in (caught.value.hint or "")
    assert len(read_export([path], open_only=False).tickets) == 1


def test_a_time_entry_export_is_not_taken_for_tickets(write_csv: WriteCsv) -> None:
    time = write_csv(
        "time.csv",
        ["id", "chargeToId", "chargeToType", "member", "actualHours", "timeStart"],
        [["1", "24001", "ServiceTicket", "dana", "0.5", "2026-11-20T09:00:00Z"]],
    )
    with pytest.raises(InputError) as caught:
        read_export([time])
    assert "None of the files is a ticket export" in caught.value.message
    tickets = write_cw(write_csv, [cw_row("24001", "Forgot my password")])
    reading = read_export([time, tickets])
    assert len(reading.tickets) == 1
    assert reading.warnings == [
        "time.csv is a ConnectWise Manage time entries file, not tickets; skipped"
    ]


def _tickets(rt: Runtime) -> list[tuple[str, str, str, str | None]]:
    with rt.db.reading() as session:
        rows = session.execute(
            select(
                Ticket.psa_ticket_id, Ticket.subject, Ticket.status, Ticket.requester_display_name
            )
            .where(Ticket.psa_ticket_id.like("%:%"))
            .order_by(Ticket.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _reading(write_csv: WriteCsv, *rows: list[str]) -> ExportReading:
    return read_export([write_cw(write_csv, list(rows))])


def test_imported_tickets_are_stored_once_and_queued(rt: Runtime, write_csv: WriteCsv) -> None:
    reading = _reading(
        write_csv,
        cw_row("24001", "Forgot my password"),
        cw_row("24002", "Old one", status="Closed"),
    )
    report = import_export(rt, CONTOSO, reading)
    assert [psa_id for psa_id, _ in report.stored] == ["connectwise:24001"]
    assert [s.reason for s in report.skipped] == ["closed"]
    assert _tickets(rt) == [("connectwise:24001", "Forgot my password", "new", "Lisa Chen")]
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.id == report.stored[0][1])).one()
        assert ticket.requester.email == LISA
        assert (ticket.origin, ticket.exported_from) == ("export", "ConnectWise Manage")
        assert session.scalar(select(Run.status).where(Run.ticket_id == ticket.id)) == "queued"
        received = session.scalars(
            select(EventRecord).where(
                EventRecord.ticket_id == ticket.id, EventRecord.type == "ticket.received"
            )
        ).one()
        assert received.data["psa_ticket_id"] == "connectwise:24001"  # the trace says where

    again = import_export(rt, CONTOSO, _reading(write_csv, cw_row("24001", "Forgot my password")))
    assert again.stored == []
    assert [(s.where, s.reason) for s in again.skipped] == [("cw.csv row 2", "already in deskhand")]
    assert len(_tickets(rt)) == 1


def test_the_same_number_from_another_psa_is_another_ticket(
    rt: Runtime, write_csv: WriteCsv
) -> None:
    import_export(rt, CONTOSO, _reading(write_csv, cw_row("981", "Forgot my password")))
    halo = write_csv(
        "halo.csv",
        HALO_HEADER,
        [["981", "Printer", "The printer jams", "New", "Incident", "Contoso", "2026-11-20",
          "Karen Whitfield", KAREN]],
    )  # fmt: skip
    report = import_export(rt, CONTOSO, read_export([halo]))
    assert [psa_id for psa_id, _ in report.stored] == ["halo:981"]
    assert [row[0] for row in _tickets(rt)] == ["connectwise:981", "halo:981"]


def test_a_dry_run_stores_nothing_and_says_what_would_be_stored(
    rt: Runtime, write_csv: WriteCsv
) -> None:
    import_export(rt, CONTOSO, _reading(write_csv, cw_row("24001", "Forgot my password")))
    reading = _reading(
        write_csv, cw_row("24001", "Forgot my password"), cw_row("24002", "New laptop")
    )
    with rt.db.reading() as session:
        events_before = session.scalar(select(func.count()).select_from(EventRecord))
    report = import_export(rt, CONTOSO, reading, dry_run=True)
    assert report.stored == [("connectwise:24002", None)]
    assert [s.reason for s in report.skipped] == ["already in deskhand"]
    assert len(_tickets(rt)) == 1
    with rt.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(EventRecord)) == events_before


def test_an_unknown_tenant_is_refused_with_the_known_ones(rt: Runtime, write_csv: WriteCsv) -> None:
    with pytest.raises(InputError) as caught:
        import_export(rt, "nope", _reading(write_csv, cw_row("24001", "Forgot my password")))
    assert caught.value.message == "No tenant 'nope'."
    assert CONTOSO in (caught.value.hint or "")


def _event_types(rt: Runtime, ticket_id: int | None) -> list[str]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(EventRecord.type)
                .where(EventRecord.ticket_id == ticket_id)
                .order_by(EventRecord.id)
            )
        )


def test_an_imported_ticket_is_dispatched_like_a_polled_one(
    rt: Runtime, write_csv: WriteCsv
) -> None:
    reading = _reading(write_csv, cw_row("24001", "Cannot log in", email=KAREN))
    [(_, ticket_id)] = import_export(rt, CONTOSO, reading).stored
    assert Worker(rt, "test-worker").run_once() == 1
    types = _event_types(rt, ticket_id)
    assert types[:4] == ["ticket.received", "run.queued", "run.claimed", "ticket.triaged"]
    assert "run.escalated" in types


def test_a_plan_writing_on_an_imported_ticket_escalates_before_anything_runs(
    rt: Runtime, write_csv: WriteCsv
) -> None:
    # The tenant's own PSA (the sandbox) has a ticket whose id is the export's number.
    own = add_ticket(rt, CONTOSO, KAREN, "Printer", "The printer jams")
    worker = Worker(rt, "test-worker")
    worker.run_once()
    with rt.db.reading() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
    connectors = rt.connectors(tenant)
    comments_before = connectors.psa.list_comments(own.psa_ticket_id)
    reading = _reading(
        write_csv,
        cw_row(own.psa_ticket_id, "Forgot my password", status="New"),
    )
    [(_, ticket_id)] = import_export(rt, CONTOSO, reading).stored
    assert worker.run_once() == 1
    assert approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id) == []
    with rt.db.reading() as session:
        escalation = session.scalars(
            select(Escalation).where(Escalation.ticket_id == ticket_id)
        ).one()
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "escalated"
    assert escalation.reason == "plan_invalid"
    assert (
        f"Ticket connectwise:{own.psa_ticket_id} was imported from a ConnectWise Manage export"
        in escalation.detail
    )
    assert "or answer the requester in ConnectWise Manage." in escalation.detail
    assert "ticket.triaged" in _event_types(rt, ticket_id)
    assert connectors.psa.list_comments(own.psa_ticket_id) == comments_before
    applied = [c.operation for c in rt.sandbox.calls(CONTOSO) if c.outcome == "applied"]
    # The printer ticket, its escalation's note and its PSA status; nothing for the import.
    assert applied == ["create_ticket", "add_comment", "update_status"]
