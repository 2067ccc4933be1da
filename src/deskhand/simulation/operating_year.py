"""A simulated operating year (synthetic): tenants, tickets and technicians on a simulated clock,
through deskhand's real intake, worker (dispatch and executor), policy, approvals, shadow mode,
earned autonomy and regression alarms, on a real database.

What happens (``Scenario`` sets the days; these are the defaults):

- three synthetic client tenants start in shadow on day 1; an admin moves each to live once
  its shadow record holds ``go_live_after`` comparisons, at least ``go_live_share`` matched;
- on working days each tenant's office manager opens tickets (a Poisson number a day): group
  changes (an internal step, which can earn autonomy) and password resets (security: never);
- simulated technicians decide every draft by a seeded model: a group step is approved as
  planned when it is the group asked for and edited to that group when it is not; a reply is
  rejected when it tells the client of the wrong group, and otherwise mostly approved
  unchanged, sometimes edited, rarely rejected; a shadow ticket is worked by hand;
- day ``author_removed_day``: the user who set the tenants' policies is disabled;
- day ``new_tenant_day``: a fourth tenant joins, in shadow, and earns everything on its own;
- day ``wrong_group_day``: the access-change specialist starts planning the wrong group for
  the first tenant (a fault injected into its directory lookups).

``run`` returns the ``Findings``; ``bench/operating_year.py`` prints them. Regressions are
checked every ``check_every_hours`` of simulated working time, as the worker does.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from deskhand.accounts import add_user, disable_user, find_user, generate_password
from deskhand.config import Settings
from deskhand.connectors.sandbox.seed import (
    SYNTHETIC_GROUPS,
    SyntheticTenant,
    seed_synthetic,
    synthetic_tenant,
)
from deskhand.domain import events as ev
from deskhand.domain.events import Actor, ActorKind
from deskhand.engine import approvals, escalation_work, shadow
from deskhand.engine.escalation_work import EscalationFilter
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.errors import DeskhandError
from deskhand.intake.arrival import add_ticket
from deskhand.simulation.clock import SimulatedClock, running_on
from deskhand.specialists.contract import PlanContext, TicketView
from deskhand.store.models import EventRecord, Run, Step, Tenant
from deskhand.tenants import ownership
from deskhand.trust import regressions

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
SLOTS = (9, 11, 13, 15, 17)  # the hours tickets arrive and technicians look at the queue
AUTHOR = "pat.author@msp.example"  # sets the tenants' policies; disabled at author_removed_day
ADMIN = "sam.admin@msp.example"  # moves tenants to live; sets the new tenant's policy
TECHNICIANS = ("lee.tech@msp.example", "riley.tech@msp.example")
ACCESS = "access_change"
FLOOR = ("security", "billing", "external_communication", "destructive")
LABEL = "synthetic"


@dataclass(frozen=True)
class Scenario:
    """The simulated year's shape: its length, when things happen, the autonomy terms and
    how busy and how careful everyone is."""

    days: int = 240
    author_removed_day: int = 120
    new_tenant_day: int = 200
    wrong_group_day: int = 210
    tickets_per_day: float = 4.0  # per tenant (Fabrikam: half as many again), per working day
    access_share: float = 0.65  # of tickets: group changes; the rest password resets
    min_approvals: int = 25
    min_days: int = 14
    window: int = 40
    go_live_after: int = 20  # shadow comparisons an admin wants to see before going live
    go_live_share: float = 0.95
    new_tenant_goes_live: bool = True  # False: the new tenant stays in shadow (the demo)
    reply_edit: float = 0.06  # a technician rewords a reply
    reply_reject: float = 0.01
    check_every_hours: int = 2
    seed: int = 240
    start: datetime = START  # day 1, 08:00 UTC

    @property
    def first_midnight(self) -> datetime:
        return self.start.replace(hour=0, minute=0, second=0, microsecond=0)

    def day_of(self, at: datetime) -> int:
        """The simulated day (1 is the first) of a moment."""
        return (at - self.first_midnight).days + 1

    @classmethod
    def small(cls) -> Scenario:
        """A few weeks of the same story, for the tests."""
        return cls(
            days=30,
            author_removed_day=10,
            new_tenant_day=15,
            wrong_group_day=22,
            tickets_per_day=3.0,
            min_approvals=5,
            min_days=2,
            window=20,
            go_live_after=5,
        )

    @classmethod
    def demo(cls, today: date) -> Scenario:
        """Six weeks up to yesterday, for ``deskhand demo --history``: three tenants live with
        earned autonomy, the policy's author disabled, a wrong group flagged and revoked in
        the last week, and a new tenant still in shadow with its comparisons."""
        days = 42
        start = datetime.combine(today - timedelta(days=days), time(8), tzinfo=UTC)
        return cls(
            days=days,
            author_removed_day=14,
            new_tenant_day=32,
            wrong_group_day=37,
            tickets_per_day=3.0,
            min_approvals=5,
            min_days=3,
            window=20,
            go_live_after=5,
            new_tenant_goes_live=False,
            start=start,
        )


@dataclass(frozen=True)
class SimTenant:
    id: str
    name: str
    customer_id: str
    offset: int  # picks its people's names
    busier: float = 1.0  # its tickets a day, against the scenario's


TENANTS = (
    # The biggest client, where the specialist goes wrong: half as busy again as the others.
    SimTenant("sim-fabrikam", "Fabrikam Clinic (synthetic)", "9101", 0, busier=1.5),
    SimTenant("sim-tailspin", "Tailspin Logistics (synthetic)", "9102", 5),
    SimTenant("sim-adatum", "Adatum Accounting (synthetic)", "9103", 10),
)
NEW_TENANT = SimTenant("sim-litware", "Litware Studio (synthetic)", "9104", 15)
DRIFTING = TENANTS[0].id  # where the specialist starts planning the wrong group


@dataclass(frozen=True)
class Request:
    """What a ticket asked for, as the technicians know it."""

    tenant_id: str
    kind: str  # add, remove, reset
    user: str  # sign-in name
    group: str = ""


@dataclass
class Findings:
    """What the simulated year showed; every figure is read from the event log."""

    scenario: Scenario
    backend: str
    tickets: int = 0
    drafts_decided: int = 0
    went_live: dict[str, tuple[int, str]] = field(default_factory=dict)  # day, the record
    grants: list[tuple[int, str, str, str]] = field(default_factory=list)  # day, tenant, …
    revocations: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    regressions: list[tuple[int, str, str, str]] = field(default_factory=list)
    without_approval: Counter[tuple[str, str]] = field(default_factory=Counter)
    floor_without_approval: int = 0
    monthly: list[tuple[int, int, int]] = field(default_factory=list)  # month, unchanged, decided
    owner_warnings: dict[str, str] = field(default_factory=dict)
    planned_after_author_left: int = 0
    shadow_drafts: int = 0  # drafts of a tenant while it was in shadow (must be 0)
    wrong_on_autonomy: int = 0  # wrong-group steps planned on a grant (from the drift on)
    wrong_ran_on_autonomy: int = 0  # of those, how many ran

    def day_flagged(self) -> int | None:
        """The first day a regression was flagged for the drifting tenant's access changes on
        or after the wrong-group day."""
        days = [
            day
            for day, tenant, specialist, _ in self.regressions
            if tenant == DRIFTING and specialist == ACCESS
            and day >= self.scenario.wrong_group_day
        ]  # fmt: skip
        return min(days, default=None)

    def revoked_after_drift(self) -> list[tuple[int, str, str, str, str]]:
        return [r for r in self.revocations if r[0] >= self.scenario.wrong_group_day]


class Technicians:
    """The MSP's people, deciding by a seeded model."""

    def __init__(self, rt: Runtime, scenario: Scenario, rng: random.Random) -> None:
        self.rt, self.scenario, self.rng = rt, scenario, rng
        self.requests: dict[int, Request] = {}  # ticket id → what it asked for
        self.group_ids: dict[tuple[str, str], str] = {}  # (tenant, group name) → id
        self.decisions: dict[int, int] = defaultdict(int)  # ticket → drafts decided
        self.worked: set[int] = set()  # shadow tickets worked by hand

    def group_id(self, tenant_id: str, name: str) -> str:
        key = (tenant_id, name)
        if key not in self.group_ids:
            self.group_ids[key] = self._m365(tenant_id).get_group(name).id
        return self.group_ids[key]

    def _m365(self, tenant_id: str) -> Any:
        with self.rt.db.reading() as session:
            tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        return self.rt.connectors(tenant).m365

    def decide_all(self) -> int:
        """Decide every pending draft made before this look at the queue (not those of this
        very moment: a technician gets to a draft at the next look), oldest first; how many
        were decided."""
        decided = 0
        moment = self.rt.clock()
        for draft in reversed(approvals.list_drafts(self.rt, None)):
            if draft.created_at >= moment:
                continue
            request = self.requests.get(draft.ticket_id)
            self.decisions[draft.ticket_id] += 1
            try:
                self._decide(draft, request)
            except DeskhandError:
                # Re-planned or refused under our feet (an edit planned the ticket again): the
                # next look at the queue sees what is there now.
                continue
            decided += 1
        return decided

    def _decide(self, draft: approvals.DraftView, request: Request | None) -> None:
        tech = self.rng.choice(TECHNICIANS)
        if request is None or self.decisions[draft.ticket_id] > 8:
            approvals.reject(self.rt, draft.id, tech, "not what the ticket asked; done by hand")
            return
        params = draft.proposed_params
        if draft.action.endswith("_group_member"):
            wanted = self.group_id(request.tenant_id, request.group)
            if params.get("group_id") != wanted:
                approvals.approve(self.rt, draft.id, tech, {"group_id": wanted})
            else:
                approvals.approve(self.rt, draft.id, tech)
            return
        if draft.action == "psa.send_reply":
            wrong = request.group and request.group not in str(params.get("body", ""))
            roll = self.rng.random()
            if wrong:
                approvals.reject(self.rt, draft.id, tech, f"wrong group: asked for {request.group}")
            elif roll < self.scenario.reply_reject:
                approvals.reject(self.rt, draft.id, tech, "the requester already knows")
            elif roll < self.scenario.reply_reject + self.scenario.reply_edit:
                body = str(params.get("body", "")) + "\nKind regards, the service desk"
                approvals.approve(self.rt, draft.id, tech, {"body": body})
            else:
                approvals.approve(self.rt, draft.id, tech)
            return
        verification = "called back on the number on file" if draft.verify_first else ""
        approvals.approve(self.rt, draft.id, tech, verification=verification)

    def close_escalations(self) -> int:
        """Deal by hand with every ticket escalated before this look (a wrong group put right,
        a reply sent by hand) and close its escalation; how many were closed."""
        moment = self.rt.clock()
        closed = 0
        for escalation in escalation_work.list_escalations(self.rt, EscalationFilter()):
            if escalation.created_at >= moment:
                continue
            request = self.requests.get(escalation.ticket_id)
            if request is not None and request.kind != "reset":
                self._by_hand(request)
            escalation_work.resolve(
                self.rt, escalation.id, self.rng.choice(TECHNICIANS), "Done by hand (simulated)."
            )
            closed += 1
        return closed

    def work_shadowed(self, tenant_ids: list[str]) -> int:
        """Work each ticket shadow mode left to the technicians by hand, then mark it worked
        (deskhand compares its shadow plan with what was done)."""
        with self.rt.db.reading() as session:
            left = session.scalars(
                select(Run.ticket_id).where(Run.status == "shadowed", Run.tenant_id.in_(tenant_ids))
            ).all()
        worked = 0
        for ticket_id in sorted(set(left) - self.worked):
            request = self.requests.get(ticket_id)
            self.worked.add(ticket_id)
            if request is None:
                continue
            self._by_hand(request)
            try:
                shadow.worked(self.rt, ticket_id, self.rng.choice(TECHNICIANS))
            except DeskhandError:
                continue
            worked += 1
        return worked

    def _by_hand(self, request: Request) -> None:
        m365 = self._m365(request.tenant_id)
        user = m365.get_user(_upn(request))
        if request.kind == "reset":
            m365.reset_password(user.id, generate_password(), True)
            m365.revoke_sessions(user.id)
            return
        group = self.group_id(request.tenant_id, request.group)
        members = m365.group_members(group)
        if request.kind == "add" and user.id not in members:
            m365.add_group_member(group, user.id)
        elif request.kind == "remove" and user.id in members:
            m365.remove_group_member(group, user.id)


