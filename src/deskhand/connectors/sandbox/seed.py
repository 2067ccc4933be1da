"""Two simulated client tenants for the demo and the tests: a dental practice and a law firm.

Synthetic: every person, address and number here is invented, and every domain is under
``.example``. Ids are derived (uuid5) from the tenant and the object's name, so every seed of
every sandbox gives the same ids. SKU ids are Microsoft's real skuIds for those products.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from deskhand.connectors.sandbox.store import (
    SandboxGroup,
    SandboxGroupMember,
    SandboxLicenseAssignment,
    SandboxOrganisationalUnit,
    SandboxPsaContact,
    SandboxSku,
    SandboxStore,
    SandboxTenant,
    SandboxUser,
)

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "sandbox.deskhand.example")

BUSINESS_PREMIUM = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"  # SPB
BUSINESS_STANDARD = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"  # O365_BUSINESS_PREMIUM
BUSINESS_BASIC = "3b555118-da6a-4418-894f-7df1e2096870"  # O365_BUSINESS_ESSENTIALS
EXCHANGE_PLAN_1 = "4b9405b0-7788-4568-add1-99614e613b69"  # EXCHANGESTANDARD

_SKU_NAMES = {
    BUSINESS_PREMIUM: ("SPB", "Microsoft 365 Business Premium"),
    BUSINESS_STANDARD: ("O365_BUSINESS_PREMIUM", "Microsoft 365 Business Standard"),
    BUSINESS_BASIC: ("O365_BUSINESS_ESSENTIALS", "Microsoft 365 Business Basic"),
    EXCHANGE_PLAN_1: ("EXCHANGESTANDARD", "Exchange Online (Plan 1)"),
}


@dataclass(frozen=True)
class SeedTenant:
    """A seeded tenant, as deskhand's own database should register it."""

    id: str
    name: str
    psa_customer_id: str
    domains: tuple[str, ...]


@dataclass(frozen=True)
class _Person:
    login: str  # the part of the UPN before the @
    name: str
    title: str
    manager: str | None = None  # the manager's login
    vip: bool = False
    admin: bool = False
    sam_account_name: str | None = None  # set for users synced from on-premises AD
    locked: bool = False
    mail_login: str | None = None  # when the mail address differs from the UPN


@dataclass(frozen=True)
class _Group:
    name: str
    members: tuple[str, ...]  # logins
    privileged: bool = False
    mail_enabled: bool = False


@dataclass(frozen=True)
class _Subscription:
    sku_id: str
    assigned_to: tuple[str, ...]  # logins
    free_seats: int


@dataclass(frozen=True)
class _TenantSeed:
    tenant: SeedTenant
    people: tuple[_Person, ...]
    groups: tuple[_Group, ...]
    subscriptions: tuple[_Subscription, ...]
    contacts: dict[str, bool] = field(default_factory=dict)  # login → authorised
    # The OUs of its AD domain, by distinguished name: synced users are in the first; a leaver
    # is moved to another ("Disabled Users").
    ous: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        return self.tenant.domains[0]


CONTOSO_STAFF_OU = "OU=Staff,DC=contosodental,DC=example"
CONTOSO_DISABLED_OU = "OU=Disabled Users,DC=contosodental,DC=example"

_CONTOSO_FRONT_DESK = ("jake.morrison", "emily.nguyen", "rachel.kim", "hannah.brooks")
_CONTOSO_CLINICAL = (
    "maria.alvarez",
    "james.okafor",
    "priya.raman",
    "lisa.chen",
    "anna.kowalski",
    "tom.becker",
    "sofia.martins",
    "marcus.lee",
)
_CONTOSO_STAFF = (*_CONTOSO_CLINICAL, "karen.whitfield", *_CONTOSO_FRONT_DESK, "david.osei")

