"""A tenant's support mailbox read over IMAP (TLS always: IMAPS or STARTTLS), for tenants whose
tickets arrive as e-mail rather than through a PSA.

Only servers that accept a password can be read: Microsoft 365 (Exchange Online) has turned
off password sign-in ("basic authentication") for IMAP, and this client does not do OAuth. A
message is read without changing it (``BODY.PEEK``); ``mark_processed`` flags it \\Seen and, if
the settings name a folder, moves it there, once the intake has stored it.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import re
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import TypeVar

from deskhand.connectors.calls import Caller, caller_for
from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import ConnectorError, NotFoundError
from deskhand.connectors.mail.doctor import examine_imap
from deskhand.connectors.mail.errors import (
    IMAP,
    folder_fix,
    imap_failure,
    imap_login_refused,
    imap_without_starttls,
)
from deskhand.connectors.mail.settings import ImapSettings
from deskhand.connectors.redaction import Redactor
from deskhand.domain import text

SYSTEM = IMAP
BATCH = 25  # messages fetched per request: bounded memory however full the mailbox is
MAX_BODY_CHARS = 50_000  # a ticket's text is for reading, not an archive of the thread

T = TypeVar("T")
# IMAP dates are "24-Nov-2026", with English month names whatever the locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class IncomingMail:
    """One message of the support mailbox, as the intake needs it."""

    uid: int
    message_id: str | None  # "<abc@mail.example>", None when the sender's server set none
    digest: str  # SHA-256 of the whole message: its identity when it has no Message-ID
    from_address: str  # "" when the From header names no address
    from_name: str | None  # the display name: identity compares it with the directory's
    subject: str
    in_reply_to: str | None
    references: tuple[str, ...]
    body: str  # text/plain, or the HTML part reduced to its text
    attachments: int  # counted, never imported
    automated: str | None  # why it is an auto-reply or bounce, None for a person's message
    raw: bytes = field(default=b"", repr=False)  # the message as the server has it
    # Why the message could not be read at all (its other fields are then empty); None when read.
    unreadable: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A read of the folder: its UIDVALIDITY now, and the messages after the given UID."""

    uidvalidity: int
    mails: list[IncomingMail]


