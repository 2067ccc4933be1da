"""The quarantine: an incoming message or row that cannot be taken is kept here with its reason
and its content as it came, counted, and the intake moves past it — one bad message never holds
up the good ones behind it, nor another tenant's.

Every intake path (the support mailbox, the Syncro poller, export imports, ``tickets add``)
calls ``hold`` in the transaction that moves its cursor past the item, so an item is taken or
held, never dropped. A failure that is not the item's fault — the outside system or the database
unreachable (``transient``) — is not quarantined: the read stops there and the next one tries
again. A person sees what is held with ``deskhand intake quarantine`` and on the Intake page,
takes an item again after a fix (``deskhand.intake.retake``) or dismisses it once handled by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from deskhand.connectors.errors import ConnectorError
from deskhand.domain import text
from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import Quarantined, now

log = logging.getLogger("deskhand.intake")

MAX_CONTENT = 256 * 1024  # bytes kept of what came: a whole ordinary e-mail, not big attachments
HELD, TAKEN, DISMISSED = "held", "taken", "dismissed"
ALL = "*"  # the tenant scope of someone who sees every tenant


@dataclass(frozen=True)
class HeldItem:
    """A quarantined item as a list shows it."""

    id: int
    tenant_id: str
    source: str
    reference: str
    reason: str
    status: str
    size: int
    kept: int  # bytes of the content kept: less than ``size`` when it was cut short
    created_at: datetime
    ticket_id: int | None
    resolved_by: str | None
    resolved_at: datetime | None


def transient(error: BaseException) -> bool:
    """The outside system or the database failing: not the item's fault, so it must not be
    quarantined; the read stops and the next one tries again."""
    return isinstance(error, ConnectorError | OperationalError | InterfaceError)


def reason_for(error: BaseException) -> str:
    """Why an item could not be taken, in words a technician can act on."""
    if isinstance(error, DeskhandError):
        return error.message
    if isinstance(error, UnicodeError):
        return f"its text has characters the database cannot store ({error})"
    if isinstance(error, DBAPIError):
        said = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
        return f"the database refused it: {said or type(error.orig).__name__}"
    return (
        f"deskhand failed ({type(error).__name__}: {error}); this is a bug in deskhand — please "
        "report it, with the log"
    )


def hold(
    session: Session,
    tenant_id: str,
    source: str,
    reference: str,
    why: BaseException | str,
    content: bytes,
) -> Quarantined:
    """Keep ``content`` (its first ``MAX_CONTENT`` bytes) with the reason, in the caller's
    transaction; logged, never silent. An item held already under the same reference (a PSA
    ticket listed again, a file imported again) is kept once, with the newest reason."""
    reason = text.clean(why if isinstance(why, str) else reason_for(why))[:2000]
    reference = text.line(reference)[:500]
    item = session.scalar(
        select(Quarantined).where(
            Quarantined.tenant_id == tenant_id,
            Quarantined.source == source,
            Quarantined.reference == reference,
            Quarantined.status == HELD,
        )
    )
    if item is None:
        item = Quarantined(tenant_id=tenant_id, source=source, reference=reference, status=HELD)
        session.add(item)
    item.reason, item.content, item.size = reason, content[:MAX_CONTENT], len(content)
    session.flush()
    log.warning(
        "tenant %s: %s %s quarantined as #%s: %s",
        *(tenant_id, source, item.reference, item.id, reason),
    )
    return item


def listing(
    session: Session, tenants: Collection[str], *, everything: bool = False, limit: int = 500
) -> list[HeldItem]:
    """The items of these tenants (``ALL``: every tenant), newest first: those held, or with
    ``everything`` also those taken again or dismissed."""
    query = select(Quarantined).order_by(Quarantined.id.desc()).limit(limit)
    if ALL not in tenants:
        query = query.where(Quarantined.tenant_id.in_(tenants))
    if not everything:
        query = query.where(Quarantined.status == HELD)
    return [view(item) for item in session.scalars(query)]


def held_count(session: Session, tenants: Collection[str]) -> int:
    """How many items of these tenants wait for a person."""
    query = select(func.count()).select_from(Quarantined).where(Quarantined.status == HELD)
    if ALL not in tenants:
        query = query.where(Quarantined.tenant_id.in_(tenants))
    return int(session.scalar(query) or 0)


def get(session: Session, item_id: int, tenants: Collection[str]) -> Quarantined | None:
    """The item, if these tenants include its own; None otherwise — the same answer as for an
    item that does not exist."""
    item = session.get(Quarantined, item_id)
    if item is None or (ALL not in tenants and item.tenant_id not in tenants):
        return None
    return item


def readable(item: Quarantined) -> str:
    """The content as text to read (decoded and cleaned; the bytes themselves stay as they came)."""
    shown = text.decode(item.content)
    if cut(item):
        shown += f"\n… ({item.size - len(item.content):,} more bytes not kept)"
    return shown


def cut(item: Quarantined) -> bool:
    """Whether only the start of the content was kept."""
    return item.size > len(item.content)


def dismiss(item: Quarantined, by: str) -> None:
    """A person handled the item by hand: it is no longer counted as waiting."""
    _resolve(item, DISMISSED, by)


def mark_taken(item: Quarantined, ticket_id: int | None, by: str) -> None:
    """The item was taken after all (``deskhand.intake.retake``)."""
    _resolve(item, TAKEN, by)
    item.ticket_id = ticket_id


def _resolve(item: Quarantined, status: str, by: str) -> None:
    if item.status != HELD:
        raise InputError(
            f"Quarantined item {item.id} is {item.status} already.",
            hint="Only a held item can be taken again or dismissed.",
        )
    item.status = status
    item.resolved_by = by
    item.resolved_at = now()


def view(item: Quarantined) -> HeldItem:
    """The item as a list shows it."""
    return HeldItem(
        id=item.id,
        tenant_id=item.tenant_id,
        source=item.source,
        reference=item.reference,
        reason=item.reason,
        status=item.status,
        size=item.size,
        kept=len(item.content),
        created_at=item.created_at,
        ticket_id=item.ticket_id,
        resolved_by=item.resolved_by,
        resolved_at=item.resolved_at,
    )
