"""Microsoft 365 actions: passwords, sessions, sign-in, group memberships, licences and seats, done
through the tenant's Microsoft 365 connector (Graph, or the sandbox)."""

from __future__ import annotations

from typing import Any

from deskhand.actions.contract import Acted, Action, Baseline, Check, since, temporary_password
from deskhand.connectors.capabilities import (
    M365_GROUPS,
    M365_LICENCES,
    M365_PASSWORDS,
    M365_SEATS,
    M365_SESSIONS,
    M365_SIGN_IN,
)
from deskhand.connectors.errors import ConflictError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import (
    GroupMemberParams,
    LicenseParams,
    PasswordResetParams,
    SeatParams,
    UserParams,
)
from deskhand.domain.directory import SignInState
from deskhand.domain.risks import BlastRadius


def sign_in(state: SignInState) -> dict[str, Any]:
    return state.model_dump(mode="json")


class ResetPassword(Action):
    name = "m365.reset_password"
    Params = PasswordResetParams
    radius = BlastRadius.SECURITY
    summary = (
        "Reset the Microsoft 365 password of {user_principal_name} (temporary password, "
        "change at next sign-in: {force_change})"
    )
    undo = None
    safe_to_repeat = True  # again with the stored temporary password: the same outcome
    needs = (M365_PASSWORDS,)

    def secret(self) -> str | None:
        return temporary_password()

    def snapshot(self, params: PasswordResetParams, c: Connectors) -> dict[str, Any]:
        return sign_in(c.m365.sign_in_state(params.user_id))

    def act(
        self, params: PasswordResetParams, c: Connectors, key: str, secret: str | None
    ) -> Acted:
        assert secret is not None, "a password reset needs the temporary password made first"
        c.m365.reset_password(params.user_id, secret, params.force_change)
        return Acted({"reset": True})

    def check(
        self, params: PasswordResetParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        state = c.m365.sign_in_state(params.user_id)
        done = since(state.password_changed_at, baseline.started_at) and (
            state.must_change_password or not params.force_change
        )
        return Check(done, sign_in(state))


class RevokeSessions(Action):
    name = "m365.revoke_sessions"
    Params = UserParams
    radius = BlastRadius.SECURITY
    summary = "Sign {user_principal_name} out of every session and device"
    undo = None
    safe_to_repeat = True
    needs = (M365_SESSIONS,)

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return sign_in(c.m365.sign_in_state(params.user_id))

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        c.m365.revoke_sessions(params.user_id)
        return Acted({"revoked": True})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        state = c.m365.sign_in_state(params.user_id)
        return Check(since(state.sessions_revoked_at, baseline.started_at), sign_in(state))


class _SignIn(Action):
    """Whether the user may sign in to Microsoft 365 (accountEnabled); ``allowed`` is the state
    the action brings about. A synced user's is AD's to change: the connector refuses it."""

    Params = UserParams
    radius = BlastRadius.SECURITY
    safe_to_repeat = True
    needs = (M365_SIGN_IN,)
    allowed: bool

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return sign_in(c.m365.sign_in_state(params.user_id))

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        M365_SIGN_IN.of(c).set_sign_in(params.user_id, enabled=self.allowed)
        return Acted({"account_enabled": self.allowed})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        state = c.m365.sign_in_state(params.user_id)
        return Check(state.account_enabled == self.allowed, sign_in(state))


class BlockSignIn(_SignIn):
    name = "m365.block_sign_in"
    summary = "Block {user_principal_name} from signing in to Microsoft 365"
    undo = "m365.allow_sign_in with the same parameters"
    allowed = False


class AllowSignIn(_SignIn):
    name = "m365.allow_sign_in"
    summary = "Allow {user_principal_name} to sign in to Microsoft 365 again"
    undo = "m365.block_sign_in with the same parameters"
    allowed = True


class _Membership(Action):
    """A group membership in Microsoft 365; ``member`` is the state the action brings about."""

    Params = GroupMemberParams
    radius = BlastRadius.INTERNAL
    privileged_radius = BlastRadius.SECURITY
    safe_to_repeat = True
    needs = (M365_GROUPS,)
    member: bool

    def _is_member(self, params: GroupMemberParams, c: Connectors) -> bool:
        return _object_id(params.user_id, c) in c.m365.group_members(params.group_id)

    def snapshot(self, params: GroupMemberParams, c: Connectors) -> dict[str, Any]:
        return {"member": self._is_member(params, c)}

    def act(self, params: GroupMemberParams, c: Connectors, key: str, secret: str | None) -> Acted:
        try:
            user_id = _object_id(params.user_id, c)
            if self.member:
                c.m365.add_group_member(params.group_id, user_id)
            else:
                c.m365.remove_group_member(params.group_id, user_id)
        except (ConflictError, NotFoundError) as error:
            # Already as asked (someone else did it): reading back decides, not the error.
            return Acted({"already": str(error)})
        return Acted({"changed": True})

    def check(
        self, params: GroupMemberParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        member = self._is_member(params, c)
        return Check(member == self.member, {"member": member})


def _object_id(user: str, c: Connectors) -> str:
    """The directory id of ``user``: a starter is named by their sign-in name in the plan that
    creates them (Graph takes it in a path, but a membership needs the object's id)."""
    return c.m365.get_user(user).id if "@" in user else user


class AddGroupMember(_Membership):
    name = "m365.add_group_member"
    summary = "Add {user_principal_name} to the group {group_name}"
    undo = "m365.remove_group_member with the same parameters"
    member = True


class RemoveGroupMember(_Membership):
    name = "m365.remove_group_member"
    summary = "Remove {user_principal_name} from the group {group_name}"
    undo = "m365.add_group_member with the same parameters"
    member = False


class _Licence(Action):
    Params = LicenseParams
    safe_to_repeat = True
    needs = (M365_LICENCES,)
    assigned: bool

    def _has(self, params: LicenseParams, c: Connectors) -> bool:
        return params.sku_id in c.m365.get_user(params.user_id).licenses

    def snapshot(self, params: LicenseParams, c: Connectors) -> dict[str, Any]:
        return {"licenses": list(c.m365.get_user(params.user_id).licenses)}

    def act(self, params: LicenseParams, c: Connectors, key: str, secret: str | None) -> Acted:
        add, remove = ([params.sku_id], []) if self.assigned else ([], [params.sku_id])
        c.m365.assign_license(params.user_id, add=add, remove=remove)
        return Acted({"changed": True})

    def check(self, params: LicenseParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        has = self._has(params, c)
        return Check(has == self.assigned, {"assigned": has})


class AssignLicence(_Licence):
    name = "m365.assign_license"
    radius = BlastRadius.INTERNAL
    summary = "Assign the licence {sku_name} to {user_principal_name}"
    undo = "m365.remove_license with the same parameters"
    assigned = True


class RemoveLicence(_Licence):
    name = "m365.remove_license"
    radius = BlastRadius.DESTRUCTIVE
    summary = "Remove the licence {sku_name} from {user_principal_name} (their services stop)"
    undo = "m365.assign_license with the same parameters, within 30 days"
    assigned = False


class AddLicenceSeats(Action):
    """Buys seats: never repeated after a takeover — a second purchase is a second bill."""

    name = "m365.add_license_seats"
    Params = SeatParams
    radius = BlastRadius.BILLING
    summary = "Buy {seats} more seat(s) of {sku_name}"
    undo = "reduce the seat count in the licensing portal (billing may not be refunded)"
    needs = (M365_SEATS,)
    safe_to_repeat = False  # declared: a second one is a second charge

    def _total(self, params: SeatParams, c: Connectors) -> int:
        for sku in c.m365.subscribed_skus():
            if sku.id == params.sku_id:
                return sku.total
        raise NotFoundError(f"No subscription {params.sku_id}.", system="m365", status=404)

    def snapshot(self, params: SeatParams, c: Connectors) -> dict[str, Any]:
        return {"total": self._total(params, c)}

    def act(self, params: SeatParams, c: Connectors, key: str, secret: str | None) -> Acted:
        c.m365.add_license_seats(params.sku_id, params.seats)
        return Acted({"ordered": params.seats})

    def check(self, params: SeatParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        total = self._total(params, c)
        return Check(total >= int(baseline.snapshot["total"]) + params.seats, {"total": total})


ACTIONS = (
    ResetPassword,
    RevokeSessions,
    BlockSignIn,
    AllowSignIn,
    AddGroupMember,
    RemoveGroupMember,
    AssignLicence,
    RemoveLicence,
    AddLicenceSeats,
)