CONTOSO_DENTAL = _TenantSeed(
    tenant=SeedTenant("contoso-dental", "Contoso Dental", "4107", ("contosodental.example",)),
    people=(
        _Person(
            "maria.alvarez",
            "Dr. Maria Alvarez",
            "Practice Owner & Lead Dentist",
            vip=True,
            mail_login="dr.alvarez",
        ),
        _Person("karen.whitfield", "Karen Whitfield", "Office Manager", "maria.alvarez"),
        _Person("james.okafor", "Dr. James Okafor", "Associate Dentist", "maria.alvarez"),
        _Person("priya.raman", "Dr. Priya Raman", "Associate Dentist", "maria.alvarez"),
        _Person("lisa.chen", "Lisa Chen", "Registered Dental Hygienist", "maria.alvarez"),
        _Person("anna.kowalski", "Anna Kowalski", "Registered Dental Hygienist", "maria.alvarez"),
        _Person(
            "tom.becker",
            "Tom Becker",
            "Dental Hygienist",
            "maria.alvarez",
            sam_account_name="tbecker",
        ),
        _Person("sofia.martins", "Sofia Martins", "Dental Assistant", "james.okafor"),
        _Person("marcus.lee", "Marcus Lee", "Dental Assistant", "priya.raman"),
        _Person("jake.morrison", "Jake Morrison", "Receptionist", "karen.whitfield"),
        _Person(
            "emily.nguyen",
            "Emily Nguyen",
            "Receptionist",
            "karen.whitfield",
            sam_account_name="enguyen",
            locked=True,
        ),
        _Person("rachel.kim", "Rachel Kim", "Scheduling Coordinator", "karen.whitfield"),
        _Person("hannah.brooks", "Hannah Brooks", "Insurance Coordinator", "karen.whitfield"),
        _Person("david.osei", "David Osei", "Bookkeeper", "karen.whitfield"),
        _Person("it.admin", "Contoso Dental IT Admin", "IT Administrator (MSP)", admin=True),
    ),
    groups=(
        _Group("Front Desk", ("karen.whitfield", *_CONTOSO_FRONT_DESK)),
        _Group("Clinical Staff", _CONTOSO_CLINICAL),
        _Group("Finance Share", ("maria.alvarez", "karen.whitfield", "david.osei")),
        _Group("Practice Management App Users", _CONTOSO_STAFF),
        _Group("Domain Admins", ("it.admin",), privileged=True),
        _Group("Global Administrators", ("it.admin",), privileged=True),
        _Group("All Staff", _CONTOSO_STAFF, mail_enabled=True),
    ),
    subscriptions=(
        # Every Business Premium seat is taken: a new one has to be bought (billing, approved).
        _Subscription(
            BUSINESS_PREMIUM,
            ("maria.alvarez", "karen.whitfield", "james.okafor", "priya.raman", "david.osei"),
            free_seats=0,
        ),
        _Subscription(
            BUSINESS_BASIC,
            (
                "lisa.chen",
                "anna.kowalski",
                "tom.becker",
                "sofia.martins",
                "marcus.lee",
                *_CONTOSO_FRONT_DESK,
            ),
            free_seats=3,
        ),
        _Subscription(EXCHANGE_PLAN_1, ("it.admin",), free_seats=1),
    ),
    contacts={"karen.whitfield": True, "maria.alvarez": True, "jake.morrison": False},
    ous=(CONTOSO_STAFF_OU, CONTOSO_DISABLED_OU),
)

_NORTHWIND_LAWYERS = ("eleanor.vance", "robert.hale", "aisha.patel", "daniel.brooks")
_NORTHWIND_STAFF = (*_NORTHWIND_LAWYERS, "grace.liu", "samuel.ortiz", "monica.reyes")

