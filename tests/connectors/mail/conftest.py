"""The real SMTP server the mail tests talk to, and the demo's runtime they send for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from tests.connectors.mail.server import SmtpServer, smtp_server


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    """The demo tenants (no tickets) on SQLite or PostgreSQL; each test connects its mail."""
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
