"""`deskhand users add | list | set-role | set-tenants | password | disable | enable | remove`
and `tokens create` as an operator runs them, on SQLite and PostgreSQL: every change takes,
says what it ended, and is an event naming the operator; a user with history is only disabled.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Analysis, EventRecord, User
from tests.web.conftest import add_users

NEW = "new.tech@msp.example"


class Desk:
    """A deskhand database (with the demo's tenants and users), driven through the CLI."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.env = {"DESKHAND_DATA_DIR": str(folder), "COLUMNS": "200"}
        self.folder = folder
        self.database_url = database_url

    def run(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(app, ["--db", self.database_url, *args], env=self.env)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code == code, result.output
        return result

    def users(self) -> dict[str, dict[str, Any]]:
        return {row["email"]: row for row in json.loads(self.run("users", "list", "--json").stdout)}


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    rt = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(rt, tickets=False)
    add_users(rt)
    with rt.db.session() as session:  # Dana started an analysis: she has history
        dana = session.execute(select(User).where(User.email == "dana@msp.example")).scalar_one()
        session.add(Analysis(created_by=dana.id, filename="export.csv", folder="1", status="done"))
    rt.close()
    yield Desk(tmp_path, database_url)


def test_a_users_life_from_added_to_removed(desk: Desk, database_url: str) -> None:
    added = desk.run("users", "add", NEW, "--role", "tech", "--tenants", "contoso-dental")
    assert f"Added {NEW} (tech, tenants: contoso-dental)." in added.stdout
    assert "Password (shown once):" in added.stdout
    assert desk.users()[NEW] == {
        "email": NEW,
        "name": NEW,
        "role": "tech",
        "tenants": ["contoso-dental"],
        "disabled": False,
    }

    assert "role tech → approver" in desk.run("users", "set-role", NEW, "approver").stdout
    scope = desk.run("users", "set-tenants", NEW, "contoso-dental,northwind-law").stdout
    assert f"{NEW} now sees: contoso-dental, northwind-law." in scope
    assert "now sees: all tenants" in desk.run("users", "set-tenants", NEW, "*").stdout

    desk.run("tokens", "create", "--as", NEW, "--name", "script")
    disabled = desk.run("users", "disable", NEW).stdout
    assert f"{NEW} is disabled; 0 browser sessions ended, 1 API token revoked." in disabled
    assert desk.users()[NEW]["disabled"] is True
    assert (
        "State" in desk.run("users", "list").stdout
        and "disabled" in desk.run("users", "list").stdout
    )
    refused = desk.run("tokens", "create", "--as", NEW, "--name", "again", code=2)
    assert f"{NEW} is disabled; a token for them would be refused." in refused.stderr
    assert "is disabled already" in desk.run("users", "disable", NEW, code=2).stderr

    assert "may sign in again" in desk.run("users", "enable", NEW).stdout
    assert "is not disabled" in desk.run("users", "enable", NEW, code=2).stderr
    desk.run("tokens", "create", "--as", NEW, "--name", "script")
    changed = desk.run("users", "password", NEW, "--password", "a long new password").stdout
    assert "0 browser sessions ended, 1 API token revoked" in changed

    assert f"{NEW} removed." in desk.run("users", "remove", NEW).stdout
    assert NEW not in desk.users()

    rt = Runtime.from_settings(Settings(data_dir=desk.folder, database_url=database_url))
    try:
        with rt.db.reading() as session:
            found = session.scalars(
                select(EventRecord).where(EventRecord.type.like("user.%")).order_by(EventRecord.id)
            ).all()
            recorded = [(e.type, e.actor_kind, e.actor) for e in found]
    finally:
        rt.close()
    operator = ("system", f"cli:{getpass.getuser()}")
    assert recorded == [
        (kind, *operator)
        for kind in (
            "user.added",
            "user.role_changed",
            "user.tenants_changed",
            "user.tenants_changed",
            "user.disabled",
            "user.enabled",
            "user.password_changed",
            "user.removed",
        )
    ]


def test_a_user_with_history_is_disabled_not_removed(desk: Desk) -> None:
    refused = desk.run("users", "remove", "dana@msp.example", code=2).stderr
    assert "dana@msp.example cannot be removed: they started 1 analysis(es)" in refused
    assert "Disable the account instead (`deskhand users disable dana@msp.example`)" in refused
    assert "dana@msp.example" in desk.users()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "disable", "nobody@msp.example"], "No user nobody@msp.example."),
        (["users", "set-role", "lee@msp.example", "boss"], "Unknown role 'boss'."),
        (["users", "set-tenants", "lee@msp.example", "nowhere"], "Unknown tenant(s): nowhere."),
        (["users", "set-tenants", "lee@msp.example", " , "], "Unknown tenant(s): (none given)."),
        (["users", "add", "lee@msp.example", "--role", "tech", "--tenants", "*"], "already a user"),
        (["tokens", "create", "--as", "nobody@msp.example", "--name", "x"], "No user nobody@"),
    ],
)
def test_wrong_input_is_named_with_exit_code_2(desk: Desk, args: list[str], message: str) -> None:
    assert message in desk.run(*args, code=2).stderr
