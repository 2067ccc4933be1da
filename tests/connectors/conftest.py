"""The sandbox, seeded with the two demo tenants, on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deskhand.connectors.sandbox.seed import seed_demo
from deskhand.connectors.sandbox.store import SandboxStore


@pytest.fixture
def url(database_url: str) -> str:
    """The sandbox's database: a SQLite file, then a throwaway PostgreSQL database."""
    return database_url


@pytest.fixture
def seeded_store(url: str) -> Iterator[SandboxStore]:
    sandbox = SandboxStore(url)
    seed_demo(sandbox)
    yield sandbox
    sandbox.dispose()
