"""Checking the event log's hash chain: has any event been edited, removed or reordered?

Every event stores the hash of the one before it (see ``deskhand.audit.log``), and the chain
head row names the newest event. Walking the log in id order and recomputing each hash finds
the first place where the stored log no longer matches what was appended.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from deskhand.audit.log import GENESIS_HASH, event_hash
from deskhand.store.models import ChainHead, EventRecord

# Rows fetched per round trip: the walk holds one batch in memory, never the whole log.
BATCH_SIZE = 2000


@dataclass(frozen=True)
class ChainReport:
    """The verdict on the event log, and where and why it first breaks if it does."""

    ok: bool
    events_checked: int  # events read, up to and including the first bad one
    first_bad_event_id: int | None = None
    problem: str | None = None  # in words, for the person running the check


class _Walk:
    """The walk so far: the last good event and how many events were read."""

    def __init__(self) -> None:
        self.last_id = 0
        self.last_hash = GENESIS_HASH
        self.checked = 0

    def run(self, session: Session) -> ChainReport | None:
        """Check every event after the last one checked; a report if one is bad, else None."""
        records = session.scalars(
            select(EventRecord)
            .where(EventRecord.id > self.last_id)
            .order_by(EventRecord.id)
            # What is stored, even where the session already holds a copy of an event.
            .execution_options(yield_per=BATCH_SIZE, populate_existing=True)
        )
        for record in records:
            self.checked += 1
            problem = (
                self._gap_problem(record)
                or self._link_problem(record)
                or self._content_problem(record)
            )
            if problem:
                records.close()
                return self.broken(record.id, problem)
            self.last_id, self.last_hash = record.id, record.hash
        return None

    def _gap_problem(self, record: EventRecord) -> str | None:
        # Ids are given out by the append itself, one after the other under the head lock: a
        # gap is an event removed, even when the events around it were re-linked.
        if record.id == self.last_id + 1 or record.prev_hash != self.last_hash:
            return None
        return (
            f"event {record.id}: {_missing(self.last_id + 1, record.id - 1)} (an event was removed)"
        )

    def _link_problem(self, record: EventRecord) -> str | None:
        if record.prev_hash == self.last_hash:
            return None
        missing = _missing(self.last_id + 1, record.id - 1)
        if self.last_id == 0:
            if missing:
                return (
                    f"event {record.id}: its previous-hash is not the start of the chain, "
                    f"and {missing} (the oldest events were removed)"
                )
            return f"event {record.id}: its previous-hash is not the start of the chain (edited?)"
        if missing:
            return (
                f"event {record.id}: its previous-hash does not match event {self.last_id}, "
                f"and {missing} (an event was removed)"
            )
        return (
            f"event {record.id}: its previous-hash does not match event {self.last_id} "
            "(an event was removed or reordered)"
        )

    @staticmethod
    def _content_problem(record: EventRecord) -> str | None:
        if event_hash(record, record.prev_hash) == record.hash:
            return None
        return f"event {record.id}: its content does not match its hash (edited?)"

    def broken(self, event_id: int | None, problem: str) -> ChainReport:
        return ChainReport(
            ok=False,
            events_checked=self.checked,
            first_bad_event_id=event_id,
            problem=problem,
        )


def verify(session: Session) -> ChainReport:
    """Walk the whole event log in id order and report the first broken link, if any."""
    walk = _Walk()
    if report := walk.run(session):
        return report
    head = _head(session)
    # On PostgreSQL, workers may append while the walk runs: a head that has moved past the
    # walk is first taken to mean new events, and only if none appear to mean deleted ones.
    while head is not None and head.last_event_id > walk.last_id:
        checked_before = walk.checked
        if report := walk.run(session):
            return report
        if walk.checked == checked_before:
            break
        head = _head(session)
    return _head_report(session, walk, head)


def _head(session: Session) -> Row[int, str] | None:
    # Columns, not the ORM object: the caller's session may hold a stale copy of the head row.
    return session.execute(
        select(ChainHead.last_event_id, ChainHead.last_hash).where(ChainHead.id == 1)
    ).one_or_none()


def _head_report(session: Session, walk: _Walk, head: Row[int, str] | None) -> ChainReport:
    if head is None:
        return walk.broken(None, "the chain head row is missing (it was deleted)")
    if head.last_event_id > walk.last_id:
        ends = f"ends at {walk.last_id}" if walk.last_id else "is empty"
        return walk.broken(
            walk.last_id + 1,
            f"the chain head says the newest event is {head.last_event_id} but the log {ends} "
            "(the newest events were deleted)",
        )
    if head.last_event_id < walk.last_id:
        first_unchained = session.scalar(
            select(func.min(EventRecord.id)).where(EventRecord.id > head.last_event_id)
        )
        return walk.broken(
            first_unchained,
            f"the log ends at {walk.last_id} but the chain head says the newest event is "
            f"{head.last_event_id} (events were added without going through the event log)",
        )
    if head.last_hash != walk.last_hash:
        return walk.broken(
            walk.last_id or None,
            f"the chain head's hash does not match event {walk.last_id} (the head was edited)"
            if walk.last_id
            else "the chain head's hash is not the start of the chain (the head was edited)",
        )
    return ChainReport(ok=True, events_checked=walk.checked)


def _missing(first: int, last: int) -> str | None:
    if first > last:
        return None
    if first == last:
        return f"event {first} is missing"
    return f"events {first}–{last} are missing"
