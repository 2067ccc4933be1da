"""The PSA stays in step: as deskhand works a ticket, the ticket's status in the PSA follows —
working (drafts waiting or running), waiting (a question to the requester), resolved,
escalated (a technician has it) — through the tenant's status map (``statuses:`` in the PSA
section of its connection file; Syncro's own statuses by default,
``deskhand.connectors.syncro.settings.DEFAULT_STATUSES``).

This is bookkeeping, not a change to the client's systems, so it is not a draft: it happens
as the stage changes, is recorded in the event log, and never stops the work — a PSA that
refuses (a status the account renamed, an outage) is logged and recorded with the reason. When
a plan ran to the end, an internal note on the ticket names who approved it (Syncro writes
every API change in the name of the API key's owner) and lists every step and where it stands,
as the escalation note does when a plan stops.
"""

from __future__ import annotations

import logging
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.audit.log import append
from deskhand.connectors.capabilities import PSA_COMMENTS, PSA_STATUS
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.syncro.settings import DEFAULT_STATUSES
from deskhand.domain import events as ev
from deskhand.engine import state
from deskhand.engine.left_undone import left_by_step
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Approval, Run, Step, Tenant, User

log = logging.getLogger("deskhand.psa_status")

Stage = Literal["working", "waiting", "resolved", "escalated"]


def follow(rt: Runtime, tenant: Tenant, run_id: int, stage: Stage) -> None:
    """Set the PSA status of the run's ticket for ``stage``, if the tenant maps it."""
    connectors = rt.ticket_connectors(tenant)
    statuses = _statuses(connectors.psa)
    wanted = statuses.get(stage)
    if not wanted or PSA_STATUS.missing(connectors) is not None:
        return  # not asked for, or a ticket no PSA holds (its notes are kept in deskhand)
    with rt.db.reading() as session:
        run = session.get(Run, run_id)
        assert run is not None
        ticket_id, psa_ticket_id = run.ticket_id, run.ticket.psa_ticket_id
        approvers = _approvers(session, run_id) if stage == "resolved" else []
        steps = steps_in_words(run) if approvers else ""
    try:
        PSA_STATUS.of(connectors).update_status(psa_ticket_id, wanted)
        outcome = "set"
    except ConnectorError as error:
        outcome = f"not set: {error}"
        log.warning("PSA ticket %s kept its status (%s): %s", psa_ticket_id, stage, error)
    if approvers and PSA_COMMENTS.missing(connectors) is None:
        body = (
            f"deskhand finished this ticket. Approved by {', '.join(approvers)} in deskhand "
            f"(the PSA shows the API key's owner as the author of deskhand's changes).\n\n"
            f"Steps:\n{steps}\n\nTrace: deskhand trace {ticket_id}"
        )
        try:
            PSA_COMMENTS.of(connectors).add_comment(psa_ticket_id, "deskhand note", body, True)
        except ConnectorError as error:
            log.warning("PSA ticket %s: the approvers' note was refused: %s", psa_ticket_id, error)
    with rt.db.session() as session:
        append(
            session,
            ev.PsaStatusFollowed(stage=stage, status=wanted, outcome=outcome),
            tenant_id=tenant.id,
            ticket_id=ticket_id,
            run_id=run_id,
        )


def steps_in_words(run: Run) -> str:
    """Every step and where it stands, in words: what is done (and whether it was read back or
    done on a technician's word, and what it left for a technician) and what is not, and for a
    step that did not run because another failed, which one it waited for."""
    if not run.steps:
        return "- nothing was changed"
    failed = {step.position for step in run.steps if step.status in ("failed", "uncertain")}
    lines = []
    for step in sorted(run.steps, key=lambda s: s.position):
        where = STANDING.get(step.status, step.status)
        if step.status == "verified" and "not_read_back" in (step.result or {}):
            where = "done on the technician's word, not read back"
        elif left_by_step(step):
            where += f"; left for a technician: {'; '.join(left_by_step(step))}"
        elif step.status == "failed" and step.error and state.waiting_since(step) is not None:
            where = f"not done: {step.error}"  # it waited for its change to show, and gave up
        elif step.status in ("failed", "uncertain") and step.error:
            where += f": {step.error}"
        elif step.status == "cancelled":
            blocked = sorted(failed.intersection(state.waits_for(step)))
            if blocked:
                where += f" (it waits for step {', '.join(map(str, blocked))})"
        lines.append(f"- {step.position}. {step.description}: {where}")
    return "\n".join(lines)


# A step's state as the notes on the ticket say it.
STANDING = {
    "verified": "done, read back",
    "failed": "failed",
    "uncertain": "not known (check by hand)",
    "cancelled": "not done",
    "executing": "started, not read back",
    "forbidden": "not done (the tenant's policy forbids it)",
    "rejected": "not done (rejected)",
    "expired": "not done (its approval expired)",
}


def _statuses(psa: object) -> dict[str, str]:
    """The tenant's map of stages to PSA statuses: its PSA settings', else Syncro's own."""
    settings = getattr(psa, "settings", None)
    found = getattr(settings, "statuses", None)
    return dict(found) if isinstance(found, dict) else dict(DEFAULT_STATUSES)


def _approvers(session: Session, run_id: int) -> list[str]:
    rows = session.execute(
        select(User.email)
        .join(Approval, Approval.approver_id == User.id)
        .join(Step, Step.id == Approval.step_id)
        .where(Step.run_id == run_id, Approval.status.in_(("approved", "used")))
        .distinct()
        .order_by(User.email)
    )
    return [email for (email,) in rows]
