"""The executor's AD operations, end to end on a tenant whose PSA and Microsoft 365 are the
sandbox and whose Active Directory is the Samba DC: snapshot → act → check, read back from AD.

The operations are given the Microsoft 365 id of a synced user; AD knows them only by user
principal name, which is what the operations must pass to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ldap3
import pytest

from deskhand.actions import action as action_named
from deskhand.actions.contract import Baseline
from deskhand.connectors.capabilities import AD_GROUPS
from deskhand.connectors.errors import ConflictError
from deskhand.connectors.factory import Connectors
from deskhand.connectors.sandbox.store import SandboxStore, SandboxTenant, SandboxUser
from deskhand.connectors.sandbox.systems import SandboxM365, SandboxPsa
from deskhand.domain.actions import PasswordResetParams, UserParams
from deskhand.domain.risks import BlastRadius
from deskhand.engine.binding import BindingError, TicketRef, bind
from deskhand.store.models import now
from tests.connectors.ldap.fixtures import MakeGroup, MakeUser
from tests.connectors.ldap.samba_dc import DISABLED_OU, LOCKOUT_THRESHOLD, STAFF_OU, SambaDC
from tests.connectors.ldap.support import Person, binds, change, directory_for, read, settings

TENANT = "hybrid-dental"
M365_ID = "5f1c2a9e-0000-4000-8000-00000000c0de"
TICKET = TicketRef("1001", "office.manager@hybrid.example", outside=None)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxStore]:
    store = SandboxStore(f"sqlite:///{tmp_path}/sandbox.db")
    yield store
    store.dispose()


@pytest.fixture
def person(make_user: MakeUser, sandbox: SandboxStore) -> Person:
    """A user in Samba, and the same user in the sandbox's Microsoft 365, synced from AD."""
    person = make_user(display_name="Hybrid User")
    with sandbox.session() as session:
        session.add(SandboxTenant(id=TENANT, name="Hybrid Dental", customer_id="c-1", domains=[]))
        session.add(
            SandboxUser(
                tenant_id=TENANT,
                id=M365_ID,
                upn=person.upn,
                display_name="Hybrid User",
                mail=person.mail,
                synced=True,
            )
        )
    return person


@pytest.fixture
def connectors(samba: SambaDC, sandbox: SandboxStore) -> Connectors:
    return Connectors(
        tenant_id=TENANT,
        psa=SandboxPsa(sandbox, TENANT),
        m365=SandboxM365(sandbox, TENANT),
        ad=directory_for(settings(samba)),
    )


def test_a_synced_users_password_reset_runs_in_ad_and_is_verified_by_reading_back(
    connectors: Connectors, person: Person, admin: ldap3.Connection, samba: SambaDC
) -> None:
    user = connectors.m365.get_user(person.upn)
    assert user.synced and user.id == M365_ID
    params = PasswordResetParams(user_id=user.id, user_principal_name=user.user_principal_name)
    operation = action_named("ad.reset_password")

    baseline = Baseline(started_at=now(), snapshot=operation.snapshot(params, connectors))
    secret = operation.secret()
    assert secret is not None
    assert not operation.check(params, connectors, "key-1", baseline).done

    operation.act(params, connectors, "key-1", secret)
    check = operation.check(params, connectors, "key-1", baseline)

    assert check.done, check.observed
    assert check.observed["must_change_password"] is True
    assert read(admin, person.dn, "pwdLastSet")["pwdLastSet"] == ["0"]
    assert not binds(samba, person.upn, person.password)[0]
    change(admin, person.dn, "pwdLastSet", ldap3.MODIFY_REPLACE, "-1")
    assert binds(samba, person.upn, secret)[0]


def test_a_locked_out_synced_user_is_unlocked_and_verified(
    connectors: Connectors, person: Person, admin: ldap3.Connection, samba: SambaDC
) -> None:
    for _ in range(LOCKOUT_THRESHOLD):
        binds(samba, person.upn, "Wrong-Passw0rd")
    params = UserParams(user_id=M365_ID, user_principal_name=person.upn)
    operation = action_named("ad.unlock_account")

    baseline = Baseline(started_at=now(), snapshot=operation.snapshot(params, connectors))
    assert baseline.snapshot["locked"] is True
    assert not operation.check(params, connectors, "key-2", baseline).done

    operation.act(params, connectors, "key-2", None)

    assert operation.check(params, connectors, "key-2", baseline).done
    assert read(admin, person.dn, "lockoutTime")["lockoutTime"] == ["0"]
    assert binds(samba, person.upn, person.password)[0]


# --- A leaver and a starter (issue 15) -------------------------------------------------------


def _run(name: str, raw: dict[str, object], c: Connectors) -> Baseline:
    """One step as the executor runs it once approved: bound, snapshot, act, read back."""
    operation = action_named(name)
    params = bind(operation, raw, c, TICKET).params
    baseline = Baseline(started_at=now(), snapshot=operation.snapshot(params, c))
    operation.act(params, c, f"key-{name}", operation.secret())
    check = operation.check(params, c, f"key-{name}", baseline)
    assert check.done, (name, check.observed)
    return baseline


def _member_of(admin: ldap3.Connection, dn: str) -> list[str]:
    return sorted(value.split(",")[0] for value in read(admin, dn, "memberOf")["memberOf"])


