"""A proxy or error page that echoes deskhand's request to Microsoft — the token request with the
client secret in its form body, a Graph request with the access token and a new password — never
gets those secrets into what the Graph connector says: its errors, its doctor's findings, the
log."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote_plus

import pytest

from deskhand.connectors.errors import AuthenticationError, ConnectorError, UnavailableError
from tests.connectors.graph.conftest import Tenant, Waits, client_for
from tests.connectors.graph.standin import GraphStandIn
from tests.connectors.graph.test_credentials import app_certificate

SECRET = "Gr4ph~secret/with+some=chars"  # its form encoding differs from it
NEW_PASSWORD = "Temp#Passw0rd-4-Bob"


@pytest.fixture
def secret(graph: GraphStandIn) -> str:
    graph.secret = SECRET
    return SECRET


def _none_of(secrets: list[str], *texts: str | None) -> None:
    for text in texts:
        for value in secrets:
            assert value not in (text or "") and quote_plus(value) not in (text or "")


ECHOES = {
    "gateway page": (502, False),
    "proxy page": (407, False),
    "JSON error": (400, True),
}


@pytest.mark.parametrize(("status", "as_json"), ECHOES.values(), ids=ECHOES.keys())
def test_a_token_request_echoed_back_leaves_the_doctor_without_the_client_secret(
    graph: GraphStandIn,
    tenant: Tenant,
    waits: Waits,
    secret: str,
    caplog: pytest.LogCaptureFixture,
    status: int,
    as_json: bool,
) -> None:
    graph.echo_next("/oauth2/v2.0/token", status, as_json=as_json)

    findings = client_for(graph, waits, secret=secret).doctor()

    assert [(f.check, f.outcome) for f in findings] == [("token", "fail")]
    token = findings[0]
    assert "client_secret=[redacted: Graph client secret]" in token.detail
    assert token.fix  # what to do is still said
    _none_of([secret], token.detail, token.fix, caplog.text)


def test_a_token_request_echoed_by_a_gateway_fails_a_call_retried_without_the_secret(
    graph: GraphStandIn, tenant: Tenant, waits: Waits, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    graph.echo_next("/oauth2/v2.0/token", 502, times=3)

    with pytest.raises(UnavailableError) as caught:
        client_for(graph, waits, secret=secret).get_user(tenant.ada)

    error = caught.value
    assert len(waits.seconds) == 2  # retried as any 5xx is, three attempts in all
    assert "HTTP 502" in error.message
    assert "client_secret=[redacted: Graph client secret]" in error.message
    assert "proxy or firewall" in (error.fix or "")
    assert error.__cause__ is None and error.__context__ is None
    _none_of([secret], str(error), caplog.text)


def test_an_html_page_instead_of_a_token_is_not_logged_with_the_secret_by_msal(
    graph: GraphStandIn, tenant: Tenant, waits: Waits, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    graph.echo_next("/oauth2/v2.0/token", 400)

    with pytest.raises(AuthenticationError) as caught:
        client_for(graph, waits, secret=secret).get_user(tenant.ada)

    msal_said = [r for r in caplog.records if r.name.startswith("msal")]
    assert msal_said and "[redacted: Graph client secret]" in caplog.text  # msal logs the page
    assert "HTTP 400" in caught.value.message
    _none_of([secret], str(caught.value), caplog.text)


def test_a_password_reset_echoed_back_shows_neither_the_token_nor_the_new_password(
    graph: GraphStandIn, tenant: Tenant, waits: Waits, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    m365 = client_for(graph, waits, secret=secret)
    token = m365.token.bearer()
    graph.echo_next("PATCH /v1.0/users/", 400)

    with pytest.raises(ConnectorError) as caught:
        m365.reset_password(tenant.bob, NEW_PASSWORD, force_change=True)

    said = str(caught.value)
    assert "PATCH /v1.0/users/" in said
    assert "[redacted: new password]" in said
    _none_of([token, NEW_PASSWORD, secret], said, caplog.text)
    # Graph's own refusal keeps the first 300 characters of the page: the access token is cut
    # off in it, and what is left of it is redacted too.
    graph.echo_next("GET /v1.0/groups/", 400)
    with pytest.raises(ConnectorError) as cut:
        m365.group_members(tenant.sales)
    assert len(cut.value.message) < 300
    assert cut.value.message.endswith("Authorization: Bearer [redacted: Graph access token]")
    assert token[:8] not in cut.value.message


def test_a_certificates_private_key_is_among_the_secrets_the_connector_redacts(
    graph: GraphStandIn, tenant: Tenant, waits: Waits, tmp_path: Path
) -> None:
    certificate, key_path, thumbprint = app_certificate(tmp_path)
    graph.certificate = certificate
    m365 = client_for(
        graph, waits, secret="", certificate_path=key_path, certificate_thumbprint=thumbprint
    )
    m365.get_user(tenant.ada)  # signs in with the key
    key = key_path.read_text()

    said = m365.redactor(f"could not load {key}")

    body = [line for line in key.splitlines() if not line.startswith("-----")]
    assert not any(line in said for line in body if len(line) >= 8)
    assert said.count("[redacted: Graph certificate key]") == len([b for b in body if len(b) >= 8])
