"""The approved client reply goes by SMTP for a tenant whose mail is SMTP, and through the PSA
otherwise; the SMTP send is recorded on the ticket so that a restarted worker does not send it
again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskhand.actions import action as action_named
from deskhand.actions.contract import Baseline
from deskhand.connectors.factory import Connectors
from deskhand.connectors.mail.settings import SmtpSettings
from deskhand.connectors.mail.smtp import SmtpMailer
from deskhand.connectors.sandbox.seed import seed_demo
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa
from deskhand.domain.actions import ReplyParams
from tests.connectors.mail.server import PASSWORD, USERNAME, SmtpServer

TENANT = "contoso-dental"
REQUESTER = "tom.becker@contosodental.example"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SandboxStore]:
    sandbox = SandboxStore(f"sqlite:///{tmp_path}/sandbox.db")
    seed_demo(sandbox)
    yield sandbox
    sandbox.dispose()


def connectors(store: SandboxStore, mail: SmtpMailer | None) -> Connectors:
    return Connectors(
        tenant_id=TENANT,
        psa=SandboxPsa(store, TENANT),
        m365=SandboxM365(store, TENANT),
        ad=SandboxAD(store, TENANT),
        mail=mail,
    )


def mailer(smtp: SmtpServer) -> SmtpMailer:
    settings = SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        username=USERNAME,
        from_address="helpdesk@contosodental.example",
        ca_file=smtp.ca_file,
    )
    return SmtpMailer(TENANT, settings, PASSWORD)


def test_the_reply_goes_by_smtp_and_is_verified_by_the_servers_answer(
    store: SandboxStore, smtp: SmtpServer
) -> None:
    c = connectors(store, mailer(smtp))
    ticket = c.psa.create_ticket(REQUESTER, "Locked out", "Please help")
    params = ReplyParams(psa_ticket_id=ticket.id, to=REQUESTER, body="You can sign in again.")
    reply = action_named("psa.send_reply")
    baseline = Baseline(datetime.now(UTC), reply.snapshot(params, c))

    acted = reply.act(params, c, "dh-3-2", None)
    check = reply.check(params, c, "dh-3-2", baseline)

    [received] = smtp.received
    assert received.rcpt_tos == [REQUESTER]
    assert received.message["Subject"] == f"Re: Locked out [#{ticket.number}]"
    assert check.done
    assert check.observed["message_id"] == acted.result["message_id"]
    assert check.observed["answer"].startswith("250 ")
    public = [comment.body for comment in c.psa.list_comments(ticket.id) if not comment.hidden]
    assert public == ["Please help"]  # the request only: the client is not written to twice


def test_after_a_restart_the_note_on_the_ticket_shows_the_reply_was_sent(
    store: SandboxStore, smtp: SmtpServer
) -> None:
    c = connectors(store, mailer(smtp))
    ticket = c.psa.create_ticket(REQUESTER, "Locked out", "Please help")
    params = ReplyParams(psa_ticket_id=ticket.id, to=REQUESTER, body="You can sign in again.")
    reply = action_named("psa.send_reply")
    baseline = Baseline(datetime.now(UTC), reply.snapshot(params, c))
    reply.act(params, c, "dh-3-2", None)

    restarted = connectors(store, mailer(smtp))  # a new process: the mailer remembers nothing

    assert reply.check(params, restarted, "dh-3-2", baseline).done
    assert not reply.check(params, restarted, "dh-3-9", baseline).done


def test_without_smtp_the_reply_is_a_public_psa_comment(
    store: SandboxStore, smtp: SmtpServer
) -> None:
    c = connectors(store, None)
    ticket = c.psa.create_ticket(REQUESTER, "Locked out", "Please help")
    params = ReplyParams(psa_ticket_id=ticket.id, to=REQUESTER, body="You can sign in again.")
    reply = action_named("psa.send_reply")
    baseline = Baseline(datetime.now(UTC), reply.snapshot(params, c))

    reply.act(params, c, "dh-3-2", None)

    assert reply.check(params, c, "dh-3-2", baseline).done
    [_request, sent] = c.psa.list_comments(ticket.id)
    assert not sent.hidden and "You can sign in again." in sent.body
    assert smtp.received == []
