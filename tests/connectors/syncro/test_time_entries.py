"""Technician time on a Syncro ticket: ``log_time`` and ``time_entries`` against the stand-in
(every request and answer checked against syncro-swagger.json), and the ``psa.log_time`` step
run by the executor — including a worker that dies right after Syncro took the timer entry."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from deskhand.config import Settings
from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.errors import ForbiddenError, NotFoundError
from deskhand.connectors.factory import Connectors, Factory
from deskhand.connectors.syncro import SyncroPsa, SyncroSettings
from deskhand.connectors.syncro.limiter import RequestLimiter
from deskhand.demo import seed
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Escalation, EventRecord, Run, Step, Tenant, Ticket, now
from tests.connectors.syncro.conftest import Client
from tests.connectors.syncro.standin import API_KEY

CONTOSO = "contoso-dental"  # the demo tenant: its directory in the sandbox, its PSA on Syncro
LISA = "lisa.chen@contosodental.example"
APPROVER = "dana@msp.example"
POLICY = (
    "approvers: [approver]\napproval_expiry_hours: 24\n"
    "time_entries:\n  billable: false\n  minutes:\n    password_reset: 10\n"
)


def test_time_is_logged_with_its_notes_and_read_back(syncro: Client) -> None:
    ticket_id = str(syncro.standin.add_ticket(syncro.customer_id, "VPN", "down"))
    psa = syncro.psa()

    entry = psa.log_time(ticket_id, 10, "deskhand: password reset [deskhand k1]", billable=False)

    assert (entry.ticket_id, entry.minutes, entry.billable) == (ticket_id, 10, False)
    assert psa.time_entries(ticket_id) == [entry]
    [sent] = syncro.standin.requests_to("POST", f"/api/v1/tickets/{ticket_id}/timer_entry")
    assert set(sent.body) == {"start_at", "end_at", "notes"}  # the spec's body has no billable
    assert syncro.standin.requests_to("PATCH", f"/api/v1/ticket_timers/{entry.id}") == []


@pytest.mark.parametrize(("syncro_default", "wanted"), [(False, True), (True, False)])
def test_a_billable_flag_syncro_did_not_give_is_set_on_the_entry(
    syncro: Client, syncro_default: bool, wanted: bool
) -> None:
    syncro.standin.timers_billable = syncro_default
    ticket_id = str(syncro.standin.add_ticket(syncro.customer_id, "VPN", "down"))
    psa = syncro.psa()

    entry = psa.log_time(ticket_id, 15, "deskhand: access change", billable=wanted)

    assert entry.billable is wanted
    assert [e.billable for e in psa.time_entries(ticket_id)] == [wanted]
    [patched] = syncro.standin.requests_to("PATCH", f"/api/v1/ticket_timers/{entry.id}")
    assert patched.query == {"billable": str(wanted).lower()}


def test_setting_billable_without_the_permission_names_it(syncro: Client) -> None:
    syncro.standin.denied.add("Ticket Timers - Edit")
    ticket_id = str(syncro.standin.add_ticket(syncro.customer_id, "VPN", "down"))

    with pytest.raises(ForbiddenError) as raised:
        syncro.psa().log_time(ticket_id, 10, "deskhand: password reset", billable=True)

    assert "'Ticket Timers - Edit'" in str(raised.value.fix)
    [entry] = syncro.psa().time_entries(ticket_id)
    assert f"timer entry {entry.id} was logged on ticket {ticket_id} but its billable flag is " in (
        raised.value.message
    )


def test_another_customers_ticket_gets_no_time(syncro: Client) -> None:
    theirs = str(syncro.standin.add_ticket(syncro.other_customer_id, "Fabrikam's", "no"))

    with pytest.raises(NotFoundError):
        syncro.psa().log_time(theirs, 10, "deskhand", billable=False)

    assert syncro.standin.requests_to("POST", f"/api/v1/tickets/{theirs}/timer_entry") == []


# --- the step, run by the executor --------------------------------------------------------------


class Crash(BaseException):
    """The worker process dies (as under SIGKILL): nothing after this point runs."""


class DiesAtTimerEntry(httpx.BaseTransport):
    """Real HTTP to the stand-in; the first ``POST …/timer_entry`` kills the worker, before
    sending it or right after Syncro has taken it."""

    def __init__(self, when: str) -> None:
        self.when = when
        self.armed = True
        self.http = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timer = request.method == "POST" and request.url.path.endswith("/timer_entry")
        if self.armed and timer and self.when == "before":
            self.armed = False
            raise Crash
        response = self.http.handle_request(request)
        if self.armed and timer:
            self.armed = False
            response.read()
            raise Crash
        return response


@pytest.fixture
def crashing() -> DiesAtTimerEntry:
    return DiesAtTimerEntry("after")


@pytest.fixture
def rt(
    database_url: str,
    tmp_path: Path,
    syncro: Client,
    crashing: DiesAtTimerEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Runtime]:
    """The demo runtime; Contoso's PSA is the Syncro stand-in, its policy logs 10 minutes for
    a password reset."""
    runtime = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
            lease_seconds=30,
        )
    )
    seed(runtime, tickets=False)
    policy = tmp_path / "contoso.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with runtime.db.session() as session:
        session.execute(update(Tenant).where(Tenant.id == CONTOSO).values(policy_path=str(policy)))
    psa = SyncroPsa(
        CONTOSO,
        SyncroSettings(base_url=syncro.standin.base_url, customer_id=syncro.customer_id),
        API_KEY,
        caller=Caller(
            CONTOSO,
            "syncro",
            policy=CallPolicy(timeout_seconds=5),
            breakers=Breakers(clock=syncro.clock),
            sleep=syncro.clock.sleep,
            jitter=lambda: 0.0,
        ),
        limiter=RequestLimiter(180, clock=syncro.clock, sleep=syncro.clock.sleep),
        transport=crashing,
    )

    # As in the polling tests: the sandbox's connectors, with Contoso's PSA the Syncro client.
    def connectors(self: Runtime, tenant: Tenant) -> Connectors:
        sandbox = Factory(self.sandbox).for_tenant(tenant)
        return dataclasses.replace(sandbox, psa=psa) if tenant.id == CONTOSO else sandbox

    monkeypatch.setattr(Runtime, "connectors", connectors)
    yield runtime
    runtime.close()


def planned_and_approved(rt: Runtime) -> tuple[int, str]:
    """Lisa's password reset, planned and every draft approved: deskhand's and Syncro's id."""
    received = add_ticket(rt, CONTOSO, LISA, "Forgot my password", "Please reset my password")
    Worker(rt, "planner").run_once()
    drafts = approvals.list_drafts(rt, None, status=None, ticket_id=received.ticket_id)
    assert [d.action for d in drafts][-1] == "psa.log_time"
    for draft in drafts:
        approvals.approve(rt, draft.id, APPROVER)
    return received.ticket_id, received.psa_ticket_id


