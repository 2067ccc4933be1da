"""Reading each tenant's support mailbox (``intake: imap:`` in its connection file) into tickets,
on the worker's schedule or with ``deskhand intake poll``, resuming where the last read stopped.

Where a tenant's read has got to is its ``intake_cursors`` row (source "imap"): the folder's
UIDVALIDITY and the last UID handled. Each message is stored and the cursor moved past it in
one transaction, under a lock on the cursor row, so a crash repeats at most one message and two
pollers never store the same one. A message is a ticket once: its Message-ID (or, without one,
a digest of the message) is the ticket's ``psa_ticket_id``, so a folder whose UIDVALIDITY
changed is read again from the start without making a ticket twice. Its origin is the mailbox
(``TicketOrigin.MAILBOX``): no PSA holds it, and its notes are kept in deskhand.

A message that answers a ticket — its In-Reply-To or References name the ticket's own message
or a reply deskhand sent, or its subject carries the ticket's ``[#number]`` as deskhand's SMTP
replies write it — goes to ``receive_reply`` when that ticket waits on its requester, and never
becomes a new ticket. Auto-replies and bounces are skipped and counted. Messages deskhand took
are flagged \\Seen (and moved, if the settings say where); the rest stay as they were, for a
person to read. A mailbox's first read takes only the mail of the last day or so (as the Syncro
poller does), not its whole history.

A message that cannot be taken — unreadable, or refused even with its text cleaned — is
quarantined with its reason and raw bytes, in the transaction that moves the cursor past it
(``deskhand.intake.quarantine``); it stays unread in the mailbox too. Whatever goes wrong with
one tenant's mailbox is reported for that tenant, and the next tenant's is read all the same.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.mail.imap import BATCH, ImapMailbox, IncomingMail
from deskhand.connectors.psa import Psa
from deskhand.domain.origin import TicketOrigin
from deskhand.engine.kept_notes import KEPT_PREFIX
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.intake import quarantine
from deskhand.intake.answers import receive_reply
from deskhand.intake.arrival import Arrival, receive
from deskhand.intake.psa_poller import FIRST_LOOKBACK, PollReport, ReplyReceiver
from deskhand.store.models import IntakeCursor, Run, Tenant, Ticket, now

log = logging.getLogger("deskhand.intake")

SOURCE = "imap"
KEY_PREFIX = "imap:"
AUTOMATED = "an auto-reply or bounce"
NO_SENDER = "no sender address in From"
# Matches SmtpMailer's subject "Re: … [#1042]" (a PSA's number) or "[#DH-42]" (a ticket no PSA
# holds: deskhand's own number), and its Message-ID "<deskhand.dh-<run>-<step>.…>".
_NUMBER = re.compile(r"\[#((?:DH-)?\d+)\]")
_OUR_MESSAGE = re.compile(r"^<deskhand\.dh-(\d+)-\d+\.")
# Where a mail client starts quoting the message answered: the answer is what comes before.
_QUOTE_START = re.compile(
    r"^(On .{1,200} wrote:|-{2,} ?Original Message ?-{2,}|_{10,}|From: .+)$", re.MULTILINE
)


def poll_mailboxes(
    rt: Runtime, tenant_id: str | None = None, *, on_reply: ReplyReceiver | None = None
) -> list[PollReport]:
    """Read every tenant's support mailbox (or one tenant's); one report per tenant that has
    one."""
    with rt.db.reading() as session:
        query = select(Tenant).order_by(Tenant.id)
        if tenant_id is not None:
            query = query.where(Tenant.id == tenant_id)
        tenants = list(session.scalars(query))
    reports = []
    for tenant in tenants:
        report = PollReport(tenant.id, source=SOURCE)
        try:
            connectors = rt.connectors(tenant)
        except DeskhandError:  # a broken connection file: the PSA's poll reports it
            continue
        if connectors.mailbox is None:
            continue
        try:
            _read_tenant(rt, tenant.id, connectors.mailbox, connectors.psa, report, on_reply)
        except ConnectorError as error:
            report.error = str(error)
            log.warning("mailbox intake of tenant %s stopped: %s", tenant.id, error)
        except Exception as error:  # one tenant's failure never stops another's
            report.error = f"the read stopped: {quarantine.reason_for(error)}"
            log.exception("mailbox intake of tenant %s stopped", tenant.id)
        reports.append(report)
    return reports


def mail_key(identity: str) -> str:
    """The ``psa_ticket_id`` of the ticket made from the message with this Message-ID (or
    digest); a long one is hashed to fit the column."""
    key = KEY_PREFIX + identity
    if len(key) <= 64:
        return key
    return f"{KEY_PREFIX}#{hashlib.sha256(identity.encode()).hexdigest()[:58]}"


def _read_tenant(
    rt: Runtime,
    tenant_id: str,
    mailbox: ImapMailbox,
    psa: Psa,
    report: PollReport,
    on_reply: ReplyReceiver | None,
) -> None:
    position = _position(rt, tenant_id)
    numbers: dict[str, int] | None = None  # PSA number → waiting ticket, looked up when needed
    while True:
        fetched = mailbox.fetch_new(
            position["last_uid"], position["uidvalidity"], restart_since=_restart_since()
        )
        report.pages += 1
        taken: list[int] = []
        for mail in fetched.mails:
            moved = {"uidvalidity": fetched.uidvalidity, "last_uid": mail.uid}
            said = _NUMBER.search(mail.subject)
            if said and not said.group(1).startswith(KEPT_PREFIX) and numbers is None:
                numbers = _waiting_numbers(rt, tenant_id, psa)
            took = _take_or_hold(rt, tenant_id, position, moved, mail, numbers, report, on_reply)
            if took is None:
                report.error = "another poller is reading this mailbox; this one stopped"
                mailbox.mark_processed(taken)
                return
            position = moved
            if took:
                taken.append(mail.uid)
        mailbox.mark_processed(taken)
        if len(fetched.mails) < BATCH:
            return


def _take_or_hold(
    rt: Runtime,
    tenant_id: str,
    position: dict[str, Any],
    moved: dict[str, Any],
    mail: IncomingMail,
    numbers: dict[str, int] | None,
    report: PollReport,
    on_reply: ReplyReceiver | None,
) -> bool | None:
    """``_take`` the message, or quarantine it when it cannot be taken (``_hold``)."""
    if mail.unreadable:
        return _hold(rt, tenant_id, position, moved, mail, mail.unreadable, report)
    try:
        return _take(rt, tenant_id, position, moved, mail, numbers or {}, report, on_reply)
    except Exception as error:  # whatever this one message breaks, the rest go on
        if quarantine.transient(error):
            raise
        return _hold(rt, tenant_id, position, moved, mail, error, report)


def _take(
    rt: Runtime,
    tenant_id: str,
    position: dict[str, Any],
    moved: dict[str, Any],
    mail: IncomingMail,
    numbers: dict[str, int],
    report: PollReport,
    on_reply: ReplyReceiver | None,
) -> bool | None:
    """Handle one message and move the cursor past it: True when deskhand took it (a ticket,
    an answer, or one it has already), False when it was skipped, None when another poller
    moved the cursor first."""
    label = _label(mail)
    if mail.automated:
        skipped: tuple[str, str] | None = (f"{label} ({mail.automated})", AUTOMATED)
    elif not mail.from_address:
        skipped = (label, NO_SENDER)
    else:
        skipped = None
    answered = _answered_ticket(rt, tenant_id, mail, numbers) if skipped is None else None
    if answered is not None:
        ticket_id, status = answered
        if status != "waiting_on_requester":
            skipped = (label, f"answers ticket {ticket_id}, which is {status}: not taken")
        else:
            try:
                (on_reply or receive_reply)(rt, ticket_id, mail.from_address, _answer(mail))
            except DeskhandError as error:  # e.g. another poller handed it on a moment ago
                skipped = (label, f"the answer to ticket {ticket_id} was not taken: {error}")
    with rt.db.session() as session:
        if not _advance(session, tenant_id, position, moved):
            return None
        if skipped is not None:
            report.skipped.append(skipped)
            return False
        if answered is not None:
            report.updated.append(f"ticket {answered[0]}: {label}")
            return True
        key = arrival(mail).psa_ticket_id
        known = session.scalar(
            select(Ticket.id).where(Ticket.tenant_id == tenant_id, Ticket.psa_ticket_id == key)
        )
        if known is not None:
            report.skipped.append((label, "already in deskhand"))
            return True
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        ticket, _ = receive(session, tenant, arrival(mail))
        report.new.append(f"ticket {ticket.id}: {label}")
    return True


def arrival(mail: IncomingMail) -> Arrival:
    """The ticket a new request by e-mail becomes."""
    return Arrival(
        requester_email=mail.from_address,
        psa_ticket_id=mail_key(mail.message_id or f"sha256:{mail.digest}"),
        subject=mail.subject or "(no subject)",
        body=_ticket_body(mail),
        origin=TicketOrigin.MAILBOX,
        display_name=mail.from_name,
        message_id=mail.message_id,
    )


def _hold(
    rt: Runtime,
    tenant_id: str,
    position: dict[str, Any],
    moved: dict[str, Any],
    mail: IncomingMail,
    why: BaseException | str,
    report: PollReport,
) -> bool | None:
    """Quarantine the message and move the cursor past it, together: False (not taken: it stays
    unread in the mailbox), or None when another poller moved the cursor first."""
    reference = f"UID {mail.uid} (UIDVALIDITY {moved['uidvalidity']})"
    if not mail.unreadable:
        reference += f": {_label(mail)}"
    with rt.db.session() as session:
        if not _advance(session, tenant_id, position, moved):
            return None
        item = quarantine.hold(session, tenant_id, SOURCE, reference, why, mail.raw)
        report.quarantined.append((f"#{item.id} {item.reference}", item.reason))
    return False


def _advance(
    session: Session, tenant_id: str, position: dict[str, Any], moved: dict[str, Any]
) -> bool:
    cursor = session.get(IntakeCursor, (tenant_id, SOURCE), with_for_update=True)
    if cursor is None or cursor.position != position:
        return False
    cursor.position = moved
    cursor.updated_at = now()
    return True


def _position(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    """The tenant's cursor, created on its first read (no UIDVALIDITY yet: the folder's recent
    mail is read then)."""
    with rt.db.reading() as session:
        cursor = session.get(IntakeCursor, (tenant_id, SOURCE))
        if cursor is not None:
            return dict(cursor.position)
    start: dict[str, Any] = {"uidvalidity": None, "last_uid": 0}
    try:
        with rt.db.session() as session:
            session.add(IntakeCursor(tenant_id=tenant_id, source=SOURCE, position=start))
    except IntegrityError:  # another poller created it just now
        return _position(rt, tenant_id)
    return start


def _restart_since() -> date:
    """A first read, or one from the start after a UIDVALIDITY change, takes only recent mail:
    a support mailbox's years of history must not become tickets."""
    return (datetime.now(UTC) - FIRST_LOOKBACK).date()


