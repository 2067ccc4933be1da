"""Finding events in the log: one set of filters for the Audit page, its JSONL export and the
API's ``/events``, so that the same question always finds the same events.

A reader scoped to some tenants sees only those tenants' events; events of no tenant (the
system's own) are seen only by readers of every tenant.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from deskhand.audit.export import event_line as export_line
from deskhand.errors import InputError
from deskhand.store.models import EventRecord

Ts = TypeVarTuple("Ts")

# Rows fetched per round trip while exporting: memory stays flat however long the log is.
BATCH_SIZE = 2000


@dataclass(frozen=True)
class EventSearch:
    """Which events to find; every field given narrows the search, None leaves it open."""

    ticket_id: int | None = None
    tenant: str | None = None
    actor: str | None = None  # the actor's name exactly: "dana@msp.example", "deskhand"
    type: str | None = None  # an event type: "draft.approved"
    since: datetime | None = None  # inclusive; timezone-aware
    until: datetime | None = None  # exclusive; timezone-aware
    scope: Collection[str] | None = None  # the reader's tenants; None: every tenant and none

    def __post_init__(self) -> None:
        if any(b is not None and b.tzinfo is None for b in (self.since, self.until)):
            raise InputError("Give since and until with a time zone (…Z or +00:00).")

    def where(self, query: Select[*Ts]) -> Select[*Ts]:
        """``query`` (over the events table) narrowed to the events this search finds."""
        if self.scope is not None:
            query = query.where(EventRecord.tenant_id.in_(list(self.scope)))
        if self.ticket_id is not None:
            query = query.where(EventRecord.ticket_id == self.ticket_id)
        if self.tenant:
            query = query.where(EventRecord.tenant_id == self.tenant)
        if self.actor:
            query = query.where(EventRecord.actor == self.actor)
        if self.type:
            query = query.where(EventRecord.type == self.type)
        if self.since is not None:
            query = query.where(EventRecord.at >= self.since)
        if self.until is not None:
            query = query.where(EventRecord.at < self.until)
        return query


def newest_first(
    session: Session, search: EventSearch, *, before_id: int | None, limit: int
) -> list[EventRecord]:
    """Up to ``limit`` matching events, newest first, all older than ``before_id`` if given:
    keyset paging, as fast on the last page of a million events as on the first."""
    query = select(EventRecord).order_by(EventRecord.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(EventRecord.id < before_id)
    return list(session.scalars(search.where(query)))


def oldest_first(
    session: Session, search: EventSearch, *, after_id: int, limit: int
) -> list[EventRecord]:
    """Up to ``limit`` matching events after ``after_id``, oldest first (the API's paging)."""
    query = (
        select(EventRecord).where(EventRecord.id > after_id).order_by(EventRecord.id).limit(limit)
    )
    return list(session.scalars(search.where(query)))


def jsonl_lines(session: Session, search: EventSearch) -> Iterator[str]:
    """Every matching event in id order as one line of JSON each, spelt as ``deskhand audit
    export`` spells it, so that an export from the page re-verifies the same way."""
    query = search.where(select(*EventRecord.__table__.columns).order_by(EventRecord.id))
    for row in session.execute(query.execution_options(yield_per=BATCH_SIZE)):
        yield json.dumps(export_line(row._mapping), ensure_ascii=False) + "\n"
