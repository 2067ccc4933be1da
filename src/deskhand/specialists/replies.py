"""The client replies and internal notes the built-in specialists write, in one place so the
wording stays consistent. The greeting and sign-off around a reply are the tenant's reply
template (``deskhand.policy.replies``), from its policy file."""

from __future__ import annotations

from deskhand.domain.directory import DirectoryUser
from deskhand.policy.replies import DEFAULT, ReplyTemplate
from deskhand.specialists.contract import Plan, PlanContext, ProposedStep, TicketView

REPLY = "psa.send_reply"
# Whom a reply greets when the requester is not in the tenant's directory: the name a ticket
# came with is the sender's to choose, so it is never put in front of the client.
NO_NAME = "there"


def first_name(requester: DirectoryUser | None) -> str:
    """The requester's first name as the directory has it ("Smith, John" → John)."""
    if requester is None:
        return NO_NAME
    name = requester.display_name.strip()
    if "," in name:
        name = name.split(",", 1)[1]
    words = name.split()
    return words[0] if words else NO_NAME


def reply(ticket: TicketView, context: PlanContext, *lines: str) -> str:
    """A short, plain reply to the requester."""
    return framed(
        context.requester,
        "\n\n".join(lines),
        context.reply_template,
        context.tenant.name,
        context.msp_name,
    )


def framed(requester: DirectoryUser | None, body: str, template: str, tenant: str, msp: str) -> str:
    """``body`` in the tenant's reply template (the built-in one when ``template`` is empty),
    greeting the requester by the name the directory has for them."""
    return ReplyTemplate(template or DEFAULT).render(
        first_name=first_name(requester), body=body, tenant=tenant, msp=msp
    )


def note(*lines: str) -> str:
    """An internal note for the technicians, prefixed so it is recognisable in the PSA."""
    return "deskhand: " + "\n".join(lines)


def named_in_ticket(context: PlanContext) -> list[str]:
    """Lines for an internal note: the devices and dates the ticket names, for the technician.
    Deskhand neither checks a device nor waits for a date: a step runs once it is approved."""
    lines = []
    if context.devices:
        lines.append(f"Devices named in the ticket (not checked): {', '.join(context.devices)}.")
    if context.dates:
        dates = "; ".join(d.describe() for d in context.dates)
        lines.append(
            f"Dates named in the ticket: {dates}. Steps run when approved, not on these dates."
        )
    return lines


def with_reply_text(
    plan: Plan, text: str | None, ticket: TicketView, context: PlanContext, proposer: str
) -> Plan:
    """``plan`` with ``text`` (an LLM's reply draft) as the body of its client replies, in the
    tenant's template. Only the body changes: each reply keeps its recipient and ticket, and
    stays a draft; every other step is left exactly as planned. No text, no change."""
    if text is None or not text.strip() or not any(s.action == REPLY for s in plan.steps):
        return plan
    body = reply(ticket, context, text.strip())
    steps = tuple(
        ProposedStep(
            action=step.action,
            params={**step.params, "body": body},
            reason=f"{step.reason} The reply's text was proposed by the LLM ({proposer}): "
            "read it before approving.",
        )
        if step.action == REPLY
        else step
        for step in plan.steps
    )
    return plan.model_copy(
        update={
            "steps": steps,
            "summary": f"{plan.summary}; reply text proposed by the LLM ({proposer})",
        }
    )
