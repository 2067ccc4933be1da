"""What mail servers' refusals and failures mean, as ``deskhand.connectors.errors`` that keep
the server's own words and say what an admin does about them: SMTP reply codes, IMAP's
refusals, a certificate that is not trusted, a server that is not there."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl

from deskhand.connectors.errors import (
    AuthenticationError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
    UnavailableError,
)
from deskhand.connectors.mail.settings import ImapSettings, SmtpSettings

SMTP = "smtp"
IMAP = "imap"

AUTH_FIX = (
    "check mail.username and the secret in mail.password in the tenant's connection file; for "
    "a Microsoft 365 mailbox, turn on Authenticated SMTP for it in Microsoft 365 admin center → "
    "Users → Active users → the mailbox → Mail → Manage email apps"
)
SEND_AS_FIX = (
    "let mail.username send as mail.from_address on the mail server (Microsoft 365: Exchange "
    "admin center → Recipients → Mailboxes → the mailbox → Delegation → Send as)"
)
LOGIN_FIX = (
    "check intake.imap.username and the secret in intake.imap.password in the tenant's "
    "connection file, and that IMAP is turned on for the mailbox on its mail server. Microsoft "
    "365 mailboxes cannot be read this way: Exchange Online no longer accepts a password over "
    "IMAP (only OAuth, which deskhand's IMAP intake does not do), even with IMAP turned on in "
    "Microsoft 365 admin center → Users → Active users → the user → Mail → Manage email apps; "
    "use the PSA's e-mail intake or a mailbox on a server that accepts a password"
)


# --- SMTP ------------------------------------------------------------------------------------


def smtp_text(said: bytes | str) -> str:
    """An SMTP server's words, as text."""
    return said.decode("utf-8", "replace") if isinstance(said, bytes) else said


def smtp_refused(code: int, said: bytes | str, what: str) -> ConnectorError:
    """The server's answer ``code`` to ``what`` ("the recipient bob@…"): a 4xx may pass later."""
    message = f"the mail server refused {what}: {code} {smtp_text(said)}"
    if 400 <= code < 500:
        return UnavailableError(message, system=SMTP, status=code, fix="try again later")
    if "recipient" in what:
        return NotFoundError(
            message, system=SMTP, status=code, fix="check the requester's e-mail address"
        )
    if "sender" in what:
        return ForbiddenError(message, system=SMTP, status=code, fix=SEND_AS_FIX)
    return ConnectorError(message, system=SMTP, status=code)


def smtp_without_starttls(settings: SmtpSettings) -> ForbiddenError:
    return ForbiddenError(
        f"{settings.host}:{settings.port} does not offer STARTTLS",
        system=SMTP,
        fix="use the server's submission port (587) in mail.port, or set starttls: false only "
        "for a relay on a trusted network",
    )


def smtp_failure(error: smtplib.SMTPException | OSError, settings: SmtpSettings) -> ConnectorError:
    """What went wrong in an SMTP session: a refused sign-in, an untrusted certificate, a
    refusal, or no server to talk to."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return AuthenticationError(
            f"{where} refused the sign-in of {settings.username}: "
            f"{error.smtp_code} {smtp_text(error.smtp_error)}",
            system=SMTP,
            status=error.smtp_code,
            fix=AUTH_FIX,
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        return ConnectorError(
            f"STARTTLS with {where}: the server's certificate is not trusted "
            f"({error.verify_message})",
            system=SMTP,
            fix="set mail.ca_file in the tenant's connection file to the PEM of the CA that "
            "signed the mail server's certificate",
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return smtp_refused(error.smtp_code, error.smtp_error, where)
    # Refused connections, timeouts, dropped sessions: the server was not there.
    reason = "timed out" if isinstance(error, socket.timeout) else str(error) or "no answer"
    return UnavailableError(
        f"cannot talk to the mail server {where}: {reason}",
        system=SMTP,
        fix="check mail.host and mail.port in the tenant's connection file and that this "
        "machine may reach that port (firewall)",
    )


# --- IMAP ------------------------------------------------------------------------------------


def imap_said(error: Exception) -> str:
    """An IMAP server's words in an imaplib error, without the bytes' b'…'."""
    text = str(error.args[0] if error.args else error)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text


def imap_without_starttls(settings: ImapSettings) -> ForbiddenError:
    return ForbiddenError(
        f"{settings.host}:{settings.effective_port} does not offer STARTTLS, and deskhand never "
        "sends a password unencrypted",
        system=IMAP,
        fix="set intake.imap.tls: imaps (port 993) in the tenant's connection file, or turn on "
        "TLS on the mail server",
    )


def imap_login_refused(error: imaplib.IMAP4.error, settings: ImapSettings) -> AuthenticationError:
    return AuthenticationError(
        f"{settings.host}:{settings.effective_port} refused the sign-in of {settings.username}: "
        f"{imap_said(error)}",
        system=IMAP,
        fix=LOGIN_FIX,
    )


def folder_fix(names: list[str]) -> str:
    """What to do about a folder that is not there, given the folders the mailbox has."""
    known = f" (the mailbox has: {', '.join(sorted(filter(None, names)))})" if names else ""
    return (
        f"create the folder, or set intake.imap.folder / processed_folder to one that exists{known}"
    )


def imap_failure(error: imaplib.IMAP4.error | OSError, settings: ImapSettings) -> ConnectorError:
    """What went wrong in an IMAP session: TLS, a dropped session, a refusal, or no server."""
    where = f"{settings.host}:{settings.effective_port}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return ConnectorError(
            f"TLS with {where}: the server's certificate is not trusted ({error.verify_message})",
            system=IMAP,
            fix="set intake.imap.ca_file in the tenant's connection file to the PEM of the CA "
            "that signed the mail server's certificate",
        )
    if isinstance(error, ssl.SSLError):
        return ConnectorError(
            f"TLS with {where} failed: {error.reason or error}",
            system=IMAP,
            fix="check intake.imap.tls and port: imaps is TLS from the start (usually port 993), "
            "starttls upgrades a plain connection (usually port 143)",
        )
    if isinstance(error, imaplib.IMAP4.abort):
        return UnavailableError(
            f"the mail server {where} dropped the session: {imap_said(error)}",
            system=IMAP,
            fix="try again later; if it persists, check the server's logs",
        )
    if isinstance(error, imaplib.IMAP4.error):
        return ConnectorError(
            f"the mail server {where} refused a request: {imap_said(error)}", system=IMAP
        )
    # Refused connections, timeouts, names that do not resolve: the server was not there.
    reason = "timed out" if isinstance(error, socket.timeout) else str(error) or "no answer"
    return UnavailableError(
        f"cannot reach the mail server {where}: {reason}",
        system=IMAP,
        fix="check intake.imap.host and port in the tenant's connection file and that this "
        "machine may reach that port (firewall)",
    )
