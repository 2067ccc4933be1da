"""Reading each tenant's new tickets from Syncro, on a schedule (the worker) or on demand
(``deskhand intake poll``), and resuming where the last read stopped.

Where a tenant's read has got to is its ``intake_cursors`` row: the time from which tickets are
listed and the last page whose tickets are stored. A page's new tickets and the cursor's move
past it commit in one transaction, under a lock on the cursor row, so a crash mid-way repeats
at most that page, two pollers never store the same ticket, and a PSA ticket already in
deskhand (tenant and PSA ticket id are unique) is never stored again.

Which tickets become deskhand tickets: those in status "New" — nobody at the MSP has picked
them up yet. A ticket deskhand is waiting on (``waiting_on_requester``) whose requester has
since answered has that answer handed to ``receive_reply``. Syncro's comment does not say
which address sent it: a public comment without a Syncro user (an e-mail or portal reply) is
taken as the ticket contact's.

A ticket (or answer) that cannot be taken even with its text cleaned is quarantined with its
reason, in the transaction that moves the cursor past its page (``deskhand.intake.quarantine``);
the page's other tickets are stored all the same. Whatever goes wrong with one tenant is
reported for that tenant, and the next tenant is read all the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.syncro import SyncroPsa
from deskhand.connectors.syncro.records import ListedTicket, TicketPage
from deskhand.domain.directory import PsaContact
from deskhand.domain.origin import TicketOrigin
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.intake import quarantine
from deskhand.intake.answers import receive_reply
from deskhand.intake.arrival import Arrival, contact_name, receive
from deskhand.store.models import IntakeCursor, Tenant, Ticket, now

log = logging.getLogger("deskhand.intake")

SOURCE = "syncro"
NEW_STATUSES = frozenset({"New"})
NO_ADDRESS = "no requester e-mail: give the ticket a contact with an address in Syncro"
FIRST_LOOKBACK = timedelta(hours=24)  # a tenant's first read starts this far back
# Each full read starts again a second before the newest change it saw: a ticket changed in
# that same second is read twice (and skipped as known) rather than missed.
OVERLAP = timedelta(seconds=1)

# receive_reply(rt, ticket_id, from_address, body): the way in for a requester's answer.
ReplyReceiver = Callable[[Runtime, int, str, str], object]


@dataclass
class PollReport:
    """What one tenant's read found, ticket by ticket."""

    tenant_id: str
    new: list[str] = field(default_factory=list)  # PSA ticket numbers stored as tickets
    updated: list[str] = field(default_factory=list)  # replies handed to the waiting ticket
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (number, why)
    # Kept aside in the quarantine: ("#item reference", why); the read went on past them.
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    pages: int = 0
    error: str | None = None  # the read stopped here; the next one resumes
    source: str = SOURCE  # syncro, or imap for a support mailbox (intake/mailbox.py)


def poll(
    rt: Runtime, tenant_id: str | None = None, *, on_reply: ReplyReceiver | None = None
) -> list[PollReport]:
    """Read every Syncro tenant's changed tickets (or one tenant's); one report per tenant."""
    with rt.db.reading() as session:
        query = select(Tenant).order_by(Tenant.id)
        if tenant_id is not None:
            query = query.where(Tenant.id == tenant_id)
        tenants = list(session.scalars(query))
    reports = []
    for tenant in tenants:
        report = PollReport(tenant.id)
        try:
            psa = rt.connectors(tenant).psa
        except DeskhandError as error:  # a broken connection file stops this tenant only
            report.error = error.message
            reports.append(report)
            continue
        if not isinstance(psa, SyncroPsa):
            continue  # the sandbox and file imports have no PSA to poll
        try:
            _poll_tenant(rt, tenant.id, psa, report, on_reply or receive_reply)
        except ConnectorError as error:
            report.error = str(error)
            log.warning("intake of tenant %s stopped: %s", tenant.id, error)
        except Exception as error:  # one tenant's failure never stops another's
            report.error = f"the read stopped: {quarantine.reason_for(error)}"
            log.exception("intake of tenant %s stopped", tenant.id)
        reports.append(report)
    return reports


def _poll_tenant(
    rt: Runtime,
    tenant_id: str,
    psa: SyncroPsa,
    report: PollReport,
    on_reply: ReplyReceiver,
) -> None:
    position = _position(rt, tenant_id)
    since = datetime.fromisoformat(position["since"])
    contacts: list[PsaContact] | None = None
    for page in psa.pages(since, first_page=position["page"] + 1):
        known = _known(rt, tenant_id, [listed.ticket.id for listed in page.tickets])
        fresh: list[ListedTicket] = []
        for listed in page.tickets:
            number = listed.ticket.number
            status = known.get(listed.ticket.id)
            if status == "waiting_on_requester":
                _hand_on_reply(rt, psa, listed, report, on_reply)
            elif status is not None:
                report.skipped.append((number, "already in deskhand"))
            elif listed.ticket.status not in NEW_STATUSES:
                report.skipped.append(
                    (number, f"status {listed.ticket.status!r}: someone at the MSP has it")
                )
            elif not listed.ticket.contact_email:
                report.skipped.append((number, NO_ADDRESS))
            else:
                fresh.append(listed)
        if fresh and contacts is None:
            contacts = psa.contacts()
        moved = _store_page(rt, tenant_id, position, page, fresh, contacts or [], report)
        report.pages += 1
        if moved is None:
            report.error = "another poller is reading this tenant; this one stopped"
            return
        position = moved


