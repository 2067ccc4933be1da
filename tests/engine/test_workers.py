"""Workers as separate processes: killed mid-run, taken over, and draining work side by side.
Side effects are counted in the sandbox's own call log, which commits independently of
deskhand's database — as a real outside system would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from tests.engine.test_flow import KAREN, LISA, approve_all, event_types, ticket, work

from deskhand.audit.chain import verify
from deskhand.config import Settings
from deskhand.engine import state
from deskhand.engine.dispatcher import dispatch
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.store.models import EventRecord, Run, Step, Ticket, now

MUTATIONS = ("reset_password", "revoke_sessions", "add_comment", "add_group_member")


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(Path.home()),
        "DESKHAND_DATA_DIR": str(settings.data_dir),
        "DESKHAND_DATABASE_URL": settings.database(),
        "DESKHAND_SANDBOX_URL": settings.sandbox(),
        "DESKHAND_LEASE_SECONDS": "1.5",
        "DESKHAND_POLL_SECONDS": "0.05",
    }
    env.update(extra)
    return env


@contextmanager
def worker_process(
    settings: Settings, name: str, **extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "deskhand", "worker", "--name", name],
        env=environment(settings, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition, timeout: float = 120.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def effects(rt: Runtime) -> Counter[str]:
    """Applied mutating calls in the sandbox, by operation (ticket creation left out)."""
    return Counter(
        call.operation
        for call in rt.sandbox.calls()
        if call.outcome == "applied" and call.operation in MUTATIONS
    )


def statuses(rt: Runtime) -> Counter[str]:
    with rt.db.session() as session:
        return Counter(session.scalars(select(Ticket.status)))


@pytest.mark.parametrize("when", ["after", "before"])
def test_a_killed_worker_s_run_is_finished_by_another_and_nothing_happens_twice(
    rt: Runtime, settings: Settings, when: str
) -> None:
    resets = [
        ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it"),
        ticket(rt, KAREN, "Reset", "Please reset the password for Tom Becker."),
    ]
    work(rt)
    for ticket_id in resets:
        approve_all(rt, ticket_id)
    # Hang on the 2nd change the worker makes: the first run is mid-way when it is killed.
    hang_at = rt.sandbox.applied_count() + 2
    applied_at_hang = hang_at if when == "after" else hang_at - 1

    def hanging() -> bool:
        with rt.db.session() as session:
            started = session.scalar(
                select(func.count()).select_from(Step).where(Step.status == "executing")
            )
        return started == 1 and rt.sandbox.applied_count() == applied_at_hang

    with worker_process(settings, "doomed", DESKHAND_SANDBOX_HANG=f"{when}:{hang_at}") as doomed:
        wait_for(hanging, what="the worker to reach the hang")
        time.sleep(0.5)  # asleep inside the sandbox call now
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    with rt.db.session() as session:
        executing = session.scalars(select(Step).where(Step.status == "executing")).all()
    assert len(executing) == 1  # started, and (for "after") changed outside, but not verified
    time.sleep(1.6)  # the dead worker's lease runs out
    with worker_process(settings, "rescuer") as rescuer:
        wait_for(lambda: statuses(rt)["resolved"] == 2, what="both tickets to be resolved")
        rescuer.send_signal(signal.SIGTERM)
    # Per run: the internal note, the reply, and the note naming who approved it (written
    # once the run is complete, by the worker that completed it).
    assert effects(rt) == {"reset_password": 2, "revoke_sessions": 2, "add_comment": 6}
    recovered = [t for t in event_types(rt, resets[0]) if t == "step.recovered"]
    assert recovered == ["step.recovered"]
    with rt.db.session() as session:
        taken_over = session.scalars(
            select(EventRecord.data).where(EventRecord.type == "run.claimed")
        ).all()
        assert any(d.get("took_over_from") == "doomed" for d in taken_over)
        assert verify(session).ok


def test_a_worker_that_lost_its_lease_writes_nothing(rt: Runtime) -> None:
    ticket_id = ticket(rt, LISA, "Forgot my password", "please reset my password")
    slow, fast = Worker(rt, "slow"), Worker(rt, "fast")
    claimed = slow.claim()
    assert claimed is not None
    run_id, _ = claimed
    with rt.db.session() as session:
        session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(lease_expires_at=now() - timedelta(seconds=1))
        )
    assert fast.claim() == (run_id, "dispatch")
    with pytest.raises(state.LeaseLost):
        dispatch(rt, run_id, "slow")
    dispatch(rt, run_id, "fast")
    assert event_types(rt, ticket_id).count("plan.proposed") == 1


def test_two_workers_on_postgresql_drain_200_tickets_without_running_a_step_twice(
    pg_rt: Runtime, pg_settings: Settings
) -> None:
    rt, settings = pg_rt, pg_settings
    users = ["Tom Becker", "Lisa Chen", "Anna Kowalski", "Marcus Lee", "Sofia Martins"]
    ids = [
        ticket(rt, KAREN, f"Reset {n}", f"Please reset the password for {users[n % len(users)]}.")
        for n in range(200)
    ]
    with worker_process(settings, "alpha"), worker_process(settings, "beta"):
        wait_for(lambda: statuses(rt)["awaiting_approval"] == 200, what="200 plans", timeout=300)
        for ticket_id in ids:
            approve_all(rt, ticket_id)
        wait_for(lambda: statuses(rt)["resolved"] == 200, what="200 resolved", timeout=600)
    # Per run: the internal note, the reply and the note naming who approved it.
    assert effects(rt) == {"reset_password": 200, "revoke_sessions": 200, "add_comment": 600}
    with rt.db.session() as session:
        started = Counter(
            session.scalars(select(EventRecord.step_id).where(EventRecord.type == "step.started"))
        )
        assert len(started) == 800 and set(started.values()) == {1}
        workers = set(
            session.scalars(
                select(EventRecord.data["worker"].as_string()).where(
                    EventRecord.type == "run.claimed"
                )
            )
        )
        assert workers == {"alpha", "beta"}
        assert session.scalar(select(func.count()).select_from(Step)) == 800
        assert verify(session).ok
