"""Intake tests run on the engine tests' runtime: the application database on a SQLite file or
on the machine's real PostgreSQL, the sandbox client systems, the demo tenants and users."""

from tests.engine.conftest import rt, settings  # noqa: F401