def _upn(request: Request) -> str:
    return f"{request.user}@{request.tenant_id.replace('-', '')}.example"


def _policy(folder: Path, scenario: Scenario) -> Path:
    path = folder / "sim-policy.yaml"
    path.write_text(
        "# The simulated tenants' policy (synthetic): the built-in rules, a week to decide,\n"
        "# and the scenario's autonomy terms.\n"
        "blast_radius: {read: auto, internal: approve, security: approve, billing: approve,\n"
        "  external_communication: approve, destructive: approve}\n"
        "actions:\n  psa.add_internal_note: auto\n"
        "approvers: [approver, admin]\n"
        "approval_expiry_hours: 168\n"
        "autonomy:\n"
        f"  min_approvals: {scenario.min_approvals}\n"
        f"  min_days: {scenario.min_days}\n"
        f"  window: {scenario.window}\n",
        encoding="utf-8",
    )
    return path


class Simulation:
    """One simulated year on ``rt`` (its database empty or already upgraded)."""

    def __init__(self, rt: Runtime, scenario: Scenario, folder: Path) -> None:
        self.rt, self.scenario = rt, scenario
        self.rng = random.Random(scenario.seed)
        self.clock = SimulatedClock(scenario.start)
        self.policy = _policy(folder, scenario)
        self.technicians = Technicians(rt, scenario, self.rng)
        self.tenants: dict[str, SyntheticTenant] = {}
        self.worker = Worker(rt, "simulated-worker")
        self._next_check = scenario.start

    # --- the year -------------------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        with running_on(self.clock, self.rt), self._drifting():
            self.rt.db.upgrade()
            self._users()
            for tenant in TENANTS:
                self._join(tenant, AUTHOR)
            for day in range(1, self.scenario.days + 1):
                self._day(day)
                if progress is not None:
                    progress(day)

    def _day(self, day: int) -> None:
        midnight = self.scenario.first_midnight + timedelta(days=day - 1)
        if day == self.scenario.author_removed_day:
            self.clock.to(midnight + timedelta(hours=8))
            with self.rt.db.session() as session:
                author = find_user(session, AUTHOR)
                disable_user(session, author, Actor(ActorKind.USER, ADMIN))
        if day == self.scenario.new_tenant_day:
            self.clock.to(midnight + timedelta(hours=8, minutes=30))
            self._join(NEW_TENANT, ADMIN)
        if midnight.weekday() >= 5:
            return
        arrivals = self._arrivals()
        for hour in SLOTS:
            self.clock.to(midnight + timedelta(hours=hour))
            for tenant_id in arrivals.pop(hour, []):
                self._ticket(tenant_id)
            self.worker.run_once()
            self.technicians.decide_all()
            self.worker.run_once()
            self.technicians.close_escalations()
            self.technicians.work_shadowed(list(self.tenants))
            self._check_regressions()
        self.clock.to(midnight + timedelta(hours=18))
        self._go_live()

    def _arrivals(self) -> dict[int, list[str]]:
        found: dict[int, list[str]] = defaultdict(list)
        for tenant_id in self.tenants:
            busier = next(t.busier for t in (*TENANTS, NEW_TENANT) if t.id == tenant_id)
            for _ in range(_poisson(self.rng, self.scenario.tickets_per_day * busier)):
                found[self.rng.choice(SLOTS[:-1])].append(tenant_id)
        return found

    def _ticket(self, tenant_id: str) -> None:
        seeded = self.tenants[tenant_id]
        domain = seeded.tenant.domains[0]
        manager = f"{seeded.manager}@{domain}"
        user = self.rng.choice(seeded.staff)
        name = _display(user)
        if self.rng.random() < self.scenario.access_share:
            group = self.rng.choice(SYNTHETIC_GROUPS)
            members = self.technicians._m365(tenant_id).group_members(
                self.technicians.group_id(tenant_id, group)
            )
            user_id = self.technicians._m365(tenant_id).get_user(f"{user}@{domain}").id
            kind = "remove" if user_id in members else "add"
            words = "to" if kind == "add" else "from"
            subject = f"{group} access"
            body = f"Please {kind} {name} {words} the {group} group. Thanks"
        else:
            kind, group = "reset", ""
            subject = "Password reset"
            body = f"{name} is locked out: please reset the password for {name}. Thanks"
        received = add_ticket(self.rt, tenant_id, manager, subject, body)
        self.technicians.requests[received.ticket_id] = Request(tenant_id, kind, user, group)

    def _check_regressions(self) -> None:
        moment = self.clock()
        if moment < self._next_check:
            return
        self._next_check = moment + timedelta(hours=self.scenario.check_every_hours)
        with self.rt.db.reading() as session:
            checked = regressions.due(session, moment)
        if not checked.empty:
            with self.rt.db.session() as session:
                regressions.check(session, moment)

    def _go_live(self) -> None:
        """The admin's rule: a tenant in shadow goes live on a record of enough comparisons
        that matched."""
        with self.rt.db.reading() as session:
            waiting = session.scalars(
                select(Tenant.id).where(Tenant.id.in_(list(self.tenants)), Tenant.mode == "shadow")
            ).all()
            records = {t: shadow.shadow_record(session, t) for t in waiting}
        for tenant_id, record in records.items():
            if tenant_id == NEW_TENANT.id and not self.scenario.new_tenant_goes_live:
                continue
            if record.compared < self.scenario.go_live_after:
                continue
            if record.matched / record.compared < self.scenario.go_live_share:
                continue
            shadow.set_mode(
                self.rt, tenant_id, shadow.LIVE, ADMIN, "its shadow plans matched our work"
            )

    # --- the set-up -----------------------------------------------------------------------------

    def _users(self) -> None:
        system = Actor(ActorKind.SYSTEM, "simulation")
        people = [
            (AUTHOR, "Pat Author (synthetic)", "admin"),
            (ADMIN, "Sam Admin (synthetic)", "admin"),
            *((t, f"{t.split('.')[0].title()} (synthetic)", "approver") for t in TECHNICIANS),
        ]
        with self.rt.db.session() as session:
            for email, name, role in people:
                try:
                    find_user(session, email)
                except DeskhandError:
                    add_user(
                        session,
                        email,
                        name=name,
                        role=role,
                        tenants=["*"],
                        password=generate_password(),
                        actor=system,
                    )

    def _join(self, tenant: SimTenant, by: str) -> None:
        """A new client tenant: in the sandbox, registered in shadow, its policy set by ``by``."""
        seeded = seed_synthetic(
            self.rt.sandbox,
            synthetic_tenant(tenant.id, tenant.name, tenant.customer_id, tenant.offset),
        )
        self.tenants[tenant.id] = seeded
        with self.rt.db.session() as session:
            if session.get(Tenant, tenant.id) is None:
                session.add(
                    Tenant(
                        id=tenant.id,
                        name=tenant.name,
                        psa_customer_id=tenant.customer_id,
                        domains=list(seeded.tenant.domains),
                        connector="sandbox",
                        policy_path=str(self.policy),
                        mode=shadow.SHADOW,
                    )
                )
                session.flush()
                ownership.record_policy(
                    session,
                    tenant.id,
                    Actor(ActorKind.USER, by),
                    str(self.policy),
                    f"{tenant.name}: the MSP's standard policy ({LABEL} tenant)",
                )

    @contextmanager
    def _drifting(self) -> Iterator[None]:
        """From the wrong-group day, the access-change specialist reads the group a ticket
        names as the next one in the drifting tenant's list: a fault in its lookups."""
        specialist = self.rt.registry.by_name[ACCESS]
        original = specialist.plan
        drift_at = self.scenario.first_midnight + timedelta(days=self.scenario.wrong_group_day - 1)

        def plan(ticket: TicketView, context: PlanContext) -> Any:
            if ticket.tenant_id == DRIFTING and self.clock() >= drift_at and context.groups:
                wrong = []
                for group in context.groups:
                    if group.display_name in SYNTHETIC_GROUPS:
                        at = SYNTHETIC_GROUPS.index(group.display_name)
                        name = SYNTHETIC_GROUPS[(at + 1) % len(SYNTHETIC_GROUPS)]
                        group = self.technicians._m365(DRIFTING).get_group(name)
                    wrong.append(group)
                context = context.model_copy(update={"groups": tuple(wrong)})
            return original(ticket, context)

        specialist.plan = plan  # type: ignore[method-assign]
        try:
            yield
        finally:
            specialist.plan = original  # type: ignore[method-assign]


