"""The engine's runtime fixtures (a SQLite file and the real PostgreSQL, the sandbox, the demo
tenants and users), for the escalation tests."""

from tests.engine.conftest import pg_rt, pg_settings, rt, settings

__all__ = ["pg_rt", "pg_settings", "rt", "settings"]
