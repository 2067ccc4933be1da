"""Working the human queue to the end: take an escalation, give it to a colleague, note what
was found (kept here and written to the PSA ticket as an internal note), resolve it with a
resolution, or resume the ticket — the technician fixed the cause, e.g. called the requester
back, and deskhand triages and plans it again, making fresh drafts.

Whoever works an escalation needs the tech role or above and scope on its tenant, as approving
needs scope (``deskhand.engine.approvals.visible_to``); one outside their scope reads as one
that does not exist. Every verb is an event in the one log, with the technician as its actor.
A resumed ticket's requester verification is not an approval: the new drafts still ask their
approver to say how the requester was verified (``approvals.needs_verification``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from deskhand.audit.log import append
from deskhand.connectors.errors import ConnectorError
from deskhand.domain import events as ev
from deskhand.domain.escalations import sentence
from deskhand.domain.events import Actor, ActorKind
from deskhand.domain.origin import outside_psa
from deskhand.engine import state
from deskhand.engine.approvals import MIN_VERIFICATION_CHARS, visible_to
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.store.models import Escalation, EscalationNote, Tenant, Ticket, User, now

log = logging.getLogger("deskhand.escalation")

OPEN = "open"
RESOLVED, RESUMED = "resolved", "resumed"
WORKING_ROLES = ("tech", "approver", "admin")
MAX_TEXT = 4000  # a note or a resolution; longer is a paste, not a note


class EscalationError(DeskhandError):
    """The escalation cannot be worked this way by this user."""

    exit_code = 2


class EscalationNotFoundError(EscalationError):
    """No such escalation, or one of a tenant outside the user's scope (which looks the same)."""

    http_status = 404


class UnknownColleagueError(EscalationError):
    """The colleague to give the escalation to is not a deskhand user."""

    http_status = 404


class VerificationTooShortError(EscalationError):
    """A verification that says nothing ("ok"): refused as an approval's is (409)."""

    http_status = 409


class NotAllowedError(EscalationError):
    """The user's role does not work escalations, or the colleague may not work this tenant."""

    http_status = 403


class EscalationClosedError(EscalationError):
    """The escalation was resolved or resumed already."""

    http_status = 409


class NoteView(BaseModel):
    """A technician's note, and whether the PSA has it too."""

    id: int
    author: str
    text: str
    created_at: datetime
    in_psa: bool
    psa_error: str | None


class EscalationView(BaseModel):
    """An escalation as the queue, the ticket page, the CLI and the API show it."""

    id: int
    ticket_id: int
    psa_ticket_id: str
    in_psa: bool = True  # the tenant's PSA holds the ticket (not mailed in, not imported)
    tenant_id: str
    tenant_name: str
    subject: str
    requester: str
    reason: str
    reason_text: str
    detail: str
    status: str
    created_at: datetime
    assignee: str | None
    assignee_name: str | None
    closed_as: str | None
    closed_at: datetime | None
    closed_by: str | None
    resolution: str | None
    verification: str | None
    resumed_run_id: int | None
    notes: list[NoteView] = []


@dataclass(frozen=True)
class EscalationFilter:
    """Which escalations to list. ``tenants`` is the user's scope (None: every tenant);
    ``assignee`` is an e-mail address, or ``NOBODY`` for those nobody has taken."""

    tenants: tuple[str, ...] | None = None
    status: str | None = OPEN  # open, closed, or None for both
    tenant: str | None = None
    reason: str | None = None
    assignee: str | None = None
    older_than: timedelta | None = None
    ticket_id: int | None = None
    limit: int | None = None


NOBODY = "nobody"


