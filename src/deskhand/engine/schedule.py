"""An approved plan that waits for its time (a leaver's last day, a starter's first) says so
wherever its ticket is shown — "Approved — runs Fri 11 Dec 2026 17:00 (Europe/London)", in
the tenant's time zone — instead of a bare "working": approval moved the ticket on
(``state.approve``), and nothing has run yet (``runs.not_before``). A run paused mid-way
until a change can show also has a ``not_before``, but it has started: it is not waiting
for its time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from deskhand.engine.approvals import PlanView
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.store.models import Run, Tenant, Ticket

# The states of a run's steps before anything of it ran.
NOT_STARTED = frozenset({"approved", "ready"})


def runs_at(run: Run) -> datetime | None:
    """When the approved ``run`` is due, if it waits for its time; None otherwise."""
    if run.status != "ready" or run.not_before is None:
        return None
    if any(step.status not in NOT_STARTED for step in run.steps):
        return None  # paused mid-way: it waits for a change to show, not for its time
    return run.not_before


def plan_runs_at(plan: PlanView) -> datetime | None:
    """``runs_at`` for a plan as shown: when it runs, if approved ahead and not started."""
    if plan.pending or plan.not_before is None:
        return None
    if any(step.status not in NOT_STARTED for step in plan.steps):
        return None
    return plan.not_before


def approved_words(moment: datetime, time_zone: str) -> str:
    """ "Approved — runs Fri 11 Dec 2026 17:00 (Europe/London)": in the tenant's time."""
    return f"Approved — runs {local_words(moment, time_zone)}"


def local_words(moment: datetime, time_zone: str) -> str:
    """ "Fri 11 Dec 2026 17:00 (Europe/London)": a moment in the tenant's time."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return f"{local:%a %d %b %Y %H:%M} ({time_zone})"


def ticket_runs_at(ticket: Ticket) -> datetime | None:
    """When the ticket's newest run is due, if it waits approved for its time."""
    return runs_at(ticket.runs[-1]) if ticket.runs else None


def ticket_words(ticket: Ticket, time_zone: str) -> str:
    """A ticket's status in words: its newest run's schedule when it waits approved for its
    time, else the status itself ("awaiting approval")."""
    due = ticket_runs_at(ticket)
    return approved_words(due, time_zone) if due is not None else ticket.status.replace("_", " ")


def tenant_time_zone(rt: Runtime, tenant_id: str) -> str:
    """``time_zone`` of the tenant with this id."""
    with rt.db.reading() as session:
        tenant = session.get(Tenant, tenant_id)
        return time_zone(rt, tenant) if tenant is not None else "UTC"


def time_zone(rt: Runtime, tenant: Tenant) -> str:
    """The tenant's time zone; UTC while its policy file does not load (its page says why)."""
    try:
        return rt.policy(tenant).time_zone
    except InputError:
        return "UTC"
