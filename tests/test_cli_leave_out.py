"""`deskhand approvals leave-out` leaves one group of a waiting plan out from the command line,
on SQLite and on PostgreSQL: the plan shows which steps can be left out and by which draft, the
verb says the ticket is planned again without it, and a refusal is a message with a hint, never
a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from tests.test_cli_undo import CONTOSO, DANA, KAREN, run

STARTER = "New starter: Jane Doe joins the front desk today, same access as Jake Morrison please."
APP_USERS = "Practice Management App Users"


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


def starter_plan(rt: Runtime) -> approvals.PlanView:
    add_ticket(rt, CONTOSO, KAREN, "New starter", STARTER)
    Worker(rt, "test-worker").run_once()
    [plan] = approvals.list_plans(rt, DANA)
    return plan


def test_a_group_is_left_out_from_the_command_line(rt: Runtime) -> None:
    plan = starter_plan(rt)
    [step] = [s for s in plan.steps if s.gives == [APP_USERS]]

    shown = run(rt, "approvals", "plan", str(plan.run_id))
    assert f"to leave it out: deskhand approvals leave-out {step.approval_id}" in " ".join(
        shown.output.split()
    )
    done = run(
        rt,
        "approvals",
        "leave-out",
        str(step.approval_id),
        "--as",
        DANA,
        "--reason",
        "reception does not use the app",
    )

    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert f"{APP_USERS} left out of plan {plan.run_id}." in said
    assert "planned again without it" in said
    assert approvals.show_plan(rt, plan.run_id).pending == []


def test_leave_out_answers_json_and_refuses_a_step_with_no_group_with_a_hint(
    rt: Runtime,
) -> None:
    plan = starter_plan(rt)
    [account] = [s for s in plan.steps if s.action == "m365.create_user"]
    [step] = [s for s in plan.steps if s.gives == [APP_USERS]]

    refused = run(
        rt, "approvals", "leave-out", str(account.approval_id), "--as", DANA, "--reason", "no"
    )
    assert refused.exit_code == 2
    said = " ".join(refused.output.split())
    assert "gives no group or licence to leave out" in said
    assert "Reject the plan, or edit the step" in said

    done = run(
        rt,
        "approvals",
        "leave-out",
        str(step.approval_id),
        "--as",
        DANA,
        "--reason",
        "not needed",
        "--json",
    )
    document = json.loads(done.output)
    assert document["run_id"] == plan.run_id and document["new_run_id"] > plan.run_id
    assert [o["name"] for o in document["left_out"]] == [APP_USERS]
