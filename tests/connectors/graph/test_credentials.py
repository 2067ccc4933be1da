"""How the Graph app proves itself: a client secret or a certificate, and the settings that
say which, refused with what to do when they cannot work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from deskhand.connectors.errors import AuthenticationError, ConnectorError
from deskhand.connectors.graph import GraphSettings
from tests.connectors.graph.conftest import Tenant, Waits, client_for
from tests.connectors.graph.standin import CLIENT_ID, MS_TENANT, GraphStandIn


def app_certificate(folder: Path) -> tuple[x509.Certificate, Path, str]:
    """A self-signed certificate as uploaded to an app registration: the certificate, the PEM
    file of its private key, and the SHA-1 thumbprint Entra shows."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deskhand-contoso")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = folder / "deskhand-contoso.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate, path, certificate.fingerprint(hashes.SHA1()).hex().upper()


def test_a_certificate_signs_in_instead_of_a_secret(
    graph: GraphStandIn, tenant: Tenant, waits: Waits, tmp_path: Path
) -> None:
    certificate, key_path, thumbprint = app_certificate(tmp_path)
    graph.certificate = certificate
    client = client_for(
        graph, waits, secret="", certificate_path=key_path, certificate_thumbprint=thumbprint
    )

    assert client.get_user(tenant.ada).display_name == "Ada Lovelace"
    assert graph.token_requests == 1


def test_a_certificate_entra_does_not_know_is_refused(
    graph: GraphStandIn, tenant: Tenant, waits: Waits, tmp_path: Path
) -> None:
    registered, _, _ = app_certificate(tmp_path / "..")
    graph.certificate = registered
    _, other_key, other_thumbprint = app_certificate(tmp_path)
    client = client_for(
        graph, waits, secret="", certificate_path=other_key, certificate_thumbprint=other_thumbprint
    )

    with pytest.raises(AuthenticationError, match="AADSTS700027"):
        client.get_user(tenant.ada)


def test_no_secret_and_no_certificate_says_where_to_make_one(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    with pytest.raises(ConnectorError) as caught:
        client_for(graph, waits, secret="").get_user(tenant.ada)

    assert caught.value.message == "no client secret and no certificate for the Graph app"
    assert caught.value.fix is not None and "Certificates & secrets" in caught.value.fix


def test_an_unknown_tenant_says_to_copy_the_tenant_id(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    client = client_for(graph, waits, ms_tenant_id="nosuch.onmicrosoft.com")

    with pytest.raises(AuthenticationError) as caught:
        client.get_user(tenant.ada)

    assert caught.value.fix is not None and "Tenant ID" in caught.value.fix


def test_settings_default_to_microsofts_public_cloud() -> None:
    settings = GraphSettings(ms_tenant_id=MS_TENANT, client_id=CLIENT_ID)

    assert settings.authority == f"https://login.microsoftonline.com/{MS_TENANT}"
    assert settings.graph_base_url == "https://graph.microsoft.com/v1.0"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"graph_base_url": "http://graph.example/v1.0"}, "is not an https URL"),
        ({"certificate_path": "/etc/deskhand/app.pem"}, "a certificate needs both"),
        ({"ms_tenant_id": ""}, "at least 1 character"),
    ],
)
def test_settings_that_cannot_work_are_refused_with_what_to_do(
    changes: dict[str, str], problem: str
) -> None:
    values = {"ms_tenant_id": MS_TENANT, "client_id": CLIENT_ID} | changes

    with pytest.raises(ValidationError, match=problem):
        GraphSettings.model_validate(values)
