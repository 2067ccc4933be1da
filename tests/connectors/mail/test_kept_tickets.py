"""Tickets no PSA holds — a request mailed to the support mailbox (a real Dovecot), a ticket
imported from a ConnectWise export — are acted on: their internal notes are kept in deskhand,
the approved reply goes to the requester by SMTP (a real aiosmtpd server), threaded under the
request, and the requester's answer to it finds the ticket again. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from deskhand.audit.trace import trace
from deskhand.connectors.errors import NotFoundError
from deskhand.domain.origin import TicketOrigin
from deskhand.engine import approvals, state
from deskhand.engine.kept_notes import KeptNotesPsa
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.exports import import_export, read_export
from deskhand.intake.mailbox import poll_mailboxes
from deskhand.store.models import Escalation, Run, Step, Tenant, Ticket, TicketNote
from tests.connectors.imap.dovecot import PASSWORD as IMAP_PASSWORD
from tests.connectors.imap.fixtures import SupportMailbox
from tests.connectors.mail.server import PASSWORD, USERNAME, SmtpServer

CONTOSO = "contoso-dental"
APPROVER = "dana@msp.example"
LISA = "lisa.chen@contosodental.example"  # in the sandbox's directory
NORTHWIND = "northwind-law"


def connect(
    rt: Runtime,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    smtp: SmtpServer | None,
    mailbox: SupportMailbox | None = None,
    policy: str | None = None,
) -> None:
    """Contoso's connection file: its PSA and directory the sandbox, its mail by SMTP (when
    given) and its support mailbox on Dovecot (when given); and its policy file (when given)."""
    text = "name: Contoso Dental\ndomains: [contosodental.example]\n"
    if smtp is not None:
        monkeypatch.setenv("CONTOSO_SMTP", PASSWORD)
        text += (
            f"mail:\n  kind: smtp\n  host: {smtp.host}\n  port: {smtp.port}\n"
            f"  username: {USERNAME}\n  password: env:CONTOSO_SMTP\n"
            f"  from_address: support@contosodental.example\n  ca_file: {smtp.ca_file}\n"
        )
    if mailbox is not None:
        monkeypatch.setenv("CONTOSO_IMAP", IMAP_PASSWORD)
        text += (
            f"intake:\n  imap:\n    host: 127.0.0.1\n    port: {mailbox.server.imaps_port}\n"
            f"    username: support@client.example\n    folder: {mailbox.folder}\n"
            f"    ca_file: {mailbox.server.ca_file}\n    password: env:CONTOSO_IMAP\n"
        )
    path = folder / "contoso.yaml"
    path.write_text(text, encoding="utf-8")
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        tenant.config_path = str(path)
        if policy is not None:
            (folder / "policy.yaml").write_text(policy, encoding="utf-8")
            tenant.policy_path = str(folder / "policy.yaml")


def tenant(rt: Runtime, tenant_id: str = CONTOSO) -> Tenant:
    with rt.db.reading() as session:
        found = session.get(Tenant, tenant_id)
        assert found is not None
        return found


def import_password_ticket(rt: Runtime, folder: Path) -> int:
    """Lisa's password request, imported from a ConnectWise export: the ticket's id."""
    export = folder / "cw.csv"
    export.write_text(
        "id,summary,board,status,company,type,dateEntered,contactName,contactEmailAddress,"
        "initialDescription\n"
        f"24001,Forgot my password,Service Desk,New,Contoso Dental,Access,2026-11-23T09:00:00Z,"
        f"Lisa Chen,{LISA},Please reset my password.\n",
        encoding="utf-8",
    )
    [(_, ticket_id)] = import_export(rt, CONTOSO, read_export([export])).stored
    return ticket_id


def approve_and_run(rt: Runtime, ticket_id: int) -> list[str]:
    """Approve every draft of the ticket and run it; the actions drafted, in order."""
    worker = Worker(rt, "test-worker")
    drafts = approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id)
    for draft in drafts:
        approvals.approve(rt, draft.id, APPROVER)
    worker.run_once()
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(Step.action).join(Run).where(Run.ticket_id == ticket_id).order_by(Step.id)
            )
        )


def test_a_mailed_request_is_done_and_answered_by_email_under_the_request(
    rt: Runtime,
    smtp: SmtpServer,
    support_mailbox: SupportMailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect(rt, tmp_path, monkeypatch, smtp=smtp, mailbox=support_mailbox)
    support_mailbox.append(
        f'From: "Lisa Chen" <{LISA}>\nSubject: Forgot my password\n'
        "Message-ID: <pw-1@mail.contosodental.example>\n\nPlease reset it, I am locked out.\n"
    )
    [report] = poll_mailboxes(rt)
    assert len(report.new) == 1
    Worker(rt, "test-worker").run_once()
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.tenant_id == CONTOSO)).one()
        ticket_id, key = ticket.id, ticket.psa_ticket_id
        assert ticket.message_id == "<pw-1@mail.contosodental.example>"

    actions = approve_and_run(rt, ticket_id)

    assert "m365.reset_password" in actions and "psa.send_reply" in actions
    with rt.db.reading() as session:
        done = session.get(Ticket, ticket_id)
        assert done is not None and done.status == "resolved"
        steps = session.scalars(select(Step).join(Run).where(Run.ticket_id == ticket_id)).all()
        assert {step.status for step in steps} == {"verified"}
        reply_key = next(s.idempotency_key for s in steps if s.action == "psa.send_reply")
    [received] = smtp.received
    assert received.rcpt_tos == [LISA]
    assert received.message["Subject"] == f"Re: Forgot my password [#DH-{ticket_id}]"
    assert received.message["In-Reply-To"] == "<pw-1@mail.contosodental.example>"
    assert received.message["References"] == "<pw-1@mail.contosodental.example>"
    # The internal note and the record of the e-mailed reply are kept in deskhand …
    notes = rt.ticket_connectors(tenant(rt)).psa.list_comments(key)
    assert all(note.hidden for note in notes)
    assert any(note.body.startswith("deskhand: ") for note in notes)
    assert any(
        received.message["Message-ID"] in n.body and f"[deskhand {reply_key}]" in n.body
        for n in notes
    )
    # … and nothing was written to the tenant's PSA, which has no such ticket.
    assert [c.operation for c in rt.sandbox.calls(CONTOSO) if c.system == "psa"] == []


def test_the_requesters_answer_to_a_kept_ticket_finds_it_by_its_number(
    rt: Runtime,
    smtp: SmtpServer,
    support_mailbox: SupportMailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect(rt, tmp_path, monkeypatch, smtp=smtp, mailbox=support_mailbox)
    support_mailbox.append(f"From: {LISA}\nSubject: New laptop\nMessage-ID: <lap@x>\n\nPlease.\n")
    poll_mailboxes(rt)
    with rt.db.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.tenant_id == CONTOSO)).one()
        ticket.status = "waiting_on_requester"
        ticket_id = ticket.id
    # A mail client that dropped In-Reply-To: only the subject deskhand wrote is left.
    support_mailbox.append(
        f"From: {LISA}\nSubject: RE: Re: New laptop [#DH-{ticket_id}]\nMessage-ID: <lap2@x>\n\n"
        "A 14-inch one.\n"
    )
    [report] = poll_mailboxes(rt)
    assert (report.new, len(report.updated)) == ([], 1)
    with rt.db.reading() as session:
        answered = session.get(Ticket, ticket_id)
        assert answered is not None and answered.status == "working"
        assert "A 14-inch one." in answered.body


def test_another_tenants_number_does_not_reach_its_ticket(
    rt: Runtime,
    smtp: SmtpServer,
    support_mailbox: SupportMailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect(rt, tmp_path, monkeypatch, smtp=smtp, mailbox=support_mailbox)
    with rt.db.session() as session:
        other = session.get(Tenant, NORTHWIND)
        assert other is not None
        foreign, _ = state.receive_ticket(
            session,
            other,
            requester_email="aisha.patel@northwindlaw.example",
            requester_name="Someone",
            psa_ticket_id="imap:<theirs@x>",
            subject="Theirs",
            body="Theirs",
            origin=TicketOrigin.MAILBOX,
        )
        foreign.status = "waiting_on_requester"
        foreign_id = foreign.id
    support_mailbox.append(f"From: {LISA}\nSubject: Re: Theirs [#DH-{foreign_id}]\n\nHi.\n")
    [report] = poll_mailboxes(rt, CONTOSO)
    assert (len(report.new), report.updated) == (1, [])  # a new Contoso ticket, not theirs
    with rt.db.reading() as session:
        assert session.scalar(select(Ticket.status).where(Ticket.id == foreign_id)) == (
            "waiting_on_requester"
        )


def test_an_imported_ticket_is_answered_by_email_and_its_notes_kept(
    rt: Runtime,
    smtp: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect(rt, tmp_path, monkeypatch, smtp=smtp)
    ticket_id = import_password_ticket(rt, tmp_path)
    Worker(rt, "test-worker").run_once()

    actions = approve_and_run(rt, ticket_id)

    assert "psa.send_reply" in actions
    with rt.db.reading() as session:
        done = session.get(Ticket, ticket_id)
        assert done is not None and done.status == "resolved"
    [received] = smtp.received
    assert received.rcpt_tos == [LISA]
    assert received.message["Subject"] == f"Re: Forgot my password [#DH-{ticket_id}]"
    assert received.message["In-Reply-To"] is None  # it came from a file, not a message
    notes = rt.ticket_connectors(tenant(rt)).psa.list_comments("connectwise:24001")
    assert notes and all(note.hidden for note in notes)


def test_no_time_is_planned_on_an_imported_ticket_though_the_policy_logs_time(
    rt: Runtime, smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """There is no PSA ticket to log time on: the plan goes ahead without the time step
    instead of escalating over it."""
    policy = (
        "approvers: [approver]\napproval_expiry_hours: 24\n"
        "time_entries:\n  minutes:\n    password_reset: 10\n"
    )
    connect(rt, tmp_path, monkeypatch, smtp=smtp, policy=policy)
    ticket_id = import_password_ticket(rt, tmp_path)

    Worker(rt, "test-worker").run_once()

    drafts = approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id)
    assert [d.action for d in drafts] == [
        "m365.reset_password",
        "m365.revoke_sessions",
        "psa.add_internal_note",
        "psa.send_reply",
    ]


def test_without_smtp_the_reply_is_refused_before_anything_runs_and_the_note_is_kept(
    rt: Runtime, support_mailbox: SupportMailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(rt, tmp_path, monkeypatch, smtp=None, mailbox=support_mailbox)
    support_mailbox.append(f"From: {LISA}\nSubject: Forgot my password\nMessage-ID: <a@x>\n\nHi\n")
    poll_mailboxes(rt)
    Worker(rt, "test-worker").run_once()
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.tenant_id == CONTOSO)).one()
        escalation = session.scalars(
            select(Escalation).where(Escalation.ticket_id == ticket.id)
        ).one()
        drafted = session.scalars(select(Step).join(Run).where(Run.ticket_id == ticket.id)).all()
        key = ticket.psa_ticket_id
    assert (escalation.reason, drafted) == ("plan_invalid", [])
    assert "the tenant sends no e-mail of its own" in escalation.detail
    assert "`kind: smtp`" in escalation.detail
    # The escalation's note is kept with the ticket, where the ticket page shows it.
    [note] = rt.ticket_connectors(tenant(rt)).psa.list_comments(key)
    assert note.hidden and "deskhand escalated this ticket" in note.body
    with rt.db.reading() as session:
        said = [line.summary for line in trace(session, escalation.ticket_id).lines]
    assert f"internal note kept in deskhand for {key} ({note.id})" in said


def test_the_kept_notes_refuse_a_public_reply_and_other_tenants_tickets(rt: Runtime) -> None:
    with rt.db.session() as session:
        contoso = session.get(Tenant, CONTOSO)
        assert contoso is not None
        state.receive_ticket(
            session,
            contoso,
            requester_email=LISA,
            requester_name="Lisa Chen",
            psa_ticket_id="imap:<mine@x>",
            subject="Mine",
            body="Mine",
            origin=TicketOrigin.MAILBOX,
        )
    contoso_psa = rt.ticket_connectors(tenant(rt)).psa
    assert isinstance(contoso_psa, KeptNotesPsa)
    with pytest.raises(NotFoundError, match="would reach no one"):
        contoso_psa.add_comment("imap:<mine@x>", "Hi", "Hello", hidden=False)
    with pytest.raises(NotFoundError, match="no PSA holds it to log time on"):
        contoso_psa.log_time("imap:<mine@x>", 10, "deskhand", billable=True)
    northwind = rt.ticket_connectors(tenant(rt, NORTHWIND)).psa
    with pytest.raises(NotFoundError):  # not a ticket of northwind's: its PSA has none either
        northwind.add_comment("imap:<mine@x>", "note", "Not yours", hidden=True)
    with rt.db.reading() as session:
        assert session.scalars(select(TicketNote)).all() == []