NORTHWIND_LAW = _TenantSeed(
    tenant=SeedTenant("northwind-law", "Northwind Law", "4112", ("northwindlaw.example",)),
    people=(
        _Person("eleanor.vance", "Eleanor Vance", "Managing Partner", vip=True),
        _Person("robert.hale", "Robert Hale", "Partner", "eleanor.vance", vip=True),
        _Person("aisha.patel", "Aisha Patel", "Associate Attorney", "robert.hale"),
        _Person("daniel.brooks", "Daniel Brooks", "Associate Attorney", "eleanor.vance"),
        _Person("grace.liu", "Grace Liu", "Paralegal", "robert.hale"),
        _Person("samuel.ortiz", "Samuel Ortiz", "Paralegal", "eleanor.vance"),
        _Person("monica.reyes", "Monica Reyes", "Office Administrator", "eleanor.vance"),
        _Person("it.admin", "Northwind IT Admin", "IT Administrator (MSP)", admin=True),
    ),
    groups=(
        _Group("Domain Admins", ("it.admin",), privileged=True),
        _Group("Case Files", (*_NORTHWIND_LAWYERS, "grace.liu", "samuel.ortiz")),
        _Group("Billing", ("eleanor.vance", "monica.reyes")),
        _Group("All Staff", _NORTHWIND_STAFF, mail_enabled=True),
    ),
    subscriptions=(
        _Subscription(BUSINESS_PREMIUM, _NORTHWIND_STAFF, free_seats=3),
        _Subscription(BUSINESS_STANDARD, ("it.admin",), free_seats=1),
    ),
    contacts={"monica.reyes": True, "eleanor.vance": True, "grace.liu": False},
)

DEMO_TENANTS = (CONTOSO_DENTAL, NORTHWIND_LAW)


def seed_demo(store: SandboxStore) -> list[SeedTenant]:
    """Create the demo tenants that are not in ``store`` yet; a tenant already there is left
    as it is, so seeding again changes nothing."""
    with store.session() as session:
        for seed in DEMO_TENANTS:
            if session.get(SandboxTenant, seed.tenant.id) is None:
                _create(session, seed)
    return [seed.tenant for seed in DEMO_TENANTS]


