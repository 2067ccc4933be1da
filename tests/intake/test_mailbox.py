"""Support-mailbox intake against a real Dovecot, on SQLite and on PostgreSQL: each message a
ticket once, the cursor resuming (also across a UIDVALIDITY change), auto-replies skipped, and
a reply to a waiting ticket handed back to it instead of becoming a new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.connectors.mail.imap import Fetched
from deskhand.connectors.sandbox.systems import SandboxPsa
from deskhand.domain.origin import TicketOrigin
from deskhand.engine import state
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.mailbox import AUTOMATED, mail_key, poll_mailboxes
from deskhand.intake.polling import poll_all
from deskhand.store.models import Escalation, IntakeCursor, Run, Step, Tenant, Ticket
from tests.connectors.imap.dovecot import PASSWORD
from tests.connectors.imap.fixtures import SupportMailbox

TENANT = "contoso-dental"
DANA = "dana.reyes@contosodental.example"


@pytest.fixture
def mailbox_tenant(
    rt: Runtime, support_mailbox: SupportMailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> SupportMailbox:
    """The seeded Contoso Dental, its PSA the sandbox, its support mailbox the test's folder."""
    write_connection(tmp_path, support_mailbox)
    monkeypatch.setenv("CONTOSO_IMAP_PASSWORD", PASSWORD)
    with rt.db.session() as session:
        session.execute(
            update(Tenant)
            .where(Tenant.id == TENANT)
            .values(config_path=str(tmp_path / "contoso.yaml"))
        )
    return support_mailbox


def write_connection(folder: Path, mailbox: SupportMailbox, **changes: str) -> Path:
    settings = {
        "host": "127.0.0.1",
        "port": str(mailbox.server.imaps_port),
        "username": "support@client.example",
        "folder": mailbox.folder,
        "ca_file": str(mailbox.server.ca_file),
        "password": "env:CONTOSO_IMAP_PASSWORD",
        **changes,
    }
    lines = "".join(f"    {name}: {value}\n" for name, value in settings.items())
    path = folder / "contoso.yaml"
    path.write_text(
        "name: Contoso Dental\ndomains: [contosodental.example]\nintake:\n  imap:\n" + lines,
        encoding="utf-8",
    )
    return path


def mail(
    subject: str, *, sender: str = f'"Dana Reyes" <{DANA}>', ident: str | None = None, **extra: str
) -> str:
    headers = "".join(f"{name.replace('_', '-')}: {value}\n" for name, value in extra.items())
    message_id = f"Message-ID: {ident}\n" if ident else ""
    return f"From: {sender}\nSubject: {subject}\n{message_id}{headers}\nBody of {subject}.\n"


def tickets(rt: Runtime) -> list[tuple[str, str, str]]:
    with rt.db.reading() as session:
        rows = session.execute(
            select(Ticket.psa_ticket_id, Ticket.subject, Ticket.status)
            .where(Ticket.tenant_id == TENANT)
            .order_by(Ticket.id)
        )
        return [(str(a), str(b), str(c)) for a, b, c in rows]


def cursor(rt: Runtime) -> dict[str, Any]:
    with rt.db.reading() as session:
        row = session.get(IntakeCursor, (TENANT, "imap"))
        assert row is not None
        return dict(row.position)


def test_a_new_message_becomes_a_ticket_with_its_requester(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("Printer offline", ident="<p1@contosodental.example>"))
    [report] = poll_mailboxes(rt)
    assert (report.tenant_id, report.source, report.skipped, report.error) == (
        TENANT,
        "imap",
        [],
        None,
    )
    assert len(report.new) == 1 and "'Printer offline' from " + DANA in report.new[0]
    assert tickets(rt) == [("imap:<p1@contosodental.example>", "Printer offline", "new")]
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.tenant_id == TENANT)).one()
        assert (ticket.requester.email, ticket.requester.name) == (DANA, "Dana Reyes")
        assert ticket.requester_display_name == "Dana Reyes"
        assert (ticket.origin, ticket.exported_from) == ("mailbox", None)
        assert ticket.body == "Body of Printer offline."
        assert session.scalar(select(Run.status).where(Run.ticket_id == ticket.id)) == "queued"
    assert mailbox_tenant.flags() == [(1, "\\Seen")]
    assert cursor(rt)["last_uid"] == 1