def test_a_synced_leaver_is_disabled_moved_and_taken_out_of_every_group_and_undone_step_by_step(
    connectors: Connectors,
    person: Person,
    admin: ldap3.Connection,
    make_group: MakeGroup,
    samba: SambaDC,
) -> None:
    # AD moves a renamed member's DN in each group itself: the groups follow the account.
    groups = sorted(make_group(members=(person,)) for _ in range(2))
    leaver = {"user_id": M365_ID, "user_principal_name": person.upn}
    steps = [
        ("ad.disable_account", leaver),
        ("ad.move_to_ou", {**leaver, "ou": DISABLED_OU}),
        ("ad.remove_all_groups", leaver),
    ]

    ran = [(name, raw, _run(name, raw, connectors)) for name, raw in steps]

    moved = f"CN={person.sam},{DISABLED_OU}"
    flags = int(read(admin, moved, "userAccountControl")["userAccountControl"][0])
    assert flags & 0x2  # ACCOUNTDISABLE
    assert _member_of(admin, moved) == []
    assert read(admin, moved, "primaryGroupID")["primaryGroupID"] == ["513"]  # Domain Users
    assert not binds(samba, person.upn, person.password)[0]

    for name, raw, baseline in reversed(ran):
        operation = action_named(name)
        undo = operation.undo_steps(operation.validate(raw), baseline.snapshot)
        assert undo, f"{name} has undo steps"
        for undo_name, undo_params in undo:
            _run(undo_name, undo_params, connectors)

    assert read(admin, person.dn, "userAccountControl")["userAccountControl"] == ["512"]
    assert _member_of(admin, person.dn) == [f"CN={group}" for group in groups]
    assert binds(samba, person.upn, person.password)[0]


def test_removing_every_group_is_a_security_step_when_one_is_privileged(
    connectors: Connectors, person: Person, admin: ldap3.Connection, make_group: MakeGroup
) -> None:
    remove_all = action_named("ad.remove_all_groups")
    leaver = {"user_id": M365_ID, "user_principal_name": person.upn}
    make_group(members=(person,))
    ordinary = bind(remove_all, leaver, connectors, TICKET)
    assert remove_all.blast_radius(ordinary.params, ordinary.facts) == BlastRadius.INTERNAL

    protected = make_group(members=(person,))
    # What AD's SDProp sets on Domain Admins and every other protected group.
    change(admin, f"CN={protected},{STAFF_OU}", "adminCount", ldap3.MODIFY_REPLACE, "1")
    bound = bind(remove_all, leaver, connectors, TICKET)

    assert remove_all.blast_radius(bound.params, bound.facts) == BlastRadius.SECURITY
    assert bound.facts.privileged_groups == {AD_GROUPS.of(connectors).get_group(protected).id}


def test_a_starter_is_created_with_the_manager_from_ad_and_signs_in_with_the_password_once_changed(
    connectors: Connectors, person: Person, admin: ldap3.Connection, samba: SambaDC
) -> None:
    serial = person.sam  # unique in this session
    raw = {
        "display_name": f"Starter {serial}",
        "given_name": "Starter",
        "surname": serial,
        "sam_account_name": f"s{serial}",
        "user_principal_name": f"s{serial}@deskhand.test",
        "ou": STAFF_OU,
        "department": "Clinical",
        "job_title": "Dental Assistant",
        "manager": person.upn,  # as a specialist names them; bound to AD's own id
        "manager_principal_name": "whatever the proposal said",
    }
    create = action_named("ad.create_user")
    bound = bind(create, raw, connectors, TICKET)
    params = bound.params
    manager = connectors.ad.get_user(person.upn)
    shown = params.model_dump()
    assert (shown["manager"], shown["manager_principal_name"]) == (manager.id, person.upn)
    baseline = Baseline(started_at=now(), snapshot=create.snapshot(params, connectors))
    secret = create.secret()
    assert secret is not None

    create.act(params, connectors, "key-create", secret)

    assert create.check(params, connectors, "key-create", baseline).done
    dn = f"CN=Starter {serial},{STAFF_OU}"
    written = read(admin, dn, "userAccountControl", "pwdLastSet", "manager", "title", "sn")
    assert written == {
        "userAccountControl": ["512"],
        "pwdLastSet": ["0"],
        "manager": [person.dn],
        "title": ["Dental Assistant"],
        "sn": [serial],
    }
    signed_in, message = binds(samba, f"s{serial}@deskhand.test", secret)
    assert not signed_in and "data 773" in message  # must change the password first
    change(admin, dn, "pwdLastSet", ldap3.MODIFY_REPLACE, "-1")
    assert binds(samba, f"s{serial}@deskhand.test", secret)[0]

    with pytest.raises(ConflictError, match=rf"logon name s{serial} .* already exists"):
        create.act(params, connectors, "key-create", secret)


def test_a_starter_without_a_manager_binds_and_a_manager_not_in_ad_is_refused(
    connectors: Connectors, person: Person
) -> None:
    create = action_named("ad.create_user")
    raw = {
        "display_name": "No Manager",
        "given_name": "No",
        "surname": "Manager",
        "sam_account_name": "nomanager",
        "user_principal_name": "nomanager@deskhand.test",
        "ou": STAFF_OU,
    }

    shown = bind(create, raw, connectors, TICKET).params.model_dump()
    assert (shown["manager"], shown["manager_principal_name"]) == (None, None)
    with pytest.raises(BindingError, match=r"no user 'nobody@deskhand\.test'"):
        bind(create, {**raw, "manager": "nobody@deskhand.test"}, connectors, TICKET)
