"""Approved client replies by SMTP (STARTTLS and AUTH), for tenants whose PSA does not e-mail.

Verification is weaker than a PSA read-back: deskhand can only know that the server accepted
the message (its answer and the Message-ID are recorded), not that it reached the inbox. The
Message-ID is made from the step's idempotency key, so a reply sent again after a crash carries
the same id and a receiving system can recognise it as a duplicate.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from deskhand.connectors.calls import Caller, caller_for
from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import (
    AuthenticationError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
    UnavailableError,
)
from deskhand.connectors.mail import SentMail
from deskhand.connectors.redaction import Redactor
from deskhand.domain.directory import PsaTicket

SYSTEM = "smtp"
STEP_HEADER = "X-Deskhand-Step"
# "Re:", "RE: Fwd:", "AW:", "SV:" … at the start of a mailed request's subject: the reply
# carries one "Re:" of its own, not "Re: Re: Re:".
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?|aw|sv|vs)\s*:\s*)+", re.IGNORECASE)

T = TypeVar("T")


class SmtpSettings(BaseModel):
    """The ``mail:`` section of a tenant's connection file with ``kind: smtp``; the password is
    a secret, resolved on its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)  # smtp.office365.com, mail.client.com
    port: int = Field(587, gt=0, lt=65536)
    starttls: bool = True  # upgrade the connection before AUTH; off only on a trusted relay
    username: str | None = None  # None: the server relays without AUTH
    from_address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")  # support@client.com
    from_name: str | None = None  # "Contoso IT Support"
    ca_file: Path | None = None  # PEM of the CA that signed the server's certificate
    verify_tls: bool = True  # check the server's certificate (only off to debug)
    timeout_seconds: float = Field(20.0, gt=0)