class ImapMailbox:
    """One tenant's support mailbox."""

    def __init__(
        self,
        tenant_id: str,
        settings: ImapSettings,
        password: str,
        *,
        caller: Caller | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.settings = settings
        self._password = password
        self.redactor = Redactor({"IMAP password": password})
        self.caller = caller_for(
            tenant_id, SYSTEM, self.redactor, settings.timeout_seconds, given=caller
        )

    def fetch_new(
        self, after_uid: int, uidvalidity: int | None, *, restart_since: date | None = None
    ) -> Fetched:
        """Up to ``BATCH`` messages with a UID above ``after_uid``, oldest first. A folder whose
        UIDVALIDITY is not ``uidvalidity`` any more (or None: never read) has new UIDs: it is
        read from the start — only what arrived on or after ``restart_since``, if given."""

        def read(session: imaplib.IMAP4) -> Fetched:
            current = self._select(session, readonly=True)
            start = after_uid if uidvalidity == current else 0
            criteria = f"UID {start + 1}:*"
            if uidvalidity != current and restart_since is not None:
                criteria += f" SINCE {restart_since.day}-{_MONTHS[restart_since.month - 1]}-"
                criteria += str(restart_since.year)
            # "n:*" always matches the newest message, even below n: filter by UID as well.
            uids = [uid for uid in _search(session, criteria) if uid > start]
            mails = [read_message(uid, raw) for uid, raw in _fetch(session, sorted(uids)[:BATCH])]
            return Fetched(current, mails)

        return self.caller.call(lambda: self.session(read), idempotent=True)

    def mark_processed(self, uids: Iterable[int]) -> None:
        """Flag the messages \\Seen and move them to ``processed_folder`` if there is one;
        a UID no longer in the folder is passed over."""
        wanted = sorted(set(uids))
        if not wanted:
            return
        listed = ",".join(str(uid) for uid in wanted)

        def mark(session: imaplib.IMAP4) -> None:
            self._select(session, readonly=False)
            _ok(session.uid("STORE", listed, "+FLAGS.SILENT", r"(\Seen)"), "flag the messages")
            target = self.settings.processed_folder
            if target:
                _ok(session.uid("MOVE", listed, _quoted(target)), f"move them to {target}")

        # Both are repeatable: a flag set twice is set, a message moved already is not found.
        self.caller.call(lambda: self.session(mark), idempotent=True)

    def doctor(self) -> list[Finding]:
        """Connect, check TLS, sign in and open the folders, changing nothing."""
        return self.redactor.findings(examine_imap(self))

    def has_folder(self, session: imaplib.IMAP4, folder: str) -> bool:
        """Whether the mailbox has ``folder`` (opened read-only to find out)."""
        status, _ = session.select(_quoted(folder), readonly=True)
        return status == "OK"

    def folders(self, session: imaplib.IMAP4) -> list[str]:
        """The names of the mailbox's folders; empty when the server will not list them."""
        status, listed = session.list()
        if status != "OK":
            return []
        return [_folder_name(line) for line in listed if isinstance(line, bytes)]

    def _select(self, session: imaplib.IMAP4, *, readonly: bool) -> int:
        """Open the folder; its UIDVALIDITY."""
        folder = self.settings.folder
        status, _ = session.select(_quoted(folder), readonly=readonly)
        if status != "OK":
            raise NotFoundError(
                f"the mailbox {self.settings.username} has no folder {folder!r}",
                system=SYSTEM,
                fix=folder_fix(self.folders(session)),
            )
        _, said = session.response("UIDVALIDITY")
        if not said or not said[0]:
            raise ConnectorError(f"the folder {folder!r} has no UIDVALIDITY", system=SYSTEM)
        return int(said[0])

    def session(self, work: Callable[[imaplib.IMAP4], T], passed: list[str] | None = None) -> T:
        """Connect with TLS, sign in, then ``work``; every failure as a ConnectorError.
        ``passed`` collects the stages that succeeded, for the doctor."""
        passed = [] if passed is None else passed
        settings = self.settings
        timeout = settings.timeout_seconds
        try:
            context = ssl.create_default_context(
                cafile=str(settings.ca_file) if settings.ca_file else None
            )
            session: imaplib.IMAP4
            if settings.tls == "imaps":
                session = imaplib.IMAP4_SSL(
                    settings.host, settings.effective_port, ssl_context=context, timeout=timeout
                )
                passed += ["reachable", "TLS"]
            else:
                session = imaplib.IMAP4(settings.host, settings.effective_port, timeout=timeout)
                passed.append("reachable")
                if "STARTTLS" not in session.capabilities:
                    session.shutdown()
                    raise imap_without_starttls(settings)
                session.starttls(ssl_context=context)
                passed.append("TLS")
            try:
                try:
                    session.login(settings.username, self._password)
                except imaplib.IMAP4.error as error:
                    if isinstance(error, imaplib.IMAP4.abort):
                        raise
                    raise imap_login_refused(error, settings) from None
                passed.append("login")
                return work(session)
            finally:
                # The answer is in; a dropped goodbye changes nothing.
                with contextlib.suppress(imaplib.IMAP4.error, OSError):
                    session.logout()
        except (imaplib.IMAP4.error, OSError) as error:
            raise imap_failure(error, settings) from None


def _folder_name(line: bytes) -> str:
    # (\HasNoChildren) "/" "Support/Done"  or  (\HasNoChildren) "/" INBOX
    match = re.match(rb'\(.*?\) (?:"[^"]*"|NIL) "?(.*?)"?$', line)
    return match.group(1).decode("utf-8", "replace") if match else ""


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer: tuple[str, list[object]], what: str) -> None:
    status, said = answer
    if status != "OK":
        detail = b" ".join(part for part in said if isinstance(part, bytes)).decode(
            errors="replace"
        )
        raise ConnectorError(f"the mail server would not {what}: {detail}", system=SYSTEM)


def _search(session: imaplib.IMAP4, criteria: str) -> list[int]:
    status, said = session.uid("SEARCH", criteria)
    _ok((status, said), "search the folder")
    first = said[0] if said else b""
    return [int(uid) for uid in first.split()] if isinstance(first, bytes) else []


