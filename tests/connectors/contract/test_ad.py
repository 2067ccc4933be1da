"""What ``deskhand.connectors.ad.ActiveDirectory`` promises and the actions rely on, held against
the sandbox and against the LDAP client talking to the real Samba AD domain controller."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deskhand.actions import action
from deskhand.actions.contract import Baseline
from deskhand.connectors.capabilities import AdAccounts, AdGroups
from deskhand.connectors.errors import ConflictError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxM365, SandboxPsa
from tests.connectors.contract.conftest import TENANT, AdCase

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
