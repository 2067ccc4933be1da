"""`deskhand tenants doctor` for mail: the SMTP server of approved replies (reachable,
STARTTLS, sign-in, the sender accepted) and the support mailbox read over IMAP (reachable, TLS,
sign-in, its folders). Nothing is sent, and no message is changed."""

from __future__ import annotations

import imaplib
import smtplib
from typing import TYPE_CHECKING

from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.mail.errors import IMAP, SEND_AS_FIX, SMTP, folder_fix, smtp_text

if TYPE_CHECKING:
    from deskhand.connectors.mail.imap import ImapMailbox
    from deskhand.connectors.mail.smtp import SmtpMailer

_SMTP_PASSED = {
    "reachable": "the mail server answered",
    "STARTTLS": "the connection is encrypted and the certificate trusted",
    "authenticates": "the sign-in was accepted",
}
_IMAP_PASSED = {
    "reachable": "the mail server answered",
    "TLS": "the connection is encrypted and the certificate trusted",
    "login": "the sign-in was accepted",
}


def examine_smtp(mailer: SmtpMailer) -> list[Finding]:
    """Connect, upgrade to TLS, sign in and offer the sender; a failed stage stops the rest."""
    settings = mailer.settings
    stages = ["reachable"]
    stages += ["STARTTLS"] if settings.starttls else []
    stages += ["authenticates"] if settings.username else []
    passed: list[str] = []

    def offer_sender(smtp: smtplib.SMTP) -> tuple[int, bytes]:
        answer = smtp.mail(settings.from_address)
        smtp.rset()
        return answer

    try:
        code, said = mailer.session(offer_sender, passed)
    except ConnectorError as error:
        failed = stages[len(passed)] if len(passed) < len(stages) else "sender"
        return [
            *(Finding(SMTP, stage, "ok", _SMTP_PASSED[stage]) for stage in passed),
            Finding(SMTP, failed, "fail", error.message, fix=error.fix),
        ]
    findings = [Finding(SMTP, stage, "ok", _SMTP_PASSED[stage]) for stage in passed]
    if code >= 400:
        detail = f"MAIL FROM {settings.from_address}: {code} {smtp_text(said)}"
        return [*findings, Finding(SMTP, "sender", "fail", detail, fix=SEND_AS_FIX)]
    return [*findings, Finding(SMTP, "sender", "ok", f"{settings.from_address} accepted")]


def examine_imap(mailbox: ImapMailbox) -> list[Finding]:
    """Connect, check TLS, sign in and open the folders read-only; a failed stage stops the
    rest."""
    settings = mailbox.settings
    passed: list[str] = []
    folders = [name for name in (settings.folder, settings.processed_folder) if name]

    def open_folders(session: imaplib.IMAP4) -> list[Finding]:
        found = []
        for folder in folders:
            if mailbox.has_folder(session, folder):
                found.append(Finding(IMAP, f"folder {folder}", "ok", "exists"))
            else:
                fix = folder_fix(mailbox.folders(session))
                found.append(Finding(IMAP, f"folder {folder}", "fail", "not found", fix))
        return found

    try:
        folder_findings = mailbox.session(open_folders, passed)
    except ConnectorError as error:
        stages = ["reachable", "TLS", "login"]
        failed = stages[len(passed)] if len(passed) < len(stages) else "folder"
        return [
            *(Finding(IMAP, stage, "ok", _IMAP_PASSED[stage]) for stage in passed),
            Finding(IMAP, failed, "fail", error.message, fix=error.fix),
        ]
    return [*(Finding(IMAP, s, "ok", _IMAP_PASSED[s]) for s in passed), *folder_findings]
