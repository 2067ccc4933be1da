"""Appending to the event log: the one place events are written.

Each event stores the hash of the one before it, so that editing or deleting any event breaks
the chain from there on (``deskhand audit verify`` finds where). Appends from any number of
workers are serialised by locking the single chain-head row inside the caller's transaction,
so the chain follows event ids exactly.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.domain.events import SYSTEM, Actor, Event
from deskhand.store.models import ChainHead, EventRecord, now

GENESIS_HASH = "0" * 64
_HEAD = "deskhand.chain_head"  # the locked head, kept in the session for its transaction


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(record: EventRecord, prev_hash: str) -> str:
    """SHA-256 over the previous hash and every field of the event."""
    body = canonical_json(
        {
            "id": record.id,
            "at": _iso(record.at),
            "type": record.type,
            "actor_kind": record.actor_kind,
            "actor": record.actor,
            "tenant_id": record.tenant_id,
            "ticket_id": record.ticket_id,
            "run_id": record.run_id,
            "step_id": record.step_id,
            "data": record.data,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append(
    session: Session,
    event: Event,
    *,
    actor: Actor = SYSTEM,
    tenant_id: str | None = None,
    ticket_id: int | None = None,
    run_id: int | None = None,
    step_id: int | None = None,
) -> EventRecord:
    """Write ``event`` in the caller's transaction, chained to the newest event.

    The first append of a transaction locks the chain head; while it is held no one else can
    append, so the next id is simply the head's plus one and the transaction's events are
    written together when it commits.
    """
    head: ChainHead | None = session.info.get(_HEAD)
    if head is None:
        head = session.execute(
            select(ChainHead).where(ChainHead.id == 1).with_for_update()
        ).scalar_one()
        session.info[_HEAD] = head
    record = EventRecord(
        id=head.last_event_id + 1,
        at=now(),
        type=event.TYPE,
        actor_kind=actor.kind.value,
        actor=actor.name,
        tenant_id=tenant_id,
        ticket_id=ticket_id,
        run_id=run_id,
        step_id=step_id,
        data=json.loads(canonical_json(event.data())),  # exactly what will be read back
        prev_hash=head.last_hash,
        hash="",
    )
    record.hash = event_hash(record, head.last_hash)
    session.add(record)
    head.last_hash = record.hash
    head.last_event_id = record.id
    return record


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")
