"""``ca_file``: the CA of a TLS-inspecting proxy between deskhand and Microsoft, trusted for
both the sign-in (msal) and Graph. The stand-in's private CA plays the proxy's."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.connection import parse_connection
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.graph import GraphM365
from deskhand.errors import InputError
from tests.connectors.graph.conftest import Tenant, settings_for
from tests.connectors.graph.standin import CLIENT_SECRET, GraphStandIn


def connector(graph: GraphStandIn, **changes: object) -> GraphM365:
    """The client as the factory builds it: no transport of the test's, only its settings."""
    caller = Caller(
        "contoso", "graph", policy=CallPolicy(timeout_seconds=5, attempts=1), breakers=Breakers()
    )
    return GraphM365("contoso", settings_for(graph, **changes), CLIENT_SECRET, caller=caller)


def test_the_ca_in_ca_file_is_trusted_for_sign_in_and_graph(
    graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    ca_file = tmp_path / "proxy-ca.pem"
    graph.ca.cert_pem.write_to_path(str(ca_file))
    m365 = connector(graph, ca_file=ca_file)
    try:
        assert m365.get_user(tenant.bob).user_principal_name == "bob@contoso.com"
    finally:
        m365.close()
    assert graph.token_requests == 1  # the token came through the same trust


def test_without_ca_file_a_private_ca_is_not_trusted(graph: GraphStandIn, tenant: Tenant) -> None:
    m365 = connector(graph)
    try:
        with pytest.raises(ConnectorError) as refused:
            m365.get_user(tenant.bob)
    finally:
        m365.close()
    assert "certificate" in str(refused.value).lower()
    assert graph.token_requests == 0


def _tenant_file(ca_file: Path) -> str:
    return (
        "name: Contoso\n"
        "m365:\n"
        "  kind: graph\n"
        "  ms_tenant_id: contoso.onmicrosoft.com\n"
        "  client_id: 11111111-2222-3333-4444-555555555555\n"
        "  client_secret: env:GRAPH_SECRET\n"
        f"  ca_file: {ca_file}\n"
    )


def test_a_ca_file_without_a_certificate_is_refused_when_the_file_is_read(
    tmp_path: Path,
) -> None:
    not_pem = tmp_path / "proxy-ca.cer"
    not_pem.write_bytes(b"\x30\x82\x01\x0a not a PEM file")
    with pytest.raises(InputError) as refused:
        parse_connection(_tenant_file(not_pem), tmp_path / "contoso.yaml")
    message = refused.value.message
    assert message.startswith("contoso.yaml, line 7: `m365.ca_file`")
    assert "PEM" in message


def test_a_missing_ca_file_is_refused_when_the_file_is_read(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(InputError) as refused:
        parse_connection(_tenant_file(missing), tmp_path / "contoso.yaml")
    assert f"{missing}, which does not exist" in refused.value.message