def test_the_first_read_leaves_the_mailboxs_history_alone(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    last_month = datetime.now(UTC) - timedelta(days=30)
    mailbox_tenant.append(mail("Old, long solved", ident="<old@x>"), arrived=last_month)
    mailbox_tenant.append(mail("Today's", ident="<new@x>"))
    [report] = poll_mailboxes(rt)
    assert [subject for _, subject, _ in tickets(rt)] == ["Today's"]
    assert report.skipped == [] and cursor(rt)["last_uid"] == 2
    assert mailbox_tenant.flags() == [(1, ""), (2, "\\Seen")]


def test_the_cursor_resumes_and_no_message_is_stored_twice(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("One", ident="<1@x>"))
    mailbox_tenant.append(mail("Two", ident="<2@x>"))
    assert len(poll_mailboxes(rt)[0].new) == 2
    mailbox_tenant.append(mail("Three", ident="<3@x>"))
    [again] = poll_mailboxes(rt)
    assert (len(again.new), again.skipped) == (1, [])
    assert [len(report.new) for report in poll_mailboxes(rt)] == [0]
    assert [subject for _, subject, _ in tickets(rt)] == ["One", "Two", "Three"]
    assert cursor(rt)["last_uid"] == 3


def test_a_changed_uidvalidity_reads_again_without_duplicates(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("One", ident="<1@x>"))
    mailbox_tenant.append(mail("No id"))  # its digest stands in for the Message-ID
    poll_mailboxes(rt)
    before = cursor(rt)
    mailbox_tenant.recreate()  # e.g. the mailbox was restored from a backup
    mailbox_tenant.append(mail("One", ident="<1@x>"))
    mailbox_tenant.append(mail("No id"))
    mailbox_tenant.append(mail("New since", ident="<3@x>"))
    [report] = poll_mailboxes(rt)
    assert len(report.new) == 1 and "New since" in report.new[0]
    assert [why for _, why in report.skipped] == ["already in deskhand"] * 2
    assert [subject for _, subject, _ in tickets(rt)] == ["One", "No id", "New since"]
    after = cursor(rt)
    assert after["uidvalidity"] != before["uidvalidity"] and after["last_uid"] == 3


def test_auto_replies_and_bounces_are_skipped_counted_and_left_unread(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("Out of office", ident="<a@x>", Auto_Submitted="auto-replied"))
    mailbox_tenant.append(
        mail("Undelivered", sender="MAILER-DAEMON@mx.contosodental.example", ident="<b@x>")
    )
    mailbox_tenant.append(mail("Newsletter", ident="<c@x>", Precedence="bulk"))
    mailbox_tenant.append(mail("A real request", ident="<d@x>"))
    [report] = poll_mailboxes(rt)
    assert len(report.new) == 1
    assert [why for _, why in report.skipped] == [AUTOMATED] * 3
    assert [subject for _, subject, _ in tickets(rt)] == ["A real request"]
    assert mailbox_tenant.flags() == [(1, ""), (2, ""), (3, ""), (4, "\\Seen")]
    assert cursor(rt)["last_uid"] == 4  # skipped, but never read again


def test_mail_from_outside_the_tenants_domains_is_still_a_ticket(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("Hi", sender="Someone <someone@elsewhere.example>", ident="<e@x>"))
    [report] = poll_mailboxes(rt)
    assert len(report.new) == 1  # identity checks decide what such a requester may ask for
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.tenant_id == TENANT)).one()
        assert ticket.requester.email == "someone@elsewhere.example"


def _wait_on_requester(rt: Runtime) -> int:
    with rt.db.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.tenant_id == TENANT)).one()
        ticket.status = "waiting_on_requester"
        return ticket.id


