"""Workers: claim runnable work, do it, repeat. Any number of them, on any number of machines.

A worker claims one run at a time with a row lock (``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite has a single writer) and a lease that a heartbeat thread renews while it
works. A worker that dies stops renewing; once its lease expires another worker takes the run
over and carries on from what the database says was done — never repeating a verified step.

Between runs a worker also signs the event chain's head into the audit checkpoint file when the
head has moved (``deskhand.audit.checkpoints``), at most every ``audit_checkpoint_seconds``, and
reads the tenants' PSAs and mailboxes for new tickets every ``poll_intake_seconds`` with the
intake it is given (``deskhand.intake.polling.poll_all``: the engine does not know intake),
and queues what technicians are to be told every ``notify_seconds``
(``deskhand.notifications``: sent by a thread of its own, never waited for).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from deskhand.audit.checkpoints import CheckpointFile
from deskhand.domain.escalations import Reason
from deskhand.engine import state
from deskhand.engine.dispatcher import dispatch
from deskhand.engine.escalation import escalate
from deskhand.engine.executor import execute
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.notifications.notifier import Notifier
from deskhand.store.models import Approval, Run, Step, StepSecret, now
from deskhand.trust import regressions

log = logging.getLogger("deskhand.worker")

# Reads every tenant's PSA and support mailbox for new tickets (deskhand.intake.polling.poll_all).
Intake = Callable[[Runtime], object]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """One worker. ``run_once`` drains what is ready; ``run_forever`` polls until stopped."""

    def __init__(
        self, rt: Runtime, name: str | None = None, *, intake: Intake | None = None
    ) -> None:
        self.rt = rt
        self.name = name or worker_name()
        self.lease = timedelta(seconds=rt.settings.lease_seconds)
        self.intake = intake  # reads the PSAs and mailboxes for new tickets; None: never
        self._next_intake = 0.0  # time.monotonic() of the next read of the PSA
        self.checkpoints = CheckpointFile.from_settings(rt.settings, lambda: rt.keys)
        self._next_checkpoint = 0.0  # time.monotonic() of the next audit checkpoint
        self._next_regressions = 0.0  # time.monotonic() of the next regression check
        self.notifier = Notifier(rt.db, rt.settings)

    def run_once(self) -> int:
        """Process everything ready now; return how many runs were worked on."""
        done = 0
        while self.step():
            done += 1
        return done

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                self.poll_intake_when_due()
                self.checkpoint_when_due()
                self.check_regressions_when_due()
                self.notifier.when_due()
                busy = self.step()
            except Exception:  # one bad run must not stop the desk; it is logged with its trace
                log.exception("worker %s: unexpected error", self.name)
                busy = False
            if not busy:
                stop.wait(self.rt.settings.poll_seconds)
        self.notifier.close()
        log.info("worker %s stopped", self.name)

    def poll_intake_when_due(self) -> bool:
        """Read the tenants' PSA and support mailboxes for new tickets every
        ``poll_intake_seconds`` (0, or a worker given no intake: never)."""
        every = self.rt.settings.poll_intake_seconds
        if self.intake is None or every <= 0 or time.monotonic() < self._next_intake:
            return False
        self._next_intake = time.monotonic() + every
        self.intake(self.rt)
        return True

    def checkpoint_when_due(self) -> bool:
        """Sign the event chain's head into the audit checkpoint file if it moved since the
        file's newest line, every ``audit_checkpoint_seconds`` (0: never). True if written."""
        every = self.rt.settings.audit_checkpoint_seconds
        if every <= 0 or time.monotonic() < self._next_checkpoint:
            return False
        self._next_checkpoint = time.monotonic() + every
        try:
            with self.rt.db.reading() as session:
                return self.checkpoints.write(session, only_if_moved=True) is not None
        except DeskhandError as error:
            log.error("worker %s: no audit checkpoint: %s", self.name, error)
            return False

    def check_regressions_when_due(self) -> regressions.Checked | None:
        """Every ``regressions.CHECK_EVERY``, flag specialists whose record at a tenant got
        significantly worse and end the episodes that are over, as of ``rt.clock()``."""
        if time.monotonic() < self._next_regressions:
            return None
        self._next_regressions = time.monotonic() + regressions.CHECK_EVERY.total_seconds()
        moment = self.rt.clock()
        with self.rt.db.reading() as session:  # no write lock while nothing changed
            checked = regressions.due(session, moment)
        if checked.empty:
            return checked
        with self.rt.db.session() as session:
            checked = regressions.check(session, moment)
        for found in checked.flagged:
            log.warning(
                "regression flagged: %s at %s: %s", found.specialist, found.tenant_id, found.words
            )
        return checked

    def step(self) -> bool:
        """Expire stale drafts and secrets, then claim and work on one run. False when there
        was none."""
        self.expire_drafts()
        self.erase_expired_secrets()
        claimed = self.claim()
        if claimed is None:
            return False
        run_id, phase = claimed
        with self._heartbeat(run_id):
            try:
                if phase == "dispatch":
                    dispatch(self.rt, run_id, self.name)
                else:
                    execute(self.rt, run_id, self.name)
            except state.LeaseLost:
                log.warning("worker %s lost run %s to another worker", self.name, run_id)
        return True

    def claim(self) -> tuple[int, str] | None:
        """Take the oldest runnable run: queued, or ready and due (a run scheduled for later
        waits for its moment), or one whose worker's lease expired."""
        with self.rt.db.session() as session:
            moment = now()
            due = self.rt.clock()
            query = (
                select(Run)
                .where(
                    or_(
                        Run.status == "queued",
                        and_(
                            Run.status == "ready",
                            or_(Run.not_before.is_(None), Run.not_before <= due),
                        ),
                        and_(
                            Run.status.in_(("dispatching", "executing")),
                            Run.lease_expires_at < moment,
                        ),
                    )
                )
                .order_by(Run.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            run = session.execute(query).scalar_one_or_none()
            if run is None:
                return None
            took_over = run.lease_owner if run.status in ("dispatching", "executing") else None
            phase = state.claim(session, run, self.name, self.lease, took_over)
            return run.id, phase

    def expire_drafts(self) -> int:
        """Drafts nobody decided before their approval expired: the run escalates."""
        with self.rt.db.reading() as session:
            rows = session.execute(
                select(Approval.id, Run.id)
                .join(Step, Step.id == Approval.step_id)
                .join(Run, Run.id == Step.run_id)
                .where(
                    Approval.status == "pending",
                    Approval.expires_at < now(),
                    Run.status == "awaiting_approval",
                )
                .limit(50)
            ).all()
        expired = 0
        for approval_id, run_id in rows:

            def expire_it(session: Session, run: Run, approval_id: int = approval_id) -> None:
                approval = session.get(Approval, approval_id)
                assert approval is not None
                if approval.status != "pending" or run.status != "awaiting_approval":
                    raise state.StateError(f"Draft {approval_id} was decided meanwhile.")
                state.expire(session, approval)

            try:
                escalate(
                    self.rt,
                    run_id,
                    Reason.APPROVAL_EXPIRED,
                    f"Draft {approval_id} was not decided before its approval expired.",
                    prepare=expire_it,
                )
            except state.StateError:
                continue  # a human decided it, or another worker expired it, just now
            expired += 1
        return expired

    def erase_expired_secrets(self) -> int:
        """Temporary passwords nobody was shown before they expired are erased."""
        due = (StepSecret.value.is_not(None), StepSecret.expires_at < now())
        with self.rt.db.reading() as session:  # no write lock while there is nothing to do
            if session.scalar(select(StepSecret.id).where(*due).limit(1)) is None:
                return 0
        with self.rt.db.session() as session:
            secrets = session.scalars(
                select(StepSecret).where(*due).limit(50).with_for_update(skip_locked=True)
            ).all()
            for secret in secrets:
                step = session.get(Step, secret.step_id)
                assert step is not None
                state.erase_secret(session, secret, step, "not shown before it expired")
            return len(secrets)

    @contextmanager
    def _heartbeat(self, run_id: int) -> Iterator[None]:
        """Renew the lease every third of its length while the block runs."""
        stop = threading.Event()

        def beat() -> None:
            interval = self.lease.total_seconds() / 3
            while not stop.wait(interval):
                with self.rt.db.session() as session:
                    if not state.renew(session, run_id, self.name, self.lease):
                        return

        thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