def _position(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    """The tenant's cursor, created on its first read."""
    with rt.db.reading() as session:
        cursor = session.get(IntakeCursor, (tenant_id, SOURCE))
        if cursor is not None:
            return dict(cursor.position)
    start = {"since": (_utc_now() - FIRST_LOOKBACK).isoformat(), "page": 0}
    try:
        with rt.db.session() as session:
            session.add(IntakeCursor(tenant_id=tenant_id, source=SOURCE, position=start))
    except IntegrityError:  # another poller created it just now
        return _position(rt, tenant_id)
    return start


def _known(rt: Runtime, tenant_id: str, psa_ticket_ids: list[str]) -> dict[str, str]:
    """PSA ticket id → deskhand ticket status, for those already stored."""
    with rt.db.reading() as session:
        rows = session.execute(
            select(Ticket.psa_ticket_id, Ticket.status).where(
                Ticket.tenant_id == tenant_id, Ticket.psa_ticket_id.in_(psa_ticket_ids)
            )
        )
        return {psa_id: status for psa_id, status in rows}


def _store_page(
    rt: Runtime,
    tenant_id: str,
    position: dict[str, Any],
    page: TicketPage,
    fresh: list[ListedTicket],
    contacts: list[PsaContact],
    report: PollReport,
) -> dict[str, Any] | None:
    """Store the page's new tickets and move the cursor past it, together; None when another
    poller moved the cursor first (nothing is stored then)."""
    with rt.db.session() as session:
        cursor = session.get(IntakeCursor, (tenant_id, SOURCE), with_for_update=True)
        if cursor is None or cursor.position != position:
            return None
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        stored = []
        held: list[tuple[str, str]] = []
        for listed in fresh:
            ticket = listed.ticket
            already = session.scalar(
                select(Ticket.id).where(
                    Ticket.tenant_id == tenant_id, Ticket.psa_ticket_id == ticket.id
                )
            )
            if already is not None:
                report.skipped.append((ticket.number, "already in deskhand"))
                continue
            arrival = Arrival(
                requester_email=ticket.contact_email,
                psa_ticket_id=ticket.id,
                subject=ticket.subject,
                body=ticket.body,
                origin=TicketOrigin.PSA,
                # The contact's name, as intake takes it: identity compares it with the directory.
                display_name=contact_name(contacts, ticket.contact_email),
            )
            try:
                with session.begin_nested():  # a ticket that fails takes nothing else with it
                    receive(session, tenant, arrival)
            except Exception as error:
                if quarantine.transient(error):
                    raise
                reference = f"ticket #{ticket.number} (id {ticket.id})"
                item = quarantine.hold(
                    session, tenant_id, SOURCE, reference, error, arrival.content()
                )
                held.append((f"#{item.id} {item.reference}", item.reason))
                continue
            stored.append(ticket.number)
        newest = max(
            [datetime.fromisoformat(position.get("newest") or position["since"])]
            + [listed.updated_at for listed in page.tickets]
        )
        if page.page >= page.total_pages:
            moved = {"since": (newest - OVERLAP).isoformat(), "page": 0}
        else:
            moved = {"since": position["since"], "page": page.page, "newest": newest.isoformat()}
        cursor.position = moved
        cursor.updated_at = now()
    report.new.extend(stored)
    report.quarantined.extend(held)
    return moved


def _hand_on_reply(
    rt: Runtime,
    psa: SyncroPsa,
    listed: ListedTicket,
    report: PollReport,
    on_reply: ReplyReceiver,
) -> None:
    """The requester's public comments after the MSP's last public one are their answer."""
    number = listed.ticket.number
    detail = psa.ticket_detail(listed.ticket.id)
    answer: list[str] = []
    for entry in detail.comments[1:]:  # the first is the request itself
        if entry.comment.hidden:
            continue
        answer = [] if entry.by_staff else [*answer, entry.comment.body]
    if not answer:
        report.skipped.append((number, "waiting on the requester, who has not answered yet"))
        return
    with rt.db.reading() as session:
        ticket_id = session.scalar(
            select(Ticket.id).where(
                Ticket.tenant_id == psa.tenant_id, Ticket.psa_ticket_id == listed.ticket.id
            )
        )
    assert ticket_id is not None
    text = "\n\n".join(answer)
    try:
        on_reply(rt, ticket_id, detail.ticket.contact_email, text)
    except DeskhandError as error:  # e.g. another poller handed it on a moment ago
        report.skipped.append((number, f"the requester's answer was not taken: {error.message}"))
        return
    except Exception as error:  # an answer that breaks intake is kept aside, not retried forever
        if quarantine.transient(error):
            raise
        content = {"ticket_id": ticket_id, "from": detail.ticket.contact_email, "answer": text}
        with rt.db.session() as session:
            item = quarantine.hold(
                session,
                psa.tenant_id,
                SOURCE,
                f"answer on ticket #{number} (id {listed.ticket.id})",
                error,
                json.dumps(content, indent=2).encode(),
            )
        report.quarantined.append((f"#{item.id} {item.reference}", item.reason))
        return
    report.updated.append(number)


def _utc_now() -> datetime:
    return datetime.now(UTC)
