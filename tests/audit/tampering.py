"""Changing the event log behind deskhand's back, the way someone with the database's owner or
superuser rights could: the application's own connections cannot (migration 0008's triggers
refuse), so the protection is switched off first, as such a person would.

On PostgreSQL a superuser's session stops firing the triggers (``session_replication_role =
replica``, for this transaction only); on SQLite, whoever can write the file drops the triggers,
makes the change and puts them back, so nothing shows afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Connection, Engine, bindparam, delete, select, text, update

from deskhand.audit.log import GENESIS_HASH, event_hash
from deskhand.store.db import Database
from deskhand.store.models import ChainHead, EventRecord


@contextmanager
def as_dba(engine: Engine) -> Iterator[Connection]:
    """A connection, in one transaction, on which the event log's protection is off."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            yield connection
            return
        triggers = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                 "('events', 'event_chain')")
        ).all()  # fmt: skip
        for name, _ in triggers:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
        yield connection
        for _, sql in triggers:
            connection.exec_driver_sql(sql)


def tamper(engine: Engine, sql: str, **params: Any) -> None:
    """Run ``sql`` on the log with its protection off (``:data`` is bound as JSON)."""
    statement = text(sql)
    if "data" in params:
        statement = statement.bindparams(bindparam("data", type_=JSON))
    with as_dba(engine) as connection:
        connection.execute(statement, params)


def cut_to(db: Database, last: int) -> None:
    """Delete every event after ``last`` and move the head back to it, as a DBA could."""
    with db.reading() as session:
        last_hash = session.scalar(select(EventRecord.hash).where(EventRecord.id == last))
    with as_dba(db.engine) as connection:
        connection.execute(delete(EventRecord).where(EventRecord.id > last))
        connection.execute(
            update(ChainHead).values(last_event_id=last, last_hash=last_hash or GENESIS_HASH)
        )


def rewrite(db: Database, event_id: int, reason: str) -> None:
    """Change event ``event_id`` and compute its hash and every later one again, and the
    head's: a history rewritten so that the chain still holds together."""
    with db.reading() as session:
        records = list(
            session.scalars(
                select(EventRecord).where(EventRecord.id >= event_id).order_by(EventRecord.id)
            )
        )
        session.expunge_all()
    records[0].data = {"reason": reason}
    previous = records[0].prev_hash
    with as_dba(db.engine) as connection:
        for record in records:
            record.prev_hash, record.hash = previous, event_hash(record, previous)
            previous = record.hash
            connection.execute(
                update(EventRecord)
                .where(EventRecord.id == record.id)
                .values(data=record.data, prev_hash=record.prev_hash, hash=record.hash)
            )
        connection.execute(update(ChainHead).values(last_hash=previous))
