"""A mail server that refuses the sign-in by echoing what it was sent — the AUTH PLAIN line,
whose base64 carries the password, and the password itself — never gets the SMTP password into
what the SMTP connector says: the doctor's findings, the error of a reply, the log."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from deskhand.connectors.calls import Breakers, Caller
from deskhand.connectors.errors import AuthenticationError
from deskhand.connectors.mail.settings import SmtpSettings
from deskhand.connectors.mail.smtp import SmtpMailer
from deskhand.domain.directory import PsaTicket
from tests.connectors.mail.server import free_port, write_certificate

USER = "helpdesk@client.example"
PASSWORD = "M@il/Passw0rd+only=here"
TICKET = PsaTicket(
    id="9001",
    number="1042",
    customer_id="4107",
    contact_email="tom.becker@client.example",
    subject="Can't log in",
    body="Since this morning.",
    status="New",
)


def _echo_refusal(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    assert isinstance(auth_data, LoginPassword)
    sent = base64.b64encode(b"\0" + auth_data.login + b"\0" + auth_data.password).decode()
    said = f"535 5.7.8 refused AUTH {mechanism} {sent} (password {auth_data.password.decode()})"
    return AuthResult(success=False, handled=False, message=said)


@pytest.fixture
def echoing_server(tmp_path: Path) -> Iterator[SmtpSettings]:
    """An SMTP server with STARTTLS whose every sign-in refusal echoes the credentials."""
    cert_file, key_file = write_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    port = free_port()
    controller = Controller(
        object(),
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        authenticator=_echo_refusal,
    )
    controller.start()
    yield SmtpSettings(
        host="127.0.0.1", port=port, username=USER, from_address=USER, ca_file=cert_file
    )
    controller.stop()


def _none_of_the_password(*texts: str | None) -> None:
    encoded = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    for text in texts:
        assert PASSWORD not in (text or "") and encoded not in (text or "")


def test_the_doctor_reports_a_refused_sign_in_without_the_echoed_password(
    echoing_server: SmtpSettings, caplog: pytest.LogCaptureFixture
) -> None:
    findings = SmtpMailer("contoso", echoing_server, PASSWORD).doctor()

    failed = findings[-1]
    assert (failed.check, failed.outcome) == ("authenticates", "fail")
    assert "[redacted: SMTP password] (password [redacted: SMTP password])" in failed.detail
    assert "mail.username" in (failed.fix or "")
    _none_of_the_password(*(f.detail for f in findings), *(f.fix for f in findings), caplog.text)


def test_a_reply_refused_at_sign_in_fails_without_the_echoed_password(
    echoing_server: SmtpSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caller = Caller("contoso", "smtp", breakers=Breakers(), sleep=lambda _: None)
    mailer = SmtpMailer("contoso", echoing_server, PASSWORD, caller=caller)

    with pytest.raises(AuthenticationError) as caught:
        mailer.send_reply(TICKET, TICKET.contact_email, "Done.", "dh-1-1")

    assert caught.value.status == 535
    assert "[redacted: SMTP password]" in caught.value.message
    _none_of_the_password(str(caught.value), caplog.text)
