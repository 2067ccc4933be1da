"""Asking the requester whom they meant, instead of guessing.

When the ticket names a person who matches no directory user exactly, the run's plan is one
client reply (``psa.send_reply``: external communication, so always a draft a technician
approves) that lists this tenant's nearest users, or asks for the person's address when nobody
came close. After it is sent the ticket waits on the requester. Asking makes no sense — and
the ticket escalates instead — when the requester is not a user of the tenant (a stranger must
not be shown the directory) or when too many users are close.
"""

from __future__ import annotations

from deskhand.engine.resolution import MAX_CANDIDATES, Resolution, Unresolved
from deskhand.specialists.contract import Plan, ProposedStep, TicketView
from deskhand.specialists.replies import framed


def why_not_ask(resolution: Resolution, requester_email: str) -> str | None:
    """Why this ticket escalates instead of asking (None: ask)."""
    unresolved = resolution.unresolved
    assert unresolved is not None
    what = _what(unresolved)
    if resolution.requester is None:
        return (
            f"{what} {requester_email} is not a user of this tenant's directory, so deskhand "
            "does not ask them to choose between the tenant's users."
        )
    if len(unresolved.candidates) > MAX_CANDIDATES:
        close = ", ".join(
            f"{c.user.user_principal_name} ({c.score:.2f})" for c in unresolved.candidates
        )
        return f"{what} {len(unresolved.candidates)} users are close: {close}; a person decides."
    return None


def question(
    ticket: TicketView, unresolved: Unresolved, msp_name: str, template: str, tenant: str
) -> Plan:
    """A plan of one reply asking the requester which user they meant."""
    if unresolved.candidates:
        listed = "\n".join(
            f"- {c.user.display_name} ({c.user.mail or c.user.user_principal_name})"
            for c in unresolved.candidates
        )
        ask = (
            "We want to be sure we change the right account. Which of these people do you mean?"
            f"\n\n{listed}\n\nIf it is none of them, please reply with their e-mail address."
        )
        reason = "Ask the requester which user they meant: " + ", ".join(
            f"{c.user.user_principal_name} (score {c.score:.2f})" for c in unresolved.candidates
        )
    else:
        ask = (
            "We could not find the person this request is for in your directory. Please reply "
            "with their e-mail address (their sign-in name), so we change the right account."
        )
        reason = "Ask the requester for the address of the user they meant: no user came close."
    body = framed(ticket, ask, template, tenant, msp_name)
    return Plan(
        summary=f"Ask {ticket.requester_email} whom the ticket is about",
        steps=(
            ProposedStep(
                action="psa.send_reply",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "to": ticket.requester_email,
                    "body": body,
                },
                reason=reason,
            ),
        ),
    )


def _what(unresolved: Unresolved) -> str:
    if unresolved.names:
        return f"No directory user is exactly {', '.join(unresolved.names)}, and"
    return "The ticket names no user of this tenant's directory, and"
