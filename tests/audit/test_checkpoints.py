"""Signed checkpoints of the chain head, kept outside the database: a log cut short or rewritten
and re-chained — which the chain alone takes for intact — is found, and so is a checkpoint line
that was edited or forged. On a SQLite file and on the machine's PostgreSQL."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from deskhand.audit.chain import verify
from deskhand.audit.checkpoints import (
    SYSLOG_TAG,
    Checkpoint,
    CheckpointError,
    CheckpointFile,
    CheckpointReport,
)
from deskhand.audit.log import append
from deskhand.audit.verification import verify_log
from deskhand.config import Settings
from deskhand.domain.events import RunQueued
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.keys import ServerKeys
from deskhand.store.db import Database
from deskhand.store.models import ChainHead, EventRecord
from tests.audit.tampering import as_dba, cut_to, rewrite


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def keys(tmp_path: Path) -> ServerKeys:
    return ServerKeys.load(tmp_path / "server-keys.json")


@pytest.fixture
def checkpoints(tmp_path: Path, keys: ServerKeys) -> CheckpointFile:
    return CheckpointFile(tmp_path / "audit-checkpoints.jsonl", lambda: keys)


def append_events(db: Database, count: int) -> None:
    with db.session() as session:
        for n in range(count):
            append(session, RunQueued(reason=f"event {n}"), tenant_id="contoso")


def checkpoint(db: Database, checkpoints: CheckpointFile) -> Checkpoint:
    with db.reading() as session:
        written = checkpoints.write(session)
    assert written is not None
    return written


def chain_is_intact(db: Database) -> bool:
    with db.reading() as session:
        return verify(session).ok


def test_a_log_that_grew_since_its_checkpoints_matches_them(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 3)
    checkpoint(db, checkpoints)
    append_events(db, 4)
    newest = checkpoint(db, checkpoints)
    append_events(db, 5)
    assert checkpoints.compare(db) == CheckpointReport(
        path=checkpoints.path, found=True, agreeing=2, newest=newest
    )


@pytest.mark.parametrize("removed", [1, 50])
def test_events_cut_from_the_end_with_the_head_moved_back_are_reported(
    db: Database, checkpoints: CheckpointFile, removed: int
) -> None:
    append_events(db, 60)
    seen = checkpoint(db, checkpoints)
    cut_to(db, 60 - removed)
    assert chain_is_intact(db)  # the chain alone cannot tell
    gone = "event 60 was removed" if removed == 1 else "events 11–60 were removed"
    assert checkpoints.compare(db).problems == (
        f"{seen.described(capital=True)} saw event 60, but the log now ends at event "
        f"{60 - removed}: {gone} from its end, and the chain head moved back to {60 - removed}.",
    )


def test_a_log_emptied_with_its_head_reset_is_reported(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 4)
    seen = checkpoint(db, checkpoints)
    cut_to(db, 0)
    assert chain_is_intact(db)
    assert checkpoints.compare(db).problems == (
        f"{seen.described(capital=True)} saw event 4, but the log is now empty: every event "
        "was removed, and the chain head moved back to 0.",
    )


def test_a_rewritten_and_re_chained_history_is_reported(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 5)
    before = checkpoint(db, checkpoints)
    append_events(db, 5)
    after = checkpoint(db, checkpoints)
    rewrite(db, 7, "nothing to see")
    assert chain_is_intact(db)
    assert checkpoints.compare(db).problems == (
        f"Event 10 no longer has the hash {after.described()} recorded: the history up to it "
        f"was rewritten and its hashes computed again, after event 5 (where "
        f"{before.described()} still agrees).",
    )
    rewrite(db, 2, "nothing here either")
    assert chain_is_intact(db)
    assert checkpoints.compare(db).problems == (
        f"Event 5 no longer has the hash {before.described()} recorded: the history up to it "
        "was rewritten and its hashes computed again. 1 other checkpoint disagrees too.",
    )


def test_a_head_moved_back_over_events_still_there_is_reported(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 6)
    seen = checkpoint(db, checkpoints)
    with db.reading() as session:
        fourth = session.get_one(EventRecord, 4).hash
    with as_dba(db.engine) as connection:
        connection.execute(update(ChainHead).values(last_event_id=4, last_hash=fourth))
    assert checkpoints.compare(db).problems == (
        f"The chain head says the newest event is 4, but {seen.described()} saw event 6: "
        "the head was moved back.",
    )


def test_an_edited_checkpoint_line_is_reported_and_not_believed(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 5)
    checkpoint(db, checkpoints)
    line = json.loads(checkpoints.path.read_text())
    line["event_id"] = 500  # as if the log had once been much longer
    checkpoints.path.write_text(json.dumps(line) + "\n")
    report = checkpoints.compare(db)
    assert report.problems == (
        f"Line 1 of {checkpoints.path}: its signature does not match what it says (the line "
        "was edited or forged).",
    )
    assert report.newest is None and report.agreeing == 0


def test_a_checkpoint_signed_with_a_key_the_server_does_not_hold_is_reported(
    db: Database, checkpoints: CheckpointFile, tmp_path: Path
) -> None:
    append_events(db, 2)
    checkpoint(db, checkpoints)
    other = ServerKeys.load(tmp_path / "elsewhere" / "server-keys.json")
    forged = checkpoint(db, CheckpointFile(checkpoints.path, lambda: other))
    key_id = forged.signature.partition(":")[0]
    assert checkpoints.compare(db).problems == (
        f"Line 2 of {checkpoints.path}: it is signed with the key {key_id!r}, which this "
        "server does not hold (a retired key, another deployment's file, or a forgery).",
    )


def test_lines_that_are_not_checkpoints_are_reported_five_by_name(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 2)
    checkpoint(db, checkpoints)
    with checkpoints.path.open("a") as handle:
        handle.write("\n".join(["not json", '{"event_id": 2}', *["{}"] * 5]) + "\n")
    problems = checkpoints.compare(db).problems
    unreadable = "it is not a checkpoint (unreadable, or fields missing)."
    assert problems == (
        *(f"Line {n} of {checkpoints.path}: {unreadable}" for n in range(2, 7)),
        "2 more lines are bad too.",
    )


def test_a_verification_writes_the_first_checkpoint_and_then_holds_the_log_to_it(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 3)
    first = verify_log(db, checkpoints)
    assert first.ok and first.checkpoints == CheckpointReport(path=checkpoints.path, found=False)
    assert first.written is not None and first.written.event_id == 3
    again = verify_log(db, checkpoints)
    assert again.ok and again.checkpoints.agreeing == 1
    assert again.written is None  # the head has not moved since
    cut_to(db, 1)
    cut = verify_log(db, checkpoints)
    assert cut.chain.ok and not cut.ok
    assert cut.written is None
    assert len(checkpoints.path.read_text().splitlines()) == 1


def test_a_verification_that_finds_a_broken_chain_writes_no_checkpoint(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 3)
    with as_dba(db.engine) as connection:
        connection.execute(update(EventRecord).where(EventRecord.id == 2).values(actor="x"))
    report = verify_log(db, checkpoints)
    assert not report.chain.ok
    assert report.written is None and not checkpoints.path.exists()


def test_an_empty_log_has_no_checkpoint(db: Database, checkpoints: CheckpointFile) -> None:
    with db.reading() as session:
        assert checkpoints.write(session) is None
    assert not checkpoints.path.exists()


def test_a_head_that_does_not_match_its_event_is_not_signed(
    db: Database, checkpoints: CheckpointFile
) -> None:
    append_events(db, 2)
    with as_dba(db.engine) as connection:
        connection.execute(update(ChainHead).values(last_hash="f" * 64))
    with pytest.raises(CheckpointError) as refused, db.reading() as session:
        checkpoints.write(session)
    assert "The chain head names event 2, but not with its hash" in refused.value.message
    assert refused.value.hint == "Run `deskhand audit verify` to see what was changed."
    assert not checkpoints.path.exists()


def test_checkpoints_go_to_syslog_and_its_copy_can_be_held_up_to_the_log(
    db: Database, keys: ServerKeys, tmp_path: Path
) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(10)
    port = receiver.getsockname()[1]
    with receiver:
        file = CheckpointFile(tmp_path / "cp.jsonl", lambda: keys, f"udp://127.0.0.1:{port}")
        append_events(db, 3)
        sent = checkpoint(db, file)
        datagram = receiver.recv(4096).decode()
    assert datagram.startswith("<14>")  # facility user, priority info
    assert f"{SYSLOG_TAG}: {sent.line()}" in datagram
    # What a syslog server writes: its own time and host before the tag and the message.
    copy = tmp_path / "from-syslog.log"
    copy.write_text(f"Dec  6 12:00:00 deskhand-1 {datagram.removeprefix('<14>').rstrip(chr(0))}\n")
    append_events(db, 1)
    report = CheckpointFile(copy, lambda: keys).compare(db)
    assert (report.ok, report.agreeing, report.newest) == (True, 1, sent)


@pytest.mark.parametrize("address", ["syslog.example", "http://syslog.example", "udp://:514"])
def test_a_syslog_setting_that_is_no_address_is_refused(address: str, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError) as refused:
        CheckpointFile(tmp_path / "cp.jsonl", lambda: ServerKeys.load(tmp_path / "k"), address)
    assert refused.value.message == f"DESKHAND_AUDIT_SYSLOG={address!r} is not a syslog address."
    assert refused.value.hint is not None and "udp://HOST:514" in refused.value.hint


def test_a_worker_writes_a_checkpoint_when_the_head_has_moved(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        audit_checkpoint_seconds=1e-9,  # due at every turn of the loop
    )
    rt = Runtime.from_settings(settings)
    try:
        rt.db.upgrade()
        worker = Worker(rt, "test-worker")
        assert worker.checkpoint_when_due() is False  # an empty log: nothing to sign
        append_events(rt.db, 2)
        assert worker.checkpoint_when_due() is True
        assert worker.checkpoint_when_due() is False  # the head has not moved
        append_events(rt.db, 1)
        assert worker.checkpoint_when_due() is True
        lines = settings.audit_checkpoints().read_text().splitlines()
        assert [Checkpoint.model_validate_json(line).event_id for line in lines] == [2, 3]
        assert CheckpointFile.from_settings(settings, lambda: rt.keys).compare(rt.db).agreeing == 2
    finally:
        rt.close()


def test_a_running_worker_signs_the_head_between_runs(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        poll_intake_seconds=0,
    )
    rt = Runtime.from_settings(settings)
    stop = threading.Event()
    try:
        rt.db.upgrade()
        append_events(rt.db, 2)
        worker = threading.Thread(target=Worker(rt, "test-worker").run_forever, args=(stop,))
        worker.start()
        try:
            deadline = time.monotonic() + 60
            while not settings.audit_checkpoints().exists():
                assert time.monotonic() < deadline, "the worker wrote no checkpoint in a minute"
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join()
        report = CheckpointFile.from_settings(settings, lambda: rt.keys).compare(rt.db)
        assert report.ok and report.newest is not None and report.newest.event_id == 2
    finally:
        rt.close()
