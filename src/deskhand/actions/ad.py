"""Active Directory actions: the on-premises side of a hybrid client, where a synced user's
password is reset and a locked account unlocked (over LDAP, or the sandbox). AD knows a user by
sign-in name, not by the Microsoft 365 id; the sign-in name comes from the directory."""

from __future__ import annotations

from typing import Any

from deskhand.actions.contract import Acted, Action, Baseline, Check, since, temporary_password
from deskhand.actions.m365 import sign_in
from deskhand.connectors.capabilities import AD_PASSWORDS, AD_UNLOCK
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import PasswordResetParams, UserParams
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


ACTIONS = (ResetPassword, UnlockAccount)
