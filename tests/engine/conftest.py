"""A real runtime for engine tests: the application database on a SQLite file or on the
machine's real PostgreSQL (a throwaway database per test), the sandbox client systems in a
SQLite file of their own, and the demo tenants and users seeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support import postgres_database

from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        lease_seconds=30,
        poll_seconds=0.05,
    )


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime.from_settings(settings)
    seed(runtime, tickets=False)
    yield runtime
    runtime.close()


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings on PostgreSQL only, for what is about PostgreSQL's row locks."""
    with postgres_database("deskhand_workers") as url:
        yield Settings(
            data_dir=tmp_path,
            database_url=url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
            lease_seconds=30,
            poll_seconds=0.05,
        )


@pytest.fixture
def pg_rt(pg_settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime.from_settings(pg_settings)
    seed(runtime, tickets=False)
    yield runtime
    runtime.close()
