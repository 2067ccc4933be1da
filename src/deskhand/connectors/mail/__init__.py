"""Mail: the channel for approved replies to a client that has no e-mail through its PSA
(``Mailer``, here), and a support mailbox whose mail becomes tickets.

Two clients, so two client modules: ``smtp.py`` sends replies, ``imap.py`` reads the mailbox.
``settings.py`` the ``mail:`` and ``intake: imap:`` sections, ``errors.py`` the servers'
refusals as connector errors, ``doctor.py`` the checks of ``deskhand tenants doctor``.

Capabilities (``deskhand.connectors.capabilities``):

- ``SmtpMailer``: none (it is the tenant's ``Connectors.mail``, which ``psa.send_reply`` uses
  when there is one)
- ``ImapMailbox``: none (it is the intake's, ``Connectors.mailbox``)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from deskhand.domain.directory import PsaTicket


@dataclass(frozen=True)
class SentMail:
    """A reply the mail server accepted: what identifies it, and what the server answered."""

    message_id: str
    to: str
    subject: str
    answer: str  # the server's reply to the message, e.g. "250 2.0.0 Ok: queued as 4F1C2"


class Mailer(Protocol):
    """One tenant's outgoing mail. Raises ``deskhand.connectors.errors`` only."""

    def send_reply(self, ticket: PsaTicket, to: str, body: str, step_key: str) -> SentMail:
        """Send ``body`` to ``to`` as a reply on ``ticket``; ``step_key`` identifies the step."""
        ...

    def sent(self, step_key: str) -> SentMail | None:
        """The reply this mailer sent for ``step_key`` since it was built, if any."""
        ...