class SmtpMailer:
    """Sends one tenant's replies through its SMTP server."""

    def __init__(
        self,
        tenant_id: str,
        settings: SmtpSettings,
        password: str | None,
        *,
        caller: Caller | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.settings = settings
        self._password = password
        self.redactor = Redactor({"SMTP password": password})
        self.caller = caller_for(
            tenant_id, SYSTEM, self.redactor, settings.timeout_seconds, given=caller
        )
        self._sent: dict[str, SentMail] = {}

    def send_reply(self, ticket: PsaTicket, to: str, body: str, step_key: str) -> SentMail:
        """Send the reply; never retried, since a message the server took must not go twice."""
        message = self.reply(ticket, to, body, step_key)
        answer = self.caller.call(lambda: self._deliver(message, to), idempotent=False)
        sent = SentMail(str(message["Message-ID"]), to, str(message["Subject"]), answer)
        self._sent[step_key] = sent
        return sent

    def sent(self, step_key: str) -> SentMail | None:
        return self._sent.get(step_key)

    def reply(self, ticket: PsaTicket, to: str, body: str, step_key: str) -> EmailMessage:
        """The message for a reply on ``ticket``, as it will be sent."""
        message = EmailMessage()
        message["From"] = formataddr((self.settings.from_name or "", self.settings.from_address))
        message["To"] = to
        subject = _REPLY_PREFIX.sub("", ticket.subject).strip()
        message["Subject"] = f"Re: {subject} [#{ticket.number}]"
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = self.message_id(step_key)
        if ticket.message_id:  # a mailed request: the reply threads under it
            message["In-Reply-To"] = ticket.message_id
            message["References"] = ticket.message_id
        message[STEP_HEADER] = step_key
        message.set_content(body)
        return message

    def message_id(self, step_key: str) -> str:
        domain = self.settings.from_address.rpartition("@")[2]
        local = re.sub(r"[^A-Za-z0-9.-]", "-", f"{step_key}.{self.tenant_id}")
        return f"<deskhand.{local}@{domain}>"

    def doctor(self) -> list[Finding]:
        """Connect, upgrade to TLS, sign in and offer the sender, without sending anything."""
        return self.redactor.findings(self._findings())

    def _findings(self) -> list[Finding]:
        settings = self.settings
        stages = ["reachable"]
        stages += ["STARTTLS"] if settings.starttls else []
        stages += ["authenticates"] if settings.username else []
        passed: list[str] = []

        def offer_sender(smtp: smtplib.SMTP) -> tuple[int, bytes]:
            answer = smtp.mail(settings.from_address)
            smtp.rset()
            return answer

        try:
            code, said = self._session(offer_sender, passed)
        except ConnectorError as error:
            failed = stages[len(passed)] if len(passed) < len(stages) else "sender"
            return [
                *(Finding(SYSTEM, stage, "ok", _PASSED[stage]) for stage in passed),
                Finding(SYSTEM, failed, "fail", error.message, fix=error.fix),
            ]
        findings = [Finding(SYSTEM, stage, "ok", _PASSED[stage]) for stage in passed]
        if code >= 400:
            return [
                *findings,
                Finding(
                    SYSTEM,
                    "sender",
                    "fail",
                    f"MAIL FROM {settings.from_address}: {code} {_text(said)}",
                    fix=_SEND_AS_FIX,
                ),
            ]
        return [*findings, Finding(SYSTEM, "sender", "ok", f"{settings.from_address} accepted")]

    def _deliver(self, message: EmailMessage, to: str) -> str:
        def send(smtp: smtplib.SMTP) -> str:
            code, said = smtp.mail(self.settings.from_address)
            if code >= 400:
                raise _refused(code, said, f"the sender {self.settings.from_address}")
            code, said = smtp.rcpt(to)
            if code >= 400:
                raise _refused(code, said, f"the recipient {to}")
            code, said = smtp.data(message.as_bytes())
            if code >= 400:
                raise _refused(code, said, "the message")
            return f"{code} {_text(said)}"

        return self._session(send)

    def _session(self, work: Callable[[smtplib.SMTP], T], passed: list[str] | None = None) -> T:
        """Connect, STARTTLS, AUTH, then ``work``; every failure as a ConnectorError.
        ``passed`` collects the stages that succeeded, for the doctor."""
        passed = [] if passed is None else passed
        settings = self.settings
        where = f"{settings.host}:{settings.port}"
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as s:
                s.ehlo()
                passed.append("reachable")
                if settings.starttls:
                    if not s.has_extn("starttls"):
                        raise ForbiddenError(
                            f"{where} does not offer STARTTLS",
                            system=SYSTEM,
                            fix="use the server's submission port (587) in mail.port, or "
                            "set starttls: false only for a relay on a trusted network",
                        )
                    s.starttls(context=self._tls())
                    s.ehlo()
                    passed.append("STARTTLS")
                if settings.username:
                    s.login(settings.username, self._password or "")
                    passed.append("authenticates")
                return work(s)
        except smtplib.SMTPAuthenticationError as error:
            raise AuthenticationError(
                f"{where} refused the sign-in of {settings.username}: "
                f"{error.smtp_code} {_text(error.smtp_error)}",
                system=SYSTEM,
                status=error.smtp_code,
                fix=_AUTH_FIX,
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise ConnectorError(
                f"STARTTLS with {where}: the server's certificate is not trusted "
                f"({error.verify_message})",
                system=SYSTEM,
                fix="set mail.ca_file in the tenant's connection file to the PEM of the CA "
                "that signed the mail server's certificate",
            ) from None
        except smtplib.SMTPResponseException as error:
            raise _refused(error.smtp_code, error.smtp_error, f"{where}") from None
        except (smtplib.SMTPException, OSError) as error:
            # Refused connections, timeouts, dropped sessions: the server was not there.
            reason = "timed out" if isinstance(error, socket.timeout) else str(error) or "no answer"
            raise UnavailableError(
                f"cannot talk to the mail server {where}: {reason}",
                system=SYSTEM,
                fix="check mail.host and mail.port in the tenant's connection file and that "
                "this machine may reach that port (firewall)",
            ) from None

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(
            cafile=str(self.settings.ca_file) if self.settings.ca_file else None
        )
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


_PASSED = {
    "reachable": "the mail server answered",
    "STARTTLS": "the connection is encrypted and the certificate trusted",
    "authenticates": "the sign-in was accepted",
}
_AUTH_FIX = (
    "check mail.username and the secret in mail.password in the tenant's connection file; for "
    "a Microsoft 365 mailbox, turn on Authenticated SMTP for it in Microsoft 365 admin center → "
    "Users → Active users → the mailbox → Mail → Manage email apps"
)
_SEND_AS_FIX = (
    "let mail.username send as mail.from_address on the mail server (Microsoft 365: Exchange "
    "admin center → Recipients → Mailboxes → the mailbox → Delegation → Send as)"
)


def _text(said: bytes | str) -> str:
    return said.decode("utf-8", "replace") if isinstance(said, bytes) else said


def _refused(code: int, said: bytes | str, what: str) -> ConnectorError:
    message = f"the mail server refused {what}: {code} {_text(said)}"
    if 400 <= code < 500:
        return UnavailableError(message, system=SYSTEM, status=code, fix="try again later")
    if "recipient" in what:
        return NotFoundError(
            message, system=SYSTEM, status=code, fix="check the requester's e-mail address"
        )
    if "sender" in what:
        return ForbiddenError(message, system=SYSTEM, status=code, fix=_SEND_AS_FIX)
    return ConnectorError(message, system=SYSTEM, status=code)
