"""What is due to be told, read from the database, and the record that it was told.

Each round looks at plans waiting for approval, drafts that expire within
``notify_expiry_minutes``, open escalations and flagged regressions of the last day, and
leaves out whatever a ``notice.queued`` event already told of (found by the ticket ids, which
the event log indexes; a regression by the first ticket behind it). Deciding and recording
happen in one transaction that holds the event chain's lock, so two workers never both tell
the same thing, and a restarted one does not tell it again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskhand.actions.registry import catalogue
from deskhand.audit import log as event_log
from deskhand.domain import events as ev
from deskhand.notifications import messages
from deskhand.notifications.messages import (
    EscalatedTicket,
    FlaggedRegression,
    Links,
    ManualStep,
    Notice,
    WaitingPlan,
)
from deskhand.store.models import (
    Approval,
    ChainHead,
    Escalation,
    EventRecord,
    Requester,
    Run,
    Step,
    Ticket,
)

LOOKBACK = timedelta(days=1)  # older escalations are not news: a new target is not flooded
NEWEST = 200  # escalations read per round, newest first; a burst beyond that is not told


def due(
    session: Session,
    *,
    tenants: Mapping[str, str],
    moment: datetime,
    expiry_window: timedelta,
    links: Links,
) -> list[Notice]:
    """The messages due now for ``tenants`` (id → name), none of them told before."""
    waiting = _waiting_plans(session, tenants)
    escalations = _escalations(session, tenants, moment - LOOKBACK)
    manual = _manual_due(session, tenants)
    regressions = _regressions(session, tenants, moment - LOOKBACK)
    told = _told(
        session,
        {plan.ticket_id for plans in waiting.values() for plan in plans}
        | {ticket.ticket_id for _, ticket in escalations}
        | {step.ticket_id for _, step in manual}
        | {flagged.tickets[0] for _, flagged in regressions},
    )
    notices = []
    for tenant_id, plans in waiting.items():
        name = tenants[tenant_id]
        new = [plan for plan in plans if f"run:{plan.run_id}" not in told]
        if new:
            notices.append(messages.plans_waiting(tenant_id, name, new, plans, links))
        expiring = [
            plan
            for plan in plans
            if plan.expires_at - moment <= expiry_window
            and plan.expires_at > moment
            and f"expiring:{plan.run_id}" not in told
        ]
        if expiring:
            notices.append(messages.drafts_expiring(tenant_id, name, expiring, links))
    for tenant_id, ticket in escalations:
        if f"escalation:{ticket.escalation_id}" not in told:
            notices.append(messages.escalated(tenant_id, tenants[tenant_id], ticket, links))
    by_run: dict[tuple[str, int], list[ManualStep]] = defaultdict(list)
    for tenant_id, step in manual:
        if f"manual:{step.step_id}" not in told:
            by_run[(tenant_id, step.run_id)].append(step)
    for (tenant_id, _), steps in by_run.items():
        notices.append(messages.manual_due(tenant_id, tenants[tenant_id], steps, links))
    for tenant_id, flagged in regressions:
        if f"regression:{flagged.event_id}" not in told:
            notices.append(messages.regression(tenant_id, tenants[tenant_id], flagged, links))
    return notices


def record(session: Session, notice: Notice, targets: int) -> str:
    """Write one ``notice.queued`` event per thing ``notice`` tells of; the notice's id."""
    notice_id = uuid.uuid4().hex[:12]
    for about in notice.about:
        event_log.append(
            session,
            ev.NoticeQueued(notice_id, notice.kind.value, about.ref, targets),
            tenant_id=notice.tenant_id,
            ticket_id=about.ticket_id,
            run_id=about.run_id,
            step_id=about.step_id,
        )
    return notice_id


def hold_chain(session: Session) -> None:
    """Lock the event chain's head for the transaction: other workers deciding what is due
    wait until this one has recorded what it told (SQLite: its one writer already does)."""
    session.execute(select(ChainHead).where(ChainHead.id == 1).with_for_update()).scalar_one()


