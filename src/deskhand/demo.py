"""``deskhand demo``: two sandbox client tenants, the MSP's users, and a few sample tickets, so
that a newcomer can follow one ticket from arrival to approved and verified.

Everything it creates is synthetic: the tenants live in the sandbox, every address is under
``.example``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from deskhand.accounts import generate_password, set_password
from deskhand.connectors.sandbox.seed import seed_demo
from deskhand.engine.runtime import Runtime
from deskhand.intake.arrival import Received, add_ticket
from deskhand.store.models import Tenant, Ticket, User


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


@dataclass(frozen=True)
class Seeded:
    tenants: list[str]
    users: list[DemoUser]
    tickets: list[Received]
    password: str  # the demo approver's, new at every seeding


def seed(rt: Runtime, *, tickets: bool = True) -> Seeded:
    """Create (or leave as they are) the demo tenants, users and sample tickets."""
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
        has_tickets = session.execute(select(Ticket.id).limit(1)).scalar() is not None
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
        received = [add_ticket(rt, *sample) for sample in SAMPLE_TICKETS]
    return Seeded([t.id for t in seeded], list(MSP_USERS), received, password)