def _answered_ticket(
    rt: Runtime, tenant_id: str, mail: IncomingMail, numbers: dict[str, int]
) -> tuple[int, str] | None:
    """The tenant's ticket this message answers, with its status; None for a new request."""
    named = [mail.in_reply_to, *mail.references]
    keys = [mail_key(ident) for ident in named if ident]
    runs = [int(m.group(1)) for ident in named if ident and (m := _OUR_MESSAGE.match(ident))]
    number = _NUMBER.search(mail.subject)
    with rt.db.reading() as session:
        found: int | None = None
        if keys:
            found = session.scalar(
                select(Ticket.id).where(
                    Ticket.tenant_id == tenant_id, Ticket.psa_ticket_id.in_(keys)
                )
            )
        if found is None and runs:
            found = session.scalar(
                select(Run.ticket_id).where(Run.tenant_id == tenant_id, Run.id.in_(runs))
            )
        if found is None and number is not None and number.group(1).startswith(KEPT_PREFIX):
            found = session.scalar(
                select(Ticket.id).where(
                    Ticket.tenant_id == tenant_id,
                    Ticket.id == int(number.group(1).removeprefix(KEPT_PREFIX)),
                )
            )
        elif found is None and number is not None:
            found = numbers.get(number.group(1))
        if found is None:
            return None
        ticket = session.get(Ticket, found)
        assert ticket is not None
        return ticket.id, ticket.status


