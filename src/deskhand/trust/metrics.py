"""Trust figures per week, specialist and tenant, computed from the event log alone.

What counts, by event type (see ``deskhand.domain.events``):

- ``draft.approved``: approved unchanged, or edited when its ``edited`` is true
- ``draft.rejected``: rejected
- ``draft.expired``: expired, for a draft nobody decided; one that expired after it was
  approved (it did not start in time) stays counted as approved, and its run's escalation
  (``approval_expired``) says what happened
- ``run.escalated``: an escalation, by its reason code
- ``step.verified``: an execution read back as done
- ``step.failed``: failed (phase ``act`` or ``check``), or unverified (phase ``verify``: it
  ran, but reading back did not show the change); ``payload.refused``: failed, nothing ran

Each of these events carries its run, and the run's ``plan.proposed`` names the specialist; a
run escalated before any plan (no specialist, low confidence, identity unverified) has none.
Time to approve is the ``draft.approved`` time minus the ``draft.created`` time of the same
step. An event counts in the ISO week (Monday 00:00 UTC onwards) in which it happened.

Counting happens in the database (one grouped query); only the approvals' durations come back
one by one, because a median cannot be added up from parts and SQLite has no median.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Float, String, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from deskhand.domain import events as ev
from deskhand.errors import InputError
from deskhand.store.models import EventRecord

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
NO_SPECIALIST = "(no plan)"  # runs escalated before a specialist planned anything

TRUST_EVENTS = (
    ev.DraftApproved.TYPE,
    ev.DraftRejected.TYPE,
    ev.DraftExpired.TYPE,
    ev.RunEscalated.TYPE,
    ev.StepVerified.TYPE,
    ev.StepFailed.TYPE,
    ev.PayloadRefused.TYPE,
)
DECISIONS = ("unchanged", "edited", "rejected", "expired")
EXECUTIONS = ("verified", "failed", "unverified")


# --- what is asked -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustScope:
    """Which figures: the last ``weeks`` ISO weeks up to and including ``today``'s, of
    ``tenants`` (None: every tenant) and of one ``specialist`` (None: all of them)."""

    weeks: int = DEFAULT_WEEKS
    tenants: tuple[str, ...] | None = None
    specialist: str | None = None
    today: date | None = None  # None: today in UTC

    def __post_init__(self) -> None:
        if not 1 <= self.weeks <= MAX_WEEKS:
            raise InputError(
                f"The trust figures cover 1 to {MAX_WEEKS} weeks, not {self.weeks}.",
                hint=f"Use weeks={DEFAULT_WEEKS} for the last quarter.",
            )

    def week_starts(self) -> tuple[date, ...]:
        """The Mondays that start the window's weeks, oldest first."""
        today = self.today or datetime.now(UTC).date()
        this_week = today - timedelta(days=today.weekday())
        return tuple(this_week - timedelta(weeks=n) for n in range(self.weeks - 1, -1, -1))