def _fetch(session: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    if not uids:
        return []
    status, said = session.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    _ok((status, said), "hand over the messages")
    found = []
    for part in said:
        if isinstance(part, tuple) and len(part) == 2:
            head, raw = part
            match = re.search(rb"UID (\d+)", head)
            if match:
                found.append((int(match.group(1)), raw))
    return sorted(found)


def read_message(uid: int, raw: bytes) -> IncomingMail:
    """The message read into text (every header and the body decoded and cleaned); one the
    parser chokes on comes back ``unreadable``, with its raw bytes, for the intake to keep."""
    try:
        return _read(uid, raw)
    except Exception as error:  # the parser's own bugs included: one message must not stop the rest
        return IncomingMail(
            uid=uid,
            message_id=None,
            digest=hashlib.sha256(raw).hexdigest(),
            from_address="",
            from_name=None,
            subject="",
            in_reply_to=None,
            references=(),
            body="",
            attachments=0,
            automated=None,
            raw=raw,
            unreadable=f"the message could not be read ({type(error).__name__}: {error})",
        )


def _read(uid: int, raw: bytes) -> IncomingMail:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    address, name = _sender(message)
    references = tuple(re.findall(r"<[^<>\s]+>", _header(message, "References")))
    in_reply_to = re.findall(r"<[^<>\s]+>", _header(message, "In-Reply-To"))
    message_id = re.findall(r"<[^<>\s]+>", _header(message, "Message-ID"))
    return IncomingMail(
        uid=uid,
        message_id=message_id[0] if message_id else None,
        digest=hashlib.sha256(raw).hexdigest(),
        from_address=address,
        from_name=name,
        subject=_header(message, "Subject"),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=references,
        body=_text_of(message)[:MAX_BODY_CHARS],
        attachments=_attachments(message),
        automated=_automated(message, address),
        raw=raw,
    )


def _header(message: EmailMessage, name: str) -> str:
    """The first ``name`` header as one clean line, read from its raw bytes (RFC 2047 words in
    any charset, raw 8-bit text from legacy mailers); "" when there is none."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            # The parser kept the bytes it could not decode as surrogates: these give them back.
            return text.header(str(value).encode("utf-8", "surrogateescape"))
    return ""


def _sender(message: EmailMessage) -> tuple[str, str | None]:
    """The From address (lower case) and display name; ("", None) when there is none."""
    try:
        header = message.get("From")
        addresses: tuple[Address, ...] = header.addresses if header is not None else ()
        if addresses and addresses[0].addr_spec and "@" in addresses[0].addr_spec:
            # A raw 8-bit name ("Li\xffsa") or an encoded word's NUL: decoded and cleaned.
            name = text.line(addresses[0].display_name)
            return text.line(addresses[0].addr_spec).lower(), name or None
    except Exception:  # the strict parser fails on odd From headers in ways of its own
        pass
    # A From header the strict parser rejects: the lenient parse of the raw text.
    raw = [str(value) for key, value in message.raw_items() if key.lower() == "from"]
    for name, address in getaddresses(raw):
        if "@" in address:
            shown = text.header(name.encode("utf-8", "surrogateescape"))
            return text.line(address).lower(), shown or None
    return "", None


def _text_of(message: EmailMessage) -> str:
    """The text/plain body, else the text of the HTML body, decoded per its charset."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None or not isinstance(part, EmailMessage):
        return ""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    # Its charset if it fits, else UTF-8, else Windows-1252: an unknown or lying charset is read.
    content = text.decode(payload, part.get_content_charset())
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return _tidy(content)


def _attachments(message: EmailMessage) -> int:
    return sum(
        1
        for part in message.walk()
        if not part.is_multipart()
        and (part.get_content_disposition() == "attachment" or part.get_filename())
    )


_AUTOMATED_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|bounces?)([+@-]|$)", re.I)


def _automated(message: EmailMessage, address: str) -> str | None:
    """Why the message was sent by a machine (RFC 3834 and common practice), or None."""
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "an auto-reply header"
    if address and _AUTOMATED_SENDERS.match(address):
        return f"sent by {address}"
    if message.get_content_type() == "multipart/report":
        return "a delivery report"
    return None


def _tidy(text: str) -> str:
    """Line endings normalised, control characters gone, blank runs shortened."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(
        r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", "", text
    )
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    """The readable text of an HTML message: scripts, styles and hidden elements dropped,
    blocks on lines of their own, entities decoded. Nothing is fetched or run."""
    reader = _HtmlText()
    reader.feed(html)
    reader.close()
    return _tidy(reader.text())


class _HtmlText(HTMLParser):
    _SKIPPED = frozenset(
        {"script", "style", "head", "title", "template", "noscript", "svg", "iframe", "object"}
    )
    _VOID = frozenset(
        {
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        }
    )
    _BLOCKS = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "pre",
            "table",
            "ul",
            "ol",
            "hr",
            "section",
            "article",
            "header",
            "footer",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, hidden) of the elements now open

    def _hidden(self) -> bool:
        return any(hidden for _, hidden in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS and not self._hidden():
            self._parts.append("\n")
        if tag in self._VOID:
            return
        style = "".join((value or "") for name, value in attrs if name == "style").lower()
        hidden = (
            tag in self._SKIPPED
            or any(name == "hidden" for name, _ in attrs)
            or bool(re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", style))
        )
        self._open.append((tag, hidden))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS and not self._hidden():
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching element: unclosed <p>s and <li>s are common in mail.
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break
        if tag in self._BLOCKS and not self._hidden():
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self._parts.append(data)

    def text(self) -> str:
        joined = "".join(self._parts)
        lines = (" ".join(line.split()) for line in joined.split("\n"))
        return "\n".join(lines)
