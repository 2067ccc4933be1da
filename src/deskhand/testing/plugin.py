"""The kit's pytest plugin (entry point ``pytest11: deskhand``): fixtures for plugin tests.
Imports nothing heavy: it is loaded by every pytest run where deskhand is installed."""

from __future__ import annotations

import socket
from typing import Any

import pytest


@pytest.fixture
def no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket or a database during the test fails it."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a specialist tried to do I/O while planning")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr("sqlalchemy.create_engine", refuse)
