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
from deskhand.connectors.factory import Connectors
from deskhand.connectors.sandbox.store import SandboxStore, SandboxTenant, SandboxUser
from deskhand.connectors.sandbox.systems import SandboxM365, SandboxPsa
from deskhand.domain.actions import PasswordResetParams, UserParams
from deskhand.store.models import now
from tests.connectors.ldap.fixtures import MakeUser
from tests.connectors.ldap.samba_dc import LOCKOUT_THRESHOLD, SambaDC
from tests.connectors.ldap.support import Person, binds, change, directory_for, read, settings

TENANT = "hybrid-dental"
M365_ID = "5f1c2a9e-0000-4000-8000-00000000c0de"


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
