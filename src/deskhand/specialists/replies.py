"""The client replies and internal notes the built-in specialists write, in one place so the
wording stays consistent. (Per-tenant templates an MSP edits come later.)"""

from __future__ import annotations

from deskhand.specialists.contract import PlanContext, TicketView


def first_name(ticket: TicketView) -> str:
    name = ticket.requester_name.strip() or ticket.requester_email.split("@")[0]
    return name.split()[0].capitalize()


def reply(ticket: TicketView, context: PlanContext, *lines: str) -> str:
    """A short, plain reply to the requester."""
    body = "\n\n".join(lines)
    return f"Hi {first_name(ticket)},\n\n{body}\n\nKind regards,\n{context.msp_name}"


def note(*lines: str) -> str:
    """An internal note for the technicians, prefixed so it is recognisable in the PSA."""
    return "deskhand: " + "\n".join(lines)
