"""Active Directory actions: the on-premises side of a hybrid client, where a synced user's
password is reset, a locked account unlocked, an account disabled and a synced group's members
changed (over LDAP, or the sandbox); and, for a leaver and a starter, an account taken out of
every group, moved to another organisational unit, or created. AD knows a user by
sign-in name, not by the Microsoft 365 id; the sign-in name comes from the directory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deskhand.actions.contract import Acted, Action, Baseline, Check, since, temporary_password
from deskhand.actions.m365 import sign_in
from deskhand.connectors.capabilities import (
    AD_ACCOUNTS,
    AD_GROUPS,
    AD_PASSWORDS,
    AD_PLACEMENT,
    AD_PROVISIONING,
    AD_UNLOCK,
)
from deskhand.connectors.errors import ConflictError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import (
    AdGroupMemberParams,
    CreateAdUserParams,
    Facts,
    MoveToOuParams,
    PasswordResetParams,
    UserParams,
)
from deskhand.domain.directory import AdAccount, NewAdAccount, dn_key
from deskhand.domain.risks import BlastRadius


class ResetPassword(Action):
    name = "ad.reset_password"
    Params = PasswordResetParams
    radius = BlastRadius.SECURITY
    summary = (
        "Reset the Active Directory password of {user_principal_name} (temporary password, "
        "change at next logon: {force_change})"
    )
    undo = None
    safe_to_repeat = True  # again with the stored temporary password: the same outcome
    needs = (AD_PASSWORDS,)

    def secret(self) -> str | None:
        return temporary_password()

    def snapshot(self, params: PasswordResetParams, c: Connectors) -> dict[str, Any]:
        return sign_in(c.ad.account_state(params.user_principal_name))

    def act(
        self, params: PasswordResetParams, c: Connectors, key: str, secret: str | None
    ) -> Acted:
        assert secret is not None, "a password reset needs the temporary password made first"
        c.ad.reset_password(params.user_principal_name, secret, params.force_change)
        return Acted({"reset": True})

    def check(
        self, params: PasswordResetParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        state = c.ad.account_state(params.user_principal_name)
        done = since(state.password_changed_at, baseline.started_at) and (
            state.must_change_password or not params.force_change
        )
        return Check(done, sign_in(state))


class UnlockAccount(Action):
    name = "ad.unlock_account"
    Params = UserParams
    radius = BlastRadius.SECURITY
    summary = "Unlock the Active Directory account of {user_principal_name}"
    undo = None
    safe_to_repeat = True
    needs = (AD_UNLOCK,)

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return sign_in(c.ad.account_state(params.user_principal_name))

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        c.ad.unlock(params.user_principal_name)
        return Acted({"unlocked": True})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        state = c.ad.account_state(params.user_principal_name)
        return Check(not state.locked, sign_in(state))


class _AccountControl(Action):
    """Whether the AD account is enabled (userAccountControl's ACCOUNTDISABLE bit); ``enabled``
    is the state the action brings about. For a synced user this is where sign-in is blocked:
    Microsoft 365 follows at the next sync."""

    Params = UserParams
    radius = BlastRadius.SECURITY
    safe_to_repeat = True
    needs = (AD_ACCOUNTS,)
    enabled: bool

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return sign_in(c.ad.account_state(params.user_principal_name))

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        if self.enabled:
            AD_ACCOUNTS.of(c).enable(params.user_principal_name)
        else:
            AD_ACCOUNTS.of(c).disable(params.user_principal_name)
        return Acted({"account_enabled": self.enabled})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        state = c.ad.account_state(params.user_principal_name)
        return Check(state.account_enabled == self.enabled, sign_in(state))


class DisableAccount(_AccountControl):
    name = "ad.disable_account"
    summary = "Disable the Active Directory account of {user_principal_name}"
    undo = "ad.enable_account with the same parameters"
    enabled = False


class EnableAccount(_AccountControl):
    name = "ad.enable_account"
    summary = "Enable the Active Directory account of {user_principal_name} again"
    undo = "ad.disable_account with the same parameters"
    enabled = True


class _Membership(Action):
    """A group membership in Active Directory (a synced group's members are changed here, not
    in Microsoft 365); ``member`` is the state the action brings about. Read back from the
    user's memberOf."""

    Params = AdGroupMemberParams
    radius = BlastRadius.INTERNAL
    privileged_radius = BlastRadius.SECURITY  # adminCount=1: Domain Admins and the like
    safe_to_repeat = True
    needs = (AD_GROUPS,)
    member: bool

    def _is_member(self, params: AdGroupMemberParams, c: Connectors) -> bool:
        groups = AD_GROUPS.of(c).groups_of(params.user_principal_name)
        return params.group_id in {group.id for group in groups}

    def snapshot(self, params: AdGroupMemberParams, c: Connectors) -> dict[str, Any]:
        return {"member": self._is_member(params, c)}

    def act(
        self, params: AdGroupMemberParams, c: Connectors, key: str, secret: str | None
    ) -> Acted:
        groups = AD_GROUPS.of(c)
        try:
            if self.member:
                groups.add_group_member(params.group_id, params.user_principal_name)
            else:
                groups.remove_group_member(params.group_id, params.user_principal_name)
        except (ConflictError, NotFoundError) as error:
            if isinstance(error, NotFoundError) and self.member:
                raise  # the user or the group is gone, not "already a member"
            # Already as asked (someone else did it): reading back decides, not the error.
            return Acted({"already": str(error)})
        return Acted({"changed": True})

    def check(
        self, params: AdGroupMemberParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        member = self._is_member(params, c)
        return Check(member == self.member, {"member": member})


class AddGroupMember(_Membership):
    name = "ad.add_group_member"
    summary = "Add {user_principal_name} to the Active Directory group {group_name}"
    undo = "ad.remove_group_member with the same parameters"
    member = True


class RemoveGroupMember(_Membership):
    name = "ad.remove_group_member"
    summary = "Remove {user_principal_name} from the Active Directory group {group_name}"
    undo = "ad.add_group_member with the same parameters"
    member = False


class RemoveAllGroups(Action):
    """Every group of a leaver's account, in one step: the groups are those memberOf lists when
    it runs, so the primary group (Domain Users), which AD never lists there, stays — AD
    refuses to remove an account from it. The snapshot keeps each group removed, to add the
    account back to each."""

    name = "ad.remove_all_groups"
    Params = UserParams
    radius = BlastRadius.INTERNAL
    privileged_radius = BlastRadius.SECURITY  # one of the groups has adminCount=1
    summary = (
        "Remove {user_principal_name} from every Active Directory group (all but the primary "
        "group, Domain Users)"
    )
    undo = "add the account back to each group it was removed from (one step per group)"
    safe_to_repeat = True  # removing what is gone again changes nothing
    needs = (AD_GROUPS,)

    def facts(self, params: Any, c: Any) -> Facts:
        groups = AD_GROUPS.of(c).groups_of(params.user_principal_name)
        return Facts(privileged_groups=frozenset(g.id for g in groups if g.privileged))

    def blast_radius(self, params: Any, facts: Facts) -> BlastRadius:
        # The groups are not parameters: the facts hold the privileged ones the account is in.
        return self.privileged_radius if facts.privileged_groups else self.radius

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        groups = AD_GROUPS.of(c).groups_of(params.user_principal_name)
        return {"groups": [{"id": g.id, "name": g.display_name} for g in groups]}

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        directory = AD_GROUPS.of(c)
        removed, gone = [], []
        for group in directory.groups_of(params.user_principal_name):
            try:
                directory.remove_group_member(group.id, params.user_principal_name)
            except NotFoundError:
                gone.append(group.display_name)  # removed meanwhile: reading back decides
                continue
            removed.append(group.display_name)
        return Acted({"removed": removed, **({"already": gone} if gone else {})})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        groups = AD_GROUPS.of(c).groups_of(params.user_principal_name)
        return Check(not groups, {"groups": [g.display_name for g in groups]})

    def undo_steps(
        self, params: Any, snapshot: Mapping[str, Any]
    ) -> list[tuple[str, dict[str, Any]]] | None:
        return [
            (
                AddGroupMember.name,
                {
                    **params.model_dump(mode="json"),
                    "group_id": group["id"],
                    "group_name": group["name"],
                },
            )
            for group in snapshot.get("groups", [])
        ]


def _placed(account: AdAccount) -> dict[str, Any]:
    return {"ou": account.ou, "distinguished_name": account.distinguished_name}


class MoveToOu(Action):
    """An account moved to another organisational unit (a leaver to "Disabled Users", where
    the client's Group Policy and sync scope treat it as gone). The OU is given by its
    distinguished name, checked before anything is asked of the domain controller; the
    snapshot keeps the OU it was in, to move it back."""

    name = "ad.move_to_ou"
    Params = MoveToOuParams
    # Another OU means other Group Policy, and may take the account out of the directory
    # sync's scope (Microsoft 365 then deletes the cloud user): never without a person.
    radius = BlastRadius.SECURITY
    summary = "Move the Active Directory account of {user_principal_name} to the OU {ou}"
    undo = "move the account back to the OU it was in"
    safe_to_repeat = True  # moving it where it already is changes nothing
    needs = (AD_PLACEMENT,)

    def snapshot(self, params: MoveToOuParams, c: Connectors) -> dict[str, Any]:
        return _placed(AD_PLACEMENT.of(c).account(params.user_principal_name))

    def act(self, params: MoveToOuParams, c: Connectors, key: str, secret: str | None) -> Acted:
        AD_PLACEMENT.of(c).move_to_ou(params.user_principal_name, params.ou)
        return Acted({"moved_to": params.ou})

    def check(self, params: MoveToOuParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        account = AD_PLACEMENT.of(c).account(params.user_principal_name)
        return Check(dn_key(account.ou) == dn_key(params.ou), _placed(account))

    def undo_steps(
        self, params: Any, snapshot: Mapping[str, Any]
    ) -> list[tuple[str, dict[str, Any]]] | None:
        if not snapshot.get("ou"):
            return None  # where it was is not known: a technician moves it back
        return [(self.name, {**params.model_dump(mode="json"), "ou": snapshot["ou"]})]


class CreateUser(Action):
    creates = "user_principal_name"
    """A starter's account, created in Active Directory with a temporary password (made before
    acting and kept with the step, as a password reset's), enabled and to be changed at the
    first logon; Microsoft 365 gets the user at the next directory sync. A logon name or
    sign-in name already taken is refused, never reused: the snapshot records that none
    existed, and reading back finds the account this step made."""

    name = "ad.create_user"
    Params = CreateAdUserParams
    radius = BlastRadius.SECURITY  # a new identity that can sign in
    summary = (
        "Create the Active Directory account {user_principal_name} ({display_name}, logon name "
        "{sam_account_name}) in the OU {ou}, enabled, with a temporary password to change at "
        "first logon"
    )
    undo = "disable and delete the account in Active Directory Users and Computers"
    safe_to_repeat = True  # reading back first finds an account this step already made
    needs = (AD_PROVISIONING,)

    def secret(self) -> str | None:
        return temporary_password()

    def snapshot(self, params: CreateAdUserParams, c: Connectors) -> dict[str, Any]:
        directory = AD_PROVISIONING.of(c)
        taken = {}
        for key in (params.sam_account_name, params.user_principal_name):
            try:
                taken[key] = directory.account(key).distinguished_name
            except NotFoundError:
                continue
        return {"existing": taken}

    def act(self, params: CreateAdUserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        assert secret is not None, "a new account needs its temporary password made first"
        account = NewAdAccount(
            sam_account_name=params.sam_account_name,
            user_principal_name=params.user_principal_name,
            display_name=params.display_name,
            given_name=params.given_name,
            surname=params.surname,
            ou=params.ou,
            department=params.department,
            job_title=params.job_title,
            country=params.usage_location,
            manager=params.manager,
        )
        AD_PROVISIONING.of(c).create_user(account, secret)
        return Acted({"created": params.user_principal_name})

    def check(
        self, params: CreateAdUserParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        if baseline.snapshot.get("existing"):
            # The name was taken before this step: whatever is there is not its account.
            return Check(False, {"existing": baseline.snapshot["existing"]})
        try:
            account = AD_PROVISIONING.of(c).account(params.sam_account_name)
        except NotFoundError:
            return Check(False, {"exists": False})
        wanted = {
            "user_principal_name": params.user_principal_name.lower(),
            "display_name": params.display_name,
            "given_name": params.given_name,
            "surname": params.surname,
            "ou": dn_key(params.ou),
            "department": params.department or None,  # left empty: none set
            "job_title": params.job_title or None,
            "country": params.usage_location or None,
            "manager_id": params.manager,
            "account_enabled": True,
            "must_change_password": True,
        }
        found = {
            **account.model_dump(include=set(wanted)),
            "user_principal_name": account.user_principal_name.lower(),
            "ou": dn_key(account.ou),
        }
        observed = account.model_dump(exclude={"id"})
        return Check(found == wanted, observed)

    def undo_steps(
        self, params: Any, snapshot: Mapping[str, Any]
    ) -> list[tuple[str, dict[str, Any]]] | None:
        # Deleting is a technician's (undo says how); deskhand disables the account.
        return [
            (
                DisableAccount.name,
                {
                    "user_id": params.user_principal_name,
                    "user_principal_name": params.user_principal_name,
                },
            )
        ]


ACTIONS = (
    ResetPassword,
    UnlockAccount,
    DisableAccount,
    EnableAccount,
    AddGroupMember,
    RemoveGroupMember,
    RemoveAllGroups,
    MoveToOu,
    CreateUser,
)
