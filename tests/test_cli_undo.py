"""`deskhand approvals undo-plan` proposes undoing a finished plan from the command line, on
SQLite and on PostgreSQL: the new plan is printed with what deskhand cannot undo, it waits for
an approval like any plan, and a refusal is a message with a hint, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.connectors.sandbox.store import SandboxUser
from deskhand.demo import seed
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket

CONTOSO = "contoso-dental"
KAREN = "karen.whitfield@contosodental.example"
MARCUS = "marcus.lee@contosodental.example"
DANA = "dana@msp.example"  # an approver of every tenant
LEE = "lee@msp.example"  # a tech of Contoso Dental only


@pytest.fixture
def rt(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("DESKHAND_DATA_DIR", str(tmp_path))
    runtime = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(runtime, tickets=False)
    yield runtime
    runtime.close()


def run(rt: Runtime, *args: str) -> Result:
    result = CliRunner().invoke(
        app, ["--db", rt.settings.database_url, *args], env={"COLUMNS": "80"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def offboarded(rt: Runtime) -> int:
    """Marcus offboarded, approved and run to the end: the plan's number."""
    add_ticket(rt, CONTOSO, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left.")
    Worker(rt, "test-worker").run_once()
    [plan] = approvals.list_plans(rt, DANA)
    with rt.sandbox.session() as session:  # the manual step, done in Exchange admin center
        marcus = session.scalars(select(SandboxUser).where(SandboxUser.upn == MARCUS)).one()
        marcus.mailbox_purpose = "shared"
    approvals.approve_plan(rt, plan.run_id, DANA)
    Worker(rt, "test-worker").run_once()
    return plan.run_id


def test_an_undo_is_proposed_as_a_plan_that_waits_for_approval(rt: Runtime) -> None:
    offboarding = offboarded(rt)

    proposed = run(rt, "approvals", "undo-plan", str(offboarding), "--as", DANA)

    assert proposed.exit_code == 0, proposed.output
    undo = offboarding + 1
    assert f"Plan {undo} undoes plan {offboarding}: approve it like any plan" in proposed.output
    words = " ".join(proposed.output.split())
    assert f"Allow {MARCUS} to sign in to Microsoft 365 again" in words
    assert "Left for a technician (deskhand does not do these):" in words
    assert "cannot be undone by deskhand: the user registers MFA again" in words
    assert all(len(line) <= 80 for line in proposed.output.splitlines())
    waiting = json.loads(run(rt, "approvals", "plans", "--json").output)
    assert [(p["run_id"], p["specialist"], p["undo_of"]) for p in waiting] == [
        (undo, "undo", offboarding)
    ]

    again = run(rt, "approvals", "undo-plan", str(offboarding), "--as", DANA, "--json")
    assert again.exit_code == 2
    assert f"The undo of plan {offboarding} is proposed already: plan {undo}" in again.output
    assert f"/plans/{undo}" in again.output  # where to find it


def test_a_refused_undo_is_a_message_with_a_hint(rt: Runtime) -> None:
    offboarding = offboarded(rt)
    tech = run(rt, "approvals", "undo-plan", str(offboarding), "--as", LEE)
    assert tech.exit_code == 2
    assert "lee@msp.example is a tech" in " ".join(tech.output.split())
    missing = run(rt, "approvals", "undo-plan", "99", "--as", DANA)
    assert missing.exit_code == 2 and "No plan 99." in missing.output
    listed = json.loads(run(rt, "approvals", "plans", "--json").output)
    assert listed == []  # nothing was proposed
