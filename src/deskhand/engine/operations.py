"""How each action is snapshotted, performed and verified on a tenant's connectors: the only
code in deskhand that changes an outside system, called only by the executor.

``check`` reads the outside system back and says whether the intended state is in place. The
executor calls it after acting (verification) and, after a crash, *before* acting again — so a
change that already happened is recognised, not repeated. That is what the idempotency key is
for where a system has no such key of its own: PSA notes carry it as a visible marker.
"""

from __future__ import annotations

import contextlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from deskhand.connectors.errors import ConflictError, ConnectorError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.connectors.mail import Mailer
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
from deskhand.engine.time_entry_operation import LogTime


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
    # Graph and AD keep whole seconds: a change in the step's first second counts.
    return moment is not None and moment >= started_at.replace(microsecond=0)


class _PasswordReset:
    """A password reset in Microsoft 365 or Active Directory (``system`` picks which)."""

    def __init__(self, system: str) -> None:
        self.system = system

    def _state(self, params: UserParams, c: Connectors) -> SignInState:
        if self.system == "ad":
            # user_id is the Microsoft 365 object id, unknown to AD; the UPN is the same in both.
            return c.ad.account_state(params.user_principal_name)
        return c.m365.sign_in_state(params.user_id)

    def snapshot(self, params: PasswordResetParams, c: Connectors) -> dict[str, Any]:
        return _sign_in(self._state(params, c))

    def secret(self) -> str | None:
        return temporary_password()

    def act(
        self, params: PasswordResetParams, c: Connectors, key: str, secret: str | None
    ) -> Acted:
        assert secret is not None, "a password reset needs the temporary password made first"
        if self.system == "ad":
            c.ad.reset_password(params.user_principal_name, secret, params.force_change)
        else:
            c.m365.reset_password(params.user_id, secret, params.force_change)
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
    """Unlock in AD, which knows the user by user principal name, not by the M365 id."""

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return _sign_in(c.ad.account_state(params.user_principal_name))

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        c.ad.unlock(params.user_principal_name)
        return Acted({"unlocked": True})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        state = c.ad.account_state(params.user_principal_name)
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


class _ManualMembership(_Membership):
    """A distribution list change a technician makes in Exchange admin center. Their approval
    is the tick that says it is done: acting changes nothing, and checking reads the members
    back through Graph, so a tick without the change is not verified and escalates."""

    def act(self, params: GroupMemberParams, c: Connectors, key: str, secret: str | None) -> Acted:
        return Acted({"manual": "done by the technician who approved it"})

    def check(
        self, params: GroupMemberParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        member = self._is_member(params, c)
        if member == self.member:
            return Check(True, {"member": member})
        wanted = "is not" if self.member else "is still"
        return Check(
            False,
            {
                "member": member,
                "manual_step": f"{params.user_principal_name} {wanted} a member of "
                f"{params.group_name}: the step was ticked off before it was done in Exchange "
                "admin center",
            },
        )


class _SharedMailbox(_NoSecret):
    """A user's mailbox converted to a shared mailbox, which only Exchange admin center does.
    As for a distribution list, the technician's approval is the tick and acting changes
    nothing; checking reads mailboxSettings.userPurpose back through Graph."""

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return {"purpose": c.m365.mailbox_purpose(params.user_id)}

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        return Acted({"manual": "done by the technician who approved it"})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        purpose = c.m365.mailbox_purpose(params.user_id)
        if purpose == "shared":
            return Check(True, {"purpose": purpose})
        return Check(
            False,
            {
                "purpose": purpose,
                "manual_step": f"the mailbox of {params.user_principal_name} is still a "
                f"{purpose} mailbox: the step was ticked off before it was converted in "
                "Exchange admin center",
            },
        )


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
        if isinstance(params, ReplyParams) and c.mail is not None:
            return self._mail(params, c, c.mail, key)
        subject = "deskhand note" if self.hidden else "Update on your ticket"
        body = f"{params.body}\n\n{self._marker(key)}"
        comment = c.psa.add_comment(params.psa_ticket_id, subject, body, hidden=self.hidden)
        return Acted({"comment_id": comment.id})

    def check(
        self, params: NoteParams | ReplyParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        if isinstance(params, ReplyParams) and c.mail is not None:
            return self._mailed(params, c, c.mail, key)
        comment_id = self._found(params, c, key)
        return Check(comment_id is not None, {"comment_id": comment_id, "hidden": self.hidden})

    def _mail(self, params: ReplyParams, c: Connectors, mail: Mailer, key: str) -> Acted:
        """The reply by e-mail (the tenant's mail is SMTP), recorded on the ticket as a note."""
        ticket = c.psa.get_ticket(params.psa_ticket_id)
        sent = mail.send_reply(ticket, params.to, params.body, key)
        record = (
            f"Reply sent by e-mail to {sent.to}, subject {sent.subject!r}, Message-ID "
            f"{sent.message_id}; the mail server answered {sent.answer}.\n\n[deskhand {key}]"
        )
        # Durable proof for a worker that restarts after the send: it finds this note. If the
        # PSA refuses it, the mailer's own record still verifies the send in this process.
        with contextlib.suppress(ConnectorError):
            c.psa.add_comment(params.psa_ticket_id, "deskhand note", record, hidden=True)
        return Acted({"message_id": sent.message_id, "answer": sent.answer})

    def _mailed(self, params: ReplyParams, c: Connectors, mail: Mailer, key: str) -> Check:
        """Verification by SMTP is only "the server accepted it" (its answer and the
        Message-ID): weaker than reading a PSA comment back, since delivery is not seen."""
        sent = mail.sent(key)
        if sent is not None:
            observed = {"channel": "smtp", "message_id": sent.message_id, "answer": sent.answer}
            return Check(True, observed)
        for comment in c.psa.list_comments(params.psa_ticket_id):
            if comment.hidden and f"[deskhand {key}]" in comment.body:
                return Check(True, {"channel": "smtp", "note_id": comment.id})
        return Check(False, {"channel": "smtp", "sent": False})


OPERATIONS: dict[str, Operation] = {
    "m365.reset_password": _PasswordReset("m365"),
    "ad.reset_password": _PasswordReset("ad"),
    "m365.revoke_sessions": _RevokeSessions(),
    "ad.unlock_account": _Unlock(),
    "m365.add_group_member": _Membership(member=True),
    "m365.remove_group_member": _Membership(member=False),
    "exchange.add_distribution_list_member": _ManualMembership(member=True),
    "exchange.remove_distribution_list_member": _ManualMembership(member=False),
    "exchange.convert_to_shared_mailbox": _SharedMailbox(),
    "m365.assign_license": _Licence(assigned=True),
    "m365.remove_license": _Licence(assigned=False),
    "m365.add_license_seats": _Seats(),
    "psa.add_internal_note": _Comment(hidden=True),
    "psa.send_reply": _Comment(hidden=False),
    "psa.log_time": LogTime(),
}
