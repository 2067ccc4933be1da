"""`deskhand intake import` as a user runs it: export files in, tickets stored once, every
skipped row accounted for, and a clear message (never a traceback) for a file it cannot use.
On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Ticket
from tests.support import WriteCsv

CONTOSO = "contoso-dental"
LISA = "lisa.chen@contosodental.example"
HEADER = [
    "id", "summary", "board", "status", "company", "type", "dateEntered", "contactName",
    "contactEmailAddress", "initialDescription",
]  # fmt: skip


def row(number: str, summary: str, status: str = "New", email: str = LISA) -> list[str]:
    return [
        number, summary, "Service Desk", status, "Contoso Dental", "Access",
        "2026-11-20T09:00:00Z", "Lisa Chen", email, f"{summary}, please.",
    ]  # fmt: skip


@pytest.fixture
def rt(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("DESKHAND_DATA_DIR", str(tmp_path))
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path, database_url=database_url))
    seed(runtime, tickets=False)
    yield runtime
    runtime.close()


@pytest.fixture
def export(write_csv: WriteCsv) -> Path:
    return write_csv(
        "cw.csv",
        HEADER,
        [
            row("24001", "Forgot my password"),
            row("24002", "Old one", status="Closed"),
            row("24003", "No address", email=""),
        ],
    )


def run(database_url: str, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--db", database_url, "intake", "import", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def said(result: Result) -> str:
    """The output with the terminal's line wrapping undone."""
    return " ".join(result.output.split())


def stored(rt: Runtime) -> list[str]:
    with rt.db.reading() as session:
        return list(session.scalars(select(Ticket.psa_ticket_id).order_by(Ticket.id)))


def test_import_stores_open_tickets_and_accounts_for_every_other_row(
    rt: Runtime, database_url: str, export: Path
) -> None:
    result = run(database_url, str(export), "--tenant", CONTOSO)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "cw.csv: ConnectWise Manage service tickets, 3 row(s), utf-8"
    assert lines[1] == "contoso-dental: 1 imported, 2 skipped"
    assert lines[2].startswith("  imported: connectwise:24001 (ticket ")
    assert "  skipped 1, closed: cw.csv row 3 (status 'Closed')" in lines
    assert "  skipped 1, no requester e-mail address: cw.csv row 4" in lines
    assert stored(rt) == ["connectwise:24001"]


def test_importing_the_same_export_again_stores_nothing(
    rt: Runtime, database_url: str, export: Path
) -> None:
    run(database_url, str(export), "--tenant", CONTOSO)
    result = run(database_url, str(export), "--tenant", CONTOSO, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["stored"] == []
    assert [(s["where"], s["reason"]) for s in document["skipped"]] == [
        ("cw.csv row 3", "closed"),
        ("cw.csv row 4", "no requester e-mail address"),
        ("cw.csv row 2", "already in deskhand"),
    ]
    assert stored(rt) == ["connectwise:24001"]


def test_a_dry_run_says_what_it_would_import_and_stores_nothing(
    rt: Runtime, database_url: str, export: Path
) -> None:
    result = run(database_url, str(export), "--tenant", CONTOSO, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "contoso-dental: 1 would be imported, 2 skipped" in result.output
    assert "  would be imported: connectwise:24001" in result.output
    assert "Nothing was stored (--dry-run)." in result.output
    assert stored(rt) == []
    with rt.db.reading() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 0


def test_all_imports_closed_tickets_too(rt: Runtime, database_url: str, export: Path) -> None:
    result = run(database_url, str(export), "--tenant", CONTOSO, "--all")
    assert result.exit_code == 0, result.output
    assert stored(rt) == ["connectwise:24001", "connectwise:24002"]


def test_unknown_columns_are_refused_with_the_map_that_fixes_them(
    rt: Runtime, database_url: str, write_csv: WriteCsv
) -> None:
    header = [("Requester Mail" if h == "contactEmailAddress" else h) for h in HEADER]
    path = write_csv("cw.csv", header, [row("24001", "Forgot my password")])
    result = run(database_url, str(path), "--tenant", CONTOSO)
    assert result.exit_code == 2
    assert "has no column for the requester's e-mail address" in said(result)
    assert "--map requester_email=COLUMN" in said(result)
    assert "Traceback" not in result.output
    assert stored(rt) == []
    fixed = run(
        database_url, str(path), "--tenant", CONTOSO, "--map", "requester_email=Requester Mail"
    )
    assert fixed.exit_code == 0, fixed.output
    assert stored(rt) == ["connectwise:24001"]


def test_a_map_of_an_unknown_field_lists_the_fields(
    rt: Runtime, database_url: str, export: Path
) -> None:
    result = run(database_url, str(export), "--tenant", CONTOSO, "--map", "colour=red")
    assert result.exit_code == 2
    assert "--map: unknown field 'colour'." in said(result)
    assert "requester_email" in said(result)


def test_a_format_the_file_is_not_says_so(rt: Runtime, database_url: str, export: Path) -> None:
    result = run(database_url, str(export), "--tenant", CONTOSO, "--format", "autotask")
    assert result.exit_code == 2
    assert "cw.csv does not look like a Autotask export" in said(result)
    assert stored(rt) == []


def test_a_utf16_export_from_excel_is_read(
    rt: Runtime, database_url: str, write_csv: WriteCsv
) -> None:
    row_ = row("24001", "Passwort vergessen")
    row_[7] = "Jürgen Groß"
    path = write_csv("cw.csv", HEADER, [row_], delimiter="\t", encoding="utf-16")
    result = run(database_url, str(path), "--tenant", CONTOSO, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["encoding"] == "utf-16"
    with rt.db.reading() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.requester_display_name == "Jürgen Groß"


def test_an_unknown_tenant_is_refused(rt: Runtime, database_url: str, export: Path) -> None:
    result = run(database_url, str(export), "--tenant", "nope")
    assert result.exit_code == 2
    assert "No tenant 'nope'." in said(result) and CONTOSO in said(result)
