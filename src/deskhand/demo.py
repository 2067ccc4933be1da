"""``deskhand demo``: two sandbox client tenants, the MSP's users, and a few sample tickets, so
that a newcomer can follow one ticket from arrival to approved and verified.

Everything it creates is synthetic: the tenants live in the sandbox, every address is under
``.example``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources

from sqlalchemy import select

from deskhand.accounts import generate_password, set_password
from deskhand.connectors.sandbox.seed import seed_demo
from deskhand.engine.runtime import Runtime
from deskhand.intake.arrival import Received, add_ticket
from deskhand.simulation.operating_year import TENANTS, Findings, Scenario, Simulation, findings
from deskhand.store.models import Tenant, Ticket, User, now


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str
    tenants: tuple[str, ...]


MSP_USERS = (
    DemoUser("dana@msp.example", "Dana Kowalski", "approver", ("*",)),
    DemoUser("lee@msp.example", "Lee Morgan", "tech", ("contoso-dental",)),
    DemoUser("sam@msp.example", "Sam Okafor", "admin", ("*",)),
    DemoUser("riley@msp.example", "Riley Chen", "approver", ("northwind-law",)),
)
DEMO_APPROVER = MSP_USERS[0]

# (tenant, from, subject, body): one of each path a newcomer should see.
SAMPLE_TICKETS = (
    (
        "contoso-dental",
        "lisa.chen@contosodental.example",
        "Forgot my password",
        "Hi, I forgot my password over the weekend and can't log in to Outlook. Can you reset "
        "it please? Thanks, Lisa",
    ),
    (
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        "Finance share access for Tom",
        "Please add Tom Becker to the Finance Share group, he is taking over the billing. "
        "Thanks, Karen",
    ),
    (
        "contoso-dental",
        "jake.morrison@contosodental.example",
        "Password reset for Dr. Raman",
        "Priya Raman is locked out of email, please reset the password for Priya Raman and "
        "send me the new one. Jake",
    ),
    (
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        "Business Premium licence",
        "We need a Business Premium license for Tom Becker please.",
    ),
    (
        "contoso-dental",
        "emily.nguyen@contosodental.example",
        "Locked out",
        "I'm locked out of my account after too many attempts this morning. Emily",
    ),
)
# The lifecycle part of the demo (issue 15), seeded by `deskhand demo` and left out of the plain
# seed most tests use: Contoso Dental's policy file (deskhand/demo_policies/contoso-dental.yaml:
# the built-in rules, the time zone Europe/London and lifecycle templates) and two tickets that
# are planned from it.
DEMO_POLICIES = ("contoso-dental",)
LIFECYCLE_TICKETS = (
    # A leaver synced from AD whose last day is later: approved now, run at 17:00 that day.
    (
        "contoso-dental",
        "dr.alvarez@contosodental.example",
        "Leaver: Tom Becker",
        "Tom Becker's last day is Friday; forward his mail to Karen Whitfield. Thanks, Maria",
    ),
    # A cloud-only starter in the Front Desk role, with a colleague's access.
    (
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        "New starter: Jane Doe",
        "New starter: Jane Doe, Front Desk, starts Monday 9:00, same access as Jake Morrison. "
        "Thanks, Karen",
    ),
)


@dataclass(frozen=True)
class Seeded:
    tenants: list[str]
    users: list[DemoUser]
    tickets: list[Received]
    password: str  # the demo approver's, new at every seeding


def seed(rt: Runtime, *, tickets: bool = True, lifecycle: bool = False) -> Seeded:
    """Create (or leave as they are) the demo tenants, users and sample tickets. With
    ``lifecycle`` (as `deskhand demo` seeds), the lifecycle part too: a tenant created now gets
    the demo's policy file if it has one, and the leaver's and the starter's tickets come with
    the samples; without, every tenant keeps the built-in policy, as most tests expect."""
    rt.db.upgrade()
    seeded = seed_demo(rt.sandbox)
    with rt.db.session() as session:
        for item in seeded:
            if session.get(Tenant, item.id) is None:
                session.add(
                    Tenant(
                        id=item.id,
                        name=item.name,
                        psa_customer_id=item.psa_customer_id,
                        domains=list(item.domains),
                        connector="sandbox",
                        policy_path=demo_policy(item.id) if lifecycle else None,
                        mode="live",  # the demo shows deskhand at work (a new tenant: shadow)
                    )
                )
        for user in MSP_USERS:
            exists = session.execute(select(User).where(User.email == user.email)).scalar()
            if exists is None:
                session.add(
                    User(
                        email=user.email, name=user.name, role=user.role, tenants=list(user.tenants)
                    )
                )
        # The samples' tenants (the simulated history's tickets are other tenants').
        samples_of = [t.id for t in seeded]
        has_tickets = (
            session.execute(
                select(Ticket.id).where(Ticket.tenant_id.in_(samples_of)).limit(1)
            ).scalar()
            is not None
        )
        password = generate_password()
        approver = session.execute(select(User).where(User.email == DEMO_APPROVER.email)).scalar()
        if approver is None:
            session.flush()
            approver = session.execute(
                select(User).where(User.email == DEMO_APPROVER.email)
            ).scalar_one()
        set_password(approver, password)
    received = []
    if tickets and not has_tickets:
        samples = SAMPLE_TICKETS + (LIFECYCLE_TICKETS if lifecycle else ())
        received = [add_ticket(rt, *sample) for sample in samples]
    return Seeded([t.id for t in seeded], list(MSP_USERS), received, password)


def demo_policy(tenant_id: str) -> str | None:
    """The path of the demo's policy file for ``tenant_id``, or None: the built-in policy."""
    if tenant_id not in DEMO_POLICIES:
        return None
    return str(resources.files("deskhand") / "demo_policies" / f"{tenant_id}.yaml")


def seed_history(
    rt: Runtime, today: date | None = None, progress: Callable[[int, int], None] | None = None
) -> Findings | None:
    """Six weeks of simulated history (synthetic) up to yesterday, from the operating-year
    simulation (``deskhand.simulation``): three more sandbox tenants live with earned autonomy,
    a wrong group flagged and revoked in the last week, the policy's author disabled, and a
    fourth tenant in shadow with its comparisons. None if the demo already has it."""
    rt.db.upgrade()
    with rt.db.reading() as session:
        if session.get(Tenant, TENANTS[0].id) is not None:
            return None
    folder = rt.settings.data_dir / "simulation"
    folder.mkdir(parents=True, exist_ok=True)
    scenario = Scenario.demo(today or now().date())
    # The simulated technicians reject wrong drafts on purpose: their escalations are history,
    # not news for whoever runs the demo.
    engine_log = logging.getLogger("deskhand.escalation")
    level = engine_log.level
    engine_log.setLevel(logging.ERROR)
    try:
        Simulation(rt, scenario, folder).run(
            (lambda day: progress(day, scenario.days)) if progress is not None else None
        )
    finally:
        engine_log.setLevel(level)
    return findings(rt, scenario, rt.db.engine.dialect.name)
