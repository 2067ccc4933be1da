"""Each protocol's implementations, holding the same small client: the sandbox system, and the
real client against what stands in for the real system — the Graph stand-in, the Syncro
stand-in (both check every request and answer against the published contracts), the Samba AD
domain controller. A ``*_case`` fixture yields each implementation in turn, filled through one
builder interface per protocol, so that a contract test reads the same for both and a
difference between them is a failure of the test, not of its fixture."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import select

from deskhand.connectors.ad import ActiveDirectory
from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.graph.client import SKU_NAMES
from deskhand.connectors.m365 import M365
from deskhand.connectors.psa import Psa
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
from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa
from deskhand.connectors.syncro import SyncroPsa, SyncroSettings
from deskhand.connectors.syncro.limiter import RequestLimiter
from tests.connectors.graph.conftest import Waits, client_for
from tests.connectors.graph.standin import GraphStandIn
from tests.connectors.ldap.fixtures import MakeGroup, MakeUser
from tests.connectors.ldap.samba_dc import (
    ADMIN_PASSWORD,
    ARCHIVE_OU,
    DISABLED_OU,
    LOCKOUT_THRESHOLD,
    STAFF_OU,
    SambaDC,
)
from tests.connectors.ldap.support import Person, binds, directory_for, settings
from tests.connectors.syncro.standin import API_KEY, SyncroStandIn

TENANT = "contract-dental"
# The Samba DC is started once per session: its tests are grouped as tests/conftest.py groups
# the LDAP tests that use it.
SAMBA = pytest.mark.xdist_group("samba-dc")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxStore]:
    """A sandbox with one client tenant and nothing in it yet."""
    store = SandboxStore(f"sqlite:///{tmp_path / 'sandbox.db'}")
    with store.session() as session:
        session.add(SandboxTenant(id=TENANT, name="Contract Dental", customer_id="4107"))
    yield store
    store.dispose()


# --- Microsoft 365 ------------------------------------------------------------------------------


class M365Builder(Protocol):
    """Puts users, groups and licences into one implementation's Microsoft 365."""

    def user(
        self,
        upn: str,
        name: str,
        *,
        mail: str | None = None,
        synced: bool = False,
        locked_in_ad: bool = False,
        licences: tuple[str, ...] = (),
        manager: str | None = None,
        admin: bool = False,
    ) -> str: ...

    def group(
        self,
        name: str,
        *,
        mail_enabled: bool = False,
        synced: bool = False,
        members: tuple[str, ...] = (),
    ) -> str: ...

    def sku(self, part_number: str, seats: int) -> str: ...


@dataclass(frozen=True)
class M365Case:
    """One implementation, and the ids of what it holds."""

    m365: M365
    ada: str  # cloud-only; a mail address unlike her sign-in name; both SKUs; Dan's report; admin
    bob: str  # cloud-only, with a mailbox and no licence
    carol: str  # synced from AD, where she is locked out
    eve: str  # cloud-only, no mail address: no mailbox
    dan: str  # Ada's manager
    sales: str  # a security group; Ada is its one member
    engineering: str  # a security group synced from AD; Carol is its one member
    all_staff: str  # a distribution list
    premium: str  # a SKU with seats to spare
    full: str  # a SKU whose one seat Ada holds


def populate_m365(build: M365Builder) -> dict[str, str]:
    premium = build.sku("SPB", seats=5)
    full = build.sku("O365_BUSINESS_ESSENTIALS", seats=1)
    dan = build.user("dan@contract.example", "Dan Manager", mail="dan@contract.example")
    ada = build.user(
        "ada@contract.onmicrosoft.com",
        "Ada Lovelace",
        mail="ada.lovelace@contract.example",
        licences=(premium, full),
        manager=dan,
        admin=True,
    )
    bob = build.user("bob@contract.example", "Bob Builder", mail="bob@contract.example")
    carol = build.user("carol@contract.example", "Carol Synced", synced=True, locked_in_ad=True)
    eve = build.user("eve@contract.example", "Eve Nomail")
    sales = build.group("Sales", members=(ada,))
    all_staff = build.group("All Staff", mail_enabled=True, members=(ada, bob))
    engineering = build.group("Engineering", synced=True, members=(carol,))
    return {
        "ada": ada,
        "bob": bob,
        "carol": carol,
        "eve": eve,
        "dan": dan,
        "sales": sales,
        "all_staff": all_staff,
        "engineering": engineering,
        "premium": premium,
        "full": full,
    }


