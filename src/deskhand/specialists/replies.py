"""The client replies and internal notes the built-in specialists write, in one place so the
wording stays consistent. The greeting and sign-off around a reply are the tenant's reply
template (``deskhand.policy.replies``), from its policy file."""

from __future__ import annotations

from deskhand.policy.replies import DEFAULT, ReplyTemplate
from deskhand.specialists.contract import PlanContext, TicketView


def first_name(ticket: TicketView) -> str:
    name = ticket.requester_name.strip() or ticket.requester_email.split("@")[0]
    return name.split()[0].capitalize()


def reply(ticket: TicketView, context: PlanContext, *lines: str) -> str:
    """A short, plain reply to the requester."""
    return framed(
        ticket, "\n\n".join(lines), context.reply_template, context.tenant.name, context.msp_name
    )


def framed(ticket: TicketView, body: str, template: str, tenant: str, msp: str) -> str:
    """``body`` in the tenant's reply template (the built-in one when ``template`` is empty)."""
    return ReplyTemplate(template or DEFAULT).render(
        first_name=first_name(ticket), body=body, tenant=tenant, msp=msp
    )


def note(*lines: str) -> str:
    """An internal note for the technicians, prefixed so it is recognisable in the PSA."""
    return "deskhand: " + "\n".join(lines)
