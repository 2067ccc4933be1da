"""Actions on the ticket itself: an internal note, the reply to the client, technician time,
the ticket's status.

A PSA has no idempotency key of its own, so the step's key rides in the text — ``[deskhand
KEY]`` in a note or a timer entry's notes, ``Ref: KEY`` in a reply — and reading the ticket
back finds it: that is the verification, and after a crash how a change already made is
recognised instead of made twice.
"""

from __future__ import annotations

import contextlib
from typing import Any

from deskhand.actions.contract import Acted, Action, Baseline, Check
from deskhand.connectors.capabilities import PSA_COMMENTS, PSA_STATUS, PSA_TIME
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.factory import Connectors
from deskhand.connectors.mail import Mailer
from deskhand.domain.actions import NoteParams, ReplyParams, StatusParams, TimeParams
from deskhand.domain.directory import PsaTimeEntry
from deskhand.domain.risks import BlastRadius


def marker(key: str) -> str:
    """The text in a note, or a timer entry's notes, that says which step wrote it."""
    return f"[deskhand {key}]"


class _Comment(Action):
    """A PSA note or reply, found again by the marker it carries."""

    needs = (PSA_COMMENTS,)
    hidden: bool

    def _marker(self, key: str) -> str:
        return marker(key) if self.hidden else f"Ref: {key}"

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


class AddInternalNote(_Comment):
    name = "psa.add_internal_note"
    Params = NoteParams
    radius = BlastRadius.INTERNAL
    summary = "Add an internal note to PSA ticket {psa_ticket_id}"
    undo = "internal notes stay; add a correcting note"
    safe_to_repeat = True  # found again by its marker
    hidden = True


class SendReply(_Comment):
    """The reply to the requester: through the PSA, or by the tenant's SMTP when it has one.
    Never repeated after a takeover: the client would read it twice."""

    name = "psa.send_reply"
    Params = ReplyParams
    radius = BlastRadius.EXTERNAL_COMMUNICATION
    summary = "Reply to {to} on PSA ticket {psa_ticket_id}"
    undo = None
    safe_to_repeat = False  # the client would read it twice
    hidden = False

    def act(
        self, params: NoteParams | ReplyParams, c: Connectors, key: str, secret: str | None
    ) -> Acted:
        if isinstance(params, ReplyParams) and c.mail is not None:
            return self._mail(params, c, c.mail, key)
        return super().act(params, c, key, secret)

    def check(
        self, params: NoteParams | ReplyParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        if isinstance(params, ReplyParams) and c.mail is not None:
            return self._mailed(params, c, c.mail, key)
        return super().check(params, c, key, baseline)

    def _mail(self, params: ReplyParams, c: Connectors, mail: Mailer, key: str) -> Acted:
        """The reply by e-mail (the tenant's mail is SMTP), recorded on the ticket as a note."""
        ticket = c.psa.get_ticket(params.psa_ticket_id)
        sent = mail.send_reply(ticket, params.to, params.body, key)
        record = (
            f"Reply sent by e-mail to {sent.to}, subject {sent.subject!r}, Message-ID "
            f"{sent.message_id}; the mail server answered {sent.answer}.\n\n{marker(key)}"
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
            if comment.hidden and marker(key) in comment.body:
                return Check(True, {"channel": "smtp", "note_id": comment.id})
        return Check(False, {"channel": "smtp", "sent": False})


class LogTime(Action):
    """A timer entry of the step's minutes, with its billable flag, on the PSA ticket. Billing:
    labour on the client's invoice once it is charged. Not repeated after a takeover when it
    is not found: the worker that stopped may only be paused, and post its entry later."""

    name = "psa.log_time"
    Params = TimeParams
    radius = BlastRadius.BILLING
    summary = "Log {minutes} minutes (billable: {billable}) on PSA ticket {psa_ticket_id}"
    undo = "delete the timer entry in Syncro → ticket → Timers (before it is invoiced)"
    needs = (PSA_TIME,)
    safe_to_repeat = False  # declared: a second one is a second charge

    def snapshot(self, params: TimeParams, c: Connectors) -> dict[str, Any]:
        return {"time_entries": len(c.psa.time_entries(params.psa_ticket_id))}

    def act(self, params: TimeParams, c: Connectors, key: str, secret: str | None) -> Acted:
        logged = self._found(params, c, key)
        if logged is not None:
            # Logged before a crash but not verified (its billable flag differed): not again.
            return Acted({"already": logged.id})
        notes = f"{params.notes}\n\n{marker(key)}"
        entry = c.psa.log_time(params.psa_ticket_id, params.minutes, notes, params.billable)
        return Acted({"time_entry_id": entry.id})

    def check(self, params: TimeParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        entry = self._found(params, c, key)
        if entry is None:
            return Check(False, {"time_entry_id": None})
        observed = {
            "time_entry_id": entry.id,
            "minutes": entry.minutes,
            "billable": entry.billable,
        }
        return Check(
            entry.minutes == params.minutes and entry.billable == params.billable, observed
        )

    def _found(self, params: TimeParams, c: Connectors, key: str) -> PsaTimeEntry | None:
        for entry in c.psa.time_entries(params.psa_ticket_id):
            if marker(key) in entry.notes:
                return entry
        return None


class SetStatus(Action):
    """The ticket's status in the PSA ("Resolved", "Waiting on Customer", …), so that the PSA
    says what deskhand did. Internal: a status the client's portal shows is not a message, and
    the previous one is kept to set back."""

    name = "psa.set_status"
    Params = StatusParams
    radius = BlastRadius.INTERNAL
    summary = "Set PSA ticket {psa_ticket_id} to {status}"
    undo = "psa.set_status with the status the snapshot kept"
    safe_to_repeat = True
    needs = (PSA_STATUS,)

    def snapshot(self, params: StatusParams, c: Connectors) -> dict[str, Any]:
        return {"status": c.psa.get_ticket(params.psa_ticket_id).status}

    def act(self, params: StatusParams, c: Connectors, key: str, secret: str | None) -> Acted:
        ticket = PSA_STATUS.of(c).update_status(params.psa_ticket_id, params.status)
        return Acted({"status": ticket.status})

    def check(self, params: StatusParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        status = c.psa.get_ticket(params.psa_ticket_id).status
        return Check(status == params.status, {"status": status})


ACTIONS = (AddInternalNote, SendReply, LogTime, SetStatus)