def _waiting_plans(session: Session, tenants: Iterable[str]) -> dict[str, list[WaitingPlan]]:
    rows = session.execute(
        select(
            Run.id,
            Run.tenant_id,
            Ticket.id,
            Ticket.subject,
            Requester.email,
            func.count(Approval.id),
            func.min(Approval.created_at),
            func.min(Approval.expires_at),
        )
        .join(Step, Step.id == Approval.step_id)
        .join(Run, Run.id == Step.run_id)
        .join(Ticket, Ticket.id == Run.ticket_id)
        .join(Requester, Requester.id == Ticket.requester_id)
        .where(
            Approval.status == "pending",
            Run.status == "awaiting_approval",
            Run.tenant_id.in_(list(tenants)),
        )
        .group_by(Run.id, Run.tenant_id, Ticket.id, Ticket.subject, Requester.email)
        .order_by(func.min(Approval.created_at), Run.id)
    ).all()
    found: dict[str, list[WaitingPlan]] = defaultdict(list)
    for run_id, tenant_id, ticket_id, subject, requester, drafts, since, expires in rows:
        found[tenant_id].append(
            WaitingPlan(run_id, ticket_id, subject, requester, drafts, since, expires)
        )
    return found


def _manual_due(session: Session, tenants: Iterable[str]) -> list[tuple[str, ManualStep]]:
    """Manual steps a paused run waits for (a scheduled plan ran; the technician does them)."""
    rows = session.execute(
        select(Step.id, Step.run_id, Step.action, Step.description, Run.tenant_id, Ticket.id)
        .add_columns(Ticket.subject)
        .join(Run, Run.id == Step.run_id)
        .join(Ticket, Ticket.id == Run.ticket_id)
        .where(
            Step.status == "executing",
            Run.status == "ready",
            Run.tenant_id.in_(list(tenants)),
        )
        .order_by(Step.run_id, Step.position)
        .limit(NEWEST)
    ).all()
    found = []
    for step_id, run_id, name, description, tenant_id, ticket_id, subject in rows:
        spec = catalogue().get(name)
        if spec is None or not spec.manual:
            continue
        found.append((tenant_id, ManualStep(step_id, run_id, ticket_id, subject, description)))
    return found


def _escalations(
    session: Session, tenants: Iterable[str], since: datetime
) -> list[tuple[str, EscalatedTicket]]:
    rows = session.execute(
        select(Escalation, Ticket.subject, Requester.email)
        .join(Ticket, Ticket.id == Escalation.ticket_id)
        .join(Requester, Requester.id == Ticket.requester_id)
        .where(
            Escalation.status == "open",
            Escalation.created_at >= since,
            Escalation.tenant_id.in_(list(tenants)),
        )
        .order_by(Escalation.id.desc())
        .limit(NEWEST)
    ).all()
    found = []
    for escalation, subject, requester in reversed(rows):
        failed_step = None
        if escalation.reason in messages.FAILURES and escalation.run_id is not None:
            failed_step = session.scalar(
                select(Step.description)
                .where(
                    Step.run_id == escalation.run_id,
                    Step.status.in_(("failed", "executing")),
                )
                .order_by(Step.position)
                .limit(1)
            )
        ticket = EscalatedTicket(
            escalation.id,
            escalation.ticket_id,
            escalation.run_id,
            subject,
            requester,
            escalation.reason,
            failed_step,
        )
        found.append((escalation.tenant_id, ticket))
    return found


def _regressions(
    session: Session, tenants: Iterable[str], since: datetime
) -> list[tuple[str, FlaggedRegression]]:
    """Regressions flagged (``deskhand.trust.regressions``) since ``since``, oldest first."""
    rows = session.execute(
        select(EventRecord.id, EventRecord.tenant_id, EventRecord.data)
        .where(
            EventRecord.type == ev.RegressionFlagged.TYPE,
            EventRecord.at >= since,
            EventRecord.tenant_id.in_(list(tenants)),
        )
        .order_by(EventRecord.id.desc())
        .limit(NEWEST)
    ).all()
    found = []
    for event_id, tenant_id, data in reversed(rows):
        tickets = tuple(int(t) for t in data.get("tickets") or ())
        if not tickets:
            continue  # told by the first ticket behind it: one without tickets is not told
        flagged = FlaggedRegression(
            event_id,
            str(data["specialist"]),
            str(data["words"]),
            int(data["recent_hits"]),
            int(data["recent_total"]),
            int(data["baseline_hits"]),
            int(data["baseline_total"]),
            tickets,
        )
        found.append((str(tenant_id), flagged))
    return found


def _told(session: Session, ticket_ids: set[int]) -> set[str]:
    """What ``notice.queued`` events already told of, for these tickets."""
    if not ticket_ids:
        return set()
    rows = session.scalars(
        select(EventRecord.data).where(
            EventRecord.type == ev.NoticeQueued.TYPE,
            EventRecord.ticket_id.in_(sorted(ticket_ids)),
        )
    )
    return {str(data["about"]) for data in rows}
