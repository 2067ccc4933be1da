"""How each action is snapshotted, performed and verified on a tenant's connectors: the only
code in deskhand that changes an outside system, called only by the executor.

``check`` reads the outside system back and says whether the intended state is in place. The
executor calls it after acting (verification) and, after a crash, *before* acting again — so a
change that already happened is recognised, not repeated. That is what the idempotency key is
for where a system has no such key of its own: PSA notes carry it as a visible marker.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from deskhand.connectors.errors import ConflictError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import (
    GroupMemberParams,
    LicenseParams,
    NoteParams,
    PasswordResetParams,
    ReplyParams,
    SeatParams,
    UserParams,
)
from deskhand.domain.directory import SignInState


@dataclass(frozen=True)
class Acted:
    """What acting returned, for the record."""

    result: dict[str, Any]


class _NoSecret:
    def secret(self) -> str | None:
        return None


@dataclass(frozen=True)
class Baseline:
    """When the step started, and the state snapshotted just before: what "done" is
    measured against."""

    started_at: datetime
    snapshot: dict[str, Any]


@dataclass(frozen=True)
class Check:
    """Whether the intended state is in place, and what reading back showed."""

    done: bool
    observed: dict[str, Any]


class Operation(Protocol):
    def secret(self) -> str | None:
        """A secret the action sets, made before acting so that it can be stored first."""
        ...

    def snapshot(self, params: Any, c: Connectors) -> dict[str, Any]: ...

    def act(self, params: Any, c: Connectors, key: str, secret: str | None) -> Acted: ...

    def check(self, params: Any, c: Connectors, key: str, baseline: Baseline) -> Check: ...


def temporary_password() -> str:
    """Three groups of four, letters and digits: passes every default complexity rule and
    can be read out over the phone."""
    alphabet = string.ascii_letters + string.digits
    while True:
        groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)]
        word = "-".join(groups)
        if (
            any(c.isupper() for c in word)
            and any(c.islower() for c in word)
            and any(c.isdigit() for c in word)
        ):
            return word


def _sign_in(state: SignInState) -> dict[str, Any]:
    return state.model_dump(mode="json")


def _since(moment: datetime | None, started_at: datetime) -> bool:
    return moment is not None and moment >= started_at


class _PasswordReset:
    """A password reset in Microsoft 365 or Active Directory (``system`` picks which)."""

    def __init__(self, system: str) -> None:
        self.system = system

    def _state(self, params: UserParams, c: Connectors) -> SignInState:
        if self.system == "ad":
            return c.ad.account_state(params.user_id)
        return c.m365.sign_in_state(params.user_id)

    def snapshot(self, params: PasswordResetParams, c: Connectors) -> dict[str, Any]:
        return _sign_in(self._state(params, c))

    def secret(self) -> str | None:
        return temporary_password()

    def act(
        self, params: PasswordResetParams, c: Connectors, key: str, secret: str | None
    ) -> Acted:
        assert secret is not None, "a password reset needs the temporary password made first"
        target = c.ad if self.system == "ad" else c.m365
        target.reset_password(params.user_id, secret, params.force_change)
        return Acted({"reset": True})

    def check(
        self, params: PasswordResetParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        state = self._state(params, c)
        done = _since(state.password_changed_at, baseline.started_at) and (
            state.must_change_password or not params.force_change
        )
        return Check(done, _sign_in(state))


class _RevokeSessions(_NoSecret):
    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return _sign_in(c.m365.sign_in_state(params.user_id))

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        c.m365.revoke_sessions(params.user_id)
        return Acted({"revoked": True})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        state = c.m365.sign_in_state(params.user_id)
        return Check(_since(state.sessions_revoked_at, baseline.started_at), _sign_in(state))


class _Unlock(_NoSecret):
    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return _sign_in(c.ad.account_state(params.user_id))

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        c.ad.unlock(params.user_id)
        return Acted({"unlocked": True})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        state = c.ad.account_state(params.user_id)
        return Check(not state.locked, _sign_in(state))


class _Membership(_NoSecret):
    """Group membership; ``member`` is the state the action brings about."""

    def __init__(self, member: bool) -> None:
        self.member = member

    def _is_member(self, params: GroupMemberParams, c: Connectors) -> bool:
        return params.user_id in c.m365.group_members(params.group_id)

    def snapshot(self, params: GroupMemberParams, c: Connectors) -> dict[str, Any]:
        return {"member": self._is_member(params, c)}

    def act(self, params: GroupMemberParams, c: Connectors, key: str, secret: str | None) -> Acted:
        try:
            if self.member:
                c.m365.add_group_member(params.group_id, params.user_id)
            else:
                c.m365.remove_group_member(params.group_id, params.user_id)
        except (ConflictError, NotFoundError) as error:
            # Already as asked (someone else did it): reading back decides, not the error.
            return Acted({"already": str(error)})
        return Acted({"changed": True})

    def check(
        self, params: GroupMemberParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        member = self._is_member(params, c)
        return Check(member == self.member, {"member": member})


class _Licence(_NoSecret):
    def __init__(self, assigned: bool) -> None:
        self.assigned = assigned

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


class _Seats(_NoSecret):
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


class _Comment(_NoSecret):
    """A PSA note or reply. The idempotency key rides in the text, so a retry finds it."""

    def __init__(self, hidden: bool) -> None:
        self.hidden = hidden

    def _marker(self, key: str) -> str:
        return f"[deskhand {key}]" if self.hidden else f"Ref: {key}"

    def _found(self, params: NoteParams | ReplyParams, c: Connectors, key: str) -> str | None:
        for comment in c.psa.list_comments(params.psa_ticket_id):
            if self._marker(key) in comment.body and comment.hidden == self.hidden:
                return comment.id
        return None

    def snapshot(self, params: NoteParams | ReplyParams, c: Connectors) -> dict[str, Any]:
        return {"comments": len(c.psa.list_comments(params.psa_ticket_id))}

    def act(
        self, params: NoteParams | ReplyParams, c: Connectors, key: str, secret: str | None
    ) -> Acted:
        subject = "deskhand note" if self.hidden else "Update on your ticket"
        body = f"{params.body}\n\n{self._marker(key)}"
        comment = c.psa.add_comment(params.psa_ticket_id, subject, body, hidden=self.hidden)
        return Acted({"comment_id": comment.id})

    def check(
        self, params: NoteParams | ReplyParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        comment_id = self._found(params, c, key)
        return Check(comment_id is not None, {"comment_id": comment_id, "hidden": self.hidden})


OPERATIONS: dict[str, Operation] = {
    "m365.reset_password": _PasswordReset("m365"),
    "ad.reset_password": _PasswordReset("ad"),
    "m365.revoke_sessions": _RevokeSessions(),
    "ad.unlock_account": _Unlock(),
    "m365.add_group_member": _Membership(member=True),
    "m365.remove_group_member": _Membership(member=False),
    "m365.assign_license": _Licence(assigned=True),
    "m365.remove_license": _Licence(assigned=False),
    "m365.add_license_seats": _Seats(),
    "psa.add_internal_note": _Comment(hidden=True),
    "psa.send_reply": _Comment(hidden=False),
}
