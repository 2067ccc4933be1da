"""The PSA stays in step: a ticket deskhand works in a Syncro tenant (the stand-in, checked
against Syncro's OpenAPI document) goes In Progress when its plan is drafted, Resolved when the
plan has run — with an internal note naming who approved it — and follows the tenant's own
status map; a status Syncro refuses is recorded and never stops the work."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from deskhand.audit.trace import trace
from deskhand.config import Settings
from deskhand.connectors.factory import Connectors, Factory
from deskhand.connectors.syncro import SyncroPsa, SyncroSettings
from deskhand.connectors.syncro.settings import DEFAULT_STATUSES
from deskhand.demo import seed
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import EventRecord, Tenant
from tests.connectors.syncro.conftest import Client

LISA = "lisa.chen@contosodental.example"
KAREN = "karen.whitfield@contosodental.example"  # the office manager
APPROVER = "dana@msp.example"
SWAGGER = Path(__file__).resolve().parents[4] / "shared" / "contracts" / "syncro-swagger.json"


def syncro_rt(
    tmp_path: Path, syncro: Client, monkeypatch: pytest.MonkeyPatch, statuses: dict[str, str]
) -> Runtime:
    """The demo (sandbox Microsoft 365 and AD), with contoso-dental's PSA on the stand-in."""
    syncro.standin.add_contact(syncro.customer_id, "Lisa Chen", LISA)
    base = syncro.psa()
    psa = SyncroPsa(
        "contoso-dental",
        SyncroSettings(
            base_url=syncro.standin.base_url, customer_id=syncro.customer_id, statuses=statuses
        ),
        "T0k3n-for-the-stand-in",
        caller=base.caller,
        limiter=base.limiter,
    )

    def connectors(self: Runtime, tenant: Tenant) -> Connectors:
        sandbox = Factory(self.sandbox).for_tenant(tenant)
        return dataclasses.replace(sandbox, psa=psa) if tenant.id == "contoso-dental" else sandbox

    monkeypatch.setattr(Runtime, "connectors", connectors)
    rt = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'deskhand.db'}",
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(rt, tickets=False)
    return rt


@pytest.fixture
def rt(tmp_path: Path, syncro: Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = syncro_rt(tmp_path, syncro, monkeypatch, dict(DEFAULT_STATUSES))
    yield runtime
    runtime.close()


def status_in_syncro(syncro: Client, psa_ticket_id: str) -> str:
    return str(syncro.standin.tickets[int(psa_ticket_id)]["status"])


def followed(rt: Runtime, ticket_id: int) -> list[tuple[str, str, str]]:
    with rt.db.reading() as session:
        rows = session.scalars(
            select(EventRecord.data)
            .where(EventRecord.ticket_id == ticket_id, EventRecord.type == "psa.status_followed")
            .order_by(EventRecord.id)
        )
        return [(d["stage"], d["status"], d["outcome"]) for d in rows]


def test_the_syncro_ticket_follows_each_stage_and_names_its_approver(
    rt: Runtime, syncro: Client
) -> None:
    arrived = add_ticket(
        rt, "contoso-dental", LISA, "Forgot my password", "I forgot my password, please reset it"
    )
    psa_id = arrived.psa_ticket_id
    assert status_in_syncro(syncro, psa_id) == "New"

    Worker(rt, "w").run_once()
    assert status_in_syncro(syncro, psa_id) == "In Progress"  # drafts waiting

    [plan] = approvals.list_plans(rt, APPROVER)
    approvals.approve_plan(rt, plan.run_id, APPROVER)
    Worker(rt, "w").run_once()

    assert status_in_syncro(syncro, psa_id) == "Resolved"
    assert followed(rt, arrived.ticket_id) == [
        ("working", "In Progress", "set"),
        ("resolved", "Resolved", "set"),
    ]
    notes = [c.body for c in syncro.psa().list_comments(psa_id) if c.hidden]
    assert any(f"Approved by {APPROVER} in deskhand" in body for body in notes)
    with rt.db.reading() as session:
        lines = [line.summary for line in trace(session, arrived.ticket_id).lines]
    assert 'PSA status set to "Resolved" (resolved)' in lines


def test_an_escalated_ticket_takes_the_tenants_own_status_and_a_refused_one_is_recorded(
    tmp_path: Path, syncro: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapped = {"working": "Scheduled", "escalated": "Waiting for Parts", "resolved": "Done-ish"}
    runtime = syncro_rt(tmp_path, syncro, monkeypatch, mapped)
    try:
        rejected = add_ticket(
            runtime, "contoso-dental", LISA, "Forgot my password", "Please reset my password"
        )
        Worker(runtime, "w").run_once()
        assert status_in_syncro(syncro, rejected.psa_ticket_id) == "Scheduled"
        [plan] = approvals.list_plans(runtime, APPROVER)
        approvals.reject_plan(runtime, plan.run_id, APPROVER, "Lisa is on leave")
        assert status_in_syncro(syncro, rejected.psa_ticket_id) == "Waiting for Parts"

        done = add_ticket(
            runtime, "contoso-dental", LISA, "Password", "I forgot my password, please reset it"
        )
        Worker(runtime, "w").run_once()
        [plan] = approvals.list_plans(runtime, APPROVER)
        approvals.approve_plan(runtime, plan.run_id, APPROVER)
        Worker(runtime, "w").run_once()

        # "Done-ish" is not a status of this Syncro account: recorded, and the work went on.
        stage, status, outcome = followed(runtime, done.ticket_id)[-1]
        assert (stage, status) == ("resolved", "Done-ish")
        assert outcome.startswith("not set:") and "Status is not included in the list" in outcome
        assert status_in_syncro(syncro, done.psa_ticket_id) == "Scheduled"
        assert approvals.show_plan(runtime, plan.run_id).steps[0].status == "verified"
    finally:
        runtime.close()


def test_the_default_statuses_are_syncros_own() -> None:
    swagger = json.loads(SWAGGER.read_text(encoding="utf-8"))
    listed: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "ticket_status_list" and isinstance(value, list):
                    listed.update(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(swagger)
    assert listed, "the swagger no longer lists Syncro's ticket statuses"
    assert set(DEFAULT_STATUSES.values()) <= listed


def test_a_status_map_with_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage finished"):
        SyncroSettings(
            base_url="https://acme.syncromsp.com", customer_id=1, statuses={"finished": "Resolved"}
        )


def test_a_question_to_the_requester_waits_on_the_customer_in_syncro(
    rt: Runtime, syncro: Client
) -> None:
    syncro.standin.add_contact(syncro.customer_id, "Karen Whitfield", KAREN)
    asked = add_ticket(
        rt, "contoso-dental", KAREN, "Reset", "Please reset the password for Tomasz."
    )
    Worker(rt, "w").run_once()
    [plan] = approvals.list_plans(rt, APPROVER)
    assert [s.action for s in plan.steps][-1] == "psa.send_reply"  # the question
    approvals.approve_plan(rt, plan.run_id, APPROVER)
    Worker(rt, "w").run_once()

    assert status_in_syncro(syncro, asked.psa_ticket_id) == "Waiting on Customer"
    assert followed(rt, asked.ticket_id) == [
        ("working", "In Progress", "set"),
        ("waiting", "Waiting on Customer", "set"),
    ]
