"""`deskhand tenants shadow | live` and `deskhand tickets worked` on SQLite and PostgreSQL: an
admin moves a tenant, `tenants list` shows its mode, anyone else is refused with a message, and
a technician marks a shadowed ticket worked and reads how deskhand's plan compared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket

CONTOSO = "contoso-dental"
KAREN = "karen.whitfield@contosodental.example"


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


def modes(rt: Runtime) -> dict[str, tuple[str, dict[str, str]]]:
    rows = json.loads(run(rt, "tenants", "list", "--json").output)
    return {row["id"]: (row["mode"], row["specialist_modes"]) for row in rows}


def test_only_an_admin_moves_a_tenant_and_the_list_shows_it(rt: Runtime) -> None:
    refused = run(rt, "tenants", "shadow", CONTOSO, "--as", "dana@msp.example", "--reason", "x")
    assert refused.exit_code == 2
    assert "only an admin" in " ".join(refused.output.split())
    assert modes(rt)[CONTOSO] == ("live", {})

    moved = run(
        rt, "tenants", "shadow", CONTOSO, "--specialist", "access_change",
        "--as", "sam@msp.example", "--reason", "new specialist version",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.output
    assert "access_change for contoso-dental is now shadow (was live)" in moved.output
    assert modes(rt)[CONTOSO] == ("live", {"access_change": "shadow"})
    listed = run(rt, "tenants", "list").output
    assert "shadow" in listed  # the Mode column: live (access_change: shadow)


def test_a_technician_marks_a_shadowed_ticket_worked(rt: Runtime) -> None:
    run(rt, "tenants", "shadow", CONTOSO, "--as", "sam@msp.example", "--reason", "trial")
    ticket = add_ticket(
        rt, CONTOSO, KAREN, "Access", "Please add Tom Becker to the Finance Share group."
    ).ticket_id
    Worker(rt, "test-worker").run_once()

    worked = run(rt, "tickets", "worked", str(ticket), "--as", "lee@msp.example")

    assert worked.exit_code == 0, worked.output
    assert f"Ticket {ticket} resolved. deskhand's shadow plan: not matched." in worked.output
    again = run(rt, "tickets", "worked", str(ticket), "--as", "lee@msp.example")
    assert again.exit_code == 2 and "no shadow plan to compare" in again.output
