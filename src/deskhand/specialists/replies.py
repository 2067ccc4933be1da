"""The client replies and internal notes the built-in specialists write, in one place so the
wording stays consistent. A specialist writes only what a reply says; the engine frames it in
the tenant's reply template (greeting, sign-off) from its policy file."""

from __future__ import annotations

from deskhand.specialists.contract import PlanContext


def reply(*lines: str) -> str:
    """What a short, plain reply to the requester says: its paragraphs, without the greeting
    and sign-off the engine adds."""
    return "\n\n".join(lines)


def note(*lines: str) -> str:
    """An internal note for the technicians, prefixed so it is recognisable in the PSA."""
    return "deskhand: " + "\n".join(lines)


def named_in_ticket(context: PlanContext, runs_at: str | None = None) -> list[str]:
    """Lines for an internal note: the devices and dates the ticket names, for the technician.
    Deskhand does not check a device; a plan runs once it is approved, or at ``runs_at`` when
    its specialist scheduled it."""
    lines = []
    if context.devices:
        lines.append(f"Devices named in the ticket (not checked): {', '.join(context.devices)}.")
    if context.dates:
        dates = "; ".join(d.describe() for d in context.dates)
        when = (
            f"The steps run at {runs_at}."
            if runs_at
            else "Steps run when approved, not on these dates."
        )
        lines.append(f"Dates named in the ticket: {dates}. {when}")
    return lines
