"""Shared fixtures."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from deskhand import accounts
from deskhand.store.db import Database
from tests.support import WriteCsv, csv_text, postgres_database

# One Samba AD DC per session, shared by the LDAP tests and the end-to-end tests.
# One real Dovecot IMAP server per session, for the mailbox intake tests.
pytest_plugins = ["tests.connectors.ldap.fixtures", "tests.connectors.imap.fixtures"]


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes() -> Iterator[None]:
    """Passwords hashed with argon2id at its cheapest settings in the tests' own process: a
    hash at deskhand's settings takes about half a second, and nearly every test seeds the
    demo approver's password or signs someone in. Same library, same algorithm, same code;
    test_accounts checks deskhand's own settings."""
    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = saved


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """Write a CSV file into the test's folder: ``write_csv(name, header, rows, **options)``."""

    def write(
        name: str,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
    ) -> Path:
        path = tmp_path / name
        path.write_bytes(csv_text(header, rows, delimiter).encode(encoding))
        return path

    return write


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with deskhand's schema, made once per session (per xdist worker) by the
    real migrations: each test starts from a copy instead of migrating its own."""
    path = tmp_path_factory.mktemp("schema") / "deskhand.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.engine.dispose()  # the last connection checkpoints the write-ahead log
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A PostgreSQL database with deskhand's schema, made once per session (per xdist worker)
    by the real migrations: the template each test's throwaway database is copied from."""
    with postgres_database("deskhand_schema") as url:
        database = Database(url)
        database.upgrade()
        database.engine.dispose()  # a template is copied only with nobody connected
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The application database, once per backend, already at the newest schema: a copy of
    ``sqlite_schema`` in the test's folder, then a throwaway copy of ``postgres_schema`` on the
    real PostgreSQL (named after the test's folder). Upgrading it again changes nothing;
    the migrations themselves are tested from an empty database in test_migrations."""
    if request.param == "sqlite":
        path = tmp_path / "deskhand.db"
        shutil.copyfile(request.getfixturevalue("sqlite_schema"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_schema")
    folder = request.path.parent.name
    with postgres_database(f"deskhand_{folder}", template) as url:
        yield url


# pytest-xdist gives its workers COLUMNS=80, which Rich would freeze into the command line's
# consoles when they are made: each CLI test sets the width it reads at instead. Done when this
# file is imported, before a conftest below it (tests/e2e's, when a run names that folder)
# imports the command line.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)


# Under pytest-xdist (`make test` runs two workers), tests that share one expensive server for
# the session run on the same worker, so that each server is started once.
_SHARED_SERVERS = {"samba": "samba-dc", "dovecot_server": "dovecot", "desk": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture, group in _SHARED_SERVERS.items():
            if fixture in fixtures:
                item.add_marker(pytest.mark.xdist_group(group))
                break
