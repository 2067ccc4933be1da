"""`deskhand audit verify` and `deskhand audit checkpoint` as an operator runs them: what they
say about the chain and the checkpoints, and their exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from deskhand.audit.log import append
from deskhand.cli import app
from deskhand.domain.events import RunQueued
from deskhand.store.db import Database
from tests.audit.tampering import cut_to


class Desk:
    """A deskhand installation in a folder of its own, with three events in its log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.checkpoints = folder / "audit-checkpoints.jsonl"
        self.env = {"DESKHAND_DATA_DIR": str(folder), "COLUMNS": "400"}
        self.db = Database(f"sqlite:///{folder / 'deskhand.db'}")
        self.db.upgrade()
        with self.db.session() as session:
            for n in range(3):
                append(session, RunQueued(reason=f"event {n}"))

    def run(self, *args: str, code: int = 0, **env: str) -> Result:
        result = CliRunner().invoke(app, list(args), env=self.env | env)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code == code, result.output
        return result


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    desk = Desk(tmp_path)
    yield desk
    desk.db.dispose()


def said(result: Result) -> str:
    """What the command printed, its lines joined as one text."""
    return " ".join((result.stdout + result.stderr).split())


def test_a_first_verify_says_there_was_nothing_to_compare_and_writes_a_checkpoint(
    desk: Desk,
) -> None:
    first = said(desk.run("audit", "verify"))
    assert "The event log is intact: 3 events checked." in first
    assert (
        f"No checkpoints to compare with: {desk.checkpoints} does not exist, so events removed "
        "from the end of the log, or a history rewritten with new hashes, would not show."
    ) in first
    assert "Checkpoint written: event 3." in first
    again = said(desk.run("audit", "verify"))
    assert f"The log matches its checkpoints: 1 in {desk.checkpoints} agree" in again
    assert "Checkpoint written" not in again  # the head has not moved


def test_verify_reports_a_log_cut_short_with_exit_code_1(desk: Desk) -> None:
    desk.run("audit", "verify")
    cut_to(desk.db, 2)
    result = said(desk.run("audit", "verify", code=1))
    assert "The event log is intact: 2 events checked." in result  # the chain alone
    assert f"The log does not match its checkpoints in {desk.checkpoints}:" in result
    assert (
        "saw event 3, but the log now ends at event 2: event 3 was removed from its end, and "
        "the chain head moved back to 2."
    ) in result
    assert "move the checkpoint file aside (keep it) and run `deskhand audit checkpoint`" in result
    assert "Checkpoint written" not in result


def test_checkpoint_writes_one_now(desk: Desk) -> None:
    result = said(desk.run("audit", "checkpoint"))
    assert f"Checkpoint written to {desk.checkpoints}: event 3, hash " in result
    desk.run("audit", "checkpoint")
    assert len(desk.checkpoints.read_text().splitlines()) == 2


def test_verify_against_a_copy_of_the_checkpoints_writes_nothing_to_it(desk: Desk) -> None:
    desk.run("audit", "checkpoint")
    copy = desk.folder / "backup.jsonl"
    copy.write_text(desk.checkpoints.read_text())
    with desk.db.session() as session:
        append(session, RunQueued(reason="one more"))
    result = said(desk.run("audit", "verify", "--checkpoints", str(copy)))
    assert f"The log matches its checkpoints: 1 in {copy} agree" in result
    assert len(copy.read_text().splitlines()) == 1
    missing = said(desk.run("audit", "verify", "--checkpoints", "nowhere.jsonl", code=2))
    assert "--checkpoints nowhere.jsonl: there is no such file." in missing


def test_a_syslog_setting_that_is_no_address_is_a_message_not_a_traceback(desk: Desk) -> None:
    result = desk.run("audit", "checkpoint", code=2, DESKHAND_AUDIT_SYSLOG="loghost")
    assert "DESKHAND_AUDIT_SYSLOG='loghost' is not a syslog address." in said(result)
    assert "udp://HOST:514" in said(result)
    assert "Traceback" not in result.output