def test_a_worker_killed_after_the_timer_entry_is_taken_over_and_it_is_found_not_logged_again(
    rt: Runtime, syncro: Client, crashing: DiesAtTimerEntry
) -> None:
    crashing.when = "after"
    ticket_id, psa_id = planned_and_approved(rt)

    with pytest.raises(Crash):
        Worker(rt, "doomed").run_once()
    with rt.db.session() as session:
        step = session.scalars(select(Step).where(Step.action == "psa.log_time")).one()
        assert step.status == "executing"  # started and logged, not verified
        key = step.idempotency_key
        # The dead worker's lease runs out.
        session.execute(update(Run).values(lease_expires_at=now()))
    Worker(rt, "rescuer").run_once()

    posts = syncro.standin.requests_to("POST", f"/api/v1/tickets/{psa_id}/timer_entry")
    assert len(posts) == 1
    [timer] = syncro.standin.tickets[int(psa_id)]["timers"]
    assert timer["notes"].endswith(f"[deskhand {key}]")
    assert (timer["end_time"] - timer["start_time"]).total_seconds() == 600
    with rt.db.reading() as session:
        step = session.scalars(select(Step).where(Step.action == "psa.log_time")).one()
        assert step.status == "verified"
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "resolved"
        events = session.scalars(
            select(EventRecord.type).where(EventRecord.ticket_id == ticket_id)
        ).all()
    assert events.count("step.recovered") == 1


def test_a_timer_entry_not_found_after_a_takeover_is_not_logged_again_but_escalated(
    rt: Runtime, syncro: Client, crashing: DiesAtTimerEntry
) -> None:
    """Logging time is not safe to repeat: the worker that stopped may only be paused, and
    post its entry when it wakes. So the one that takes over escalates instead."""
    crashing.when = "before"
    ticket_id, psa_id = planned_and_approved(rt)
    with pytest.raises(Crash):
        Worker(rt, "doomed").run_once()
    with rt.db.session() as session:
        session.execute(update(Run).values(lease_expires_at=now()))
    Worker(rt, "rescuer").run_once()

    assert syncro.standin.requests_to("POST", f"/api/v1/tickets/{psa_id}/timer_entry") == []
    with rt.db.reading() as session:
        step = session.scalars(select(Step).where(Step.action == "psa.log_time")).one()
        assert step.status == "uncertain"
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "escalated"
        found = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket_id)).one()
    assert found.reason == "uncertain_execution"
    assert "psa.log_time is not safe to repeat" in found.detail