def week_label(monday: date) -> str:
    """The ISO week's name, as in 2026-W48."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


# --- what comes back -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decisions:
    """How drafts ended: approved as proposed, approved with an edit, rejected, or expired."""

    unchanged: int = 0
    edited: int = 0
    rejected: int = 0
    expired: int = 0

    @property
    def total(self) -> int:
        return self.unchanged + self.edited + self.rejected + self.expired

    @property
    def unchanged_rate(self) -> float | None:
        """The share of drafts approved exactly as proposed; None when none ended."""
        return self.unchanged / self.total if self.total else None


@dataclass(frozen=True)
class Executions:
    """Steps that ran: verified by reading back, failed, or ran but could not be verified."""

    verified: int = 0
    failed: int = 0
    unverified: int = 0

    @property
    def total(self) -> int:
        return self.verified + self.failed + self.unverified

    @property
    def failed_or_unverified(self) -> int:
        return self.failed + self.unverified


@dataclass(frozen=True)
class Figures:
    """Everything counted for one group of events."""

    decisions: Decisions = Decisions()
    executions: Executions = Executions()
    escalations: Mapping[str, int] = field(default_factory=dict)  # reason code → count
    median_seconds_to_approve: float | None = None
    approvals_timed: int = 0  # approvals whose draft was found, behind the median

    @property
    def escalated(self) -> int:
        return sum(self.escalations.values())

    @property
    def empty(self) -> bool:
        return not (self.decisions.total or self.executions.total or self.escalated)


@dataclass(frozen=True)
class Row:
    """The figures of one group. ``week`` None: the whole window; ``tenant_id`` or
    ``specialist`` None: every one of them."""

    week: date | None
    tenant_id: str | None
    specialist: str | None
    figures: Figures


@dataclass(frozen=True)
class TrustReport:
    """The trust figures of a scope, grouped every way the Trust page shows them."""

    scope: TrustScope
    weeks: tuple[date, ...]
    by_week: tuple[Row, ...]  # every week of the window, oldest first, empty ones included
    by_week_specialist: tuple[Row, ...]  # groups with figures only, by week then name
    by_week_tenant: tuple[Row, ...]
    by_specialist_tenant: tuple[Row, ...]  # over the whole window
    cells: tuple[Row, ...]  # week × tenant × specialist: the finest grain (the CSV)
    total: Figures

    @property
    def this_week(self) -> Figures:
        return self.by_week[-1].figures

    @property
    def empty(self) -> bool:
        return self.total.empty

    @property
    def specialists(self) -> tuple[str, ...]:
        return tuple(sorted({r.specialist for r in self.cells if r.specialist is not None}))

    @property
    def tenants(self) -> tuple[str, ...]:
        return tuple(sorted({r.tenant_id for r in self.cells if r.tenant_id is not None}))

    @property
    def escalation_reasons(self) -> tuple[str, ...]:
        """Reason codes seen in the window, the most frequent first."""
        counts = self.total.escalations
        return tuple(sorted(counts, key=lambda reason: (-counts[reason], reason)))


# --- the queries ---------------------------------------------------------------------------------


class _WeekOf(FunctionElement[str]):
    """The Monday (UTC) that starts a timestamp's ISO week, as YYYY-MM-DD text."""

    type = String()
    name = "week_of"
    inherit_cache = True


