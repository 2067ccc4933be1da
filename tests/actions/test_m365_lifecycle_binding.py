"""A leaver's and a starter's steps bound to the tenant's directory (``engine/binding.py``) as
any step is before it is stored, approved or run: a second user a step names (the colleague
who takes over, a manager) is looked up like the user, its sign-in name filled in from the
directory; and removing a user from every group is security when one of them is privileged,
which the directory says, not the step."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskhand.actions import action
from deskhand.connectors.factory import Connectors
from deskhand.connectors.sandbox.seed import object_id, seed_demo
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa
from deskhand.domain.actions import ActionError
from deskhand.domain.risks import BlastRadius
from deskhand.engine.binding import BindingError, TicketRef, bind
from deskhand.engine.edits import _why

TENANT = "contoso-dental"
TOM = "tom.becker@contosodental.example"
KAREN = "karen.whitfield@contosodental.example"
ADMIN = "it.admin@contosodental.example"
TICKET = TicketRef("1001", KAREN, outside=None)


@pytest.fixture
def connectors(tmp_path: Path) -> Connectors:
    store = SandboxStore(f"sqlite:///{tmp_path / 'sandbox.db'}")
    seed_demo(store)
    return Connectors(
        tenant_id=TENANT,
        psa=SandboxPsa(store, TENANT),
        m365=SandboxM365(store, TENANT),
        ad=SandboxAD(store, TENANT),
    )


def user_id(upn: str) -> str:
    return object_id(TENANT, "user", upn)


def test_the_colleague_is_bound_by_id_and_their_name_comes_from_the_directory(
    connectors: Connectors,
) -> None:
    raw = {
        "user_id": user_id(TOM),
        "user_principal_name": TOM,
        "delegate_id": KAREN,  # proposed by sign-in name: the directory's id is kept
        "delegate_principal_name": "whatever the proposal said",
    }

    bound = bind(action("m365.forward_mail"), raw, connectors, TICKET)

    assert (bound.params.delegate_id, bound.params.delegate_principal_name) == (  # type: ignore[attr-defined]
        user_id(KAREN),
        KAREN,
    )
    assert bound.mismatched == (("delegate_principal_name", "whatever the proposal said", KAREN),)
    assert action("m365.forward_mail").label("delegate_principal_name") == "colleague"
    with pytest.raises(BindingError, match="names something this tenant does not have"):
        bind(
            action("m365.grant_onedrive_access"),
            {**raw, "delegate_id": "someone@elsewhere.example"},
            connectors,
            TICKET,
        )


def test_a_profile_binds_with_or_without_a_manager(connectors: Connectors) -> None:
    spec = action("m365.set_profile")
    tom = {"user_id": user_id(TOM), "user_principal_name": TOM}

    without = bind(spec, {**tom, "department": "Clinical"}, connectors, TICKET)
    managed = bind(
        spec,
        {**tom, "manager_id": KAREN, "manager_principal_name": "Karen"},
        connectors,
        TICKET,
    )

    assert without.params.manager_principal_name is None  # type: ignore[attr-defined]
    assert (managed.params.manager_id, managed.params.manager_principal_name) == (  # type: ignore[attr-defined]
        user_id(KAREN),
        KAREN,
    )
    assert spec.describe(managed.params) == f"Set {TOM}'s manager to {KAREN}"


def test_removing_every_group_is_security_when_one_of_them_is_privileged(
    connectors: Connectors,
) -> None:
    spec = action("m365.remove_all_groups")

    admin = bind(
        spec, {"user_id": user_id(ADMIN), "user_principal_name": ADMIN}, connectors, TICKET
    )
    tom = bind(spec, {"user_id": user_id(TOM), "user_principal_name": TOM}, connectors, TICKET)

    assert admin.facts.privileged_groups == {
        object_id(TENANT, "group", "Domain Admins"),
        object_id(TENANT, "group", "Global Administrators"),
    }
    assert spec.blast_radius(admin.params, admin.facts) == BlastRadius.SECURITY
    assert spec.blast_radius(tom.params, tom.facts) == BlastRadius.INTERNAL
    # What an edit that raises it says why, in words (not "m365.remove_all_groups is always").
    assert _why(spec, admin, BlastRadius.SECURITY) == (
        "a privileged group is among the groups it changes: membership gives administrative control"
    )


@pytest.mark.parametrize(
    ("name", "raw", "says"),
    [
        (
            "m365.set_profile",
            {"user_id": "u1", "user_principal_name": TOM},
            "give a department, a job title, a usage location or a manager",
        ),
        (
            "m365.set_profile",
            {"user_id": "u1", "user_principal_name": TOM, "usage_location": "Germany"},
            "usage_location: Value error, a usage location is a country's two letters",
        ),
        (
            "m365.create_user",
            {"display_name": "Fay", "user_principal_name": "fay", "mail_nickname": "fay"},
            "user_principal_name: Value error, a sign-in name is name@domain",
        ),
        (
            "m365.create_user",
            {"display_name": "Fay", "user_principal_name": "f@x.example", "mail_nickname": "f y"},
            "mail_nickname: String should match pattern",
        ),
        (
            "m365.set_auto_reply",
            {"user_id": "u1", "user_principal_name": TOM, "message": ""},
            "message: String should have at least 1 character",
        ),
    ],
)
def test_bad_parameters_are_refused_in_words_that_name_them(
    name: str, raw: dict[str, str], says: str
) -> None:
    with pytest.raises(ActionError) as refused:
        action(name).validate(raw)

    assert str(refused.value).startswith(f"Parameters for {name} are not valid: ")
    assert says in str(refused.value)
