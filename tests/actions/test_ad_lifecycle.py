"""A leaver's and a starter's Active Directory steps as deskhand plans them, on the demo
sandbox: parameters refused in plain words, the seeded domain's OUs, a second user reference (a
starter's manager, looked up in AD) and a radius raised by groups no parameter names. The same
steps against the Samba DC are in test_ad_on_samba.py and tests/connectors/contract/test_ad.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deskhand.actions import action, catalogue
from deskhand.actions.contract import Baseline
from deskhand.connectors.factory import Connectors
from deskhand.connectors.sandbox.seed import (
    CONTOSO_DISABLED_OU,
    CONTOSO_STAFF_OU,
    object_id,
    seed_demo,
)
from deskhand.connectors.sandbox.store import SandboxGroup, SandboxGroupMember, SandboxStore
from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa
from deskhand.domain.actions import ActionError
from deskhand.domain.risks import BlastRadius
from deskhand.engine.binding import BindingError, TicketRef, bind
from deskhand.store.models import now
from deskhand.testing.checks import reference_problems
from deskhand.testing.samples import CLOUD, SYNCED, contexts
from deskhand.testing.samples import TICKET as SAMPLE_TICKET

TENANT = "contoso-dental"
TOM = "tom.becker@contosodental.example"  # synced from AD
KAREN = "karen.whitfield@contosodental.example"  # cloud only
TICKET = TicketRef("1001", KAREN, outside=None)
STARTER = {
    "display_name": "Nora Quinn",
    "given_name": "Nora",
    "surname": "Quinn",
    "sam_account_name": "nquinn",
    "user_principal_name": "nora.quinn@contosodental.example",
    "ou": CONTOSO_STAFF_OU,
    "department": "Clinical",
    "job_title": "Dental Assistant",
}


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


def tom() -> dict[str, object]:
    return {"user_id": object_id(TENANT, "user", TOM), "user_principal_name": TOM}


@pytest.mark.parametrize(
    ("name", "changes", "words"),
    [
        ("ad.create_user", {"sam_account_name": "nora quinn"}, "a logon name has 1 to 20"),
        ("ad.create_user", {"sam_account_name": "a" * 21}, "a logon name has 1 to 20"),
        ("ad.create_user", {"sam_account_name": "nquinn."}, "no full stop at the end"),
        ("ad.create_user", {"user_principal_name": "nora.quinn"}, "a sign-in name is name@domain"),
        ("ad.create_user", {"ou": "Staff"}, "give the OU's distinguished name"),
        ("ad.move_to_ou", {"ou": "Disabled Users"}, "give the OU's distinguished name"),
        ("ad.move_to_ou", {"ou": "OU=Gone\x00,DC=x"}, "has no control characters"),
    ],
)
def test_parameters_a_domain_would_refuse_are_refused_in_plain_words(
    name: str, changes: dict[str, str], words: str
) -> None:
    base = STARTER if name == "ad.create_user" else {**tom(), "ou": CONTOSO_DISABLED_OU}
    with pytest.raises(ActionError, match=f"^Parameters for {name} are not valid: .*{words}"):
        action(name).validate({**base, **changes})


def test_the_demo_domain_parks_a_leaver_in_disabled_users_and_moves_them_back(
    connectors: Connectors,
) -> None:
    move = action("ad.move_to_ou")
    params = bind(move, {**tom(), "ou": CONTOSO_DISABLED_OU}, connectors, TICKET).params
    baseline = Baseline(now(), move.snapshot(params, connectors))
    assert baseline.snapshot["ou"] == CONTOSO_STAFF_OU

    move.act(params, connectors, "key-1", None)

    assert move.check(params, connectors, "key-1", baseline).done
    [(_, raw)] = move.undo_steps(params, baseline.snapshot) or []
    undo = move.validate(raw)
    move.act(undo, connectors, "key-2", None)
    assert move.check(undo, connectors, "key-2", baseline).done


def test_a_starters_manager_is_looked_up_in_ad_and_shown_by_sign_in_name(
    connectors: Connectors,
) -> None:
    create = action("ad.create_user")

    bound = bind(create, {**STARTER, "manager": "TBecker"}, connectors, TICKET)
    without = bind(create, STARTER, connectors, TICKET)

    shown, left_out = bound.params.model_dump(), without.params.model_dump()
    assert shown["manager"] == object_id(TENANT, "user", TOM)  # AD's own id for Tom
    assert shown["manager_principal_name"] == TOM
    assert (left_out["manager"], left_out["manager_principal_name"]) == (None, None)
    assert create.blast_radius(bound.params, bound.facts) == BlastRadius.SECURITY
    assert create.label("manager_principal_name") == "manager"
    assert create.edited(["manager", "ou"]) == "the manager and the organisational unit"
    # A cloud-only user has no account in AD: not a manager AD can record.
    with pytest.raises(BindingError, match=f"no user '{KAREN}' in the domain"):
        bind(create, {**STARTER, "manager": KAREN}, connectors, TICKET)


def test_the_conformance_kit_takes_a_synced_user_as_a_starters_manager() -> None:
    # Emily is synced from AD, Lisa is cloud only.
    context = next(c for c in contexts("password_reset") if c.targets == (CLOUD, SYNCED))
    create = action("ad.create_user")
    emily, lisa = SYNCED.user_principal_name, CLOUD.user_principal_name
    named = {**STARTER, "manager": emily, "manager_principal_name": emily}

    def problems(params: dict[str, object]) -> list[str]:
        full = create.validate(params).model_dump()
        return reference_problems(create, full, context, SAMPLE_TICKET)

    assert problems(named) == []
    assert problems(STARTER) == []  # no manager: nothing to resolve
    assert problems({**named, "manager": lisa, "manager_principal_name": lisa}) == [
        f"manager={lisa!r} is not a ad_user of the ticket"
    ]


def test_removing_every_group_is_security_when_a_group_the_user_is_in_is_privileged(
    connectors: Connectors,
) -> None:
    remove_all = action("ad.remove_all_groups")
    store = connectors.ad.store  # type: ignore[attr-defined]
    with store.session() as session:
        for name, privileged in (("Dental Records", False), ("Server Operators", True)):
            group_id = object_id(TENANT, "group", name)
            session.add(
                SandboxGroup(
                    tenant_id=TENANT,
                    id=group_id,
                    display_name=name,
                    privileged=privileged,
                    synced=True,
                )
            )
            session.flush()
            if not privileged:
                session.add(
                    SandboxGroupMember(
                        tenant_id=TENANT, group_id=group_id, user_id=tom()["user_id"]
                    )
                )
    ordinary = bind(remove_all, tom(), connectors, TICKET)
    assert remove_all.blast_radius(ordinary.params, ordinary.facts) == BlastRadius.INTERNAL

    connectors.ad.add_group_member("Server Operators", TOM)  # type: ignore[attr-defined]
    raised = bind(remove_all, tom(), connectors, TICKET)

    assert remove_all.blast_radius(raised.params, raised.facts) == BlastRadius.SECURITY
    assert "ad.remove_all_groups" in catalogue()


def test_a_starter_created_in_the_demo_domain_with_fields_left_empty_is_verified(
    connectors: Connectors,
) -> None:
    create = action("ad.create_user")
    params = bind(
        create, {**STARTER, "department": "", "job_title": None}, connectors, TICKET
    ).params
    baseline = Baseline(now(), create.snapshot(params, connectors))

    create.act(params, connectors, "key-1", create.secret())

    check = create.check(params, connectors, "key-1", baseline)
    assert check.done, check.observed
    assert (check.observed["department"], check.observed["job_title"]) == (None, None)
    # Synced at once in the sandbox: the new user is in Microsoft 365 too, not yet licensed.
    assert connectors.m365.get_user(STARTER["user_principal_name"]).synced
