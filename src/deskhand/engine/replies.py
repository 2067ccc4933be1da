"""Client replies in the tenant's frame. A specialist writes only what a reply says (the body);
the engine puts every ``psa.send_reply`` of a plan in the tenant's reply template
(``deskhand.policy.replies``, from its policy file), greeting the requester by the name the
tenant's directory has for them. The LLM's reply text, when one is configured, replaces the
body before it is framed; it never changes whom a reply goes to."""

from __future__ import annotations

from deskhand.domain.directory import DirectoryUser
from deskhand.policy.replies import DEFAULT, ReplyTemplate
from deskhand.specialists.contract import Plan, PlanContext, ProposedStep

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


def framed(requester: DirectoryUser | None, body: str, template: str, tenant: str, msp: str) -> str:
    """``body`` in the tenant's reply template (the built-in one when ``template`` is empty),
    greeting the requester by the name the directory has for them."""
    return ReplyTemplate(template or DEFAULT).render(
        first_name=first_name(requester), body=body, tenant=tenant, msp=msp
    )


def with_replies_framed(plan: Plan, context: PlanContext, template: str) -> Plan:
    """``plan`` with the body of each client reply in the tenant's ``template``."""
    if not any(step.action == REPLY for step in plan.steps):
        return plan
    steps = tuple(
        step.model_copy(
            update={
                "params": {
                    **step.params,
                    "body": framed(
                        context.requester,
                        str(step.params.get("body", "")),
                        template,
                        context.tenant.name,
                        context.msp_name,
                    ),
                }
            }
        )
        if step.action == REPLY
        else step
        for step in plan.steps
    )
    return plan.model_copy(update={"steps": steps})


def with_reply_text(plan: Plan, text: str | None, proposer: str) -> Plan:
    """``plan`` with ``text`` (an LLM's reply draft) as the body of its client replies. Only the
    body changes: each reply keeps its recipient and ticket, and stays a draft; every other step
    is left exactly as planned. No text, no change."""
    if text is None or not text.strip() or not any(s.action == REPLY for s in plan.steps):
        return plan
    steps = tuple(
        ProposedStep(
            action=step.action,
            params={**step.params, "body": text.strip()},
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