def _query(where: EscalationFilter) -> Select[Escalation]:
    query = select(Escalation)
    if where.tenants is not None and "*" not in where.tenants:
        query = query.where(Escalation.tenant_id.in_(where.tenants))
    if where.status is not None:
        query = query.where(Escalation.status == where.status)
    if where.tenant:
        query = query.where(Escalation.tenant_id == where.tenant)
    if where.reason:
        query = query.where(Escalation.reason == where.reason)
    if where.ticket_id is not None:
        query = query.where(Escalation.ticket_id == where.ticket_id)
    if where.assignee == NOBODY:
        query = query.where(Escalation.assignee_id.is_(None))
    elif where.assignee:
        query = query.join(User, User.id == Escalation.assignee_id).where(
            User.email == where.assignee.strip().lower()
        )
    if where.older_than is not None:
        query = query.where(Escalation.created_at <= now() - where.older_than)
    return query


def list_escalations(rt: Runtime, where: EscalationFilter) -> list[EscalationView]:
    """The escalations that match, oldest first: the longest wait is worked first."""
    query = _query(where).order_by(Escalation.created_at, Escalation.id)
    if where.limit is not None:
        query = query.limit(where.limit)
    query = query.options(
        joinedload(Escalation.ticket).joinedload(Ticket.requester),
        joinedload(Escalation.assignee),
        joinedload(Escalation.closed_by),
    )
    with rt.db.reading() as session:
        names = _names(session)
        return [_view(e, names, notes=False) for e in session.scalars(query).unique()]


def count_open(rt: Runtime, tenants: Sequence[str] | None) -> int:
    """How many escalations wait in the human queue of these tenants (None: all)."""
    where = EscalationFilter(tenants=tuple(tenants) if tenants is not None else None)
    query = select(func.count()).select_from(_query(where).subquery())
    with rt.db.reading() as session:
        return int(session.scalar(query) or 0)


def scope(rt: Runtime, user_email: str) -> tuple[str, ...]:
    """The tenants whose escalations the user may see (``("*",)``: all)."""
    with rt.db.reading() as session:
        return tuple(_user(session, user_email).tenants)


def show(rt: Runtime, escalation_id: int, user_email: str) -> EscalationView:
    """One escalation with its notes, for a user who may see its tenant."""
    with rt.db.reading() as session:
        user = _user(session, user_email)
        escalation = _escalation(session, escalation_id, user, lock=False)
        return _view(escalation, _names(session))


def latest_for_ticket(rt: Runtime, ticket_id: int) -> EscalationView | None:
    """The ticket's newest escalation with its notes (the ticket page shows it), or None."""
    with rt.db.reading() as session:
        escalation = session.scalars(
            select(Escalation)
            .where(Escalation.ticket_id == ticket_id)
            .order_by(Escalation.id.desc())
            .limit(1)
        ).first()
        return _view(escalation, _names(session)) if escalation is not None else None


def take(rt: Runtime, escalation_id: int, user_email: str) -> EscalationView:
    """The user works the escalation from now on."""
    with rt.db.session() as session:
        user = _worker(session, user_email)
        escalation = _open(session, escalation_id, user)
        previous = escalation.assignee.email if escalation.assignee is not None else None
        escalation.assignee_id = user.id
        _log(session, escalation, user, ev.EscalationTaken(str(escalation.id), previous))
    return show(rt, escalation_id, user_email)


def assign(rt: Runtime, escalation_id: int, user_email: str, colleague: str) -> EscalationView:
    """Give the escalation to ``colleague``, a deskhand user who may work its tenant."""
    with rt.db.session() as session:
        user = _worker(session, user_email)
        escalation = _open(session, escalation_id, user)
        _text(colleague, "colleague's e-mail address")
        to = session.execute(
            select(User).where(User.email == colleague.strip().lower())
        ).scalar_one_or_none()
        if to is None:
            raise UnknownColleagueError(
                f"There is no deskhand user {colleague}.",
                hint="`deskhand users list` shows who can be given an escalation.",
            )
        if (
            to.disabled_at is not None
            or to.role not in WORKING_ROLES
            or not visible_to(to, escalation.tenant_id)
        ):
            raise NotAllowedError(
                f"{to.email} cannot work escalations of {escalation.tenant_id}: they are a "
                f"{to.role}" + (", disabled" if to.disabled_at is not None else "") + ".",
                hint="Give it to a tech, approver or admin whose tenants include this one.",
            )
        previous = escalation.assignee.email if escalation.assignee is not None else None
        escalation.assignee_id = to.id
        event = ev.EscalationAssigned(str(escalation.id), to.email, previous)
        _log(session, escalation, user, event)
    return show(rt, escalation_id, user_email)


