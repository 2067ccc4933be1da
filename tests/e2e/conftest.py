"""One client of the MSP, connected for real: its tickets in the Syncro stand-in, its Microsoft
365 in the Graph stand-in (HTTPS under a private CA), its Active Directory in the session's Samba
DC, and a deskhand installation whose tenant connection file — written by `deskhand tenants add`
— points at all three, with its secrets as ``env:`` references.

The same people are seeded consistently in each system: Pat (synced from AD: same UPN in Graph
and Samba), Kim (cloud-only) and Olga (the office manager, an authorised contact).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.engine.runtime import Runtime
from tests.connectors.graph.standin import CLIENT_ID, CLIENT_SECRET, MS_TENANT, GraphStandIn
from tests.connectors.ldap.fixtures import MakeUser
from tests.connectors.ldap.samba_dc import (
    BASE_DN,
    CERT_NAME,
    SERVICE_PASSWORD,
    SERVICE_USER,
    SambaDC,
)
from tests.connectors.ldap.support import Person
from tests.connectors.syncro.standin import SyncroStandIn

TENANT = "northbridge"
DOMAIN = "client.example"
APPROVER = "approver@msp.example"
ADMIN = "admin@msp.example"
KIM = f"kim.cloud@{DOMAIN}"
OLGA = f"olga.office@{DOMAIN}"  # the office manager: may ask for changes for others
# The environment variables the connection file's secrets refer to.
SYNCRO_KEY_ENV = "E2E_SYNCRO_API_KEY"
GRAPH_SECRET_ENV = "E2E_GRAPH_CLIENT_SECRET"
AD_PASSWORD_ENV = "E2E_AD_BIND_PASSWORD"


@dataclass(frozen=True)
class Client:
    """The client's ids in each system."""

    customer_id: int  # Syncro
    pat_contact: int
    kim_contact: int
    olga_contact: int
    pat: Person  # in Samba, and synced to Graph under the same UPN
    pat_graph: str  # Graph object ids
    kim_graph: str
    olga_graph: str
    finance: str  # a security group
    premium: str  # a SKU


@dataclass
class Desk:
    """A deskhand installation in its own folder, driven like an operator drives it: the CLI,
    plus the worker and the approval functions the web app and API call."""

    folder: Path
    database_url: str
    rt: Runtime

    def run(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(
            app,
            ["--db", self.database_url, *args],
            env={"DESKHAND_DATA_DIR": str(self.folder), "COLUMNS": "250"},
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code == code, result.output
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self.run(*args, "--json", code=code).stdout)


@pytest.fixture
def syncro() -> Iterator[SyncroStandIn]:
    """The MSP's Syncro; the test fails if any request or answer broke the published spec.
    Its API key is the test's own: the client-side rate limit is per key and per process."""
    standin = SyncroStandIn(api_key=f"key-{uuid.uuid4().hex}").start()
    yield standin
    standin.stop()
    assert standin.violations == [], "\n".join(standin.violations)


@pytest.fixture
def graph() -> Iterator[GraphStandIn]:
    """The client's Microsoft 365; the test fails on anything Graph's schema does not allow."""
    standin = GraphStandIn().start()
    yield standin
    standin.stop()
    assert standin.violations == [], "\n".join(standin.violations)


@pytest.fixture
def client(syncro: SyncroStandIn, graph: GraphStandIn, make_user: MakeUser) -> Client:
    pat = make_user(display_name="Pat Synced")
    customer = syncro.add_customer("Northbridge Dental", f"office@{DOMAIN}")
    premium = graph.add_sku("SPB", seats=5)
    olga = graph.add_user(OLGA, "Olga Office", mail=OLGA, licences=(premium,))
    finance = graph.add_group("Finance")
    graph.members[finance].append(olga)
    return Client(
        customer_id=customer,
        pat_contact=syncro.add_contact(customer, "Pat Synced", pat.mail),
        kim_contact=syncro.add_contact(customer, "Kim Cloud", KIM),
        olga_contact=syncro.add_contact(customer, "Olga Office", OLGA),
        pat=pat,
        pat_graph=graph.add_user(pat.upn, "Pat Synced", mail=pat.mail, synced=True),
        kim_graph=graph.add_user(KIM, "Kim Cloud", mail=KIM),
        olga_graph=olga,
        finance=finance,
        premium=premium,
    )


@pytest.fixture
def desk(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    syncro: SyncroStandIn,
    graph: GraphStandIn,
    samba: SambaDC,
    client: Client,
) -> Iterator[Desk]:
    """deskhand with the tenant added by `deskhand tenants add --no-input`, and an approver."""
    folder = tmp_path / "desk"
    monkeypatch.setenv(SYNCRO_KEY_ENV, syncro.api_key)
    monkeypatch.setenv(GRAPH_SECRET_ENV, CLIENT_SECRET)
    monkeypatch.setenv(AD_PASSWORD_ENV, SERVICE_PASSWORD)
    monkeypatch.delenv("DESKHAND_SECRET_KEY", raising=False)
    runtime = Runtime.from_settings(
        Settings(data_dir=folder, database_url=database_url, lease_seconds=30, poll_seconds=0.05)
    )
    desk = Desk(folder, database_url, runtime)
    try:
        desk.run("db", "upgrade")
        config = folder / "tenants" / f"{TENANT}.yaml"
        graph_ca = tmp_path / "graph-ca.pem"
        graph.ca.cert_pem.write_to_path(str(graph_ca))
        desk.run(
            "tenants", "add", TENANT, "--no-input",
            "--display-name", "Northbridge Dental",
            "--psa-customer-id", str(client.customer_id),
            "--syncro-url", syncro.base_url,
            "--syncro-key", f"env:{SYNCRO_KEY_ENV}",
            "--ms-tenant", MS_TENANT,
            "--client-id", CLIENT_ID,
            "--client-secret", f"env:{GRAPH_SECRET_ENV}",
            "--ad-server", samba.url,
            "--base-dn", BASE_DN,
            "--bind-user", SERVICE_USER,
            "--bind-password", f"env:{AD_PASSWORD_ENV}",
            "--ca-file", str(samba.ca_file),
            # The stand-ins: Graph and its sign-in at their own address under a private CA,
            # and the test DC reached by IP address.
            "--graph-authority", graph.origin,
            "--graph-url", f"{graph.origin}/v1.0",
            "--graph-ca-file", str(graph_ca),
            "--tls-server-name", CERT_NAME,
            "--domain", DOMAIN,
            "--authorised-contact", OLGA,
            "--license", f"Business Premium={client.premium}",
            "--approver", APPROVER,
            "--config", str(config),
        )  # fmt: skip
        desk.run("users", "add", APPROVER, "--role", "approver", "--tenants", TENANT)
        # A new tenant starts in shadow; these tests are about deskhand doing the work.
        desk.run("users", "add", ADMIN, "--role", "admin", "--tenants", TENANT)
        desk.run("tenants", "live", TENANT, "--as", ADMIN, "--reason", "end-to-end tests")
        yield desk
    finally:
        runtime.close()
