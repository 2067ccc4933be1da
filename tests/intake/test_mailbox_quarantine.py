"""One bad message never stops a mailbox's intake, nor another tenant's: against a real Dovecot,
on SQLite and on PostgreSQL, hostile and legacy messages ahead of a good one are taken cleaned
or quarantined with their reason and raw bytes, and the cursor moves past them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.connectors.mail.imap import read_message
from deskhand.engine.runtime import Runtime
from deskhand.intake.mailbox import poll_mailboxes
from deskhand.intake.psa_poller import PollReport
from deskhand.store.models import IntakeCursor, Quarantined, Tenant, Ticket
from tests.connectors.imap.dovecot import PASSWORD, USERNAME
from tests.connectors.imap.fixtures import SupportMailbox

CONTOSO, NORTHWIND = "contoso-dental", "northwind-law"
LISA = "lisa.chen@contosodental.example"
# A raw 8-bit display name, as legacy mailers send it: UnicodeEncodeError on SQLite, before.
RAW_8BIT_FROM = (
    b"From: Li\xffsa <" + LISA.encode() + b">\r\nSubject: Printer jam\r\n"
    b"Message-ID: <raw-8bit@contosodental.example>\r\n\r\nThe printer is jammed.\r\n"
)
# A NUL inside an RFC 2047 word: DataError on PostgreSQL, before.
NUL_SUBJECT = (
    b"From: Lisa Chen <" + LISA.encode() + b">\r\n"
    b"Subject: =?utf-8?q?reset=00my=00password?=\r\n"
    b"Message-ID: <nul-subject@contosodental.example>\r\n\r\nPlease.\r\n"
)
# No database column or mail server takes a 300-character address: this cannot be a ticket.
TOO_LONG_FROM = (
    b"From: <" + b"x" * 280 + b"@contosodental.example>\r\nSubject: Hello\r\n"
    b"Message-ID: <too-long@contosodental.example>\r\n\r\nHi.\r\n"
)


def good(subject: str, ident: str) -> bytes:
    return (
        f"From: Lisa Chen <{LISA}>\r\nSubject: {subject}\r\nMessage-ID: <{ident}>\r\n\r\n"
        f"Body of {subject}.\r\n"
    ).encode()


@pytest.fixture
def mailboxes(
    rt: Runtime, support_mailbox: SupportMailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, SupportMailbox]:
    """Both seeded tenants with a support mailbox each: two folders of the real Dovecot."""
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    northwind = SupportMailbox(support_mailbox.server, support_mailbox.folder + "nw")
    northwind.create(northwind.folder)
    folders = {CONTOSO: support_mailbox, NORTHWIND: northwind}
    for tenant_id, mailbox in folders.items():
        path = tmp_path / f"{tenant_id}.yaml"
        path.write_text(
            f"name: {tenant_id}\nintake:\n  imap:\n    host: 127.0.0.1\n"
            f"    port: {mailbox.server.imaps_port}\n    username: {USERNAME}\n"
            f"    folder: {mailbox.folder}\n    ca_file: {mailbox.server.ca_file}\n"
            "    password: env:TEST_IMAP_PASSWORD\n",
            encoding="utf-8",
        )
        with rt.db.session() as session:
            session.execute(
                update(Tenant).where(Tenant.id == tenant_id).values(config_path=str(path))
            )
    return folders


def subjects(rt: Runtime, tenant_id: str) -> list[str]:
    with rt.db.reading() as session:
        query = select(Ticket.subject).where(Ticket.tenant_id == tenant_id).order_by(Ticket.id)
        return list(session.scalars(query))


def last_uid(rt: Runtime, tenant_id: str) -> Any:
    with rt.db.reading() as session:
        cursor = session.get(IntakeCursor, (tenant_id, "imap"))
        assert cursor is not None
        return cursor.position["last_uid"]


def by_tenant(reports: list[PollReport]) -> dict[str, PollReport]:
    return {report.tenant_id: report for report in reports}


def test_bad_messages_ahead_of_a_good_one_never_hold_it_or_another_tenant_up(
    rt: Runtime, mailboxes: dict[str, SupportMailbox]
) -> None:
    contoso, northwind = mailboxes[CONTOSO], mailboxes[NORTHWIND]
    for raw in (RAW_8BIT_FROM, NUL_SUBJECT, TOO_LONG_FROM, good("Monitor flickers", "m@x")):
        contoso.append(raw)
    northwind.append(good("VPN drops", "v@x"))

    reports = by_tenant(poll_mailboxes(rt))

    assert subjects(rt, CONTOSO) == ["Printer jam", "reset my password", "Monitor flickers"]
    assert subjects(rt, NORTHWIND) == ["VPN drops"]
    assert (reports[CONTOSO].error, reports[NORTHWIND].error) == (None, None)
    assert len(reports[CONTOSO].new) == 3 and len(reports[CONTOSO].quarantined) == 1
    with rt.db.reading() as session:
        names = select(Ticket.requester_display_name).where(Ticket.tenant_id == CONTOSO)
        # Windows-1252, as legacy mailers mean it.
        assert list(session.scalars(names.order_by(Ticket.id))) == [
            "Liÿsa",
            "Lisa Chen",
            "Lisa Chen",
        ]
        [held] = session.scalars(select(Quarantined)).all()
        assert (held.tenant_id, held.source, held.status) == (CONTOSO, "imap", "held")
        assert held.reference.startswith("UID 3 (UIDVALIDITY ")
        assert "is not an e-mail address (it is 302 characters long)" in held.reason
        assert held.content == TOO_LONG_FROM and held.size == len(TOO_LONG_FROM)
    assert last_uid(rt, CONTOSO) == 4 and last_uid(rt, NORTHWIND) == 1
    # Taken messages are flagged; the quarantined one stays unread for a person.
    assert contoso.flags() == [(1, "\\Seen"), (2, "\\Seen"), (3, ""), (4, "\\Seen")]

    again = by_tenant(poll_mailboxes(rt))  # past them for good: nothing read twice
    assert (again[CONTOSO].new, again[CONTOSO].quarantined) == ([], [])
    with rt.db.reading() as session:
        assert len(session.scalars(select(Quarantined)).all()) == 1


def test_a_message_the_parser_cannot_read_is_quarantined_with_its_bytes(
    rt: Runtime, mailboxes: dict[str, SupportMailbox]
) -> None:
    broken = b"From: " + LISA.encode() + b"\r\nContent-Type: ;\xff*\r\nSubject: s\r\n\r\nhi\r\n"
    if read_message(1, broken).unreadable is None:
        pytest.skip("this Python's email parser reads the broken Content-Type")
    mailboxes[CONTOSO].append(broken)
    mailboxes[CONTOSO].append(good("After the broken one", "after@x"))
    reports = by_tenant(poll_mailboxes(rt))
    assert subjects(rt, CONTOSO) == ["After the broken one"]
    with rt.db.reading() as session:
        held = session.scalars(select(Quarantined)).one()
    assert held.content == broken and "the message could not be read" in held.reason
    assert reports[CONTOSO].quarantined == [(f"#{held.id} {held.reference}", held.reason)]
    assert last_uid(rt, CONTOSO) == 2


def test_a_message_that_breaks_intake_unexpectedly_is_quarantined_and_the_rest_taken(
    rt: Runtime, mailboxes: dict[str, SupportMailbox]
) -> None:
    """Whatever fails for one message — here the hand-over of an answer, failing as a bug
    would — keeps that message aside with the error, and the next message is taken."""
    mailboxes[CONTOSO].append(good("Which folder?", "ask@x"))
    poll_mailboxes(rt)
    with rt.db.session() as session:
        session.execute(update(Ticket).values(status="waiting_on_requester"))
    answer = good("Re: Which folder?", "answer@x").replace(
        b"Message-ID:", b"In-Reply-To: <ask@x>\r\nMessage-ID:"
    )
    mailboxes[CONTOSO].append(answer)
    mailboxes[CONTOSO].append(good("Keyboard missing keys", "k@x"))

    def broken_hand_over(*args: object) -> object:
        raise KeyError("run")

    reports = by_tenant(poll_mailboxes(rt, on_reply=broken_hand_over))
    assert subjects(rt, CONTOSO) == ["Which folder?", "Keyboard missing keys"]
    [(reference, reason)] = reports[CONTOSO].quarantined
    assert "UID 2" in reference and "'Re: Which folder?'" in reference
    assert reason.startswith("deskhand failed (KeyError: 'run'); this is a bug in deskhand")
    assert last_uid(rt, CONTOSO) == 3


def test_one_tenants_broken_read_is_reported_and_the_next_tenant_is_read(
    rt: Runtime, mailboxes: dict[str, SupportMailbox]
) -> None:
    mailboxes[CONTOSO].append(good("Stuck behind a broken cursor", "s@x"))
    mailboxes[NORTHWIND].append(good("VPN drops", "v@x"))
    with rt.db.session() as session:  # a cursor row edited by hand into something unreadable
        session.add(IntakeCursor(tenant_id=CONTOSO, source="imap", position={"uid": "?"}))
    reports = by_tenant(poll_mailboxes(rt))
    assert reports[CONTOSO].error is not None
    assert "the read stopped" in reports[CONTOSO].error and "KeyError" in reports[CONTOSO].error
    assert subjects(rt, CONTOSO) == []
    assert subjects(rt, NORTHWIND) == ["VPN drops"] and reports[NORTHWIND].error is None


def test_intake_poll_says_what_it_quarantined_and_where_to_see_it(
    rt: Runtime, mailboxes: dict[str, SupportMailbox], database_url: str
) -> None:
    mailboxes[CONTOSO].append(TOO_LONG_FROM)
    mailboxes[CONTOSO].append(good("Monitor flickers", "m@x"))
    result = CliRunner().invoke(app, ["--db", database_url, "intake", "poll", "--tenant", CONTOSO])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"{CONTOSO} (mailbox): 1 new, 0 updated, 0 skipped, 1 quarantined" in said
    assert "quarantined #1 UID 1 (UIDVALIDITY " in said
    assert "is not an e-mail address (it is 302 characters long)" in said
    assert "See them with `deskhand intake quarantine list`." in said
