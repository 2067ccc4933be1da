"""Active Directory actions: the on-premises side of a hybrid client, where a synced user's
password is reset, a locked account unlocked, an account disabled and a synced group's members
changed (over LDAP, or the sandbox). AD knows a user by
sign-in name, not by the Microsoft 365 id; the sign-in name comes from the directory."""

from __future__ import annotations

from typing import Any

from deskhand.actions.contract import Acted, Action, Baseline, Check, since, temporary_password
from deskhand.actions.m365 import sign_in
from deskhand.connectors.capabilities import AD_ACCOUNTS, AD_GROUPS, AD_PASSWORDS, AD_UNLOCK
from deskhand.connectors.errors import ConflictError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import AdGroupMemberParams, PasswordResetParams, UserParams
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


ACTIONS = (
    ResetPassword,
    UnlockAccount,
    DisableAccount,
    EnableAccount,
    AddGroupMember,
    RemoveGroupMember,
)
