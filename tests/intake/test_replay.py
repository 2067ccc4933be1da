"""`deskhand replay`: a PSA export's resolved tickets through triage, the specialists and
policy against the sandbox tenant, reported per category and specialist with the minutes they
cost — and nothing stored or changed anywhere (database rows and the sandbox's call log are the
same before and after). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.engine.runtime import Runtime
from deskhand.intake.replay import replay
from deskhand.store.models import (
    Approval,
    Escalation,
    EventRecord,
    Requester,
    Run,
    Step,
    Ticket,
)
from tests.support import WriteCsv

CONTOSO = "contoso-dental"
LISA = "lisa.chen@contosodental.example"
KAREN = "karen.whitfield@contosodental.example"
TICKETS = [
    "Ticket Number", "Ticket Subject", "Ticket Initial Issue", "Ticket Status",
    "Ticket Customer", "Ticket Created", "Ticket Contact", "Contact Email", "Ticket Issue Type",
]  # fmt: skip
LABOUR = ["Customer", "Ticket Number", "Tech", "Duration Minutes", "Created At"]


def export(write_csv: WriteCsv) -> list[Path]:
    def row(number: str, subject: str, body: str, status: str, who: str, kind: str) -> list[str]:
        name = "Lisa Chen" if who == LISA else "Karen Whitfield"
        return [number, subject, body, status, "Contoso Dental", "2026-11-02 09:00", name, who,
                kind]  # fmt: skip

    tickets = write_csv(
        "tickets.csv",
        TICKETS,
        [
            row(
                "101",
                "Forgot my password",
                "I forgot my password, please reset it",
                "Resolved",
                LISA,
                "Password",
            ),
            row(
                "102",
                "Access",
                "Please add Tom Becker to the Finance Share group.",
                "Resolved",
                KAREN,
                "Access",
            ),
            row(
                "103",
                "Printer jammed",
                "The printer on floor 2 keeps jamming paper.",
                "Resolved",
                KAREN,
                "Printer",
            ),
            row("104", "Forgot my password", "I forgot my password again", "New", LISA, "Password"),
        ],
    )
    labour = write_csv(
        "labour.csv",
        LABOUR,
        [
            ["Contoso Dental", "101", "Jo", "15", "2026-11-02 09:30"],
            ["Contoso Dental", "102", "Jo", "20", "2026-11-02 10:00"],
            ["Contoso Dental", "102", "Jo", "10", "2026-11-02 11:00"],
            ["Contoso Dental", "103", "Jo", "45", "2026-11-02 12:00"],
        ],
    )
    return [tickets, labour]


def footprint(rt: Runtime) -> tuple[object, ...]:
    """Every row count a side effect would change, and the sandbox's whole call log."""
    with rt.db.reading() as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in (Ticket, Run, Step, Approval, Escalation, EventRecord, Requester)
        )
    return counts, tuple(rt.sandbox.calls())


def test_replay_reports_each_resolved_ticket_and_changes_nothing(
    rt: Runtime, write_csv: WriteCsv
) -> None:
    paths = export(write_csv)
    before = footprint(rt)

    report = replay(rt, CONTOSO, paths)

    assert footprint(rt) == before
    by_number = {t.number: t for t in report.tickets}
    assert sorted(by_number) == ["101", "102", "103"]  # 104 is still open
    reset, access, printer = by_number["101"], by_number["102"], by_number["103"]
    assert (reset.outcome, reset.specialist, reset.minutes) == ("planned", "password_reset", 15), (
        reset.why
    )
    assert any("Reset the password" in s or "reset" in s.lower() for s in reset.steps)
    assert (access.outcome, access.specialist, access.minutes) == ("planned", "access_change", 30)
    assert any("tom.becker" in s for s in access.steps)
    assert printer.outcome == "abstained" and printer.specialist == ""
    assert printer.why  # says why triage did not route it
    groups = {(g.category, g.specialist): g for g in report.groups()}
    assert groups[("Printer", "")].minutes == 45
    assert groups[("Access", "access_change")].outcomes["planned"] == 1


def test_the_command_prints_per_category_at_80_columns_and_json(
    rt: Runtime, write_csv: WriteCsv
) -> None:
    paths = [str(p) for p in export(write_csv)]
    before = footprint(rt)
    runner = CliRunner()
    base = ["--db", rt.settings.database_url, "replay", *paths, "--tenant", CONTOSO]

    shown = runner.invoke(app, base, env={"COLUMNS": "80"})
    as_json = runner.invoke(app, [*base, "--json"], env={"COLUMNS": "80"})

    assert shown.exit_code == 0, shown.output
    assert "nothing was stored or changed" in shown.output
    assert "Printer" in shown.output and "access_change" in shown.output
    assert all(len(line) <= 80 for line in shown.output.splitlines())
    document = json.loads(as_json.stdout)
    assert {g["category"] for g in document["groups"]} == {"Password", "Access", "Printer"}
    assert footprint(rt) == before
    unknown = runner.invoke(app, [*base[:-1], "nobody"], env={"COLUMNS": "80"})
    assert unknown.exit_code == 2 and "No tenant nobody." in unknown.output
