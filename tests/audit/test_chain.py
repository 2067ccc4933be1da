"""The hash chain: an untouched log verifies, and every kind of tampering is found where it is.

Each test runs on a SQLite file and on the machine's PostgreSQL (a throwaway database). The
tampering is done as someone with the database owner's rights would: deskhand's own
connections cannot change the log (tests/audit/test_protection.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from deskhand.audit import chain
from deskhand.audit.chain import ChainReport, verify
from deskhand.audit.log import append, event_hash
from deskhand.domain.events import Actor, ActorKind, RunQueued
from deskhand.store.db import Database
from deskhand.store.models import EventRecord
from tests.audit import tampering
from tests.support import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/d.db")
        database.upgrade()
        yield database
        database.dispose()
        return
    with postgres_database("deskhand_audit") as url:
        database = Database(url)
        database.upgrade()
        yield database
        database.dispose()


def append_events(db: Database, count: int, actor: str = "worker-1") -> list[int]:
    """``count`` events, each in its own transaction as workers write them; their ids."""
    ids = []
    for n in range(count):
        with db.session() as session:
            record = append(
                session,
                RunQueued(reason=f"event {n}"),
                actor=Actor(ActorKind.SYSTEM, actor),
                tenant_id="contoso",
                ticket_id=1,
            )
            ids.append(record.id)
    return ids


def tamper(db: Database, sql: str, **params: Any) -> None:
    """Change the log behind deskhand's back, as someone with the database owner's rights could."""
    tampering.tamper(db.engine, sql, **params)


def check(db: Database) -> ChainReport:
    with db.session() as session:
        return verify(session)


def broken(event_id: int | None, problem: str, checked: int) -> ChainReport:
    return ChainReport(
        ok=False, events_checked=checked, first_bad_event_id=event_id, problem=problem
    )


def test_an_empty_log_verifies(db: Database) -> None:
    assert check(db) == ChainReport(ok=True, events_checked=0)


def test_an_untouched_chain_verifies(db: Database) -> None:
    append_events(db, 5)
    assert check(db) == ChainReport(ok=True, events_checked=5)


def test_verify_reads_what_is_stored_not_the_sessions_copies(db: Database) -> None:
    with db.session() as session:
        for n in range(3):
            append(session, RunQueued(reason=f"event {n}"))
        assert verify(session).ok


@pytest.mark.parametrize(
    "change",
    [
        "data = :data",
        "actor = 'someone-else@msp.example'",
        "type = 'run.completed'",
        "tenant_id = 'fabrikam'",
        "ticket_id = 2",
    ],
)
def test_an_edited_event_is_found_at_that_event(db: Database, change: str) -> None:
    append_events(db, 5)
    params = {"data": {"reason": "nothing to see"}} if ":data" in change else {}
    tamper(db, f"UPDATE events SET {change} WHERE id = 3", **params)
    assert check(db) == broken(3, "event 3: its content does not match its hash (edited?)", 3)


def test_swapped_data_is_found_at_the_first_of_the_two(db: Database) -> None:
    append_events(db, 5)
    with db.session() as session:
        second = session.get_one(EventRecord, 2).data
        fourth = session.get_one(EventRecord, 4).data
    tamper(db, "UPDATE events SET data = :data WHERE id = 2", data=fourth)
    tamper(db, "UPDATE events SET data = :data WHERE id = 4", data=second)
    assert check(db) == broken(2, "event 2: its content does not match its hash (edited?)", 2)


def test_a_deleted_middle_event_is_found_at_the_next_one(db: Database) -> None:
    append_events(db, 5)
    tamper(db, "DELETE FROM events WHERE id = 3")
    assert check(db) == broken(
        4,
        "event 4: its previous-hash does not match event 2, and event 3 is missing "
        "(an event was removed)",
        3,
    )


def test_deleted_oldest_events_are_found(db: Database) -> None:
    append_events(db, 5)
    tamper(db, "DELETE FROM events WHERE id <= 2")
    assert check(db) == broken(
        3,
        "event 3: its previous-hash is not the start of the chain, and events 1–2 are missing "
        "(the oldest events were removed)",
        1,
    )


def test_reordered_events_are_found(db: Database) -> None:
    append_events(db, 5)
    tamper(db, "UPDATE events SET id = 100 WHERE id = 2")
    tamper(db, "UPDATE events SET id = 2 WHERE id = 4")
    tamper(db, "UPDATE events SET id = 4 WHERE id = 100")
    assert check(db) == broken(
        2,
        "event 2: its previous-hash does not match event 1 (an event was removed or reordered)",
        2,
    )


def test_deleted_newest_events_are_found_by_the_chain_head(db: Database) -> None:
    append_events(db, 5)
    tamper(db, "DELETE FROM events WHERE id >= 4")
    assert check(db) == broken(
        4,
        "the chain head says the newest event is 5 but the log ends at 3 "
        "(the newest events were deleted)",
        3,
    )


def test_a_log_emptied_of_every_event_is_found(db: Database) -> None:
    append_events(db, 2)
    tamper(db, "DELETE FROM events")
    assert check(db) == broken(
        1,
        "the chain head says the newest event is 2 but the log is empty "
        "(the newest events were deleted)",
        0,
    )


def test_a_forged_event_added_without_moving_the_head_is_found(db: Database) -> None:
    append_events(db, 3)
    with db.session() as session:
        newest = session.get_one(EventRecord, 3)
        forged = EventRecord(
            id=4,
            at=newest.at,
            type="run.queued",
            actor_kind="system",
            actor="deskhand",
            data={"reason": "forged"},
            prev_hash=newest.hash,
        )
        forged.hash = event_hash(forged, newest.hash)
        values = {column.name: getattr(forged, column.name) for column in EventRecord.__table__.c}
    with db.engine.begin() as connection:
        connection.execute(insert(EventRecord), [values])
    assert check(db) == broken(
        4,
        "the log ends at 4 but the chain head says the newest event is 3 "
        "(events were added without going through the event log)",
        4,
    )


def test_an_edited_chain_head_is_found(db: Database) -> None:
    append_events(db, 2)
    tamper(db, "UPDATE event_chain SET last_hash = :h", h="f" * 64)
    assert check(db) == broken(
        2, "the chain head's hash does not match event 2 (the head was edited)", 2
    )


def test_a_rolled_back_append_leaves_a_valid_chain(db: Database) -> None:
    append_events(db, 2)
    with pytest.raises(RuntimeError), db.session() as session:
        append(session, RunQueued(reason="never committed"))
        raise RuntimeError("the transaction fails after the append")
    append_events(db, 2)
    report = check(db)
    # The rolled-back append's id is given to the next event: the ids stay contiguous.
    assert (report.ok, report.events_checked) == (True, 4)


def test_a_long_log_is_read_in_batches(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "BATCH_SIZE", 3)
    append_events(db, 10)
    assert check(db).ok
    tamper(db, "DELETE FROM events WHERE id = 7")
    assert check(db).first_bad_event_id == 8


def test_concurrent_appends_form_one_valid_chain(db: Database) -> None:
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            append_events(db, 25, actor=name)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert check(db) == ChainReport(ok=True, events_checked=50)
    with db.session() as session:
        actors = {row.actor for row in session.query(EventRecord.actor)}
    assert actors == {"worker-1", "worker-2"}


def test_verify_while_workers_append_reports_no_false_alarm(db: Database) -> None:
    append_events(db, 20)
    stop = threading.Event()

    def keep_appending() -> None:
        while not stop.is_set():
            append_events(db, 1, actor="busy-worker")

    appender = threading.Thread(target=keep_appending)
    appender.start()
    try:
        reports = [check(db) for _ in range(10)]
    finally:
        stop.set()
        appender.join()
    assert all(report.ok for report in reports), [r.problem for r in reports if not r.ok]
    assert check(db).ok