class _SandboxM365Builder:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def user(
        self,
        upn: str,
        name: str,
        *,
        mail: str | None = None,
        synced: bool = False,
        locked_in_ad: bool = False,
        licences: tuple[str, ...] = (),
        manager: str | None = None,
        admin: bool = False,
    ) -> str:
        user_id = str(uuid.uuid4())
        with self.store.session() as session:
            session.add(
                SandboxUser(
                    tenant_id=TENANT,
                    id=user_id,
                    upn=upn,
                    display_name=name,
                    mail=mail,
                    sam_account_name=upn.split("@")[0] if synced else None,
                    manager_id=manager,
                    admin=admin,
                    synced=synced,
                    locked=locked_in_ad,
                )
            )
            session.flush()
            for sku_id in licences:
                session.add(
                    SandboxLicenseAssignment(tenant_id=TENANT, user_id=user_id, sku_id=sku_id)
                )
        return user_id

    def group(
        self,
        name: str,
        *,
        mail_enabled: bool = False,
        synced: bool = False,
        members: tuple[str, ...] = (),
    ) -> str:
        group_id = str(uuid.uuid4())
        with self.store.session() as session:
            session.add(
                SandboxGroup(
                    tenant_id=TENANT,
                    id=group_id,
                    display_name=name,
                    mail_enabled=mail_enabled,
                    synced=synced,
                )
            )
            session.flush()
            for user_id in members:
                session.add(
                    SandboxGroupMember(tenant_id=TENANT, group_id=group_id, user_id=user_id)
                )
        return group_id

    def sku(self, part_number: str, seats: int) -> str:
        sku_id = str(uuid.uuid4())
        with self.store.session() as session:
            session.add(
                SandboxSku(
                    tenant_id=TENANT,
                    id=sku_id,
                    part_number=part_number,
                    display_name=SKU_NAMES[part_number],
                    total=seats,
                )
            )
        return sku_id


class _GraphBuilder:
    def __init__(self, graph: GraphStandIn) -> None:
        self.graph = graph

    def user(
        self,
        upn: str,
        name: str,
        *,
        mail: str | None = None,
        synced: bool = False,
        locked_in_ad: bool = False,  # Graph does not see it: Entra knows nothing of AD lockouts
        licences: tuple[str, ...] = (),
        manager: str | None = None,
        admin: bool = False,
    ) -> str:
        return self.graph.add_user(
            upn, name, mail=mail, synced=synced, licences=licences, manager=manager, admin=admin
        )

    def group(
        self,
        name: str,
        *,
        mail_enabled: bool = False,
        synced: bool = False,
        members: tuple[str, ...] = (),
    ) -> str:
        group_id = self.graph.add_group(name, mail_enabled=mail_enabled, synced=synced)
        self.graph.members[group_id].extend(members)
        return group_id

    def sku(self, part_number: str, seats: int) -> str:
        return self.graph.add_sku(part_number, seats)


@pytest.fixture(params=["sandbox", "graph"])
def m365_case(request: pytest.FixtureRequest, sandbox: SandboxStore) -> Iterator[M365Case]:
    if request.param == "sandbox":
        ids = populate_m365(_SandboxM365Builder(sandbox))
        yield M365Case(SandboxM365(sandbox, TENANT), **ids)
        return
    graph = GraphStandIn().start()
    ids = populate_m365(_GraphBuilder(graph))
    client = client_for(graph, Waits([]))
    yield M365Case(client, **ids)
    client.close()
    graph.stop()
    assert graph.violations == [], "requests or answers that Graph's schema does not allow"


# --- Active Directory -------------------------------------------------------------------------


@dataclass(frozen=True)
class AdPerson:
    """A user in the domain, and each name AD knows them by."""

    id: str
    upn: str
    sam: str
    mail: str
    display_name: str


class AdBuilder(Protocol):
    def user(self, display_name: str, *, manager: AdPerson | None = None) -> AdPerson: ...

    def group(self, *, members: tuple[AdPerson, ...] = ()) -> str:
        """A security group in the domain, with a name of its own; its name is returned."""
        ...

    def lock_out(self, person: AdPerson) -> None:
        """What too many wrong passwords do."""
        ...


@dataclass(frozen=True)
class AdCase:
    ad: ActiveDirectory
    build: AdBuilder


_serial = itertools.count(1)


class _SandboxAdBuilder:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def user(self, display_name: str, *, manager: AdPerson | None = None) -> AdPerson:
        sam = f"user{next(_serial)}"
        person = AdPerson(
            id=str(uuid.uuid4()),
            upn=f"{sam}@contract.example",
            sam=sam,
            mail=f"{sam}@mail.contract.example",
            display_name=display_name,
        )
        with self.store.session() as session:
            session.add(
                SandboxUser(
                    tenant_id=TENANT,
                    id=person.id,
                    upn=person.upn,
                    display_name=display_name,
                    mail=person.mail,
                    sam_account_name=sam,
                    manager_id=manager.id if manager else None,
                    synced=True,  # the sandbox's AD holds its synced users only
                    ou=STAFF_OU,  # as the Samba DC's test users
                )
            )
        return person

    def group(self, *, members: tuple[AdPerson, ...] = ()) -> str:
        name = f"group{next(_serial)}"
        group_id = str(uuid.uuid4())
        with self.store.session() as session:
            session.add(SandboxGroup(tenant_id=TENANT, id=group_id, display_name=name, synced=True))
            session.flush()
            for person in members:
                session.add(
                    SandboxGroupMember(tenant_id=TENANT, group_id=group_id, user_id=person.id)
                )
        return name

    def lock_out(self, person: AdPerson) -> None:
        with self.store.session() as session:
            user = session.scalars(select(SandboxUser).where(SandboxUser.id == person.id)).one()
            user.locked = True


