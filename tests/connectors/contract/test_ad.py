"""What ``deskhand.connectors.ad.ActiveDirectory`` promises and the actions rely on, held against
the sandbox and against the LDAP client talking to the real Samba AD domain controller."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime

import pytest

from deskhand.actions import action
from deskhand.actions.contract import Baseline
from deskhand.connectors.ad import AdPlacement, AdProvisioning
from deskhand.connectors.capabilities import AdAccounts, AdGroups
from deskhand.connectors.errors import ConflictError, ConnectorError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxM365, SandboxPsa
from deskhand.domain.directory import NewAdAccount, dn_key
from tests.connectors.contract.conftest import TENANT, AdCase
from tests.connectors.ldap.samba_dc import BASE_DN, DISABLED_OU, STAFF_OU

PASSWORD = "Fresh-Passw0rd-42"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def started() -> datetime:
    # AD keeps a password's change time to the second.
    return datetime.now(UTC).replace(microsecond=0)


def test_a_user_is_the_same_by_id_sign_in_name_account_name_or_mail(ad_case: AdCase) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Dana Scully")

    found = ad.get_user(person.sam)

    assert ad.get_user(person.upn.upper()) == found
    assert ad.get_user(person.mail) == found
    assert ad.get_user(person.id) == found
    assert (found.id, found.user_principal_name, found.display_name, found.mail) == (
        person.id,
        person.upn,
        "Dana Scully",
        person.mail,
    )
    assert found.synced and found.account_enabled and not found.locked and not found.admin
    assert found.licenses == ()  # AD knows no Microsoft 365 licences


def test_a_manager_is_given_by_their_id(ad_case: AdCase) -> None:
    boss = ad_case.build.user("Walter Skinner")
    person = ad_case.build.user("Fox Mulder", manager=boss)

    assert ad_case.ad.get_user(person.upn).manager_id == boss.id


def test_what_is_not_there_is_not_found(ad_case: AdCase) -> None:
    ad = ad_case.ad
    for call in (
        lambda: ad.get_user("nobody@contract.example"),
        lambda: ad.get_user(UNKNOWN),
        lambda: ad.account_state("nobody@contract.example"),
        lambda: ad.reset_password(UNKNOWN, PASSWORD, force_change=True),
        lambda: ad.unlock("nobody@contract.example"),
        lambda: ad.disable("nobody@contract.example"),
        lambda: ad.enable(UNKNOWN),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_a_reset_is_read_back_with_or_without_a_forced_change(ad_case: AdCase) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Reset Me")
    before = started()

    ad.reset_password(person.upn, PASSWORD, force_change=True)

    forced = ad.account_state(person.upn)
    assert forced.password_changed_at is not None and forced.password_changed_at >= before
    assert forced.must_change_password and forced.account_enabled and not forced.locked
    assert forced.sessions_revoked_at is None  # AD has no sessions

    ad.reset_password(person.sam, PASSWORD[::-1], force_change=False)

    assert not ad.account_state(person.upn).must_change_password


def test_a_password_the_domain_refuses_is_a_conflict_and_changes_nothing(ad_case: AdCase) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Weak Password")
    before = ad.account_state(person.upn)

    with pytest.raises(ConflictError):
        ad.reset_password(person.upn, "short", force_change=True)

    assert ad.account_state(person.upn) == before


def test_a_lockout_stays_through_a_reset_and_an_unlock_may_be_repeated(ad_case: AdCase) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Locked Out")
    ad_case.build.lock_out(person)
    assert ad.account_state(person.upn).locked and ad.get_user(person.upn).locked

    ad.reset_password(person.upn, PASSWORD, force_change=True)
    assert ad.account_state(person.upn).locked  # unlocking is a change of its own

    ad.unlock(person.upn)
    ad.unlock(person.upn)

    assert not ad.account_state(person.upn).locked
    assert not ad.get_user(person.upn).locked


def test_an_account_disabled_then_enabled_is_read_back_and_either_may_be_repeated(
    ad_case: AdCase,
) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Leaving Soon")
    assert isinstance(ad, AdAccounts)

    ad.disable(person.upn)
    ad.disable(person.sam)

    assert not ad.account_state(person.upn).account_enabled
    assert not ad.get_user(person.upn).account_enabled

    ad.enable(person.upn)
    ad.enable(person.upn)

    state = ad.account_state(person.upn)
    assert state.account_enabled and not state.locked


def test_a_group_is_the_same_by_id_or_name_and_lists_among_its_members_groups(
    ad_case: AdCase,
) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Group Member")
    assert isinstance(ad, AdGroups)
    name = ad_case.build.group(members=(person,))

    group = ad.get_group(name)

    assert ad.get_group(name.upper()) == group == ad.get_group(group.id)
    assert (group.display_name, group.privileged, group.mail_enabled) == (name, False, False)
    assert ad.groups_of(person.upn) == [group]
    assert ad.groups_of(ad_case.build.user("In No Group").upn) == []


def test_a_member_added_twice_conflicts_and_removed_twice_is_not_found(ad_case: AdCase) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Joins And Leaves")
    assert isinstance(ad, AdGroups)
    group = ad.get_group(ad_case.build.group())

    ad.add_group_member(group.id, person.upn)
    with pytest.raises(ConflictError):
        ad.add_group_member(group.display_name, person.sam)
    assert [g.id for g in ad.groups_of(person.upn)] == [group.id]

    ad.remove_group_member(group.id, person.upn)
    with pytest.raises(NotFoundError):
        ad.remove_group_member(group.id, person.upn)
    assert ad.groups_of(person.upn) == []
    with pytest.raises(NotFoundError):
        ad.get_group("no-such-group")
    with pytest.raises(NotFoundError):
        ad.add_group_member("no-such-group", person.upn)


@pytest.mark.parametrize("name", ["ad.reset_password", "ad.unlock_account", "ad.disable_account"])
def test_each_action_is_verified_by_reading_back_by_sign_in_name(
    ad_case: AdCase, sandbox: SandboxStore, name: str
) -> None:
    person = ad_case.build.user("Action Target")
    ad_case.build.lock_out(person)
    operation = action(name)
    # The executor knows the user by their Microsoft 365 id; AD by their sign-in name.
    params = operation.validate({"user_id": UNKNOWN, "user_principal_name": person.upn})
    c = Connectors(
        TENANT, psa=SandboxPsa(sandbox, TENANT), m365=SandboxM365(sandbox, TENANT), ad=ad_case.ad
    )
    baseline = Baseline(started(), operation.snapshot(params, c))
    assert not operation.check(params, c, "key-1", baseline).done

    operation.act(params, c, "key-1", operation.secret())

    assert operation.check(params, c, "key-1", baseline).done


def test_an_account_disabled_by_one_action_is_enabled_again_by_its_undo(
    ad_case: AdCase, sandbox: SandboxStore
) -> None:
    person = ad_case.build.user("Back Again")
    disable, enable = action("ad.disable_account"), action("ad.enable_account")
    assert disable.undo is not None and disable.undo.startswith(enable.name)
    params = enable.validate({"user_id": UNKNOWN, "user_principal_name": person.upn})
    c = Connectors(
        TENANT, psa=SandboxPsa(sandbox, TENANT), m365=SandboxM365(sandbox, TENANT), ad=ad_case.ad
    )
    disable.act(params, c, "key-1", None)
    baseline = Baseline(started(), enable.snapshot(params, c))
    assert baseline.snapshot["account_enabled"] is False
    assert not enable.check(params, c, "key-2", baseline).done

    enable.act(params, c, "key-2", None)

    assert enable.check(params, c, "key-2", baseline).done


@pytest.mark.parametrize(
    ("name", "member_before"), [("ad.add_group_member", False), ("ad.remove_group_member", True)]
)
def test_each_group_action_is_verified_by_reading_back_and_may_be_repeated(
    ad_case: AdCase, sandbox: SandboxStore, name: str, member_before: bool
) -> None:
    person = ad_case.build.user("Group Action Target")
    group = ad_case.ad.get_group(ad_case.build.group(members=(person,) if member_before else ()))
    operation = action(name)
    params = operation.validate(
        {
            "user_id": UNKNOWN,
            "user_principal_name": person.upn,
            "group_id": group.id,
            "group_name": group.display_name,
        }
    )
    c = Connectors(
        TENANT, psa=SandboxPsa(sandbox, TENANT), m365=SandboxM365(sandbox, TENANT), ad=ad_case.ad
    )
    baseline = Baseline(started(), operation.snapshot(params, c))
    assert baseline.snapshot == {"member": member_before}
    assert not operation.check(params, c, "key-1", baseline).done

    operation.act(params, c, "key-1", None)
    assert operation.check(params, c, "key-1", baseline).done

    operation.act(params, c, "key-1", None)  # after a takeover: already as asked
    assert operation.check(params, c, "key-1", baseline).done


# --- Accounts moved between OUs and created (issue 15: leavers and starters) -----------------


def _new_account(**changes: str | None) -> NewAdAccount:
    serial = next(_new_serial)
    values: dict[str, str | None] = {
        "sam_account_name": f"starter{serial}",
        "user_principal_name": f"starter{serial}@deskhand.test",
        "display_name": f"New Starter {serial}",
        "given_name": "New",
        "surname": f"Starter {serial}",
        "ou": STAFF_OU,
        "department": "Front Desk",
        "job_title": "Receptionist",
        "country": "GB",
    }
    values.update(changes)
    return NewAdAccount.model_validate(values)


_new_serial = itertools.count(os.getpid() % 1000 * 1000)


def test_an_account_is_read_with_the_ou_that_holds_it(ad_case: AdCase) -> None:
    ad, boss = ad_case.ad, ad_case.build.user("Walter Skinner")
    person = ad_case.build.user("Dana Scully", manager=boss)
    assert isinstance(ad, AdPlacement)

    account = ad.account(person.upn)

    assert ad.account(person.sam) == account == ad.account(person.id)
    assert (account.id, account.user_principal_name, account.sam_account_name) == (
        person.id,
        person.upn,
        person.sam,
    )
    assert (account.display_name, account.manager_id) == ("Dana Scully", boss.id)
    assert dn_key(account.ou) == dn_key(STAFF_OU)
    assert dn_key(account.distinguished_name).endswith("," + dn_key(STAFF_OU))
    assert account.account_enabled and not account.must_change_password


def test_an_account_moved_to_another_ou_keeps_its_groups_and_moving_again_changes_nothing(
    ad_case: AdCase,
) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Leaver")
    assert isinstance(ad, AdPlacement) and isinstance(ad, AdGroups)
    group = ad_case.build.group(members=(person,))

    ad.move_to_ou(person.upn, DISABLED_OU)
    ad.move_to_ou(person.sam, DISABLED_OU.upper())

    assert dn_key(ad.account(person.upn).ou) == dn_key(DISABLED_OU)
    assert [g.display_name for g in ad.groups_of(person.upn)] == [group]
    assert ad.get_user(person.upn).id == person.id

    ad.move_to_ou(person.id, STAFF_OU)

    assert dn_key(ad.account(person.upn).ou) == dn_key(STAFF_OU)


@pytest.mark.parametrize(
    ("ou", "refused"),
    [
        (f"OU=Nowhere,{BASE_DN}", NotFoundError),  # no such OU
        ("OU=Staff,DC=elsewhere,DC=test", NotFoundError),  # outside the domain
        (f"OU=Staff,{BASE_DN})(objectClass=*", ConnectorError),  # not a distinguished name
        (f"OU=Staff+CN=x,{BASE_DN}", ConnectorError),  # a multi-valued part
        (f"CN=Users,{BASE_DN}", ConnectorError),  # a container, not an OU
    ],
)
def test_an_ou_that_is_not_one_of_the_domains_is_refused_and_nothing_moves(
    ad_case: AdCase, ou: str, refused: type[ConnectorError]
) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Stays Put")
    assert isinstance(ad, AdPlacement) and isinstance(ad, AdProvisioning)

    with pytest.raises(refused) as error:
        ad.move_to_ou(person.upn, ou)
    with pytest.raises(refused):
        ad.create_user(_new_account(ou=ou), PASSWORD)

    assert type(error.value) is refused  # a ConnectorError of its own: status 34
    assert error.value.status == (34 if refused is ConnectorError else 32)
    assert dn_key(ad.account(person.upn).ou) == dn_key(STAFF_OU)


def test_a_created_account_is_enabled_must_change_its_password_and_reads_back_as_given(
    ad_case: AdCase,
) -> None:
    ad, boss = ad_case.ad, ad_case.build.user("Starter's Manager")
    assert isinstance(ad, AdProvisioning)
    new = _new_account(ou=DISABLED_OU, manager=boss.upn)

    ad.create_user(new, PASSWORD)

    account = ad.account(new.sam_account_name)
    assert account == ad.account(new.user_principal_name)
    assert account.model_dump(exclude={"id", "distinguished_name", "ou"}) == {
        "sam_account_name": new.sam_account_name,
        "user_principal_name": new.user_principal_name,
        "display_name": new.display_name,
        "given_name": "New",
        "surname": new.surname,
        "department": "Front Desk",
        "job_title": "Receptionist",
        "country": "GB",  # c: what the sync makes the usage location
        "manager_id": boss.id,
        "account_enabled": True,
        "must_change_password": True,
    }
    assert dn_key(account.ou) == dn_key(DISABLED_OU)
    state = ad.account_state(new.user_principal_name)
    assert state.account_enabled and state.must_change_password and not state.locked
    assert ad.get_user(new.user_principal_name).id == account.id


def test_a_taken_logon_or_sign_in_name_is_a_conflict_and_creates_nothing(
    ad_case: AdCase,
) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Already Here")
    assert isinstance(ad, AdProvisioning)

    for taken in (
        _new_account(sam_account_name=person.sam),
        _new_account(user_principal_name=person.upn),
    ):
        with pytest.raises(ConflictError, match="already exists"):
            ad.create_user(taken, PASSWORD)
        other = taken.user_principal_name if taken.sam_account_name == person.sam else None
        if other is not None:
            with pytest.raises(NotFoundError):
                ad.account(other)
    assert ad.account(person.upn).display_name == "Already Here"


def test_a_new_account_with_a_password_the_domain_refuses_is_a_conflict_and_not_created(
    ad_case: AdCase,
) -> None:
    ad = ad_case.ad
    assert isinstance(ad, AdProvisioning)
    new = _new_account()

    with pytest.raises(ConflictError):
        ad.create_user(new, "short")
    with pytest.raises(NotFoundError):
        ad.account(new.sam_account_name)
    with pytest.raises(NotFoundError):  # a manager the domain does not have
        ad.create_user(_new_account(manager="nobody@contract.example"), PASSWORD)


def _connectors(ad_case: AdCase, sandbox: SandboxStore) -> Connectors:
    return Connectors(
        TENANT, psa=SandboxPsa(sandbox, TENANT), m365=SandboxM365(sandbox, TENANT), ad=ad_case.ad
    )


def _run(name: str, params: dict[str, object], c: Connectors) -> Baseline:
    """Snapshot, act and read back one step, as the executor does; the baseline kept."""
    operation = action(name)
    validated = operation.validate(params)
    baseline = Baseline(started(), operation.snapshot(validated, c))
    operation.act(validated, c, "key-1", operation.secret())
    check = operation.check(validated, c, "key-1", baseline)
    assert check.done, (name, check.observed)
    return baseline


def test_removing_every_group_keeps_each_in_the_snapshot_and_its_undo_adds_each_back(
    ad_case: AdCase, sandbox: SandboxStore
) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Leaves Every Group")
    assert isinstance(ad, AdGroups)
    first, second = (ad_case.build.group(members=(person,)) for _ in range(2))
    c = _connectors(ad_case, sandbox)
    remove_all = action("ad.remove_all_groups")
    params = {"user_id": UNKNOWN, "user_principal_name": person.upn}
    assert not remove_all.check(
        remove_all.validate(params), c, "key-1", Baseline(started(), {})
    ).done

    baseline = _run("ad.remove_all_groups", params, c)

    assert sorted(g["name"] for g in baseline.snapshot["groups"]) == sorted([first, second])
    assert ad.groups_of(person.upn) == []
    undo = remove_all.undo_steps(remove_all.validate(params), baseline.snapshot)
    assert undo is not None and {name for name, _ in undo} == {"ad.add_group_member"}
    assert sorted(p["group_name"] for _, p in undo) == sorted([first, second])
    # Run again (after a takeover): nothing left to remove, and that is done.
    assert _run("ad.remove_all_groups", params, c).snapshot == {"groups": []}
    for name, undo_params in undo:
        _run(name, undo_params, c)
    assert sorted(g.display_name for g in ad.groups_of(person.upn)) == sorted([first, second])


def test_an_account_moved_by_the_action_is_read_back_in_the_ou_and_its_undo_moves_it_back(
    ad_case: AdCase, sandbox: SandboxStore
) -> None:
    ad, person = ad_case.ad, ad_case.build.user("Moves Out")
    assert isinstance(ad, AdPlacement)
    c = _connectors(ad_case, sandbox)
    move = action("ad.move_to_ou")
    params = {"user_id": UNKNOWN, "user_principal_name": person.upn, "ou": DISABLED_OU}

    baseline = _run("ad.move_to_ou", params, c)

    assert dn_key(baseline.snapshot["ou"]) == dn_key(STAFF_OU)
    assert not move.check(move.validate({**params, "ou": STAFF_OU}), c, "key-2", baseline).done
    undo = move.undo_steps(move.validate(params), baseline.snapshot)
    assert undo == [("ad.move_to_ou", {**params, "ou": baseline.snapshot["ou"]})]
    _run(*undo[0], c)
    assert dn_key(ad.account(person.upn).ou) == dn_key(STAFF_OU)


def test_a_created_account_is_verified_once_and_never_made_twice(
    ad_case: AdCase, sandbox: SandboxStore
) -> None:
    boss = ad_case.build.user("Hiring Manager")
    c = _connectors(ad_case, sandbox)
    create = action("ad.create_user")
    new = _new_account(manager=boss.id)
    params = create.validate({**new.model_dump(exclude={"country"}), "usage_location": new.country})
    baseline = Baseline(started(), create.snapshot(params, c))
    assert baseline.snapshot == {"existing": {}}
    assert not create.check(params, c, "key-1", baseline).done
    secret = create.secret()

    create.act(params, c, "key-1", secret)

    check = create.check(params, c, "key-1", baseline)
    assert check.done, check.observed
    assert check.observed["manager_id"] == boss.id and check.observed["must_change_password"]
    # A second act (a worker that did not see the first one's answer) makes no second account.
    with pytest.raises(ConflictError, match="already exists"):
        create.act(params, c, "key-1", secret)
    assert create.check(params, c, "key-1", baseline).done
    # Another step for the same names finds them taken before it acts: never "done".
    again = Baseline(started(), create.snapshot(params, c))
    assert list(again.snapshot["existing"]) == [new.sam_account_name, new.user_principal_name]
    assert not create.check(params, c, "key-2", again).done
    assert create.undo_steps(params, baseline.snapshot) == [
        (
            "ad.disable_account",
            {"user_id": new.user_principal_name, "user_principal_name": new.user_principal_name},
        )
    ]