def note(rt: Runtime, escalation_id: int, user_email: str, text: str) -> EscalationView:
    """Add a note: kept here first, then written to the PSA ticket as an internal note. A PSA
    that refuses it is recorded on the note and in the log; the note stays."""
    with rt.db.session() as session:
        user = _worker(session, user_email)
        escalation = _escalation(session, escalation_id, user, lock=True)
        body = _text(text, "note")  # after the scope check: another tenant's reads as missing
        kept = EscalationNote(
            escalation_id=escalation.id,
            tenant_id=escalation.tenant_id,
            author_id=user.id,
            body=body,
        )
        session.add(kept)
        session.flush()
        note_id, psa_ticket_id = kept.id, escalation.ticket.psa_ticket_id
        tenant = session.get(Tenant, escalation.tenant_id)
        author = f"{user.name} ({user.email})"
    assert tenant is not None
    try:
        comment = rt.ticket_connectors(tenant).psa.add_comment(
            psa_ticket_id, "deskhand: technician's note", f"{author}:\n{body}", hidden=True
        )
        comment_id, error = comment.id, None
    except ConnectorError as failure:
        log.warning("could not write the note on PSA ticket %s: %s", psa_ticket_id, failure)
        comment_id, error = None, str(failure)
    with rt.db.session() as session:
        user = _user(session, user_email)
        kept_again = session.get(EscalationNote, note_id)
        escalation_again = session.get(Escalation, escalation_id)
        assert kept_again is not None and escalation_again is not None
        kept_again.psa_comment_id = comment_id
        kept_again.psa_error = error
        event = ev.EscalationNoted(
            escalation_id=str(escalation_id),
            note_id=str(note_id),
            text=body,
            psa_ok=error is None,
            psa_detail=error or f"PSA comment {comment_id}",
        )
        _log(session, escalation_again, user, event)
    return show(rt, escalation_id, user_email)


def resolve(rt: Runtime, escalation_id: int, user_email: str, resolution: str) -> EscalationView:
    """The technician dealt with the ticket themselves: the escalation closes with what they
    did, and the ticket is resolved."""
    with rt.db.session() as session:
        user = _worker(session, user_email)
        escalation = _open(session, escalation_id, user)
        text = _text(resolution, "resolution")
        state.close_escalation(escalation, user, RESOLVED)
        escalation.resolution = text
        if escalation.ticket.status == "escalated":
            state.resolve_escalated_ticket(escalation.ticket)
        _log(session, escalation, user, ev.EscalationResolved(str(escalation.id), text))
    return show(rt, escalation_id, user_email)


def resume(
    rt: Runtime, escalation_id: int, user_email: str, verification: str = ""
) -> EscalationView:
    """The technician fixed the cause: the ticket is triaged and planned again as a new run,
    whose drafts are fresh. ``verification`` says how they verified the requester (e.g.
    "called back 555-0100 on file"); the new run's requester check reads it."""
    said = " ".join(verification.split())
    with rt.db.session() as session:
        user = _worker(session, user_email)
        escalation = _open(session, escalation_id, user)
        if said and len(said) < MIN_VERIFICATION_CHARS:
            raise VerificationTooShortError(
                f'"{said}" does not say how the requester was verified.',
                hint="Say how, e.g. 'called back 555-0100, the number on file'.",
            )
        ticket = escalation.ticket
        if ticket.status != "escalated":
            raise EscalationClosedError(
                f"Ticket {ticket.id} is {ticket.status.replace('_', ' ')}: deskhand is working "
                "it already, so it cannot be resumed.",
                hint="Resolve the escalation instead, saying what happened.",
            )
        actor = Actor(ActorKind.USER, user.email)
        run = state.resume_ticket(session, ticket, actor)
        state.close_escalation(escalation, user, RESUMED)
        escalation.verification = said or None
        escalation.resumed_run_id = run.id
        _log(session, escalation, user, ev.EscalationResumed(str(escalation.id), said))
    return show(rt, escalation_id, user_email)


