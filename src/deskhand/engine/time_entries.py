"""The technician time of a run, logged on the PSA ticket as the plan's last step.

The MSP's standard minutes per intent come from the tenant's policy (``time_entries``), never
from a specialist or the ticket: specialists only plan the work, and the one dispatcher adds
the time to any plan that does some. Logging time is billing, so the step is always a draft a
human approves. Pure: it takes values and returns a plan.
"""

from __future__ import annotations

from collections.abc import Sequence

from deskhand.domain.directory import DirectoryUser
from deskhand.engine.binding import TicketRef
from deskhand.policy.tenant_policy import TimeEntries
from deskhand.specialists.contract import Plan, ProposedStep

ACTION = "psa.log_time"


def with_time_entry(
    plan: Plan,
    standard: TimeEntries | None,
    intent: str,
    ticket: TicketRef,
    targets: Sequence[DirectoryUser] = (),
) -> Plan:
    """``plan`` with a last step logging the tenant's standard minutes for ``intent``; the plan
    as it is when it has no steps, the policy lists no minutes for the intent, or the ticket
    is not in the tenant's PSA (no PSA ticket to log time on)."""
    minutes = standard.minutes.get(intent) if standard is not None else None
    if standard is None or minutes is None or not plan.steps:
        return plan
    if ticket.outside is not None:
        return plan
    who = targets[0].user_principal_name if targets else ticket.requester_email
    step = ProposedStep(
        action=ACTION,
        params={
            "psa_ticket_id": ticket.psa_ticket_id,
            "minutes": minutes,
            "billable": standard.billable,
            "notes": f"deskhand: {intent.replace('_', ' ')} for {who} — standard time for "
            "this request (tenant policy)",
        },
        reason=f"The tenant's policy sets {minutes} minutes of technician time for "
        f"{intent.replace('_', ' ')} (billable: {str(standard.billable).lower()}).",
    )
    return plan.model_copy(update={"steps": (*plan.steps, step)})
