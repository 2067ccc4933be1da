"""Tenants above their connectors: checking every connection of a tenant at once (the doctor).
A tenant's connection file and its secret references are the connectors' own
(``deskhand.connectors.connection``, ``deskhand.connectors.secrets``); connectors never import
this package."""
