"""`deskhand escalations` works the human queue to the end from the command line, on SQLite
and on PostgreSQL: the queue is listed oldest first with its filters, an escalation is taken,
noted, shown and resumed after a phone verification, and a mistake is a message, never a
traceback."""

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
JAKE = "jake.morrison@contosodental.example"  # a receptionist, not authorised for others
LEE = "lee@msp.example"  # a tech of Contoso Dental only
RILEY = "riley@msp.example"  # an approver of Northwind Law only
PHONE = "called Priya back on 555-0100, the number on file"


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


def escalated_reset(rt: Runtime) -> None:
    add_ticket(rt, CONTOSO, JAKE, "Reset", "Please reset the password for Priya Raman.")
    Worker(rt, "test-worker").run_once()


def test_the_queue_is_taken_noted_and_resumed_with_fresh_drafts(rt: Runtime) -> None:
    escalated_reset(rt)
    listed = run(rt, "escalations", "list", "--as", LEE)
    assert listed.exit_code == 0
    assert "#1  Contoso Dental · ticket 1 · open · not taken" in listed.output
    assert "the requester could not be verified" in listed.output
    assert all(len(line) <= 80 for line in listed.output.splitlines())

    assert run(rt, "escalations", "take", "1", "--as", LEE).output.strip() == (
        "Escalation 1 is yours now."
    )
    noted = run(rt, "escalations", "note", "1", "Jake says Priya is on leave.", "--as", LEE)
    assert "written on the PSA ticket" in noted.output
    shown = run(rt, "escalations", "show", "1", "--as", LEE)
    assert "Worked by: lee@msp.example" in shown.output
    assert "Jake says Priya is on leave." in shown.output

    mine = json.loads(run(rt, "escalations", "list", "--assignee", LEE, "--json").output)
    assert [e["id"] for e in mine] == [1]
    nobody = json.loads(run(rt, "escalations", "list", "--assignee", "nobody", "--json").output)
    assert nobody == []

    resumed = run(rt, "escalations", "resume", "1", "--verified", PHONE, "--as", LEE)
    assert resumed.exit_code == 0, resumed.output
    assert "Ticket 1 is queued again" in resumed.output
    assert "The human queue is empty." in run(rt, "escalations", "list").output
    closed = json.loads(run(rt, "escalations", "list", "--all", "--json").output)
    assert [(e["closed_as"], e["verification"]) for e in closed] == [("resumed", PHONE)]

    Worker(rt, "test-worker").run_once()
    drafts = json.loads(run(rt, "approvals", "list", "--json").output)
    assert drafts and {d["ticket_id"] for d in drafts} == {1}


def test_mistakes_are_messages_with_a_hint(rt: Runtime) -> None:
    escalated_reset(rt)
    outside = run(rt, "escalations", "take", "1", "--as", RILEY)
    assert outside.exit_code == 2
    assert "There is no escalation 1." in outside.output
    assert "deskhand escalations list" in outside.output
    age = run(rt, "escalations", "list", "--older-than", "soon")
    assert age.exit_code == 2
    assert "not an age" in age.output
    empty = run(rt, "escalations", "resolve", "1", "  ", "--as", LEE)
    assert empty.exit_code == 2
    assert "The resolution is empty." in empty.output
    scoped = run(rt, "escalations", "list", "--as", RILEY)
    assert "The human queue is empty." in scoped.output
