"""Approved client replies by SMTP (STARTTLS and AUTH), for tenants whose PSA does not e-mail.

Verification is weaker than a PSA read-back: deskhand can only know that the server accepted
the message (its answer and the Message-ID are recorded), not that it reached the inbox. The
Message-ID is made from the step's idempotency key, so a reply sent again after a crash carries
the same id and a receiving system can recognise it as a duplicate.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import TypeVar

from deskhand.connectors.calls import Caller, caller_for
from deskhand.connectors.doctor import Finding
from deskhand.connectors.mail import SentMail
from deskhand.connectors.mail.doctor import examine_smtp
from deskhand.connectors.mail.errors import (
    SMTP,
    smtp_failure,
    smtp_refused,
    smtp_text,
    smtp_without_starttls,
)
from deskhand.connectors.mail.settings import SmtpSettings
from deskhand.connectors.redaction import Redactor
from deskhand.domain.directory import PsaTicket

SYSTEM = SMTP
STEP_HEADER = "X-Deskhand-Step"
# "Re:", "RE: Fwd:", "AW:", "SV:" … at the start of a mailed request's subject: the reply
# carries one "Re:" of its own, not "Re: Re: Re:".
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?|aw|sv|vs)\s*:\s*)+", re.IGNORECASE)

T = TypeVar("T")


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
        return self.redactor.findings(examine_smtp(self))

    def _deliver(self, message: EmailMessage, to: str) -> str:
        def send(smtp: smtplib.SMTP) -> str:
            code, said = smtp.mail(self.settings.from_address)
            if code >= 400:
                raise smtp_refused(code, said, f"the sender {self.settings.from_address}")
            code, said = smtp.rcpt(to)
            if code >= 400:
                raise smtp_refused(code, said, f"the recipient {to}")
            code, said = smtp.data(message.as_bytes())
            if code >= 400:
                raise smtp_refused(code, said, "the message")
            return f"{code} {smtp_text(said)}"

        return self.session(send)

    def session(self, work: Callable[[smtplib.SMTP], T], passed: list[str] | None = None) -> T:
        """Connect, STARTTLS, AUTH, then ``work``; every failure as a ConnectorError.
        ``passed`` collects the stages that succeeded, for the doctor."""
        passed = [] if passed is None else passed
        settings = self.settings
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as s:
                s.ehlo()
                passed.append("reachable")
                if settings.starttls:
                    if not s.has_extn("starttls"):
                        raise smtp_without_starttls(settings)
                    s.starttls(context=self._tls())
                    s.ehlo()
                    passed.append("STARTTLS")
                if settings.username:
                    s.login(settings.username, self._password or "")
                    passed.append("authenticates")
                return work(s)
        except (smtplib.SMTPException, OSError) as error:
            raise smtp_failure(error, settings) from None

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(
            cafile=str(self.settings.ca_file) if self.settings.ca_file else None
        )
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context