def _waiting_numbers(rt: Runtime, tenant_id: str, psa: Psa) -> dict[str, int]:
    """PSA ticket number → deskhand ticket, for the tenant's tickets of its PSA (the others
    have no PSA number) waiting on an answer."""
    with rt.db.reading() as session:
        rows = session.execute(
            select(Ticket.id, Ticket.psa_ticket_id).where(
                Ticket.tenant_id == tenant_id,
                Ticket.status == "waiting_on_requester",
                Ticket.origin == TicketOrigin.PSA.value,
            )
        ).all()
    numbers = {}
    for ticket_id, psa_ticket_id in rows:
        try:
            numbers[psa.get_ticket(psa_ticket_id).number] = ticket_id
        except ConnectorError as error:  # that ticket cannot be matched by number this time
            log.warning("tenant %s: PSA ticket %s: %s", tenant_id, psa_ticket_id, error)
    return numbers


def _answer(mail: IncomingMail) -> str:
    """The new text of a reply: quoted lines and the quoted message below it left out."""
    start = _QUOTE_START.search(mail.body)
    text = mail.body[: start.start()] if start else mail.body
    kept = "\n".join(line for line in text.split("\n") if not line.startswith(">")).strip()
    return kept or mail.body or "(the reply had no text)"


def _ticket_body(mail: IncomingMail) -> str:
    body = mail.body or "(the message had no text)"
    if mail.attachments:
        body += (
            f"\n\n(The e-mail had {mail.attachments} attachment(s); deskhand does not import "
            "attachments. They are in the support mailbox.)"
        )
    return body


def _label(mail: IncomingMail) -> str:
    subject = mail.subject if len(mail.subject) <= 60 else mail.subject[:59] + "…"
    return f"{subject!r} from {mail.from_address or 'nobody'}"