@compiles(_WeekOf, "postgresql")
def _week_of_postgresql(element: _WeekOf, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('week', ({moment}) AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


@compiles(_WeekOf, "sqlite")
def _week_of_sqlite(element: _WeekOf, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"date({moment}, '-6 days', 'weekday 1')"  # back to the Monday on or before


class _SecondsBetween(FunctionElement[float]):
    """Seconds from the second timestamp to the first."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(_SecondsBetween, "postgresql")
def _seconds_postgresql(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later}) - ({earlier}))"


@compiles(_SecondsBetween, "sqlite")
def _seconds_sqlite(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({later}) - julianday({earlier})) * 86400.0"


def _picked(
    e: type[EventRecord], types: tuple[str, ...], scope: TrustScope, start: datetime, end: datetime
) -> list[ColumnElement[bool]]:
    """The window's events of ``types`` in the scope's tenants."""
    where = [e.type.in_(types), e.at >= start, e.at < end]
    if scope.tenants is not None:
        where.append(e.tenant_id.in_(scope.tenants))
    return where


# Every event of a run or a step carries its ticket, and the log is indexed by ticket: joining
# an event to its plan or its draft through the ticket is a short lookup on SQLite and
# PostgreSQL alike, where a join on the run or the step alone would read the whole log.


def _plan_of(plan: type[EventRecord], e: type[EventRecord]) -> ColumnElement[bool]:
    """``plan`` is the plan of ``e``'s run. A run is planned once: its plan is stored with the
    run's next state, and a run that stops is never planned again."""
    return and_(
        plan.ticket_id == e.ticket_id,
        plan.run_id == e.run_id,
        plan.type == ev.PlanProposed.TYPE,
    )


def _step_event(other: type[EventRecord], e: type[EventRecord], kind: str) -> ColumnElement[bool]:
    """``other`` is the ``kind`` event of ``e``'s step."""
    return and_(other.ticket_id == e.ticket_id, other.step_id == e.step_id, other.type == kind)


def _of_specialist(specialist: ColumnElement[str], scope: TrustScope) -> list[ColumnElement[bool]]:
    if scope.specialist == NO_SPECIALIST:
        return [specialist.is_(None)]
    if scope.specialist is not None:
        return [specialist == scope.specialist]
    return []


_Count = tuple[str, str | None, str | None, str, str | None, int]
_Duration = tuple[str, str | None, str | None, float]


def _counts(session: Session, scope: TrustScope, start: datetime, end: datetime) -> list[_Count]:
    """(week, tenant, specialist, kind, reason, count) for every group with events."""
    e = aliased(EventRecord, name="e")
    plan = aliased(EventRecord, name="plan")
    specialist = plan.data["specialist"].as_string()
    kind = case(
        (and_(e.type == ev.DraftApproved.TYPE, e.data["edited"].as_boolean()), "edited"),
        (e.type == ev.DraftApproved.TYPE, "unchanged"),
        (e.type == ev.DraftRejected.TYPE, "rejected"),
        (e.type == ev.DraftExpired.TYPE, "expired"),
        (e.type == ev.StepVerified.TYPE, "verified"),
        (and_(e.type == ev.StepFailed.TYPE, e.data["phase"].as_string() == "verify"), "unverified"),
        (e.type == ev.RunEscalated.TYPE, "escalated"),
        else_="failed",
    )
    reason = case((e.type == ev.RunEscalated.TYPE, e.data["reason"].as_string()), else_=None)
    events = (
        select(
            _WeekOf(e.at).label("week"),
            e.tenant_id,
            specialist.label("specialist"),
            kind.label("kind"),
            reason.label("reason"),
        )
        .select_from(e)
        .outerjoin(plan, _plan_of(plan, e))
        .where(*_picked(e, TRUST_EVENTS, scope, start, end), *_of_specialist(specialist, scope))
        .subquery()
    )
    # Grouped outside: PostgreSQL would not match the expressions' parameters to a GROUP BY copy.
    c = events.c
    query = select(c.week, c.tenant_id, c.specialist, c.kind, c.reason, func.count()).group_by(
        c.week, c.tenant_id, c.specialist, c.kind, c.reason
    )
    return [(w, t, s, k, r, int(n)) for w, t, s, k, r, n in session.execute(query)]


def _expired_after_approval(
    session: Session, scope: TrustScope, start: datetime, end: datetime
) -> list[_Count]:
    """Drafts that expired after they were approved (they did not start in time), grouped
    like ``_counts``: they were counted as approved and must not count again as expired."""
    e = aliased(EventRecord, name="e")
    approved = aliased(EventRecord, name="approved")
    plan = aliased(EventRecord, name="plan")
    specialist = plan.data["specialist"].as_string()
    events = (
        select(_WeekOf(e.at).label("week"), e.tenant_id, specialist.label("specialist"))
        .select_from(e)
        .join(approved, _step_event(approved, e, ev.DraftApproved.TYPE))
        .outerjoin(plan, _plan_of(plan, e))
        .where(
            *_picked(e, (ev.DraftExpired.TYPE,), scope, start, end),
            *_of_specialist(specialist, scope),
        )
        .subquery()
    )
    c = events.c
    query = select(c.week, c.tenant_id, c.specialist, func.count()).group_by(
        c.week, c.tenant_id, c.specialist
    )
    return [(w, t, s, "expired", None, -int(n)) for w, t, s, n in session.execute(query)]


def _durations(
    session: Session, scope: TrustScope, start: datetime, end: datetime
) -> list[_Duration]:
    """(week, tenant, specialist, seconds from draft to approval) for every approval."""
    e = aliased(EventRecord, name="e")
    created = aliased(EventRecord, name="created")
    plan = aliased(EventRecord, name="plan")
    specialist = plan.data["specialist"].as_string()
    query = (
        select(_WeekOf(e.at), e.tenant_id, specialist, _SecondsBetween(e.at, created.at))
        .select_from(e)
        .join(created, _step_event(created, e, ev.DraftCreated.TYPE))
        .outerjoin(plan, _plan_of(plan, e))
        .where(
            *_picked(e, (ev.DraftApproved.TYPE,), scope, start, end),
            *_of_specialist(specialist, scope),
        )
    )
    return [(w, t, s, float(seconds)) for w, t, s, seconds in session.execute(query)]


# --- adding up -----------------------------------------------------------------------------------


class _Tally:
    """Counts, escalations and approval times of one group, while they are added up."""

    __slots__ = ("counts", "escalations", "seconds")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.escalations: dict[str, int] = {}
        self.seconds: list[float] = []

    def figures(self) -> Figures:
        c = self.counts
        return Figures(
            decisions=Decisions(
                c.get("unchanged", 0), c.get("edited", 0), c.get("rejected", 0), c.get("expired", 0)
            ),
            executions=Executions(c.get("verified", 0), c.get("failed", 0), c.get("unverified", 0)),
            escalations=dict(sorted(self.escalations.items(), key=lambda i: (-i[1], i[0]))),
            median_seconds_to_approve=statistics.median(self.seconds) if self.seconds else None,
            approvals_timed=len(self.seconds),
        )


class _Groups:
    """Every grouping the report shows, filled in one pass over the query's rows."""

    def __init__(self) -> None:
        self.cells: defaultdict[tuple[date, str, str], _Tally] = defaultdict(_Tally)
        self.weeks: defaultdict[date, _Tally] = defaultdict(_Tally)
        self.week_specialist: defaultdict[tuple[date, str], _Tally] = defaultdict(_Tally)
        self.week_tenant: defaultdict[tuple[date, str], _Tally] = defaultdict(_Tally)
        self.pairs: defaultdict[tuple[str, str], _Tally] = defaultdict(_Tally)  # specialist, tenant
        self.total = _Tally()
        self._mondays: dict[str, date] = {}

    def of(self, week: str, tenant: str, specialist: str | None) -> tuple[_Tally, ...]:
        """The tallies an event of this week, tenant and specialist counts in."""
        monday = self._mondays.get(week) or self._mondays.setdefault(week, date.fromisoformat(week))
        name = specialist or NO_SPECIALIST
        return (
            self.cells[(monday, tenant, name)],
            self.weeks[monday],
            self.week_specialist[(monday, name)],
            self.week_tenant[(monday, tenant)],
            self.pairs[(name, tenant)],
            self.total,
        )


def trust_report(session: Session, scope: TrustScope) -> TrustReport:
    """The trust figures for ``scope``, read from the event log in ``session``."""
    weeks = scope.week_starts()
    start = datetime.combine(weeks[0], time(), UTC)
    end = datetime.combine(weeks[-1] + timedelta(weeks=1), time(), UTC)
    counts = _counts(session, scope, start, end)
    if any(kind == "expired" for _, _, _, kind, _, _ in counts):
        counts += _expired_after_approval(session, scope, start, end)
    groups = _Groups()
    for week, tenant, specialist, kind, reason, n in counts:
        if tenant is None:  # every event of these types has a tenant; an old one may not
            continue
        for tally in groups.of(week, tenant, specialist):
            if kind == "escalated":
                code = reason or "unknown"
                tally.escalations[code] = tally.escalations.get(code, 0) + n
            else:
                tally.counts[kind] = tally.counts.get(kind, 0) + n
    for week, tenant, specialist, seconds in _durations(session, scope, start, end):
        if tenant is None:
            continue
        # Whole seconds: SQLite's clock arithmetic keeps milliseconds, PostgreSQL microseconds.
        whole = float(round(max(seconds, 0.0)))
        for tally in groups.of(week, tenant, specialist):
            tally.seconds.append(whole)

    return TrustReport(
        scope=scope,
        weeks=weeks,
        by_week=tuple(Row(w, None, None, groups.weeks.get(w, _Tally()).figures()) for w in weeks),
        by_week_specialist=tuple(
            Row(w, None, s, t.figures()) for (w, s), t in sorted(groups.week_specialist.items())
        ),
        by_week_tenant=tuple(
            Row(w, n, None, t.figures()) for (w, n), t in sorted(groups.week_tenant.items())
        ),
        by_specialist_tenant=tuple(
            Row(None, n, s, t.figures()) for (s, n), t in sorted(groups.pairs.items())
        ),
        cells=tuple(Row(w, n, s, t.figures()) for (w, n, s), t in sorted(groups.cells.items())),
        total=groups.total.figures(),
    )