class _SambaBuilder:
    def __init__(self, make_user: MakeUser, make_group: MakeGroup, samba: SambaDC) -> None:
        self.make_user = make_user
        self.make_group = make_group
        self.samba = samba
        self.directory = directory_for(settings(samba))
        self._made: dict[str, Person] = {}  # by user principal name

    def user(self, display_name: str, *, manager: AdPerson | None = None) -> AdPerson:
        boss = self._made[manager.upn] if manager is not None else None
        made = self.make_user(display_name=display_name, manager=boss)
        self._made[made.upn] = made
        guid = admin_guid(self.samba, made.dn)
        return AdPerson(guid, made.upn, made.sam, made.mail, display_name)

    def group(self, *, members: tuple[AdPerson, ...] = ()) -> str:
        return self.make_group(members=tuple(self._made[person.upn] for person in members))

    def lock_out(self, person: AdPerson) -> None:
        for _ in range(LOCKOUT_THRESHOLD):
            assert not binds(self.samba, person.upn, "Wrong-Passw0rd")[0]


@pytest.fixture(params=["sandbox", pytest.param("ldap", marks=SAMBA)])
def ad_case(request: pytest.FixtureRequest, sandbox: SandboxStore) -> AdCase:
    if request.param == "sandbox":
        with sandbox.session() as session:  # the Samba DC's organisational units
            for dn in (STAFF_OU, DISABLED_OU, ARCHIVE_OU):
                session.add(SandboxOrganisationalUnit(tenant_id=TENANT, dn=dn))
        return AdCase(SandboxAD(sandbox, TENANT), _SandboxAdBuilder(sandbox))
    builder = _SambaBuilder(
        request.getfixturevalue("make_user"),
        request.getfixturevalue("make_group"),
        request.getfixturevalue("samba"),
    )
    return AdCase(builder.directory, builder)


# --- PSA --------------------------------------------------------------------------------------

DANA = "dana.reyes@contract.example"  # an authorised contact
SAM = "sam.ortiz@contract.example"


@dataclass(frozen=True)
class PsaCase:
    psa: Psa
    customer_id: str
    foreign_ticket: str  # a ticket of another of the MSP's clients


@pytest.fixture(params=["sandbox", "syncro"])
def psa_case(request: pytest.FixtureRequest, sandbox: SandboxStore) -> Iterator[PsaCase]:
    if request.param == "sandbox":
        with sandbox.session() as session:
            session.add(SandboxPsaContact(tenant_id=TENANT, email=SAM, name="Sam Ortiz"))
            session.add(
                SandboxPsaContact(tenant_id=TENANT, email=DANA, name="Dana Reyes", authorised=True)
            )
            session.add(SandboxTenant(id="other-firm", name="Other Firm", customer_id="4112"))
        other = SandboxPsa(sandbox, "other-firm").create_ticket("fay@other.example", "VPN", "Hi")
        yield PsaCase(SandboxPsa(sandbox, TENANT), "4107", other.id)
        return
    standin = SyncroStandIn().start()
    customer = standin.add_customer("Contract Dental", "office@contract.example")
    other = standin.add_customer("Other Firm", "office@other.example")
    standin.add_contact(customer, "Sam Ortiz", SAM)
    standin.add_contact(customer, "Dana Reyes", DANA)
    foreign = standin.add_ticket(other, "VPN", "Hi")
    psa = SyncroPsa(
        TENANT,
        SyncroSettings(
            base_url=standin.base_url, customer_id=customer, authorised_contacts=(DANA,)
        ),
        API_KEY,
        caller=Caller(
            TENANT,
            "syncro",
            policy=CallPolicy(timeout_seconds=5),
            breakers=Breakers(),
            sleep=lambda _seconds: None,
        ),
        limiter=RequestLimiter(10_000),
    )
    yield PsaCase(psa, str(customer), str(foreign))
    psa.close()
    standin.stop()
    assert standin.violations == [], "\n".join(standin.violations)


def admin_guid(samba: SambaDC, dn: str) -> str:
    """The objectGUID of ``dn`` as the domain Administrator reads it."""
    connection = samba.connect("Administrator@deskhand.test", ADMIN_PASSWORD)
    try:
        assert connection.search(
            dn, "(objectClass=*)", search_scope="BASE", attributes=["objectGUID"]
        )
        raw = connection.response[0]["raw_attributes"]["objectGUID"][0]  # type: ignore[index]
    finally:
        connection.unbind()
    return str(uuid.UUID(bytes_le=bytes(raw)))
