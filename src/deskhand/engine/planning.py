"""Making a plan from what the dispatcher learnt, the same way the first time and after an
approver's edit: the specialist plans, the LLM's reply text (if any) is framed in, the
tenant's standard time is added; and the requester check against the plan's target.

What a plan was made from is kept with its run (``PlanInputs``), so that an edit of a
directory reference is planned again from those inputs with the edited object in place of the
old one — re-planned, never patched (``deskhand.engine.edits``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from deskhand.connectors.factory import Connectors
from deskhand.engine.binding import TicketRef
from deskhand.engine.left_undone import with_left_named
from deskhand.engine.replies import with_replies_framed, with_reply_text
from deskhand.engine.time_entries import with_time_entry
from deskhand.policy.tenant_policy import TimeEntries
from deskhand.specialists.contract import Plan, PlanContext, Specialist, TicketView
from deskhand.triage.identity import IdentityCheck, check_identity


class PlanInputs(BaseModel):
    """What a specialist's plan was made from: stored on the run as JSON."""

    model_config = ConfigDict(frozen=True)

    ticket: TicketView
    context: PlanContext
    llm_reply: str | None = None  # the LLM's reply text that was framed into the plan
    llm_proposer: str = ""
    reply_template: str = ""  # the tenant's frame for client replies (Jinja); empty: built-in

    @model_validator(mode="before")
    @classmethod
    def _template_of_older_runs(cls, data: Any) -> Any:
        # Runs planned before the engine framed replies kept the template in the context.
        if isinstance(data, dict) and isinstance(data.get("context"), dict):
            context = data["context"]
            if "reply_template" in context and "reply_template" not in data:
                data = {**data, "reply_template": context["reply_template"]}
        return data


def kept_inputs(stored: Mapping[str, Any] | None) -> PlanInputs | None:
    """What a run's plan was made from, as kept with the run; None for a plan no specialist
    made from the ticket (a question to the requester, an undo of another plan)."""
    if not stored or "ticket" not in stored:
        return None
    return PlanInputs.model_validate(stored)


def make_plan(
    specialist: Specialist, inputs: PlanInputs, time_entries: TimeEntries | None, ticket: TicketRef
) -> Plan:
    """The specialist's plan for ``inputs``, with the LLM's reply text, every client reply in
    the tenant's template and the standard time (logged on ``ticket`` when a PSA holds it). A
    plan that hands the ticket over or asks the requester a question is returned as it is."""
    plan = specialist.plan(inputs.ticket, inputs.context)
    if plan.handoff is not None or plan.question is not None:
        return plan
    if inputs.llm_reply is not None:
        # Only the words of the client reply: recipients, steps and policy stay the plan's.
        plan = with_reply_text(plan, inputs.llm_reply, inputs.llm_proposer)
    plan = with_left_named(plan, inputs.ticket)  # what no step does, said in note and reply
    context = inputs.context
    plan = with_replies_framed(plan, context, inputs.reply_template)
    return with_time_entry(plan, time_entries, context.triage.intent, ticket, context.targets)


def requester_check(
    connectors: Connectors, ticket: TicketView, context: PlanContext
) -> IdentityCheck:
    """Is the requester the plan's target, their manager or an authorised contact — and does
    anything (a VIP, a privileged group, a look-alike sender) ask for more? Reads the target's
    manager and the PSA's contacts; a ConnectorError if either cannot be read."""
    target = context.targets[0]
    manager = connectors.m365.get_user(target.manager_id) if target.manager_id else None
    return check_identity(
        ticket.requester_email,
        target,
        manager,
        connectors.psa.contacts(),
        requester_name=ticket.requester_name,
        on_directory=context.requester,
        domains=context.tenant.domains,
        text=f"{ticket.subject}\n{ticket.body}",
        grants_privilege=any(group.privileged for group in context.groups),
    )
