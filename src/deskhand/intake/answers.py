"""The requester's answer to a question deskhand asked ("which Tom do you mean?").

A ticket whose question was sent waits as ``waiting_on_requester``. ``receive_reply`` is how an
answer comes back — from the CLI, the JSON API, the support mailbox, or a PSA poller that sees a
public comment from the contact on a waiting ticket. The requester's answer is appended to the
ticket's text and the ticket goes back to the dispatcher: triaged and resolved again, with the
same rules (nothing is taken on faith because it came in an answer). Anyone else's answer is
recorded and escalates the ticket, so that a person reads it: a colleague, an address of another
tenant or a look-alike of the requester's address must not be able to steer a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from deskhand.domain import text
from deskhand.domain.escalations import Reason
from deskhand.engine import state
from deskhand.engine.escalation import escalate
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import Tenant, Ticket
from deskhand.triage.warning_signs import canonical_address

HOLDER = "deskhand-answers"  # holds the run of a stray answer until it has escalated
MAX_ANSWER_CHARS = 20_000
EXCERPT_CHARS = 300


class ReplyError(DeskhandError):
    """The ticket does not wait on an answer."""

    exit_code = 2
    http_status = 409


@dataclass(frozen=True)
class ReplyOutcome:
    """What became of an answer: ``requeued`` (a run is queued to dispatch the ticket again), or
    escalated for a person (``escalation_id``)."""

    ticket_id: int
    run_id: int
    requeued: bool
    escalation_id: int | None = None


def receive_reply(rt: Runtime, ticket_id: int, from_address: str, body: str) -> ReplyOutcome:
    """Take ``body``, an answer from ``from_address``, for deskhand's ticket ``ticket_id``,
    which must be waiting on its requester. The requester's own address (compared exactly, as
    intake stores it) re-queues the ticket with the answer appended; any other address is
    recorded and escalates it (``reply_not_from_requester``). Raises ``InputError`` for an
    unknown ticket, an empty answer or a malformed address, ``ReplyError`` when the ticket
    waits on no answer. Both are cleaned first, as every intake's text is (``domain.text``)."""
    sender = canonical_address(text.line(from_address))
    answer = text.clean(body).strip()
    if "@" not in sender:
        raise InputError(f"{from_address!r} is not an e-mail address.", hint="Use --from EMAIL.")
    if not answer:
        raise InputError(
            "The answer is empty.",
            hint="Give the requester's text with --body (NUL and other characters that are not "
            "text are removed first).",
        )
    if len(answer) > MAX_ANSWER_CHARS:
        raise InputError(f"The answer is longer than {MAX_ANSWER_CHARS:,} characters.")
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise InputError(
                f"No ticket {ticket_id}.",
                hint="Use deskhand's own ticket id (`deskhand tickets list`), not the PSA's.",
            )
        if ticket.status != "waiting_on_requester":
            raise ReplyError(
                f"Ticket {ticket_id} is {ticket.status}: it is not waiting on an answer from its "
                "requester, so the answer was not taken.",
                hint="Only a ticket whose question was sent (waiting_on_requester) takes one; "
                "add the text to the ticket in the PSA instead.",
            )
        requester = ticket.requester.email
        if sender == requester:
            run = state.take_answer(session, ticket, sender, answer)
            return ReplyOutcome(ticket_id, run.id, requeued=True)
        tenant = session.get(Tenant, ticket.tenant_id)
        assert tenant is not None
        detail = _stray(ticket_id, sender, requester, tenant.domains, answer)
        lease = timedelta(seconds=rt.settings.lease_seconds)
        run = state.hold_stray_reply(session, ticket, sender, answer, HOLDER, lease)
        run_id = run.id
    escalation_id = escalate(rt, run_id, Reason.REPLY_NOT_FROM_REQUESTER, detail, worker=HOLDER)
    return ReplyOutcome(ticket_id, run_id, requeued=False, escalation_id=escalation_id)


def _stray(ticket_id: int, sender: str, requester: str, domains: list[str], answer: str) -> str:
    domain = sender.rpartition("@")[2]
    outside = (
        f" {domain} is not one of this tenant's domains ({', '.join(domains)})."
        if domain not in domains
        else ""
    )
    excerpt = answer if len(answer) <= EXCERPT_CHARS else answer[: EXCERPT_CHARS - 1] + "…"
    return (
        f"An answer to ticket {ticket_id} came from {sender}, not from its requester "
        f"{requester}.{outside} deskhand did not act on it; read it and, if it is right, "
        f'confirm with the requester. The answer: "{excerpt}"'
    )
