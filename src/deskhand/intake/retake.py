"""Taking a quarantined item again, after a fix (a new deskhand, a contact's address corrected in
the PSA): the same way in as when it came, ``deskhand.intake.arrival.receive``.

A mailed message is read again from its raw bytes and becomes a ticket (an answer it carried is
then a ticket of its own: give it to the waiting ticket with ``deskhand tickets reply`` instead);
a PSA ticket, an imported row or a ticket added by hand is stored from the fields kept; a Syncro
answer is handed to ``receive_reply``. An item that still cannot be taken stays held, with the
new reason. One that is in deskhand already is marked taken with that ticket.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from deskhand.connectors.mail.imap import read_message
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.intake import quarantine
from deskhand.intake.answers import receive_reply
from deskhand.intake.arrival import Arrival, receive
from deskhand.intake.mailbox import arrival as mail_arrival
from deskhand.store.models import Quarantined, Tenant, Ticket


@dataclass(frozen=True)
class Retaken:
    """What became of the item: ``taken`` as a new ticket, ``known`` (the ticket was in deskhand
    already), ``answered`` (a Syncro answer given to its ticket), or ``held`` still."""

    item_id: int
    outcome: str
    ticket_id: int | None = None
    reason: str | None = None  # why it is still held


def retake(rt: Runtime, item_id: int, tenants: Collection[str], by: str) -> Retaken:
    """Take the held item ``item_id`` (one of ``tenants``') again, as ``by``."""
    with rt.db.reading() as session:
        item = _held(session.get(Quarantined, item_id), item_id, tenants)
        tenant_id, source, content = item.tenant_id, item.source, item.content
    try:
        fields = _fields(source, content)
        if "answer" in fields:
            reply = receive_reply(rt, fields["ticket_id"], fields["from"], fields["answer"])
            ticket_id, outcome = reply.ticket_id, "answered"
        else:
            ticket_id, outcome = _store(rt, tenant_id, Arrival.from_content(fields))
    except Exception as error:
        if quarantine.transient(error):
            raise
        reason = quarantine.reason_for(error)
        with rt.db.session() as session:
            _held(session.get(Quarantined, item_id), item_id, tenants).reason = reason
        return Retaken(item_id, "held", reason=reason)
    with rt.db.session() as session:  # a crash before this finds the ticket "known" next time
        quarantine.mark_taken(
            _held(session.get(Quarantined, item_id), item_id, tenants), ticket_id, by
        )
    return Retaken(item_id, outcome, ticket_id)


def _store(rt: Runtime, tenant_id: str, arrival: Arrival) -> tuple[int, str]:
    with rt.db.session() as session:
        known = session.scalar(
            select(Ticket.id).where(
                Ticket.tenant_id == tenant_id, Ticket.psa_ticket_id == arrival.psa_ticket_id
            )
        )
        if known is not None:
            return known, "known"
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        ticket, _ = receive(session, tenant, arrival)
        return ticket.id, "taken"


def _fields(source: str, content: bytes) -> dict[str, Any]:
    """The item's content as ``Arrival`` fields (or a Syncro answer's); InputError when it was
    cut short or is not what its source keeps."""
    if source == "imap":
        mail = read_message(0, content)
        if mail.unreadable:
            raise InputError(mail.unreadable)
        if not mail.from_address:
            raise InputError("the message names no sender address")
        return dataclasses.asdict(mail_arrival(mail))
    try:
        fields = json.loads(content)
    except ValueError:
        raise InputError("the kept content is not the JSON deskhand writes") from None
    if not isinstance(fields, dict):
        raise InputError("the kept content is not the JSON deskhand writes")
    return fields


def _held(item: Quarantined | None, item_id: int, tenants: Collection[str]) -> Quarantined:
    if item is None or (quarantine.ALL not in tenants and item.tenant_id not in tenants):
        raise InputError(
            f"There is no quarantined item {item_id}.",
            hint="`deskhand intake quarantine list` shows them.",
        )
    if item.status != quarantine.HELD:
        raise InputError(
            f"Quarantined item {item_id} is {item.status} already.",
            hint="Only a held item can be taken again or dismissed.",
        )
    if quarantine.cut(item):
        raise InputError(
            f"Only the first {len(item.content):,} of the item's {item.size:,} bytes were kept, "
            "so it cannot be taken again from here.",
            hint="Take it from where it came (the mailbox, the PSA, the export) by hand, then "
            f"`deskhand intake quarantine dismiss {item_id}`.",
        )
    return item
