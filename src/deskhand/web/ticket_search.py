"""The Tickets page's search and what each ticket's row says at a glance.

A technician looks a ticket up by what they have in hand: words of its subject or body, a ticket
or PSA number ("#123"), the requester's name or address, the tenant, the status, or whose
escalation it is. The page's rows then say, without opening the ticket, where its escalation
stands (open and with whom, resolved, worked again) and where its plan stands (drafts waiting,
running, done). Both come from two grouped queries over the page's tickets, never one per row.

Search text is the user's: LIKE wildcards in it are escaped, and text too long to be a search is
refused in words (``SearchTooLongError``); NUL characters never get here
(``deskhand.web.request_text``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from deskhand.domain.escalations import sentence
from deskhand.domain.origin import outside_psa
from deskhand.engine import schedule
from deskhand.errors import InputError
from deskhand.store.models import Approval, Escalation, Requester, Run, Step, Ticket, User

MAX_TEXT = 200  # a search longer than this is a paste, not a search
ME, NOBODY = "me", "nobody"
# A ticket or PSA number typed as one: "123", "#123".
_NUMBER = re.compile(r"#?\s*(\d+)")
# tickets.id is a 32-bit integer: PostgreSQL refuses a larger one compared with it.
MAX_TICKET_ID = 2**31 - 1
# What a run's status means for its plan, when no draft of it waits: (state, words).
_RUN_WORDS = {
    "queued": ("planning", "being planned"),
    "dispatching": ("planning", "being planned"),
    "awaiting_approval": ("waiting", "waiting for approval"),
    "ready": ("running", "approved, about to run"),
    "executing": ("running", "running"),
    "escalated": ("stopped", "stopped"),
    "shadowed": ("stopped", "left to the technicians (shadow)"),
}


class SearchTooLongError(InputError):
    """Search text longer than ``MAX_TEXT``: refused with the page's words, not a slow scan."""


@dataclass(frozen=True)
class TicketSearch:
    """What the technician asked for; empty strings ask for nothing. ``assignee`` is an
    e-mail address, ``ME`` (resolved by the caller to their own address) or ``NOBODY``."""

    text: str = ""
    requester: str = ""
    tenant: str = ""
    status: str = ""
    assignee: str = ""

    def __post_init__(self) -> None:
        for label, value in (("search text", self.text), ("requester", self.requester)):
            if len(value) > MAX_TEXT:
                raise SearchTooLongError(
                    f"The {label} is {len(value):,} characters long; a search takes at most "
                    f"{MAX_TEXT}.",
                    "Search for a few words of the subject or body, or the ticket number.",
                )

    @property
    def narrowed(self) -> bool:
        return any((self.text, self.requester, self.tenant, self.status, self.assignee))


@dataclass(frozen=True)
class EscalationGlance:
    """Where a ticket's newest escalation stands, in words."""

    state: str  # open, taken, resolved, resumed
    words: str  # "open, nobody on it yet", "open, taken by Lee", "resolved by Dana"
    reason: str  # the reason's sentence


@dataclass(frozen=True)
class PlanGlance:
    """Where a ticket's newest run stands, in words; ``waiting`` drafts link to its plan card."""

    state: str  # planning, waiting, scheduled, running, done, stopped
    words: str
    run_id: int
    waiting: int


@dataclass(frozen=True)
class TicketRow:
    id: int
    tenant_id: str
    psa_ticket_id: str
    in_psa: bool  # the tenant's PSA holds it (not mailed in, not imported): it has a link
    subject: str
    requester_email: str
    requester_name: str
    status: str
    updated_at: datetime
    escalation: EscalationGlance | None
    plan: PlanGlance | None


