"""Actions say which capabilities of a tenant's connectors they need; a tenant whose systems
lack one is refused when the step is bound (planned, approved or run) with a message naming
what is missing — never an AttributeError when it runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from deskhand.actions import action, catalogue
from deskhand.connectors.factory import Connectors, NoDirectory
from deskhand.connectors.sandbox.seed import object_id, seed_demo
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa
from deskhand.engine.binding import BindingError, TicketRef, bind

TOM = "tom.becker@contosodental.example"
TICKET = TicketRef("1001", "karen.whitfield@contosodental.example", outside=None)


@pytest.fixture
def connectors(tmp_path: Path) -> Connectors:
    store = SandboxStore(f"sqlite:///{tmp_path / 'sandbox.db'}")
    seed_demo(store)
    return Connectors(
        tenant_id="contoso-dental",
        psa=SandboxPsa(store, "contoso-dental"),
        m365=SandboxM365(store, "contoso-dental"),
        ad=SandboxAD(store, "contoso-dental"),
    )


def reset_tom() -> dict[str, object]:
    return {
        "user_id": object_id("contoso-dental", "user", TOM),
        "user_principal_name": TOM,
        "force_change": True,
    }


def test_every_action_declares_what_it_needs_and_the_sandbox_offers_it(
    connectors: Connectors,
) -> None:
    for spec in catalogue().values():
        assert spec.needs, f"{spec.name} declares no capability"
        assert spec.missing(connectors) == [], spec.name


def test_a_tenant_without_active_directory_is_refused_when_the_step_is_bound(
    connectors: Connectors,
) -> None:
    cloud_only = replace(connectors, ad=NoDirectory("contoso-dental"))
    assert bind(action("ad.reset_password"), reset_tom(), connectors, TICKET).params
    with pytest.raises(BindingError) as refused:
        bind(action("ad.reset_password"), reset_tom(), cloud_only, TICKET)
    assert str(refused.value).startswith(
        "ad.reset_password cannot run for this tenant: tenant contoso-dental has no on-premises "
        "Active Directory configured, so deskhand cannot reset Active Directory passwords."
    )
    assert "tenants doctor" in str(refused.value)


class _ReadOnlyM365:
    """A Microsoft 365 connection that can read users but change nothing."""

    def __init__(self, inner: SandboxM365) -> None:
        self.get_user = inner.get_user


def test_a_connector_without_a_capability_is_named_with_the_capability(
    connectors: Connectors,
) -> None:
    read_only = replace(connectors, m365=_ReadOnlyM365(connectors.m365))  # type: ignore[arg-type]
    assert action("m365.reset_password").missing(read_only) == [
        "the tenant's Microsoft 365 connector (_ReadOnlyM365) cannot reset Microsoft 365 "
        "passwords (capability m365.passwords)"
    ]
    with pytest.raises(BindingError, match=r"capability m365\.passwords"):
        bind(action("m365.reset_password"), reset_tom(), read_only, TICKET)


def test_replies_by_mail_need_no_mail_connection_when_the_psa_sends_them(
    connectors: Connectors,
) -> None:
    assert connectors.mail is None
    assert action("psa.send_reply").missing(connectors) == []
