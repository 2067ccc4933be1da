"""The LDAP connector against a real Samba AD domain controller: every change is read back as
the domain Administrator, and sign-ins are tried as the user."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import ldap3
import pytest

from deskhand.connectors.errors import (
    AuthenticationError,
    ConflictError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
    UnavailableError,
)
from deskhand.connectors.ldap import LdapDirectory
from deskhand.domain.directory import NewAdAccount
from tests.connectors.ldap.fixtures import MakeGroup, MakeUser
from tests.connectors.ldap.samba_dc import ARCHIVE_OU, LOCKOUT_THRESHOLD, SambaDC
from tests.connectors.ldap.support import binds, change, directory_for, read, settings

NEW_PASSWORD = "Fresh-Passw0rd-42"


def test_a_user_is_found_by_sam_account_name_principal_name_mail_and_guid(
    directory: LdapDirectory, make_user: MakeUser, admin: ldap3.Connection
) -> None:
    person = make_user(display_name="Dana Scully")
    by_sam = directory.get_user(person.sam)
    guid = str(uuid.UUID(bytes_le=admin_guid(admin, person.dn)))

    assert by_sam.id == guid
    assert by_sam.user_principal_name == person.upn
    assert by_sam.display_name == "Dana Scully"
    assert by_sam.mail == person.mail
    assert by_sam.synced and by_sam.account_enabled and not by_sam.locked
    assert directory.get_user(person.upn.upper()) == by_sam
    assert directory.get_user(person.mail) == by_sam
    assert directory.get_user(guid) == by_sam


def admin_guid(admin: ldap3.Connection, dn: str) -> bytes:
    assert admin.search(dn, "(objectClass=*)", search_scope="BASE", attributes=["objectGUID"])
    return bytes(admin.response[0]["raw_attributes"]["objectGUID"][0])  # type: ignore[index]


def test_manager_is_given_by_id_and_domain_admins_are_admins(
    directory: LdapDirectory, make_user: MakeUser, admin: ldap3.Connection
) -> None:
    boss = make_user(display_name="Walter Skinner")
    person = make_user(manager=boss)
    domain_admins = "CN=Domain Admins,CN=Users,DC=deskhand,DC=test"
    change(admin, domain_admins, "member", ldap3.MODIFY_ADD, boss.dn)

    user = directory.get_user(person.upn)

    assert user.manager_id == directory.get_user(boss.sam).id
    assert not user.admin
    assert directory.get_user(boss.sam).admin


def test_an_unknown_user_is_not_found(directory: LdapDirectory) -> None:
    with pytest.raises(NotFoundError, match=r"no user 'nobody\)\(x@deskhand.test'"):
        directory.get_user("nobody)(x@deskhand.test")
    with pytest.raises(NotFoundError):
        directory.reset_password(str(uuid.uuid4()), NEW_PASSWORD, force_change=True)


def test_reset_with_force_change_sets_pwdlastset_to_zero_and_replaces_the_password(
    directory: LdapDirectory, make_user: MakeUser, admin: ldap3.Connection, samba: SambaDC
) -> None:
    person = make_user()
    before = datetime.now(UTC) - timedelta(seconds=1)

    directory.reset_password(person.upn, NEW_PASSWORD, force_change=True)

    assert read(admin, person.dn, "pwdLastSet")["pwdLastSet"] == ["0"]
    state = directory.account_state(person.sam)
    assert state.must_change_password
    assert state.password_changed_at is not None and state.password_changed_at >= before
    old_binds, _ = binds(samba, person.upn, person.password)
    assert not old_binds
    # The new password is right but must be changed first: AD says so (data 773).
    new_binds, message = binds(samba, person.upn, NEW_PASSWORD)
    assert not new_binds and "data 773" in message
    change(admin, person.dn, "pwdLastSet", ldap3.MODIFY_REPLACE, "-1")
    assert binds(samba, person.upn, NEW_PASSWORD)[0]


def test_reset_without_force_change_lets_the_user_sign_in_at_once(
    directory: LdapDirectory, make_user: MakeUser, admin: ldap3.Connection, samba: SambaDC
) -> None:
    person = make_user()

    directory.reset_password(person.mail, NEW_PASSWORD, force_change=False)

    assert read(admin, person.dn, "pwdLastSet")["pwdLastSet"] != ["0"]
    assert not directory.account_state(person.upn).must_change_password
    assert binds(samba, person.upn, NEW_PASSWORD)[0]
    assert not binds(samba, person.upn, person.password)[0]


def test_a_password_the_domain_policy_refuses_is_a_conflict_that_says_why(
    directory: LdapDirectory, make_user: MakeUser, samba: SambaDC
) -> None:
    person = make_user()

    with pytest.raises(ConflictError) as refused:
        directory.reset_password(person.upn, "short", force_change=True)

    assert "does not meet the domain's complexity" in str(refused.value)
    assert "Default Domain Policy" in str(refused.value)
    assert binds(samba, person.upn, person.password)[0]  # unchanged


def test_a_user_locked_out_by_bad_passwords_is_unlocked(
    directory: LdapDirectory, make_user: MakeUser, admin: ldap3.Connection, samba: SambaDC
) -> None:
    person = make_user()
    for _ in range(LOCKOUT_THRESHOLD):
        assert not binds(samba, person.upn, "Wrong-Passw0rd")[0]
    assert "data 775" in binds(samba, person.upn, person.password)[1]
    assert directory.account_state(person.upn).locked
    assert directory.get_user(person.upn).locked

    directory.unlock(person.upn)

    assert read(admin, person.dn, "lockoutTime")["lockoutTime"] == ["0"]
    assert not directory.account_state(person.upn).locked
    assert binds(samba, person.upn, person.password)[0]
    directory.unlock(person.upn)  # unlocking an unlocked account is not an error


def test_disable_and_enable_flip_the_account_disabled_bit(
    directory: LdapDirectory, make_user: MakeUser, admin: ldap3.Connection, samba: SambaDC
) -> None:
    person = make_user()

    directory.disable(person.upn)

    assert int(read(admin, person.dn, "userAccountControl")["userAccountControl"][0]) & 2
    assert not directory.account_state(person.upn).account_enabled
    assert "data 533" in binds(samba, person.upn, person.password)[1]

    directory.enable(person.upn)

    assert read(admin, person.dn, "userAccountControl")["userAccountControl"] == ["512"]
    assert directory.get_user(person.upn).account_enabled
    assert binds(samba, person.upn, person.password)[0]


def test_group_membership_is_added_and_removed(
    directory: LdapDirectory, make_user: MakeUser, make_group: MakeGroup, admin: ldap3.Connection
) -> None:
    person = make_user()
    group = make_group()
    group_dn = f"CN={group},OU=Staff,DC=deskhand,DC=test"

    directory.add_group_member(group, person.upn)

    assert read(admin, group_dn, "member")["member"] == [person.dn]
    assert [g.display_name for g in directory.groups_of(person.upn)] == [group]
    with pytest.raises(ConflictError):
        directory.add_group_member(group, person.upn)

    directory.remove_group_member(group, person.upn)

    assert read(admin, group_dn, "member")["member"] == []
    assert directory.groups_of(person.upn) == []
    with pytest.raises(NotFoundError, match="is not a member"):
        directory.remove_group_member(group, person.upn)


def test_privileged_groups_are_marked(directory: LdapDirectory, admin: ldap3.Connection) -> None:
    groups = directory.groups_of("Administrator")
    assert {"Domain Admins", "Administrators"} <= {g.display_name for g in groups}
    assert all(g.privileged for g in groups if g.display_name == "Domain Admins")


def test_a_bind_account_without_the_right_is_forbidden_and_told_where_to_grant_it(
    samba: SambaDC, make_user: MakeUser, admin: ldap3.Connection
) -> None:
    helpdesk = make_user()  # an ordinary user: nothing delegated
    target = make_user()
    weak = directory_for(settings(samba, bind_user=helpdesk.upn), helpdesk.password)

    with pytest.raises(ForbiddenError) as refused:
        weak.reset_password(target.upn, NEW_PASSWORD, force_change=True)

    text = str(refused.value)
    assert "the bind account lacks the 'Reset user passwords" in text
    assert "OU=Staff,DC=deskhand,DC=test" in text
    assert "Delegate Control" in text
    with pytest.raises(ForbiddenError, match="lockoutTime"):
        weak.unlock(target.upn)
    assert read(admin, target.dn, "pwdLastSet")["pwdLastSet"] != ["0"]


def test_a_wrong_bind_password_is_an_authentication_error(samba: SambaDC) -> None:
    wrong = directory_for(settings(samba), "not-the-password")
    with pytest.raises(AuthenticationError, match="the password is wrong"):
        wrong.get_user("Administrator")


def test_an_unreachable_server_is_skipped_for_the_next_one(samba: SambaDC) -> None:
    closed = "ldaps://127.0.0.1:1"  # nothing listens on port 1
    both = directory_for(settings(samba, servers=[closed, samba.url]))
    assert both.get_user("Administrator").admin

    only_closed = directory_for(settings(samba, servers=[closed]))
    with pytest.raises(UnavailableError, match=r"could not reach ldaps://127\.0\.0\.1:1"):
        only_closed.get_user("Administrator")


def test_a_certificate_from_an_untrusted_ca_is_refused(samba: SambaDC) -> None:
    untrusted = directory_for(settings(samba, ca_file=None))  # the system's CAs only
    with pytest.raises(AuthenticationError, match="ca_file"):
        untrusted.get_user("Administrator")


def test_start_tls_on_the_plain_port_works_for_password_resets(
    samba: SambaDC, make_user: MakeUser
) -> None:
    person = make_user()
    start_tls = directory_for(
        settings(samba, servers=[f"ldap://{samba.address}:389"], start_tls=True)
    )

    start_tls.reset_password(person.upn, NEW_PASSWORD, force_change=False)

    assert binds(samba, person.upn, NEW_PASSWORD)[0]


def test_moving_to_or_creating_in_an_ou_without_the_delegated_task_is_forbidden_and_says_which(
    directory: LdapDirectory, make_user: MakeUser, admin: ldap3.Connection
) -> None:
    person = make_user()

    with pytest.raises(ForbiddenError) as refused:
        directory.move_to_ou(person.upn, ARCHIVE_OU)
    with pytest.raises(ForbiddenError, match="'Create, delete, and manage user accounts'"):
        directory.create_user(
            NewAdAccount(
                sam_account_name="archived1",
                user_principal_name="archived1@deskhand.test",
                display_name="Archived One",
                given_name="Archived",
                surname="One",
                ou=ARCHIVE_OU,
            ),
            NEW_PASSWORD,
        )

    assert "the bind account lacks the 'Create, delete, and manage user accounts' task" in str(
        refused.value
    )
    assert read(admin, person.dn, "sAMAccountName")["sAMAccountName"] == [person.sam]


def test_a_distinguished_name_that_is_not_an_ou_of_the_domain_is_refused_before_any_server_is_asked(
    samba: SambaDC,
) -> None:
    # No server answers here: a refusal that names the DN was made before connecting.
    offline = directory_for(settings(samba, servers=["ldaps://127.0.0.1:1"], timeout_seconds=1))

    with pytest.raises(ConnectorError) as refused:
        offline.move_to_ou("anyone@deskhand.test", "OU=Staff,DC=deskhand,DC=test)(cn=*")
    with pytest.raises(NotFoundError, match="not under DC=deskhand,DC=test"):
        offline.move_to_ou("anyone@deskhand.test", "OU=Domain Controllers,DC=evil,DC=test")

    assert refused.value.status == 34
    assert "is not the distinguished name of an organisational unit" in refused.value.message
