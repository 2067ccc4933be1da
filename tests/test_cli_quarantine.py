"""Bad input on the command line and the quarantine as a technician works it, on SQLite and on
PostgreSQL: `tickets add` with bytes that are not text or with NUL gives a clear outcome, never
a traceback; an export's bad rows are kept aside while the good ones are stored; held items are
listed, shown, taken again after a fix, or dismissed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.domain.origin import TicketOrigin
from deskhand.engine.runtime import Runtime
from deskhand.intake import quarantine
from deskhand.intake.arrival import Arrival, receive
from deskhand.store.models import Quarantined, Tenant, Ticket
from tests.support import WriteCsv

CONTOSO, NORTHWIND = "contoso-dental", "northwind-law"
LISA = "lisa.chen@contosodental.example"
LEE = "lee@msp.example"  # a tech of Contoso Dental only
CW_HEADER = [
    "id", "summary", "board", "status", "company", "type", "dateEntered", "contactName",
    "contactEmailAddress", "initialDescription",
]  # fmt: skip


def cw_row(number: str, summary: str, email: str, description: str) -> list[str]:
    return [
        number, summary, "Service Desk", "New", "Contoso Dental", "Access",
        "2026-11-20T09:00:00Z", "Lisa Chen", email, description,
    ]  # fmt: skip


@pytest.fixture
def rt(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("DESKHAND_DATA_DIR", str(tmp_path))
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path, database_url=database_url))
    seed(runtime, tickets=False)
    yield runtime
    runtime.close()


def run(database_url: str, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--db", database_url, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def said(result: Result) -> str:
    """The output with the terminal's line wrapping undone."""
    return " ".join(result.output.split())


def ticket(rt: Runtime, ticket_id: int) -> Ticket:
    with rt.db.reading() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found


def add(database_url: str, subject: str, body: str = "", name: str = "") -> Result:
    return run(
        database_url,
        *("tickets", "add", "--tenant", CONTOSO, "--from", LISA),
        *("--subject", subject, "--body", body, "--name", name),
    )


def test_tickets_add_reads_bytes_that_are_not_utf8_instead_of_failing(
    rt: Runtime, database_url: str
) -> None:
    # `--subject $'\xff'` in a UTF-8 shell: Python hands the byte over as U+DCFF.
    result = add(database_url, "\udcff", body="Li\udcffsa's laptop", name="Li\udcffsa")
    assert result.exit_code == 0, result.output
    stored = ticket(rt, int(result.output.strip()))
    assert (stored.subject, stored.body, stored.requester_display_name) == (
        "ÿ",
        "Liÿsa's laptop",
        "Liÿsa",
    )


def test_tickets_add_takes_text_with_nul_cleaned(rt: Runtime, database_url: str) -> None:
    result = add(database_url, "reset\x00my password", body="locked\x00 out")
    assert result.exit_code == 0, result.output
    stored = ticket(rt, int(result.output.strip()))
    assert (stored.subject, stored.body) == ("reset my password", "locked out")


def test_tickets_add_with_nothing_left_but_nul_says_so_and_opens_nothing(
    rt: Runtime, database_url: str
) -> None:
    result = add(database_url, "\x00", body="\x00\x01")
    assert result.exit_code == 2
    assert "A ticket needs a subject or a body." in said(result)
    assert "NUL, control characters" in said(result)
    with rt.db.reading() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_a_ticket_the_psa_opened_but_deskhand_cannot_store_is_quarantined(
    rt: Runtime, database_url: str
) -> None:
    """deskhand has a ticket for PSA ticket 1 already (the sandbox was reset, deskhand's
    database was not): the PSA's new ticket 1 is kept aside, and the user told where."""
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        receive(session, tenant, Arrival(LISA, "1", "Before the reset", "old", TicketOrigin.PSA))
    result = add(database_url, "New laptop", body="for Lisa")
    assert result.exit_code == 1
    assert (
        "The ticket was opened in the PSA (ticket 1) but deskhand could not store it: the "
        "database refused it" in said(result)
    )
    with rt.db.reading() as session:
        held = session.scalars(select(Quarantined)).one()
        assert (held.source, held.reference, held.tenant_id) == ("cli", "PSA ticket 1", CONTOSO)
        assert json.loads(held.content)["subject"] == "New laptop"
    assert f"deskhand intake quarantine show {held.id}" in said(result)


