"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.support import WriteCsv, csv_text, postgres_database

# One Samba AD DC per session, shared by the LDAP tests and the end-to-end tests.
# One real Dovecot IMAP server per session, for the mailbox intake tests.
pytest_plugins = ["tests.connectors.ldap.fixtures", "tests.connectors.imap.fixtures"]


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The application database, once per backend: a SQLite file, then a throwaway database
    on the real PostgreSQL (named after the test's folder)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'deskhand.db'}"
        return
    folder = request.path.parent.name
    with postgres_database(f"deskhand_{folder}") as url:
        yield url