def test_a_reply_to_a_waiting_ticket_requeues_it_instead_of_a_new_ticket(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("Access to the shared drive", ident="<ask@x>"))
    poll_mailboxes(rt)
    ticket_id = _wait_on_requester(rt)
    mailbox_tenant.append(
        f'From: "Dana Reyes" <{DANA}>\nSubject: Re: Access to the shared drive\n'
        "Message-ID: <answer@x>\nIn-Reply-To: <ask@x>\nReferences: <ask@x>\n\n"
        "The Finance folder, please.\n\nOn Tue, 24 Nov 2026, IT Support wrote:\n"
        "> Which folder do you mean?\n"
    )
    [report] = poll_mailboxes(rt)
    assert (report.new, len(report.updated)) == ([], 1)
    assert report.updated[0].startswith(f"ticket {ticket_id}: ")
    with rt.db.reading() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "working"
        assert "The Finance folder, please." in ticket.body
        assert "Which folder do you mean?" not in ticket.body
        runs = session.scalars(select(Run.status).where(Run.ticket_id == ticket_id)).all()
        assert runs[-1] == "queued" and len(runs) == 2
    assert len(tickets(rt)) == 1
    assert mailbox_tenant.flags() == [(1, "\\Seen"), (2, "\\Seen")]


def test_a_reply_carrying_the_psa_number_in_its_subject_reaches_the_waiting_ticket(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    psa = rt.connectors(_tenant(rt)).psa
    assert isinstance(psa, SandboxPsa)
    psa_ticket = psa.create_ticket(DANA, "New laptop", "I need a laptop")
    with rt.db.session() as session:
        tenant = session.get(Tenant, TENANT)
        assert tenant is not None
        ticket, _ = state.receive_ticket(
            session,
            tenant,
            requester_email=DANA,
            requester_name="Dana Reyes",
            psa_ticket_id=psa_ticket.id,
            subject="New laptop",
            body="I need a laptop",
            origin=TicketOrigin.PSA,
        )
        ticket.status = "waiting_on_requester"
        ticket_id = ticket.id
    # The subject deskhand's SMTP replies carry, answered from a client that drops headers.
    mailbox_tenant.append(mail(f"RE: Re: New laptop [#{psa_ticket.number}]", ident="<lap@x>"))
    [report] = poll_mailboxes(rt)
    assert (report.new, len(report.updated)) == ([], 1)
    with rt.db.reading() as session:
        assert session.scalar(select(Ticket.status).where(Ticket.id == ticket_id)) == "working"


def test_a_reply_to_a_deskhand_message_is_matched_by_its_message_id(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("VPN", ident="<vpn@x>"))
    poll_mailboxes(rt)
    ticket_id = _wait_on_requester(rt)
    with rt.db.reading() as session:
        run_id = session.scalar(select(Run.id).where(Run.ticket_id == ticket_id))
    ours = f"<deskhand.dh-{run_id}-0.{TENANT}@client.example>"
    mailbox_tenant.append(mail("Re: VPN", ident="<vpn2@x>", In_Reply_To=ours))
    [report] = poll_mailboxes(rt)
    assert len(report.updated) == 1 and report.new == []


def test_a_reply_to_a_ticket_that_is_not_waiting_is_left_for_a_person(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("Printer", ident="<pr@x>"))
    poll_mailboxes(rt)
    mailbox_tenant.append(mail("Re: Printer", ident="<pr2@x>", In_Reply_To="<pr@x>"))
    [report] = poll_mailboxes(rt)
    assert (report.new, report.updated) == ([], [])
    [(_, why)] = report.skipped
    assert why.endswith("which is new: not taken")
    assert len(tickets(rt)) == 1
    assert mailbox_tenant.flags() == [(1, "\\Seen"), (2, "")]


def test_a_wrong_password_stops_the_read_with_the_fix(
    rt: Runtime, mailbox_tenant: SupportMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox_tenant.append(mail("One", ident="<1@x>"))
    monkeypatch.setenv("CONTOSO_IMAP_PASSWORD", "not-the-password")
    [report] = poll_mailboxes(rt)
    assert report.error is not None
    assert "refused the sign-in of support@client.example" in report.error
    assert "intake.imap.password" in report.error
    assert tickets(rt) == []
    monkeypatch.setenv("CONTOSO_IMAP_PASSWORD", PASSWORD)
    assert len(poll_mailboxes(rt)[0].new) == 1  # the next read, fixed, takes it


def test_a_long_message_id_still_fits_the_ticket(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    long_id = "<" + "x" * 120 + "@contosodental.example>"
    mailbox_tenant.append(mail("Long id", ident=long_id))
    poll_mailboxes(rt)
    assert tickets(rt) == [(mail_key(long_id), "Long id", "new")]
    assert len(mail_key(long_id)) <= 64


def test_the_worker_reads_the_mailbox_on_its_schedule(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    mailbox_tenant.append(mail("From the worker", ident="<w@x>"))
    rt.settings.poll_intake_seconds = 60
    assert Worker(rt, "w1", intake=poll_all).poll_intake_when_due() is True
    assert [subject for _, subject, _ in tickets(rt)] == ["From the worker"]


def test_cli_intake_poll_reports_the_mailbox(
    rt: Runtime, mailbox_tenant: SupportMailbox, database_url: str
) -> None:
    mailbox_tenant.append(mail("One", ident="<1@x>"))
    mailbox_tenant.append(mail("Away", ident="<2@x>", Auto_Submitted="auto-replied"))
    result = CliRunner().invoke(app, ["--db", database_url, "intake", "poll", "--tenant", TENANT])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{TENANT} (mailbox): 1 new, 0 updated, 1 skipped (1 page(s) read)"
    assert f"  skipped 1: {AUTOMATED}" in lines
    with rt.db.reading() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 1


def _tenant(rt: Runtime) -> Tenant:
    with rt.db.reading() as session:
        tenant = session.get(Tenant, TENANT)
        assert tenant is not None
        return tenant


def test_a_poller_whose_cursor_another_moved_meanwhile_stores_nothing(
    rt: Runtime, mailbox_tenant: SupportMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox_tenant.append(mail("One", ident="<1@x>"))
    mailbox = rt.connectors(_tenant(rt)).mailbox
    assert mailbox is not None
    fetch = mailbox.fetch_new

    def fetch_then_overtaken(after_uid: int, uidvalidity: int | None, **options: Any) -> Fetched:
        fetched = fetch(after_uid, uidvalidity, **options)
        with rt.db.session() as session:  # another poller stored the message meanwhile
            row = session.get(IntakeCursor, (TENANT, "imap"))
            assert row is not None
            row.position = {"uidvalidity": fetched.uidvalidity, "last_uid": 1}
        return fetched

    monkeypatch.setattr(mailbox, "fetch_new", fetch_then_overtaken)
    [report] = poll_mailboxes(rt)
    assert report.new == [] and report.error is not None and "another poller" in report.error
    assert tickets(rt) == []
    assert mailbox_tenant.flags() == [(1, "")]


def test_a_mailed_request_is_triaged_but_nothing_runs_without_a_way_to_answer(
    rt: Runtime, mailbox_tenant: SupportMailbox
) -> None:
    """A mailbox ticket is answered by e-mail: a tenant without SMTP has no way to send the
    reply, so the plan is refused before anything is drafted, and a password is never reset
    with no one told (with SMTP it runs: tests/connectors/mail/test_kept_tickets.py)."""
    lisa = '"Lisa Chen" <lisa.chen@contosodental.example>'  # in the sandbox's directory
    mailbox_tenant.append(mail("Forgot my password, please reset it", sender=lisa, ident="<pw@x>"))
    assert len(poll_mailboxes(rt)[0].new) == 1
    assert Worker(rt, "test-worker").run_once() == 1
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.tenant_id == TENANT)).one()
        escalation = session.scalars(
            select(Escalation).where(Escalation.ticket_id == ticket.id)
        ).one()
        drafted = session.scalar(
            select(func.count(Step.id)).join(Run).where(Run.ticket_id == ticket.id)
        )
        assert (ticket.status, escalation.reason, drafted) == ("escalated", "plan_invalid", 0)
        assert "arrived by e-mail in the tenant's support mailbox" in escalation.detail
        assert "answer the requester in your mail client." in escalation.detail