def tickets_page(
    session: Session,
    where: TicketSearch,
    *,
    scope: tuple[str, ...] | None,
    viewer_email: str,
    limit: int,
    offset: int,
    zones: Mapping[str, str] | None = None,
) -> tuple[list[TicketRow], int]:
    """One page of the tickets that match, newest first, with how many match in all.
    ``scope`` is the viewer's tenants (None: every tenant); ``zones`` their time zones, in
    which a plan approved ahead says when it runs (UTC for a tenant not in it)."""
    query = _matching(where, scope, viewer_email)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = session.execute(
        query.add_columns(Requester.email, Requester.name)
        .order_by(Ticket.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [ticket.id for ticket, _, _ in found]
    escalations = _escalations(session, ids, viewer_email)
    tenants = {ticket.id: ticket.tenant_id for ticket, _, _ in found}
    plans = _plans(
        session, ids, {t: (zones or {}).get(tenant, "UTC") for t, tenant in tenants.items()}
    )
    rows = [
        TicketRow(
            id=ticket.id,
            tenant_id=ticket.tenant_id,
            psa_ticket_id=ticket.psa_ticket_id,
            in_psa=outside_psa(ticket.origin, ticket.exported_from) is None,
            subject=ticket.subject,
            requester_email=email,
            requester_name=name or ticket.requester_display_name or "",
            status=ticket.status,
            updated_at=ticket.updated_at,
            escalation=escalations.get(ticket.id),
            plan=plans.get(ticket.id),
        )
        for ticket, email, name in found
    ]
    return rows, total


def _matching(
    where: TicketSearch, scope: tuple[str, ...] | None, viewer_email: str
) -> Select[Ticket]:
    query = select(Ticket).join(Requester, Requester.id == Ticket.requester_id)
    if scope is not None:
        query = query.where(Ticket.tenant_id.in_(scope))
    if where.tenant:
        query = query.where(Ticket.tenant_id == where.tenant)
    if where.status:
        query = query.where(Ticket.status == where.status)
    if where.text.strip():
        query = query.where(_text(where.text))
    if where.requester.strip():
        said = where.requester.strip()
        query = query.where(
            or_(
                Requester.email.icontains(said, autoescape=True),
                Requester.name.icontains(said, autoescape=True),
                Ticket.requester_display_name.icontains(said, autoescape=True),
            )
        )
    if where.assignee:
        query = query.where(Ticket.id.in_(_escalated_to(where.assignee, viewer_email)))
    return query


def _text(text: str) -> ColumnElement[bool]:
    """Every word in the subject or the body; a number alone is also a ticket or PSA number."""
    words = [
        or_(
            Ticket.subject.icontains(word, autoescape=True),
            Ticket.body.icontains(word, autoescape=True),
        )
        for word in text.split()
    ]
    matches: ColumnElement[bool] = and_(*words)
    number = _NUMBER.fullmatch(text.strip())
    if number is not None:
        digits = number.group(1)
        matches = or_(matches, Ticket.psa_ticket_id == digits)
        if int(digits) <= MAX_TICKET_ID:
            matches = or_(matches, Ticket.id == int(digits))
    return matches


def _escalated_to(assignee: str, viewer_email: str) -> Select[int]:
    """The tickets with an open escalation that ``assignee`` works (or nobody does)."""
    query = select(Escalation.ticket_id).where(Escalation.status == "open")
    if assignee == NOBODY:
        return query.where(Escalation.assignee_id.is_(None))
    email = viewer_email if assignee == ME else assignee
    return query.join(User, User.id == Escalation.assignee_id).where(
        User.email == email.strip().lower()
    )


def _escalations(
    session: Session, ticket_ids: list[int], viewer_email: str
) -> dict[int, EscalationGlance]:
    """Each ticket's newest escalation, in one query."""
    if not ticket_ids:
        return {}
    newest = (
        select(func.max(Escalation.id))
        .where(Escalation.ticket_id.in_(ticket_ids))
        .group_by(Escalation.ticket_id)
    )
    assignee, closer = aliased(User), aliased(User)
    found = session.execute(
        select(
            Escalation.ticket_id,
            Escalation.status,
            Escalation.closed_as,
            Escalation.reason,
            assignee.email,
            assignee.name,
            closer.email,
            closer.name,
        )
        .outerjoin(assignee, assignee.id == Escalation.assignee_id)
        .outerjoin(closer, closer.id == Escalation.closed_by_id)
        .where(Escalation.id.in_(newest))
    )
    glances = {}
    for ticket_id, status, closed_as, reason, *people in found:
        taker = _person(people[0], people[1], viewer_email)
        closed_by = _person(people[2], people[3], viewer_email)
        if status == "open":
            state, words = ("taken", f"open, taken by {taker}") if taker else ("open", _NOBODY)
        elif closed_as == "resumed":
            state, words = "resumed", f"worked again by {closed_by or 'a technician'}"
        else:
            state, words = "resolved", f"resolved by {closed_by or 'a technician'}"
        glances[ticket_id] = EscalationGlance(state, words, sentence(reason))
    return glances


_NOBODY = "open, nobody on it yet"


def _person(email: str | None, name: str | None, viewer_email: str) -> str | None:
    if email is None:
        return None
    return "you" if email == viewer_email else (name or email)


def _plans(
    session: Session, ticket_ids: list[int], zones: Mapping[int, str]
) -> dict[int, PlanGlance]:
    """Each ticket's newest run with its steps, waiting drafts and started steps counted, in
    one query; ``zones`` is each ticket's tenant's time zone."""
    if not ticket_ids:
        return {}
    newest = select(func.max(Run.id)).where(Run.ticket_id.in_(ticket_ids)).group_by(Run.ticket_id)
    waiting = func.count(case((Approval.status == "pending", Approval.id)))
    started = func.count(case((Step.status.not_in(schedule.NOT_STARTED), Step.id)))
    found = session.execute(
        select(
            Run.ticket_id, Run.id, Run.status, Run.not_before, func.count(Step.id), waiting, started
        )
        .outerjoin(Step, Step.run_id == Run.id)
        .outerjoin(Approval, Approval.step_id == Step.id)
        .where(Run.id.in_(newest))
        .group_by(Run.ticket_id, Run.id, Run.status, Run.not_before)
    )
    glances = {}
    for ticket_id, run_id, status, not_before, steps, pending, begun in found:
        if status == "ready" and not_before is not None and not begun:
            words = schedule.approved_words(not_before, zones.get(ticket_id, "UTC"))
            glances[ticket_id] = PlanGlance("scheduled", words, run_id, 0)
        else:
            glances[ticket_id] = _plan(run_id, status, steps, pending)
    return glances


def _plan(run_id: int, status: str, steps: int, pending: int) -> PlanGlance:
    if pending:
        return PlanGlance("waiting", f"{_steps(pending)} waiting for approval", run_id, pending)
    if status == "completed":
        return PlanGlance("done", f"done ({_steps(steps)})" if steps else "done", run_id, 0)
    state, words = _RUN_WORDS.get(status, ("planning", status.replace("_", " ")))
    return PlanGlance(state, words, run_id, 0)


def _steps(count: int) -> str:
    return f"{count} step{'s' if count != 1 else ''}"
