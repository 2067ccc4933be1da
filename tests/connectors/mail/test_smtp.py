"""Client replies by SMTP reach a real local server (aiosmtpd) over STARTTLS with AUTH, carry
the headers that identify them, and every refusal says what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskhand.connectors.calls import Breakers, Caller
from deskhand.connectors.errors import (
    AuthenticationError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
    UnavailableError,
)
from deskhand.connectors.mail.settings import SmtpSettings
from deskhand.connectors.mail.smtp import STEP_HEADER, SmtpMailer
from deskhand.domain.directory import PsaTicket
from tests.connectors.mail.server import (
    PASSWORD,
    USERNAME,
    SmtpServer,
    free_port,
    smtp_server,
)

TICKET = PsaTicket(
    id="9001",
    number="1042",
    customer_id="4107",
    contact_email="tom.becker@contosodental.example",
    subject="Can't log in to Outlook",
    body="Since this morning.",
    status="New",
)


def settings(smtp: SmtpServer, **changes: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": smtp.host,
        "port": smtp.port,
        "username": USERNAME,
        "from_address": "helpdesk@client.example",
        "from_name": "Client IT Support",
        "ca_file": smtp.ca_file,
    }
    return SmtpSettings.model_validate(values | changes)


def test_a_reply_arrives_from_the_tenant_address_with_subject_step_and_message_id(
    smtp: SmtpServer,
) -> None:
    mailer = SmtpMailer("contoso-dental", settings(smtp), PASSWORD)

    sent = mailer.send_reply(TICKET, TICKET.contact_email, "Your password was reset.", "dh-7-2")

    [received] = smtp.received
    message = received.message
    assert received.tls and received.login == USERNAME
    assert received.mail_from == "helpdesk@client.example"
    assert received.rcpt_tos == ["tom.becker@contosodental.example"]
    assert message["From"] == "Client IT Support <helpdesk@client.example>"
    assert message["To"] == "tom.becker@contosodental.example"
    assert message["Subject"] == "Re: Can't log in to Outlook [#1042]"
    assert message[STEP_HEADER] == "dh-7-2"
    assert message["Message-ID"] == sent.message_id == mailer.sent("dh-7-2").message_id  # type: ignore[union-attr]
    assert sent.message_id.endswith("@client.example>")
    assert message.get_payload(decode=True).decode().strip() == "Your password was reset."  # type: ignore[union-attr]
    assert sent.answer == "250 2.0.0 Ok: queued as T35T"


def test_a_mailed_requests_reply_and_forward_prefixes_are_not_repeated(smtp: SmtpServer) -> None:
    mailer = SmtpMailer("contoso-dental", settings(smtp), PASSWORD)
    mailed = TICKET.model_copy(update={"subject": "RE: Fwd: AW: Outlook ", "number": "DH-7"})

    assert mailer.reply(mailed, TICKET.contact_email, "Hi", "dh-7-2")["Subject"] == (
        "Re: Outlook [#DH-7]"
    )
    assert mailer.reply(TICKET, TICKET.contact_email, "Hi", "dh-7-2")["Subject"] == (
        "Re: Can't log in to Outlook [#1042]"
    )


def test_a_reply_sent_again_for_the_same_step_keeps_its_message_id(smtp: SmtpServer) -> None:
    first = SmtpMailer("contoso-dental", settings(smtp), PASSWORD)
    after_a_restart = SmtpMailer("contoso-dental", settings(smtp), PASSWORD)

    ids = {
        mailer.send_reply(TICKET, TICKET.contact_email, "Done.", "dh-7-2").message_id
        for mailer in (first, after_a_restart)
    }

    assert len(ids) == 1
    assert first.sent("dh-7-3") is None


def test_a_wrong_password_is_an_authentication_error_that_says_where_to_fix_it(
    smtp: SmtpServer,
) -> None:
    mailer = SmtpMailer("contoso-dental", settings(smtp), "not-the-password")

    with pytest.raises(AuthenticationError) as raised:
        mailer.send_reply(TICKET, TICKET.contact_email, "Done.", "dh-7-2")

    assert raised.value.status == 535
    assert "mail.password" in str(raised.value)
    assert "Authenticated SMTP" in str(raised.value)
    assert smtp.received == []


def test_an_untrusted_certificate_names_the_setting_to_trust_it(smtp: SmtpServer) -> None:
    mailer = SmtpMailer("contoso-dental", settings(smtp, ca_file=None), PASSWORD)

    with pytest.raises(ConnectorError, match=r"not trusted") as raised:
        mailer.send_reply(TICKET, TICKET.contact_email, "Done.", "dh-7-2")

    assert raised.value.fix is not None and "mail.ca_file" in raised.value.fix
    assert smtp.received == []


def test_a_refused_recipient_is_not_found_and_nothing_is_sent(smtp: SmtpServer) -> None:
    mailer = SmtpMailer("contoso-dental", settings(smtp), PASSWORD)

    with pytest.raises(NotFoundError, match="recipient") as raised:
        mailer.send_reply(TICKET, "tom@elsewhere.test", "Done.", "dh-7-2")

    assert raised.value.status == 550
    assert raised.value.fix == "check the requester's e-mail address"

    assert smtp.received == []


def test_sending_is_never_retried_when_the_server_is_not_there(tmp_path: Path) -> None:
    waits: list[float] = []
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), from_address="a@client.example")
    caller = Caller("contoso-dental", "smtp", sleep=waits.append, breakers=Breakers())
    mailer = SmtpMailer("contoso-dental", closed, None, caller=caller)

    with pytest.raises(UnavailableError) as raised:
        mailer.send_reply(TICKET, TICKET.contact_email, "Done.", "dh-7-2")

    assert waits == []
    assert "mail.host and mail.port" in str(raised.value)


def test_the_doctor_checks_each_stage_without_sending(smtp: SmtpServer) -> None:
    findings = SmtpMailer("contoso-dental", settings(smtp), PASSWORD).doctor()

    assert [(f.check, f.outcome) for f in findings] == [
        ("reachable", "ok"),
        ("STARTTLS", "ok"),
        ("authenticates", "ok"),
        ("sender", "ok"),
    ]
    assert smtp.received == []


def test_the_doctor_stops_at_the_refused_sign_in_with_the_fix(smtp: SmtpServer) -> None:
    findings = SmtpMailer("contoso-dental", settings(smtp), "wrong").doctor()

    assert [(f.check, f.outcome) for f in findings] == [
        ("reachable", "ok"),
        ("STARTTLS", "ok"),
        ("authenticates", "fail"),
    ]
    assert findings[-1].fix is not None and "mail.username" in findings[-1].fix


def test_a_server_without_starttls_is_refused_before_the_password_is_sent(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=False) as relay:
        mailer = SmtpMailer("contoso-dental", settings(relay), PASSWORD)

        with pytest.raises(ForbiddenError, match="does not offer STARTTLS") as raised:
            mailer.send_reply(TICKET, TICKET.contact_email, "Done.", "dh-7-2")
        findings = mailer.doctor()

    assert raised.value.fix is not None and "587" in raised.value.fix
    assert relay.received == []
    assert [(f.check, f.outcome) for f in findings] == [("reachable", "ok"), ("STARTTLS", "fail")]
