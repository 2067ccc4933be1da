"""Verifying the event log: walking its hash chain, holding it up to the signed checkpoints kept
outside the database, and — when both are in order — writing a new checkpoint.

``verify_log`` is that verification, for ``deskhand audit verify`` and the web app alike. The
web app runs it in the background (``ChainCheck``): a million events take about a minute to
walk, longer than a page request should wait. One walk at a time per process: asking again
while a walk runs joins it instead of starting a second. The last verdict is kept in this
process only — it is a convenience on the Audit page, not a record; ``deskhand audit verify``
gives the same verdict from anywhere.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from deskhand.audit.chain import ChainReport, verify
from deskhand.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    CheckpointFile,
    CheckpointReport,
)
from deskhand.store.db import Database
from deskhand.store.models import ChainHead, now

log = logging.getLogger("deskhand.audit")


@dataclass(frozen=True)
class LogReport:
    """The verdict on the event log: its chain, and how it compares with its checkpoints."""

    chain: ChainReport
    checkpoints: CheckpointReport
    written: Checkpoint | None = None  # the checkpoint this verification wrote, if any
    not_written: str | None = None  # why no checkpoint could be written, with what to do

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.checkpoints.ok


def verify_log(db: Database, checkpoints: CheckpointFile, *, write: bool = True) -> LogReport:
    """Walk the chain and hold the log up to every checkpoint; when both are in order (and
    ``write``), sign the head as a new checkpoint unless the newest already holds it."""
    with db.reading() as session:
        chain = verify(session)
    held = checkpoints.compare(db)
    if not (write and chain.ok and held.ok):
        return LogReport(chain=chain, checkpoints=held)
    try:
        with db.reading() as session:
            written = checkpoints.write(session, only_if_moved=True)
    except CheckpointError as error:  # the verdict stands; the new checkpoint is what failed
        return LogReport(chain=chain, checkpoints=held, not_written=str(error))
    return LogReport(chain=chain, checkpoints=held, written=written)


@dataclass(frozen=True)
class Verification:
    """A walk of the chain: running, or finished with a report (or with an error of its own)."""

    requested_by: str
    started_at: datetime
    finished_at: datetime | None = None
    report: ChainReport | None = None
    checkpoints: CheckpointReport | None = None
    checkpoint_written: Checkpoint | None = None
    checkpoint_not_written: str | None = None
    head_event_id: int | None = None  # the chain head when the walk ended
    head_hash: str | None = None
    error: str | None = None  # the walk itself failed (the database went away): no verdict

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def intact(self) -> bool:
        """Finished, and both the chain and the checkpoints are in order."""
        return (
            self.report is not None
            and self.report.ok
            and (self.checkpoints is None or self.checkpoints.ok)
        )

    @property
    def seconds(self) -> float | None:
        """How long the walk took."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ChainCheck:
    """Verifies the log of ``db`` against ``checkpoints`` in a background thread and remembers
    the last verification."""

    def __init__(self, db: Database, checkpoints: CheckpointFile) -> None:
        self._db = db
        self._checkpoints = checkpoints
        self._lock = threading.Lock()
        self._last: Verification | None = None
        self._thread: threading.Thread | None = None

    @property
    def last(self) -> Verification | None:
        """The running verification, or the last finished one; None before the first."""
        with self._lock:
            return self._last

    def start(self, requested_by: str) -> Verification:
        """Start a walk, unless one is running: then that one is returned."""
        with self._lock:
            if self._last is not None and self._last.running:
                return self._last
            self._last = Verification(requested_by=requested_by, started_at=now())
            # A daemon thread: a walk still going when the server stops is simply abandoned.
            self._thread = threading.Thread(
                target=self._walk, args=(self._last,), name="deskhand-chain-check", daemon=True
            )
            self._thread.start()
            return self._last

    def join(self, timeout: float | None = None) -> Verification | None:
        """Wait for the running walk to end (tests and scripts); the verification as it stands."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.last

    def _walk(self, started: Verification) -> None:
        try:
            found = verify_log(self._db, self._checkpoints)
            with self._db.reading() as session:
                head = session.execute(
                    select(ChainHead.last_event_id, ChainHead.last_hash).where(ChainHead.id == 1)
                ).one_or_none()
            done = Verification(
                requested_by=started.requested_by,
                started_at=started.started_at,
                finished_at=now(),
                report=found.chain,
                checkpoints=found.checkpoints,
                checkpoint_written=found.written,
                checkpoint_not_written=found.not_written,
                head_event_id=head.last_event_id if head is not None else None,
                head_hash=head.last_hash if head is not None else None,
            )
        except Exception as error:  # a background walk has no caller to raise to: record it
            log.exception("verifying the event chain failed")
            done = Verification(
                requested_by=started.requested_by,
                started_at=started.started_at,
                finished_at=now(),
                error=f"{type(error).__name__}: {error}".splitlines()[0],
            )
        with self._lock:
            self._last = done