def test_the_deskhand_command_given_a_raw_byte_opens_the_ticket(
    rt: Runtime, database_url: str, tmp_path: Path
) -> None:
    """The shell's own `deskhand tickets add --subject $'\\xff'`: a real process, real bytes."""
    environment = {**os.environ, "DESKHAND_DATA_DIR": str(tmp_path), "LC_ALL": "C.UTF-8"}
    command = [sys.executable, "-m", "deskhand", "--db", database_url, "tickets", "add"]
    done = subprocess.run(
        [*command, "--tenant", CONTOSO, "--from", LISA, "--subject", b"\xff"],
        capture_output=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    assert ticket(rt, int(done.stdout.strip())).subject == "ÿ"


def test_an_exports_rows_that_cannot_be_stored_are_quarantined_and_the_rest_imported(
    rt: Runtime, database_url: str, write_csv: WriteCsv
) -> None:
    long_address = "x" * 300 + "@contosodental.example"
    path = write_csv(
        "cw.csv",
        CW_HEADER,
        [
            cw_row("24001", "reset\x00my password", LISA, "Locked\x00 out."),
            cw_row("24002", "Printer", long_address, "Jammed."),
            cw_row("24003", "VPN", LISA, "Drops."),
        ],
    )
    dry = run(database_url, "intake", "import", str(path), "--tenant", CONTOSO, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "2 would be imported, 0 skipped, 1 would be quarantined" in said(dry)
    result = run(database_url, "intake", "import", str(path), "--tenant", CONTOSO)
    assert result.exit_code == 0, result.output
    assert "contoso-dental: 2 imported, 0 skipped, 1 quarantined" in said(result)
    assert "quarantined cw.csv row 3 (quarantined as #" in said(result)
    assert "is not an e-mail address (it is 322 characters long)" in said(result)
    with rt.db.reading() as session:
        rows = session.execute(select(Ticket.subject, Ticket.body).order_by(Ticket.id)).all()
        # Stored without the NUL (the reader or intake removes it; PostgreSQL refuses it).
        assert [(s.replace(" ", ""), b) for s, b in rows] == [
            ("resetmypassword", "Locked out."),
            ("VPN", "Drops."),
        ]
        held = session.scalars(select(Quarantined)).one()
        assert (held.source, held.reference) == ("import", "cw.csv row 3: connectwise:24002")
        assert json.loads(held.content)["requester_email"] == long_address


def hold(rt: Runtime, tenant_id: str, source: str, content: bytes, reference: str = "r") -> int:
    """An item as an earlier deskhand (one that did not clean text) kept it."""
    with rt.db.session() as session:
        return quarantine.hold(
            session, tenant_id, source, reference, "the database refused it", content
        ).id


def test_held_items_are_listed_counted_and_shown(rt: Runtime, database_url: str) -> None:
    raw = b"From: Li\xffsa <" + LISA.encode() + b">\r\nSubject: Printer\r\n\r\nJammed.\r\n"
    first = hold(rt, CONTOSO, "imap", raw, "UID 7 (UIDVALIDITY 1)")
    hold(rt, NORTHWIND, "syncro", b"{}", "ticket #1001 (id 5)")
    listed = run(database_url, "intake", "quarantine", "list")
    assert listed.exit_code == 0, listed.output
    assert "2 item(s) held in the quarantine." in listed.output
    only = json.loads(run(database_url, "intake", "quarantine", "list", "--json").stdout)
    assert only["held"] == 2 and [item["id"] for item in only["items"]] == [first + 1, first]
    contoso = json.loads(
        run(database_url, "intake", "quarantine", "list", "--tenant", CONTOSO, "--json").stdout
    )
    assert contoso["held"] == 1 and contoso["items"][0]["reference"] == "UID 7 (UIDVALIDITY 1)"
    shown = run(database_url, "intake", "quarantine", "show", str(first))
    assert shown.exit_code == 0, shown.output
    assert "Reason: the database refused it" in shown.output
    assert "From: Liÿsa <" in shown.output  # the content, readable
    raw_out = CliRunner().invoke(
        app, ["--db", database_url, "intake", "quarantine", "show", str(first), "--raw"]
    )
    assert raw_out.stdout_bytes == raw  # the bytes, exactly as they came
    missing = run(database_url, "intake", "quarantine", "show", "999")
    assert missing.exit_code == 2 and "There is no quarantined item 999." in missing.output


def test_retry_takes_an_item_after_a_fix_and_it_is_counted_no_more(
    rt: Runtime, database_url: str
) -> None:
    arrival = Arrival(
        LISA,
        "connectwise:24001",
        "reset\x00my password",
        "Locked out.",
        TicketOrigin.EXPORT,
        "ConnectWise Manage",
    )
    item = hold(rt, CONTOSO, "import", arrival.content())
    raw = b"From: Li\xffsa <" + LISA.encode() + b">\r\nSubject: Printer\r\n\r\nJammed.\r\n"
    mailed = hold(rt, CONTOSO, "imap", raw, "UID 7 (UIDVALIDITY 1)")
    result = run(database_url, "intake", "quarantine", "retry", str(item), "--as", LEE)
    assert result.exit_code == 0, result.output
    assert f"Item {item} is ticket " in result.output
    mail_result = run(database_url, "intake", "quarantine", "retry", str(mailed), "--as", LEE)
    assert mail_result.exit_code == 0, mail_result.output
    with rt.db.reading() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert [(t.subject, t.requester_display_name) for t in tickets] == [
            ("reset my password", None),
            ("Printer", "Liÿsa"),
        ]
        assert [(t.origin, t.exported_from) for t in tickets] == [
            ("export", "ConnectWise Manage"),
            ("mailbox", None),
        ]
        items = session.scalars(select(Quarantined).order_by(Quarantined.id)).all()
        assert [(i.status, i.ticket_id, i.resolved_by) for i in items] == [
            ("taken", tickets[0].id, LEE),
            ("taken", tickets[1].id, LEE),
        ]
    assert "0 item(s) held" in run(database_url, "intake", "quarantine", "list").output
    again = run(database_url, "intake", "quarantine", "retry", str(item), "--as", LEE)
    assert again.exit_code == 2 and "is taken already" in said(again)


def test_an_item_that_still_cannot_be_taken_stays_held_with_the_new_reason(
    rt: Runtime, database_url: str
) -> None:
    arrival = Arrival("not an address", "x:1", "s", "b", TicketOrigin.PSA)
    item = hold(rt, CONTOSO, "import", arrival.content())
    result = run(database_url, "intake", "quarantine", "retry", str(item), "--as", LEE)
    assert result.exit_code == 1
    assert "is still held: 'not an address' is not an e-mail address" in said(result)
    with rt.db.reading() as session:
        held = session.get(Quarantined, item)
        assert held is not None and held.status == "held"
        assert held.reason.startswith("'not an address' is not an e-mail address")


def test_dismiss_and_retry_are_for_the_users_own_tenants_and_techs(
    rt: Runtime, database_url: str
) -> None:
    northwinds = hold(rt, NORTHWIND, "syncro", b"{}")
    contosos = hold(rt, CONTOSO, "syncro", b"{}")
    other = run(database_url, "intake", "quarantine", "dismiss", str(northwinds), "--as", LEE)
    assert other.exit_code == 2 and f"There is no quarantined item {northwinds}." in other.output
    viewer = run(
        database_url, "users", "add", "v@msp.example", "--role", "viewer", "--tenants", "*"
    )
    assert viewer.exit_code == 0, viewer.output
    looked = run(
        database_url, "intake", "quarantine", "dismiss", str(contosos), "--as", "v@msp.example"
    )
    assert looked.exit_code == 2 and "needs the tech role" in said(looked)
    assert run(database_url, "users", "disable", "v@msp.example").exit_code == 0
    gone = run(
        database_url, "intake", "quarantine", "dismiss", str(contosos), "--as", "v@msp.example"
    )
    assert gone.exit_code == 2 and "No user v@msp.example (disabled)." in gone.output
    done = run(database_url, "intake", "quarantine", "dismiss", str(contosos), "--as", LEE)
    assert done.exit_code == 0 and f"Item {contosos} dismissed." in done.output
    listed = json.loads(run(database_url, "intake", "quarantine", "list", "--json").stdout)
    assert listed["held"] == 1


def test_a_cut_item_cannot_be_retried_and_says_what_to_do(rt: Runtime, database_url: str) -> None:
    big = b"From: " + LISA.encode() + b"\r\n\r\n" + b"x" * (quarantine.MAX_CONTENT + 10)
    item = hold(rt, CONTOSO, "imap", big)
    result = run(database_url, "intake", "quarantine", "retry", str(item), "--as", LEE)
    assert result.exit_code == 2
    assert "cannot be taken again from here" in said(result)
    assert f"deskhand intake quarantine dismiss {item}" in said(result)
