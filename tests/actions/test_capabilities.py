"""Actions say which capabilities of a tenant's connectors they need; a tenant whose systems
lack one is refused when the step is bound (planned, approved or run) with a message naming
what is missing — never an AttributeError when it runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from deskhand.actions import action, catalogue
from deskhand.connectors.capabilities import M365_SIGN_IN
from deskhand.connectors.errors import ForbiddenError
from deskhand.connectors.factory import Connectors, NoDirectory
from deskhand.connectors.sandbox.seed import object_id, seed_demo
from deskhand.connectors.sandbox.store import SandboxGroup, SandboxStore
from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa
from deskhand.domain.risks import BlastRadius
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
        # only a manual step in a system deskhand cannot reach (a vendor portal) needs nothing
        assert spec.needs or spec.manual, f"{spec.name} declares no capability"
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


def test_a_capability_lost_after_planning_is_a_refusal_naming_it_when_the_step_runs(
    connectors: Connectors,
) -> None:
    # The connection file changed between approval and execution: the executor records a
    # connector error that says what is missing, not an AttributeError.
    read_only = replace(connectors, m365=_ReadOnlyM365(connectors.m365))  # type: ignore[arg-type]
    block = action("m365.block_sign_in")
    params = block.validate(
        {"user_id": object_id("contoso-dental", "user", TOM), **{"user_principal_name": TOM}}
    )
    assert M365_SIGN_IN.of(connectors) is connectors.m365

    with pytest.raises(ForbiddenError) as refused:
        block.act(params, read_only, "key-1", None)

    assert refused.value.message == (
        "The tenant's Microsoft 365 connector (_ReadOnlyM365) cannot block or allow sign-in to "
        "Microsoft 365 (capability m365.sign_in)."
    )


def _ad_group(connectors: Connectors, name: str, *, privileged: bool = False) -> str:
    group_id = object_id("contoso-dental", "group", name)
    with connectors.ad.store.session() as session:  # type: ignore[attr-defined]
        session.add(
            SandboxGroup(
                tenant_id="contoso-dental",
                id=group_id,
                display_name=name,
                privileged=privileged,
                synced=True,
            )
        )
    return group_id


def add_tom_to(group: str) -> dict[str, object]:
    return {
        "user_id": object_id("contoso-dental", "user", TOM),
        "user_principal_name": TOM,
        "group_id": group,
        "group_name": "whatever the proposal said",
    }


def test_an_ad_group_is_looked_up_in_active_directory_and_its_name_filled_in_from_there(
    connectors: Connectors,
) -> None:
    finance = _ad_group(connectors, "Payroll Archive")
    admins = _ad_group(connectors, "Server Operators", privileged=True)
    spec = action("ad.add_group_member")

    bound = bind(spec, add_tom_to("payroll archive"), connectors, TICKET)
    privileged = bind(spec, add_tom_to(admins), connectors, TICKET)

    assert (bound.params.group_id, bound.params.group_name) == (finance, "Payroll Archive")
    assert spec.blast_radius(bound.params, bound.facts) == BlastRadius.INTERNAL
    assert spec.blast_radius(privileged.params, privileged.facts) == BlastRadius.SECURITY
    # A group only Microsoft 365 has is not one AD can change.
    with pytest.raises(BindingError, match="no group 'Front Desk' in the domain"):
        bind(spec, add_tom_to("Front Desk"), connectors, TICKET)
    cloud_only = replace(connectors, ad=NoDirectory("contoso-dental"))
    with pytest.raises(BindingError, match="cannot change group memberships in Active Directory"):
        bind(spec, add_tom_to(finance), cloud_only, TICKET)


def test_an_undo_by_another_action_reads_as_that_actions_words() -> None:
    add, remove_licence = action("m365.add_group_member"), action("m365.remove_license")
    params = add.validate(
        {"user_id": "u1", "user_principal_name": TOM, "group_id": "g1", "group_name": "Sales"}
    )
    licence = remove_licence.validate(
        {"user_id": "u1", "user_principal_name": TOM, "sku_id": "s1", "sku_name": "E3"}
    )

    assert add.undo_words(params, catalogue()) == f"Remove {TOM} from the group Sales"
    assert remove_licence.undo_words(licence, catalogue()) == (
        f"Assign the licence E3 to {TOM}, within 30 days"
    )
    assert (
        action("m365.reset_password").undo_words(
            action("m365.reset_password").validate(reset_tom()), catalogue()
        )
        == "cannot be undone"
    )


def test_an_edit_names_what_it_changed_in_plain_words_not_parameter_names() -> None:
    add = action("m365.add_group_member")

    assert add.edited(["group_id", "group_name"]) == "the group"
    assert add.edited(["user_id", "group_id"]) == "the user and the group"
    assert action("m365.add_license_seats").edited(["sku_id", "seats"]) == (
        "the licence and the seats"
    )
    assert action("psa.log_time").edited(["minutes", "billable", "notes"]) == (
        "the minutes, the billing and the notes"
    )
    # An event names the fields only: the catalogue's words, agreed by every action.
    assert catalogue().edited(["group_name", "body"]) == "the group and the text"
    for spec in catalogue().values():
        for name in spec.Params.model_fields:
            assert "_" not in spec.label(name), (spec.name, name)
