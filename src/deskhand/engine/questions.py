"""Asking the requester whom or what they meant, instead of guessing.

When the ticket names a person — or, for a specialist that plans with them, a group or a
licence — that matches nothing in the directory exactly, the run's plan is one client reply
(``psa.send_reply``: external communication, so always a draft a technician approves) that
lists this tenant's nearest users, groups or licences, or asks for the person's address when
nobody came close. After it is sent the ticket waits on the requester, whose answer queues it
again (``intake.answers``). Asking makes no sense — and the ticket escalates instead — when the
requester is not a user of the tenant (a stranger must not be shown the directory) or when too
many are close.

A specialist may ask too (``Plan.question``): which day is the last one, who takes over the
mail, what the starter's name is. ``asking`` makes that question the same one reply; the same
rules say when a technician asks instead (``why_not_ask_this``), and a ticket asked
``MAX_ROUNDS`` times already goes to a person rather than round again.
"""

from __future__ import annotations

from deskhand.domain.answers import answers
from deskhand.domain.directory import DirectoryUser
from deskhand.engine.replies import framed
from deskhand.engine.resolution import MAX_CANDIDATES, Resolution, Unclear, Unresolved
from deskhand.specialists.contract import Plan, ProposedStep, TicketView


def why_not_ask(resolution: Resolution, requester_email: str) -> str | None:
    """Why this ticket escalates instead of asking (None: ask)."""
    unresolved = resolution.unresolved
    assert unresolved is not None
    what = _what(unresolved)
    if resolution.requester is None:
        return (
            f"{what} {requester_email} is not a user of this tenant's directory, so deskhand "
            "does not ask them to choose between the tenant's users, groups or licences."
        )
    if len(unresolved.candidates) > MAX_CANDIDATES:
        close = ", ".join(
            f"{c.user.user_principal_name} ({c.score:.2f})" for c in unresolved.candidates
        )
        return f"{what} {len(unresolved.candidates)} users are close: {close}; a person decides."
    for unclear in unresolved.unclear:
        if len(unclear.candidates) > MAX_CANDIDATES:
            return (
                f"{what} {len(unclear.candidates)} {unclear.kind}s are close to "
                f"{unclear.written!r}: {_scored(unclear)}; a person decides."
            )
    return None


MAX_ROUNDS = 2  # answers taken before a specialist's question goes to a technician instead


def why_not_ask_this(
    ticket: TicketView, requester: DirectoryUser | None, specialist: str, question: str
) -> str | None:
    """Why a specialist's ``question`` goes to a technician instead of the requester (None:
    ask the requester)."""
    if requester is None:
        return (
            f"{specialist} needs to know: {question} The requester {ticket.requester_email} is "
            "not a user of this tenant's directory, so a technician asks them."
        )
    rounds = len(answers(ticket.body))
    if rounds >= MAX_ROUNDS:
        return (
            f"{specialist} still needs to know: {question} The requester has answered "
            f"{rounds} questions already; a technician asks them by phone."
        )
    return None


def asking(
    ticket: TicketView,
    question: str,
    summary: str,
    msp_name: str,
    template: str,
    tenant: str,
    requester: DirectoryUser | None,
) -> Plan:
    """A plan of one reply asking the requester a specialist's ``question``."""
    ask = f"{question}\n\nPlease reply to this message; we go on as soon as we have your answer."
    return Plan(
        summary=summary,
        steps=(
            ProposedStep(
                action="psa.send_reply",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "to": ticket.requester_email,
                    "body": framed(requester, ask, template, tenant, msp_name),
                },
                reason=f"Ask the requester, rather than guess: {question}",
            ),
        ),
    )


def question(
    ticket: TicketView,
    unresolved: Unresolved,
    msp_name: str,
    template: str,
    tenant: str,
    requester: DirectoryUser | None = None,
) -> Plan:
    """A plan of one reply asking the requester which user, group or licence they meant,
    greeting them by their directory name (``requester``) when they have one."""
    asks: list[str] = []
    reasons: list[str] = []
    if unresolved.users and unresolved.candidates:
        listed = "\n".join(
            f"- {c.user.display_name} ({c.user.mail or c.user.user_principal_name})"
            for c in unresolved.candidates
        )
        asks.append(
            "We want to be sure we change the right account. Which of these people do you mean?"
            f"\n\n{listed}\n\nIf it is none of them, please reply with their e-mail address."
        )
        reasons.append(
            "which user they meant: "
            + ", ".join(
                f"{c.user.user_principal_name} (score {c.score:.2f})" for c in unresolved.candidates
            )
        )
    elif unresolved.users:
        asks.append(
            "We could not find the person this request is for in your directory. Please reply "
            "with their e-mail address (their sign-in name), so we change the right account."
        )
        reasons.append("the address of the user they meant: no user came close")
    for unclear in unresolved.unclear:
        listed = "\n".join(f"- {near.name}" for near in unclear.candidates)
        asks.append(
            f'Which {unclear.kind} do you mean by "{unclear.written}"? The closest we have '
            f"found:\n\n{listed}\n\nPlease reply with its name as listed."
        )
        reasons.append(f"which {unclear.kind} {unclear.written!r} is: {_scored(unclear)}")
    body = framed(requester, "\n\n".join(asks), template, tenant, msp_name)
    about = "whom the ticket is about" if unresolved.users else "what the ticket asks for"
    return Plan(
        summary=f"Ask {ticket.requester_email} {about}",
        steps=(
            ProposedStep(
                action="psa.send_reply",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "to": ticket.requester_email,
                    "body": body,
                },
                reason="Ask the requester " + "; and ".join(reasons) + ".",
            ),
        ),
    )


def _scored(unclear: Unclear) -> str:
    return ", ".join(f"{near.name} (score {near.score:.2f})" for near in unclear.candidates)


def _what(unresolved: Unresolved) -> str:
    if unresolved.names:
        return f"No directory user is exactly {', '.join(unresolved.names)}, and"
    if unresolved.users:
        return "The ticket names no user of this tenant's directory, and"
    written = ", ".join(repr(u.written) for u in unresolved.unclear)
    return f"The ticket names {written}, which is not exactly a group or licence of the tenant, and"