def _log(session: Session, escalation: Escalation, user: User, event: ev.Event) -> None:
    append(
        session,
        event,
        actor=Actor(ActorKind.USER, user.email),
        tenant_id=escalation.tenant_id,
        ticket_id=escalation.ticket_id,
        run_id=escalation.run_id,
    )


def _text(text: str, what: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise EscalationError(f"The {what} is empty.", hint=f"Write the {what} in a few words.")
    if len(stripped) > MAX_TEXT:
        raise EscalationError(
            f"The {what} is {len(stripped):,} characters; at most {MAX_TEXT:,} are kept.",
            hint="Attach long output to the PSA ticket and summarise it here.",
        )
    return stripped


def _user(session: Session, email: str) -> User:
    user = session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise EscalationError(f"No user {email}.", hint="`deskhand users list` shows the users.")
    return user


def _worker(session: Session, email: str) -> User:
    """The user, if their role works escalations."""
    user = _user(session, email)
    if user.role not in WORKING_ROLES or user.disabled_at is not None:
        raise NotAllowedError(
            f"{user.email} is a {user.role}; escalations are worked by a tech, approver or admin."
        )
    return user


def _escalation(session: Session, escalation_id: int, user: User, *, lock: bool) -> Escalation:
    query = select(Escalation).where(Escalation.id == escalation_id)
    found = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if found is None or not visible_to(user, found.tenant_id):
        raise EscalationNotFoundError(
            f"There is no escalation {escalation_id}.",
            hint="`deskhand escalations list` shows the open ones.",
        )
    return found


def _open(session: Session, escalation_id: int, user: User) -> Escalation:
    escalation = _escalation(session, escalation_id, user, lock=True)
    if escalation.status != OPEN:
        raise EscalationClosedError(
            f"Escalation {escalation_id} was {escalation.closed_as or 'closed'} already"
            + (f" by {escalation.closed_by.email}" if escalation.closed_by is not None else "")
            + ".",
            hint="A new escalation opens if deskhand stops on the ticket again.",
        )
    return escalation


def _names(session: Session) -> dict[str, str]:
    return {tenant_id: name for tenant_id, name in session.execute(select(Tenant.id, Tenant.name))}


def _view(escalation: Escalation, names: dict[str, str], *, notes: bool = True) -> EscalationView:
    ticket = escalation.ticket
    return EscalationView(
        id=escalation.id,
        ticket_id=ticket.id,
        psa_ticket_id=ticket.psa_ticket_id,
        in_psa=outside_psa(ticket.origin, ticket.exported_from) is None,
        tenant_id=escalation.tenant_id,
        tenant_name=names.get(escalation.tenant_id, escalation.tenant_id),
        subject=ticket.subject,
        requester=ticket.requester.email,
        reason=escalation.reason,
        reason_text=sentence(escalation.reason),
        detail=escalation.detail,
        status=escalation.status,
        created_at=escalation.created_at,
        assignee=escalation.assignee.email if escalation.assignee is not None else None,
        assignee_name=escalation.assignee.name if escalation.assignee is not None else None,
        closed_as=escalation.closed_as,
        closed_at=escalation.closed_at,
        closed_by=escalation.closed_by.email if escalation.closed_by is not None else None,
        resolution=escalation.resolution,
        verification=escalation.verification,
        resumed_run_id=escalation.resumed_run_id,
        notes=[
            NoteView(
                id=n.id,
                author=n.author.email,
                text=n.body,
                created_at=n.created_at,
                in_psa=n.psa_comment_id is not None,
                psa_error=n.psa_error,
            )
            for n in escalation.notes
        ]
        if notes
        else [],
    )
