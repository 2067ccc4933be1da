"""A tenant whose connection file sends mail by SMTP: a password reset ticket runs through the
runtime (worker, drafts, approval, executor) and the approved reply arrives at a real SMTP
server instead of a public PSA comment. On SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Step, Tenant, Ticket
from tests.connectors.mail.server import PASSWORD, USERNAME, SmtpServer

CONTOSO = "contoso-dental"
APPROVER = "dana@msp.example"
LISA = "lisa.chen@contosodental.example"


def connect_by_smtp(rt: Runtime, smtp: SmtpServer, folder: Path) -> None:
    path = folder / "contoso.yaml"
    path.write_text(
        "name: Contoso Dental\n"
        "mail:\n"
        "  kind: smtp\n"
        f"  host: {smtp.host}\n"
        f"  port: {smtp.port}\n"
        f"  username: {USERNAME}\n"
        "  password: env:CONTOSO_SMTP\n"
        "  from_address: helpdesk@contosodental.example\n"
        f"  ca_file: {smtp.ca_file}\n"
    )
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        tenant.config_path = str(path)


def test_the_approved_reply_goes_out_by_smtp_and_the_run_completes(
    rt: Runtime, smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTOSO_SMTP", PASSWORD)
    connect_by_smtp(rt, smtp, tmp_path)
    ticket_id = add_ticket(rt, CONTOSO, LISA, "Forgot my password", "Please reset it").ticket_id
    worker = Worker(rt, "test-worker")
    worker.run_once()
    for draft in approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id):
        approvals.approve(rt, draft.id, APPROVER)

    worker.run_once()

    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "resolved"
        reply = session.scalars(select(Step).where(Step.action == "psa.send_reply")).one()
        assert reply.status == "verified"
        psa_ticket_id = ticket.psa_ticket_id
    [received] = smtp.received
    assert received.rcpt_tos == [LISA]
    assert received.message["Subject"].startswith("Re: Forgot my password [#")
    assert received.message["X-Deskhand-Step"] == reply.idempotency_key
    request, *comments = rt.connectors(_tenant(rt)).psa.list_comments(psa_ticket_id)
    assert not request.hidden  # the ticket's own request, as in Syncro
    assert not any(not comment.hidden for comment in comments)  # no second reply via the PSA
    assert any(received.message["Message-ID"] in comment.body for comment in comments)


def _tenant(rt: Runtime) -> Tenant:
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        return tenant
