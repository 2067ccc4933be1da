"""The application's own connections cannot change or remove events, nor move the chain head
back (migration 0008's triggers), on SQLite and PostgreSQL; appending goes on as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from deskhand.audit.chain import verify
from deskhand.audit.log import append
from deskhand.domain.events import RunQueued
from deskhand.store.db import Database
from tests.audit.tampering import as_dba
from tests.support import postgres_database

LOG_REFUSED = "the event log is append-only"
HEAD_REFUSED = "the event chain head only moves forward"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    with database.session() as session:
        for n in range(3):
            append(session, RunQueued(reason=f"event {n}"))
    yield database
    database.dispose()


def refused(db: Database, sql: str) -> str:
    """The error the application's session gets for ``sql``; nothing it did is kept."""
    with pytest.raises(DBAPIError) as caught, db.session() as session:
        session.execute(text(sql))
    return str(caught.value.orig)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET data = '{}' WHERE id = 2",
        "UPDATE events SET actor = 'mallory' WHERE id = 3",
        "DELETE FROM events WHERE id = 3",
        "DELETE FROM events",
    ],
)
def test_the_application_cannot_change_or_remove_events(db: Database, sql: str) -> None:
    assert LOG_REFUSED in refused(db, sql)
    with db.reading() as session:
        assert verify(session).events_checked == 3
        assert verify(session).ok


def test_the_application_cannot_truncate_events_on_postgresql() -> None:
    """SQLite has no TRUNCATE: its ``DELETE FROM events`` is refused above."""
    with postgres_database("deskhand_audit") as url:
        database = Database(url)
        try:
            database.upgrade()
            assert LOG_REFUSED in refused(database, "TRUNCATE events")
            assert HEAD_REFUSED in refused(database, "TRUNCATE event_chain")
        finally:
            database.dispose()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE event_chain SET last_event_id = 2",
        "UPDATE event_chain SET last_event_id = 0",
        "UPDATE event_chain SET last_hash = 'f'",
        "DELETE FROM event_chain",
    ],
)
def test_the_application_cannot_move_the_chain_head_back(db: Database, sql: str) -> None:
    assert HEAD_REFUSED in refused(db, sql)
    with db.reading() as session:
        assert verify(session).ok


def test_appending_still_moves_the_head_forward(db: Database) -> None:
    with db.session() as session:
        append(session, RunQueued(reason="one more"))
    with db.reading() as session:
        report = verify(session)
    assert (report.ok, report.events_checked) == (True, 4)


def test_the_protection_is_back_after_a_dba_has_tampered(db: Database) -> None:
    with as_dba(db.engine) as connection:
        connection.execute(text("DELETE FROM events WHERE id = 3"))
    assert LOG_REFUSED in refused(db, "DELETE FROM events WHERE id = 2")
