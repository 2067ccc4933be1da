"""The actions run against the real clients' stand-ins: the Graph stand-in's fixtures (the Samba
DC's come from tests/connectors/ldap/fixtures.py, a plugin of the whole suite)."""

from tests.connectors.graph.conftest import graph, m365, tenant, waits

__all__ = ["graph", "m365", "tenant", "waits"]