def object_id(tenant_id: str, kind: str, name: str) -> str:
    """The id a seeded object gets: the same in every sandbox, different in every tenant."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant_id}/{kind}/{name.lower()}"))


def _create(session: Session, seed: _TenantSeed) -> None:
    # The tables have no ORM relationships, so the flushes give the inserts their order:
    # tenant, then what belongs to it, then the rows that link those.
    tenant = seed.tenant
    session.add(
        SandboxTenant(
            id=tenant.id,
            name=tenant.name,
            customer_id=tenant.psa_customer_id,
            domains=list(tenant.domains),
        )
    )
    session.flush()
    users = {person.login: _user(seed, person) for person in seed.people}
    groups = {group.name: _group(tenant.id, group) for group in seed.groups}
    session.add_all([*users.values(), *groups.values()])
    session.add_all(SandboxOrganisationalUnit(tenant_id=tenant.id, dn=dn) for dn in seed.ous)
    session.add_all(_sku(tenant.id, subscription) for subscription in seed.subscriptions)
    session.flush()
    session.add_all(
        SandboxGroupMember(
            tenant_id=tenant.id, group_id=groups[group.name].id, user_id=users[login].id
        )
        for group in seed.groups
        for login in group.members
    )
    session.add_all(
        SandboxLicenseAssignment(
            tenant_id=tenant.id, user_id=users[login].id, sku_id=subscription.sku_id
        )
        for subscription in seed.subscriptions
        for login in subscription.assigned_to
    )
    session.add_all(
        SandboxPsaContact(
            tenant_id=tenant.id,
            email=users[login].mail or users[login].upn,
            name=users[login].display_name,
            authorised=authorised,
        )
        for login, authorised in seed.contacts.items()
    )


def _group(tenant_id: str, group: _Group) -> SandboxGroup:
    return SandboxGroup(
        tenant_id=tenant_id,
        id=object_id(tenant_id, "group", group.name),
        display_name=group.name,
        privileged=group.privileged,
        mail_enabled=group.mail_enabled,
    )


def _sku(tenant_id: str, subscription: _Subscription) -> SandboxSku:
    part_number, display_name = _SKU_NAMES[subscription.sku_id]
    return SandboxSku(
        tenant_id=tenant_id,
        id=subscription.sku_id,
        part_number=part_number,
        display_name=display_name,
        total=len(subscription.assigned_to) + subscription.free_seats,
    )


def _user(seed: _TenantSeed, person: _Person) -> SandboxUser:
    upn = f"{person.login}@{seed.domain}"
    return SandboxUser(
        tenant_id=seed.tenant.id,
        id=object_id(seed.tenant.id, "user", upn),
        upn=upn,
        display_name=person.name,
        job_title=person.title,
        mail=f"{person.mail_login or person.login}@{seed.domain}",
        sam_account_name=person.sam_account_name,
        manager_id=(
            object_id(seed.tenant.id, "user", f"{person.manager}@{seed.domain}")
            if person.manager
            else None
        ),
        vip=person.vip,
        admin=person.admin,
        synced=person.sam_account_name is not None,
        ou=seed.ous[0] if person.sam_account_name is not None and seed.ous else "",
        locked=person.locked,
    )


# --- synthetic tenants for the simulated operating year (deskhand.simulation) -------------------

_FIRST = (
    "Alex", "Blake", "Casey", "Devon", "Ellis", "Finley", "Gray", "Harper", "Indy", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
)  # fmt: skip
_LAST = (
    "Abbott", "Baker", "Carter", "Dalton", "Evans", "Foster", "Garcia", "Hughes", "Ibsen",
    "Jensen", "Keller", "Lambert", "Moreno", "Nolan", "Owens", "Porter", "Quincy", "Russo",
)  # fmt: skip
# The ordinary groups of a synthetic tenant, each with a third of the staff: what its requests
# add people to and remove them from.
SYNTHETIC_GROUPS = ("Finance Share", "Sales Team", "Projects", "Marketing Share")


@dataclass(frozen=True)
class SyntheticTenant:
    """A synthetic client tenant: its registration, its staff's sign-in names and the office
    manager who asks for changes (an authorised contact)."""

    tenant: SeedTenant
    staff: tuple[str, ...]  # sign-in names
    manager: str  # sign-in name


def synthetic_tenant(tenant_id: str, name: str, customer_id: str, offset: int) -> _TenantSeed:
    """A small cloud-only tenant of invented people (``offset`` picks other names than the
    other tenants'): an office manager, 15 staff, the ordinary ``SYNTHETIC_GROUPS`` and a
    privileged group, and Business Basic seats for all."""
    domain = f"{tenant_id.replace('-', '')}.example"
    people = [_Person("office.manager", f"{name} Office Manager", "Office Manager")]
    for n in range(15):
        first = _FIRST[(n + offset) % len(_FIRST)]
        last = _LAST[(n * 7 + offset) % len(_LAST)]
        people.append(
            _Person(f"{first}.{last}".lower(), f"{first} {last}", "Staff", "office.manager")
        )
    people.append(_Person("it.admin", f"{name} IT Admin", "IT Administrator (MSP)", admin=True))
    staff = tuple(p.login for p in people[1:-1])
    groups = tuple(
        _Group(group, tuple(staff[i] for i in range(len(staff)) if i % 3 == n % 3))
        for n, group in enumerate(SYNTHETIC_GROUPS)
    )
    return _TenantSeed(
        tenant=SeedTenant(tenant_id, name, customer_id, (domain,)),
        people=tuple(people),
        groups=(*groups, _Group("Domain Admins", ("it.admin",), privileged=True)),
        subscriptions=(_Subscription(BUSINESS_BASIC, ("office.manager", *staff), free_seats=5),),
        contacts={"office.manager": True},
    )


def seed_synthetic(store: SandboxStore, seed: _TenantSeed) -> SyntheticTenant:
    """Create a ``synthetic_tenant`` in the sandbox unless it is there already."""
    with store.session() as session:
        if session.get(SandboxTenant, seed.tenant.id) is None:
            _create(session, seed)
    staff = tuple(p.login for p in seed.people if p.title == "Staff")
    return SyntheticTenant(seed.tenant, staff, "office.manager")
