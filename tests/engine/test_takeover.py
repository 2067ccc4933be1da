"""A worker paused inside a step (SIGSTOP, as a frozen virtual machine or a stalled call would
be) while its lease runs out and another worker takes the run over: a side effect happens once.
Real worker processes, on SQLite and on PostgreSQL; side effects are counted in the sandbox's
own call log, which commits independently of deskhand's database as a real system would."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from sqlalchemy import select
from tests.engine.test_flow import CONTOSO, KAREN, approve_all, event_types, status, ticket, work
from tests.engine.test_workers import wait_for, worker_process

from deskhand.audit.chain import verify
from deskhand.config import Settings
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Escalation, EventRecord, Step, Tenant

LEASE = 1.5  # seconds, as the worker processes are started with (tests.engine.test_workers)


def stopped(pid: int) -> bool:
    """The process is stopped by a signal (state T in /proc)."""
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("T")


def applied(rt: Runtime, operation: str) -> int:
    return sum(1 for c in rt.sandbox.calls(CONTOSO, operation) if c.outcome == "applied")


def total_seats(rt: Runtime) -> int:
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
    assert tenant is not None
    premium = next(
        s for s in rt.connectors(tenant).m365.subscribed_skus() if s.part_number == "SPB"
    )
    return premium.total


def step_status(rt: Runtime, action: str) -> str:
    with rt.db.session() as session:
        return session.scalars(select(Step.status).where(Step.action == action)).one()


def events_of(rt: Runtime, type_: str) -> list[dict[str, object]]:
    with rt.db.session() as session:
        return list(session.scalars(select(EventRecord.data).where(EventRecord.type == type_)))


def pause_inside_first_change(rt: Runtime, settings: Settings, ticket_id: int, when: str) -> None:
    """Worker "paused" stops itself inside the run's first change (before the sandbox applies
    it, or just after), is left stopped until its lease has run out and worker "rescuer" has
    taken the run over and dealt with the step, then carries on."""
    approve_all(rt, ticket_id)
    first = rt.sandbox.applied_count() + 1
    hang = f"pause-{when}:{first}"
    with worker_process(settings, "paused", DESKHAND_SANDBOX_HANG=hang) as paused:
        try:
            wait_for(lambda: stopped(paused.pid), what="the worker to stop inside the step")
            time.sleep(LEASE + 0.3)  # its lease runs out while it is stopped
            with worker_process(settings, "rescuer") as rescuer:
                wait_for(
                    lambda: status(rt, ticket_id) in ("resolved", "escalated"),
                    what="the rescuer to finish or escalate the run",
                )
                rescuer.send_signal(signal.SIGTERM)
        finally:
            os.kill(paused.pid, signal.SIGCONT)  # a stopped process would not act on SIGTERM
        wait_for(
            lambda: events_of(rt, "step.acted_after_lease_lost"),
            what="the paused worker to record its late call",
        )


def test_a_paused_purchase_is_never_repeated_and_the_takeover_escalates_as_uncertain(
    rt: Runtime, settings: Settings
) -> None:
    ticket_id = ticket(rt, KAREN, "Licence", "We need a Business Premium license for Tom Becker.")
    work(rt)
    seats = total_seats(rt)
    pause_inside_first_change(rt, settings, ticket_id, "before")
    assert applied(rt, "add_license_seats") == 1  # bought once: by the paused worker, late
    assert total_seats(rt) == seats + 1
    assert applied(rt, "assign_license") == 0  # nothing after an uncertain step runs
    assert status(rt, ticket_id) == "escalated"
    with rt.db.session() as session:
        found = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket_id)).one()
        assert found.reason == "uncertain_execution"
        assert "not safe to repeat" in found.detail and "'total'" in found.detail
        assert verify(session).ok
    assert step_status(rt, "m365.add_license_seats") == "uncertain"
    types = event_types(rt, ticket_id)
    assert types.count("step.started") == 1 and "step.verified" not in types
    assert "step.uncertain" in types and types[-1] == "step.acted_after_lease_lost"
    late = events_of(rt, "step.acted_after_lease_lost")
    assert late == [
        {
            "position": 1,
            "action": "m365.add_license_seats",
            "worker": "paused",
            "outcome": "the call returned",
        }
    ]


def test_a_purchase_made_before_the_pause_is_verified_by_the_takeover_not_repeated(
    rt: Runtime, settings: Settings
) -> None:
    ticket_id = ticket(rt, KAREN, "Licence", "We need a Business Premium license for Tom Becker.")
    work(rt)
    seats = total_seats(rt)
    pause_inside_first_change(rt, settings, ticket_id, "after")
    assert applied(rt, "add_license_seats") == 1
    assert total_seats(rt) == seats + 1
    assert status(rt, ticket_id) == "resolved"  # read back as done: the run carried on
    types = event_types(rt, ticket_id)
    assert types.count("step.started") == 4  # each step started once, by one worker or other
    assert "step.uncertain" not in types


def test_a_membership_is_set_again_by_the_takeover_because_it_is_safe_to_repeat(
    rt: Runtime, settings: Settings
) -> None:
    ticket_id = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Finance Share group.")
    work(rt)
    pause_inside_first_change(rt, settings, ticket_id, "before")
    assert status(rt, ticket_id) == "resolved"
    assert applied(rt, "add_group_member") == 1  # the paused worker's late add found it done
    refused = [c for c in rt.sandbox.calls(CONTOSO, "add_group_member") if c.outcome != "applied"]
    assert len(refused) == 1 and refused[0].outcome.startswith("error:")
    assert events_of(rt, "step.acted_after_lease_lost")[0]["worker"] == "paused"
    with rt.db.session() as session:
        recovered = session.scalars(
            select(EventRecord.data).where(EventRecord.type == "step.recovered")
        ).one()
        assert recovered == {
            "position": 1,
            "action": "m365.add_group_member",
            "already_done": False,
        }