def _display(login: str) -> str:
    return " ".join(part.title() for part in login.split("."))


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means here."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


# --- reading the year back ------------------------------------------------------------------------


def findings(rt: Runtime, scenario: Scenario, backend: str) -> Findings:
    """What the event log says happened."""
    found = Findings(scenario, backend)
    tenant_ids = [t.id for t in (*TENANTS, NEW_TENANT)]
    with rt.db.reading() as session:
        rows = session.execute(
            select(EventRecord.at, EventRecord.type, EventRecord.tenant_id, EventRecord.data)
            .where(EventRecord.tenant_id.in_(tenant_ids))
            .order_by(EventRecord.id)
        ).all()
        ran = session.execute(
            select(Step.blast_radius, Step.decision, Step.rule, Step.status, Step.action)
            .add_columns(Run.tenant_id, Run.created_at)
            .join(Run, Run.id == Step.run_id)
            .where(Run.tenant_id.in_(tenant_ids))
        ).all()
        changes = ownership.last_changes(session, tenant_ids)
    mode: dict[str, str] = {}
    monthly: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for at, type_, tenant_id, data in rows:
        day = scenario.day_of(at)
        if type_ == ev.TicketReceived.TYPE:
            found.tickets += 1
        elif type_ == ev.TenantModeChanged.TYPE:
            mode[tenant_id] = data["new"]
            if data["new"] == shadow.LIVE:
                found.went_live[tenant_id] = (
                    day,
                    f"{data['matched']} of {data['compared']} shadow plans matched",
                )
        elif type_ == ev.DraftCreated.TYPE and mode.get(tenant_id, shadow.SHADOW) == shadow.SHADOW:
            found.shadow_drafts += 1
        elif type_ in (ev.DraftApproved.TYPE, ev.DraftRejected.TYPE):
            found.drafts_decided += 1
            month = monthly[(day - 1) // 30 + 1]
            month[1] += 1
            month[0] += type_ == ev.DraftApproved.TYPE and not data.get("edited")
        elif type_ == ev.AutonomyGranted.TYPE:
            found.grants.append((day, tenant_id, data["specialist"], data["action"]))
        elif type_ == ev.AutonomyRevoked.TYPE:
            found.revocations.append(
                (day, tenant_id, data["specialist"], data["action"], data["trigger"])
            )
        elif type_ == ev.RegressionFlagged.TYPE:
            found.regressions.append((day, tenant_id, data["specialist"], data["measure"]))
        elif type_ == ev.PlanProposed.TYPE and day >= scenario.author_removed_day:
            found.planned_after_author_left += 1
    found.monthly = [(m, u, d) for m, (u, d) in sorted(monthly.items())]
    for radius, decision, rule, status, action, tenant_id, planned in ran:
        if decision != "auto":
            continue
        how = "earned" if str(rule).startswith("earned") else "policy"
        executed = status in ("verified", "failed", "executing", "uncertain")
        if (
            how == "earned"
            and tenant_id == DRIFTING
            and action.endswith("_group_member")
            and scenario.day_of(planned) >= scenario.wrong_group_day
        ):
            found.wrong_on_autonomy += 1
            found.wrong_ran_on_autonomy += executed
        if not executed:
            continue
        found.without_approval[(radius, how)] += 1
        if radius in FLOOR:
            found.floor_without_approval += 1
    for tenant_id, change in changes.items():
        warning = change.warning()
        if warning:
            found.owner_warnings[tenant_id] = warning
    return found


def simulate(
    scenario: Scenario,
    database_url: str | None = None,
    folder: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Findings:
    """Run the scenario on ``database_url`` (a SQLite file in ``folder`` when None)."""
    with tempfile.TemporaryDirectory(prefix="deskhand-year-") as scratch:
        where = folder or Path(scratch)
        settings = Settings(
            data_dir=where,
            database_url=database_url or f"sqlite:///{where / 'deskhand.db'}",
            sandbox_url=f"sqlite:///{where / 'sandbox.db'}",
        )
        rt = Runtime.from_settings(settings)
        try:
            Simulation(rt, scenario, where).run(progress)
            backend = rt.db.engine.dialect.name
            return findings(rt, scenario, backend)
        finally:
            rt.close()
