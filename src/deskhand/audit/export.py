"""Exporting the event log as JSON Lines, for auditors and for keeping outside deskhand.

Each line carries every field the hash covers, spelt as the hash spells it, so the exported
chain can be re-verified without deskhand's database.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from deskhand.store.models import EventRecord

# Rows fetched per round trip: memory stays flat however long the log is.
BATCH_SIZE = 2000


def export_jsonl(
    session: Session,
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant_ids: Collection[str] | None,
) -> int:
    """Write the events from ``since`` (inclusive) to ``until`` (exclusive), both timezone-aware,
    as one JSON object a line, in id order, and return how many were written. ``tenant_ids``
    limits the export to those tenants' events (events of no tenant are left out); None, which
    must be passed explicitly, exports every event.
    """
    query = select(*EventRecord.__table__.columns).order_by(EventRecord.id)
    if since is not None:
        query = query.where(EventRecord.at >= since)
    if until is not None:
        query = query.where(EventRecord.at < until)
    if tenant_ids is not None:
        query = query.where(EventRecord.tenant_id.in_(tenant_ids))
    count = 0
    for row in session.execute(query.execution_options(yield_per=BATCH_SIZE)):
        out.write(json.dumps(event_line(row._mapping), ensure_ascii=False) + "\n")
        count += 1
    return count


def event_line(event: RowMapping) -> dict[str, Any]:
    """One event as a line of the JSONL export (the CLI's and the web app's)."""
    return {
        "id": event["id"],
        # The spelling event_hash uses, so that the line can be re-hashed as it stands.
        "at": event["at"].isoformat(timespec="microseconds"),
        "type": event["type"],
        "actor": {"kind": event["actor_kind"], "name": event["actor"]},
        "tenant_id": event["tenant_id"],
        "ticket_id": event["ticket_id"],
        "run_id": event["run_id"],
        "step_id": event["step_id"],
        "data": event["data"],
        "prev_hash": event["prev_hash"],
        "hash": event["hash"],
    }
