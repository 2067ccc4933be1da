"""Fixtures: a running Graph stand-in with a small tenant in it, and deskhand's Graph client
pointed at it, with a ``Caller`` that records its waits instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.graph import GraphM365, GraphSettings
from tests.connectors.graph.standin import CLIENT_ID, CLIENT_SECRET, MS_TENANT, GraphStandIn


@dataclass
class Tenant:
    """The ids of what the stand-in holds for the tests."""

    ada: str  # cloud-only, licensed, with a manager, a global admin
    bob: str  # cloud-only, no licence
    carol: str  # synced from on-premises AD
    dan: str  # Ada's manager
    sales: str  # security group, Bob is not in it, Ada is
    staff_list: str  # distribution list
    team: str  # Microsoft 365 group (mail-enabled, writable)
    premium: str  # SKU with seats to spare
    full: str  # SKU with every seat taken


@pytest.fixture
def graph() -> Iterator[GraphStandIn]:
    standin = GraphStandIn().start()
    yield standin
    standin.stop()
    assert standin.violations == [], "requests or answers that Graph's schema does not allow"


@pytest.fixture
def tenant(graph: GraphStandIn) -> Tenant:
    premium = graph.add_sku("SPB", seats=5)
    full = graph.add_sku("O365_BUSINESS_ESSENTIALS", seats=1)
    dan = graph.add_user("dan@contoso.com", "Dan Manager", mail="dan@contoso.com")
    ada = graph.add_user(
        "ada@contoso.onmicrosoft.com",
        "Ada Lovelace",
        mail="ada.lovelace@contoso.com",
        licences=(premium, full),
        manager=dan,
        admin=True,
    )
    bob = graph.add_user("bob@contoso.com", "Bob Builder", mail="bob@contoso.com")
    carol = graph.add_user("carol@contoso.com", "Carol Synced", synced=True)
    sales = graph.add_group("Sales")
    staff_list = graph.add_group("All Staff", mail_enabled=True)
    team = graph.add_group("Project Team", unified=True)
    graph.members[sales].append(ada)
    return Tenant(ada, bob, carol, dan, sales, staff_list, team, premium, full)


@dataclass
class Waits:
    """What the Caller would have slept."""

    seconds: list[float]

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits([])


def settings_for(graph: GraphStandIn, **changes: object) -> GraphSettings:
    values: dict[str, object] = {
        "ms_tenant_id": MS_TENANT,
        "client_id": CLIENT_ID,
        "app_name": "deskhand-contoso",
        "authority_base": graph.origin,
        "graph_base_url": f"{graph.origin}/v1.0",
    }
    return GraphSettings.model_validate(values | changes)


def client_for(
    graph: GraphStandIn, waits: Waits, secret: str = CLIENT_SECRET, **changes: object
) -> GraphM365:
    caller = Caller(
        "contoso",
        "graph",
        policy=CallPolicy(timeout_seconds=5, attempts=3),
        breakers=Breakers(),
        sleep=waits,
        jitter=lambda: 0.0,
    )
    return GraphM365(
        "contoso",
        settings_for(graph, **changes),
        secret,
        caller=caller,
        transport=httpx.HTTPTransport(verify=graph.client_ssl()),
    )


@pytest.fixture
def m365(graph: GraphStandIn, tenant: Tenant, waits: Waits) -> Iterator[GraphM365]:
    client = client_for(graph, waits)
    yield client
    client.close()
