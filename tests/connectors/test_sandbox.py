"""The sandbox behaves like the client systems it stands in for: Graph's, AD's and Syncro's
refusals with their types and statuses, tenant isolation, an exact call log, several processes on
one database, and a hang hook that lets a test kill a process right after a side effect.

The tests run on a SQLite file and on the machine's PostgreSQL (a throwaway database).
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deskhand.connectors.ad import ActiveDirectory
from deskhand.connectors.errors import (
    ConflictError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    UnavailableError,
)
from deskhand.connectors.factory import Factory
from deskhand.connectors.m365 import M365
from deskhand.connectors.psa import Psa
from deskhand.connectors.sandbox.seed import (
    BUSINESS_BASIC,
    BUSINESS_PREMIUM,
    SeedTenant,
    seed_demo,
)
from deskhand.connectors.sandbox.store import SandboxBase, SandboxStore
from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa
from deskhand.errors import DeskhandError
from deskhand.store.db import normalise_url
from deskhand.store.models import Tenant
from tests.support import POSTGRES, postgres_database

CONTOSO = "contoso-dental"
NORTHWIND = "northwind-law"
PASSWORD = "Tmp-Orchid-4821"


@pytest.fixture
def store(seeded_store: SandboxStore) -> SandboxStore:
    return seeded_store


@pytest.fixture
def m365(store: SandboxStore) -> SandboxM365:
    return SandboxM365(store, CONTOSO)


@pytest.fixture
def ad(store: SandboxStore) -> SandboxAD:
    return SandboxAD(store, CONTOSO)


@pytest.fixture
def psa(store: SandboxStore) -> SandboxPsa:
    return SandboxPsa(store, CONTOSO)


def contoso(login: str) -> str:
    return f"{login}@contosodental.example"


def user_id(m365: SandboxM365, login: str) -> str:
    return m365.get_user(contoso(login)).id


def group_id(m365: SandboxM365, name: str) -> str:
    return m365.get_group(name).id


def outcomes(store: SandboxStore) -> list[tuple[str, str]]:
    return [(call.operation, call.outcome) for call in store.calls()]


def contents(store: SandboxStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every sandbox table, in primary-key order."""
    with store.session() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(table.select().order_by(*table.primary_key.columns))
            ]
            for table in SandboxBase.metadata.sorted_tables
        }


# --- Seeding --------------------------------------------------------------------------------


def test_seeding_again_changes_nothing_and_is_not_a_logged_call(store: SandboxStore) -> None:
    before = contents(store)

    tenants = seed_demo(store)

    assert contents(store) == before
    assert tenants == [
        SeedTenant("contoso-dental", "Contoso Dental", "4107", ("contosodental.example",)),
        SeedTenant("northwind-law", "Northwind Law", "4112", ("northwindlaw.example",)),
    ]
    assert store.calls() == []


def test_seeded_ids_are_the_same_in_every_sandbox(store: SandboxStore, tmp_path: Path) -> None:
    other = SandboxStore(f"sqlite:///{tmp_path}/other.db")
    seed_demo(other)

    assert SandboxM365(other, CONTOSO).list_users() == SandboxM365(store, CONTOSO).list_users()
    other.dispose()


def test_contoso_dental_has_the_cases_the_demo_needs(m365: SandboxM365, psa: SandboxPsa) -> None:
    users = {user.user_principal_name: user for user in m365.list_users()}
    owner, manager = users[contoso("maria.alvarez")], users[contoso("karen.whitfield")]
    skus = {sku.part_number: sku for sku in m365.subscribed_skus()}
    groups = {group.display_name: group for group in m365.list_groups()}

    assert len(users) == 15
    assert owner.vip and manager.manager_id == owner.id
    assert users[contoso("jake.morrison")].manager_id == manager.id
    assert [u.synced for u in users.values()].count(True) == 2
    emily = users[contoso("emily.nguyen")]
    assert emily.synced and not emily.locked  # locked out in AD, which Graph does not see
    assert SandboxAD(m365.store, CONTOSO).get_user(emily.id).locked
    assert users[contoso("it.admin")].admin
    assert all(u.user_principal_name.endswith(".example") for u in users.values())
    assert skus["SPB"].available == 0
    assert skus["O365_BUSINESS_ESSENTIALS"].available == 3
    assert skus["EXCHANGESTANDARD"].display_name == "Exchange Online (Plan 1)"
    assert groups["All Staff"].mail_enabled
    assert groups["Domain Admins"].privileged and groups["Global Administrators"].privileged
    assert not groups["Front Desk"].privileged and not groups["Front Desk"].mail_enabled
    assert {(c.email, c.authorised) for c in psa.contacts()} == {
        ("karen.whitfield@contosodental.example", True),
        ("dr.alvarez@contosodental.example", True),
        ("jake.morrison@contosodental.example", False),
    }


# --- Users and tenant scoping ---------------------------------------------------------------


def test_a_user_is_found_by_id_upn_or_mail_ignoring_case(m365: SandboxM365) -> None:
    owner = m365.get_user("Maria.Alvarez@ContosoDental.example")

    assert m365.get_user(owner.id.upper()) == owner
    assert m365.get_user("DR.ALVAREZ@contosodental.example") == owner
    assert owner.licenses == (BUSINESS_PREMIUM,)


def test_an_unknown_user_is_not_found_in_graphs_words(m365: SandboxM365) -> None:
    with pytest.raises(NotFoundError) as raised:
        m365.get_user("nobody@contosodental.example")

    assert raised.value.status == 404
    assert raised.value.system == "sandbox-m365"
    assert raised.value.message == (
        "Resource 'nobody@contosodental.example' does not exist or one of its queried "
        "reference-property objects are not present."
    )


def test_another_tenants_objects_do_not_exist(store: SandboxStore, m365: SandboxM365) -> None:
    northwind = SandboxM365(store, NORTHWIND)
    partner = northwind.get_user("eleanor.vance@northwindlaw.example")
    case_files = northwind.get_group("Case Files")
    ticket = SandboxPsa(store, NORTHWIND).create_ticket(partner.user_principal_name, "VPN", "")

    with pytest.raises(NotFoundError):
        m365.get_user(partner.id)
    with pytest.raises(NotFoundError):
        m365.revoke_sessions(partner.id)
    with pytest.raises(NotFoundError):
        m365.get_group(case_files.id)
    with pytest.raises(NotFoundError):
        m365.add_group_member(case_files.id, user_id(m365, "jake.morrison"))
    with pytest.raises(NotFoundError):
        northwind.assign_license(partner.id, add=[BUSINESS_BASIC], remove=[])
    with pytest.raises(NotFoundError):
        SandboxPsa(store, CONTOSO).get_ticket(ticket.id)
    assert northwind.sign_in_state(partner.id).sessions_revoked_at is None


def test_the_same_sku_is_counted_per_tenant(store: SandboxStore, m365: SandboxM365) -> None:
    northwind = SandboxM365(store, NORTHWIND)

    premium = {sku.id: sku for sku in northwind.subscribed_skus()}[BUSINESS_PREMIUM]

    assert (premium.total, premium.consumed) == (10, 7)
    assert {sku.id: sku for sku in m365.subscribed_skus()}[BUSINESS_PREMIUM].available == 0


# --- Passwords, sessions, lockout -----------------------------------------------------------


def test_a_synced_users_password_is_refused_in_m365_and_reset_in_ad(
    m365: SandboxM365, ad: SandboxAD
) -> None:
    tom = user_id(m365, "tom.becker")

    with pytest.raises(ForbiddenError) as raised:
        m365.reset_password(tom, PASSWORD, force_change=True)
    assert raised.value.status == 400
    assert "on-premises mastered Directory Sync objects" in raised.value.message
    assert "reset the password there" in raised.value.message
    assert m365.sign_in_state(tom).password_changed_at is None

    ad.reset_password("TBECKER", PASSWORD, force_change=False)

    assert ad.account_state(tom).password_changed_at is not None
    assert not ad.account_state(tom).must_change_password
    assert m365.sign_in_state(tom).password_changed_at == ad.account_state(tom).password_changed_at


def test_a_cloud_only_user_is_no_object_in_ad(m365: SandboxM365, ad: SandboxAD) -> None:
    jake = user_id(m365, "jake.morrison")

    for call in (
        lambda: ad.get_user(jake),
        lambda: ad.reset_password(jake, PASSWORD, force_change=True),
        lambda: ad.unlock(jake),
    ):
        with pytest.raises(NotFoundError) as raised:
            call()
        assert raised.value.status == 404 and raised.value.system == "sandbox-ad"
        assert raised.value.message.startswith("There is no such object on the server.")


def test_ad_finds_a_synced_user_by_sam_account_name(ad: SandboxAD, m365: SandboxM365) -> None:
    emily = ad.get_user("ENguyen")

    assert emily.user_principal_name == contoso("emily.nguyen")
    assert emily.licenses == ()  # AD knows nothing of Microsoft 365 licences
    assert m365.get_user(emily.id).licenses == (BUSINESS_BASIC,)


def test_a_weak_password_is_refused_and_changes_nothing(m365: SandboxM365, ad: SandboxAD) -> None:
    jake = user_id(m365, "jake.morrison")

    with pytest.raises(ConflictError) as raised:
        m365.reset_password(jake, "password", force_change=True)
    assert raised.value.status == 400 and "complexity requirements" in raised.value.message
    with pytest.raises(ConflictError):
        ad.reset_password("tbecker", "tom", force_change=True)
    assert m365.sign_in_state(jake).password_changed_at is None


def test_unlocking_clears_the_lockout_and_may_be_repeated(
    store: SandboxStore, ad: SandboxAD
) -> None:
    assert ad.account_state("enguyen").locked

    ad.unlock("enguyen")
    ad.unlock("enguyen")

    assert not ad.account_state("enguyen").locked
    assert outcomes(store) == [("unlock", "applied"), ("unlock", "applied")]


def test_a_group_is_found_by_id_or_name_ignoring_case(m365: SandboxM365) -> None:
    front_desk = m365.get_group("front desk")

    assert m365.get_group(front_desk.id) == front_desk
    assert user_id(m365, "karen.whitfield") in m365.group_members(front_desk.id)
    assert len(m365.group_members(front_desk.id)) == 5
    with pytest.raises(NotFoundError):
        m365.get_group("Back Office")


def test_adding_a_member_twice_conflicts_in_graphs_words(
    store: SandboxStore, m365: SandboxM365
) -> None:
    finance, jake = group_id(m365, "Finance Share"), user_id(m365, "jake.morrison")

    m365.add_group_member(finance, jake)
    with pytest.raises(ConflictError) as raised:
        m365.add_group_member(finance, jake)

    assert raised.value.status == 400
    assert raised.value.message == (
        "One or more added object references already exist for the following modified "
        "properties: 'members'."
    )
    assert m365.group_members(finance).count(jake) == 1
    assert outcomes(store) == [
        ("add_group_member", "applied"),
        ("add_group_member", "error:ConflictError"),
    ]


def test_a_mail_enabled_group_cannot_be_changed_through_graph(m365: SandboxM365) -> None:
    all_staff = group_id(m365, "All Staff")

    with pytest.raises(ForbiddenError) as added:
        m365.add_group_member(all_staff, user_id(m365, "it.admin"))
    with pytest.raises(ForbiddenError):
        m365.remove_group_member(all_staff, user_id(m365, "jake.morrison"))

    assert added.value.status == 400
    assert added.value.message == (
        "Cannot Update a mail-enabled security groups and or distribution list."
    )
    assert added.value.fix is not None and "Exchange admin center" in added.value.fix
    assert user_id(m365, "it.admin") not in m365.group_members(all_staff)


def test_removing_a_member_then_a_non_member(m365: SandboxM365) -> None:
    front_desk, jake = group_id(m365, "Front Desk"), user_id(m365, "jake.morrison")

    m365.remove_group_member(front_desk, jake)
    with pytest.raises(NotFoundError) as raised:
        m365.remove_group_member(front_desk, jake)

    assert raised.value.status == 404
    assert jake not in m365.group_members(front_desk)


def test_no_free_seat_refuses_all_of_it_until_seats_are_bought(
    store: SandboxStore, m365: SandboxM365
) -> None:
    jake = user_id(m365, "jake.morrison")

    with pytest.raises(QuotaExceededError) as raised:
        m365.assign_license(jake, add=[BUSINESS_PREMIUM], remove=[BUSINESS_BASIC])
    assert raised.value.status == 400
    assert raised.value.message.startswith("License assignment failed because service plans")
    assert "does not have any available licenses." in raised.value.message
    assert m365.get_user(jake).licenses == (BUSINESS_BASIC,)  # the removal was not applied

    m365.add_license_seats(BUSINESS_PREMIUM, 1)
    m365.assign_license(jake, add=[BUSINESS_PREMIUM], remove=[BUSINESS_BASIC])

    assert m365.get_user(jake).licenses == (BUSINESS_PREMIUM,)
    skus = {sku.id: sku for sku in m365.subscribed_skus()}
    assert (skus[BUSINESS_PREMIUM].total, skus[BUSINESS_PREMIUM].consumed) == (6, 6)
    assert skus[BUSINESS_BASIC].consumed == 8
    assert outcomes(store) == [
        ("assign_license", "error:QuotaExceededError"),
        ("add_license_seats", "applied"),
        ("assign_license", "applied"),
    ]


def test_licence_refusals_are_graphs(m365: SandboxM365) -> None:
    jake = user_id(m365, "jake.morrison")

    with pytest.raises(NotFoundError) as unknown:
        m365.assign_license(jake, add=["11111111-2222-3333-4444-555555555555"], remove=[])
    with pytest.raises(ConflictError) as unassigned:
        m365.assign_license(jake, add=[], remove=[BUSINESS_PREMIUM])

    assert unknown.value.status == 400 and "valid company License" in unknown.value.message
    assert unassigned.value.status == 400
    assert unassigned.value.message == "User does not have a corresponding license."


def test_buying_no_seats_or_seats_of_an_unknown_sku_is_refused(m365: SandboxM365) -> None:
    with pytest.raises(ConflictError) as none:
        m365.add_license_seats(BUSINESS_PREMIUM, 0)
    with pytest.raises(NotFoundError):
        m365.add_license_seats("11111111-2222-3333-4444-555555555555", 1)

    assert none.value.status == 400
    assert {s.id: s for s in m365.subscribed_skus()}[BUSINESS_PREMIUM].total == 5


# --- PSA ------------------------------------------------------------------------------------


def test_tickets_are_numbered_across_the_psa(store: SandboxStore, psa: SandboxPsa) -> None:
    first = psa.create_ticket(contoso("jake.morrison"), "Printer offline", "Front desk printer")
    second = SandboxPsa(store, NORTHWIND).create_ticket("grace.liu@northwindlaw.example", "VPN", "")

    assert (first.number, second.number) == ("1001", "1002")
    assert (first.status, first.customer_id, second.customer_id) == ("New", "4107", "4112")
    assert psa.get_ticket(first.id) == first


def test_a_comment_without_subject_is_refused_as_syncro_does(
    store: SandboxStore, psa: SandboxPsa
) -> None:
    ticket = psa.create_ticket(contoso("jake.morrison"), "Locked out", "Can't sign in")

    with pytest.raises(ConflictError) as raised:
        psa.add_comment(ticket.id, " ", "Your account is unlocked.", hidden=False)

    assert raised.value.status == 422 and raised.value.system == "sandbox-psa"
    assert json.loads(raised.value.message) == {
        "success": False,
        "message": ["Subject can't be blank"],
    }
    assert [comment.subject for comment in psa.list_comments(ticket.id)] == ["Initial Issue"]
    assert outcomes(store)[-1] == ("add_comment", "error:ConflictError")


def test_an_unknown_ticket_is_not_found(psa: SandboxPsa) -> None:
    for ticket_id in ("999999", "not-a-number"):
        with pytest.raises(NotFoundError) as raised:
            psa.add_comment(ticket_id, "Note", "text", hidden=True)
        assert raised.value.status == 404
    with pytest.raises(NotFoundError):
        psa.list_comments("999999")


# --- The call log ---------------------------------------------------------------------------


def test_every_call_is_logged_once_with_its_outcome_and_never_a_password(
    store: SandboxStore, m365: SandboxM365, ad: SandboxAD, psa: SandboxPsa
) -> None:
    jake = user_id(m365, "jake.morrison")
    m365.reset_password(jake, PASSWORD, force_change=True)
    ad.reset_password("tbecker", PASSWORD, force_change=True)
    with pytest.raises(ForbiddenError):
        m365.reset_password(contoso("tom.becker"), PASSWORD, force_change=True)
    psa.create_ticket(contoso("jake.morrison"), "Password", "Forgot it")
    m365.get_user(jake)
    m365.subscribed_skus()  # reads are not logged

    calls = store.calls()

    assert [(c.system, c.operation, c.outcome) for c in calls] == [
        ("sandbox-m365", "reset_password", "applied"),
        ("sandbox-ad", "reset_password", "applied"),
        ("sandbox-m365", "reset_password", "error:ForbiddenError"),
        ("sandbox-psa", "create_ticket", "applied"),
    ]
    assert calls[0].arguments == {"user_id": jake, "force_change": True}
    assert all(PASSWORD not in json.dumps(c.arguments) for c in calls)
    assert all(c.pid == os.getpid() and c.tenant_id == CONTOSO for c in calls)
    assert all(c.at.tzinfo is not None for c in calls)
    assert len(store.calls(operation="reset_password")) == 3
    assert store.calls(tenant_id=NORTHWIND) == []
    assert store.applied_count() == 3


def test_two_stores_on_one_database_see_each_others_changes(url: str, store: SandboxStore) -> None:
    other_process = SandboxStore(url)
    here, there = SandboxM365(store, CONTOSO), SandboxM365(other_process, CONTOSO)
    finance, jake = group_id(here, "Finance Share"), user_id(here, "jake.morrison")

    there.add_group_member(finance, jake)
    with pytest.raises(ConflictError):
        here.add_group_member(finance, jake)
    numbers = [
        SandboxPsa(sandbox, CONTOSO).create_ticket(contoso("jake.morrison"), "s", "b").number
        for sandbox in (store, other_process, store, other_process)
    ]

    assert jake in here.group_members(finance)
    assert numbers == ["1001", "1002", "1003", "1004"]
    assert [c.outcome for c in other_process.calls(operation="add_group_member")] == [
        "applied",
        "error:ConflictError",
    ]
    other_process.dispose()


def test_a_vanished_database_is_an_unavailable_system() -> None:
    with postgres_database("deskhand_sandbox") as postgres_url:
        sandbox = SandboxStore(postgres_url)
        seed_demo(sandbox)
        admin = create_engine(normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = make_url(postgres_url).database
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

        with pytest.raises(UnavailableError) as raised:
            SandboxM365(sandbox, CONTOSO).revoke_sessions(contoso("jake.morrison"))

        assert raised.value.status == 503 and raised.value.system == "sandbox-m365"
        sandbox.dispose()


# --- Conformance to the connector protocols -------------------------------------------------


def sign_in_names(m365: M365, ad: ActiveDirectory, psa: Psa, upn: str) -> list[str]:
    """Typed with the protocols, so that mypy checks every call below passes a conforming
    system."""
    contact = next(c for c in psa.contacts() if c.authorised)
    return [m365.get_user(upn).display_name, ad.get_user(upn).display_name, contact.name]


def test_the_factory_builds_a_tenants_connectors_on_the_sandbox(store: SandboxStore) -> None:
    tenant = Tenant(id=CONTOSO, name="Contoso Dental", psa_customer_id="4107", connector="sandbox")

    built = Factory(store).for_tenant(tenant)
    direct = (SandboxM365(store, CONTOSO), SandboxAD(store, CONTOSO), SandboxPsa(store, CONTOSO))

    tom = contoso("tom.becker")
    expected = ["Tom Becker", "Tom Becker", "Dr. Maria Alvarez"]
    assert sign_in_names(built.m365, built.ad, built.psa, tom) == expected
    assert sign_in_names(*direct, tom) == expected


@pytest.mark.parametrize(
    ("protocol", "system"),
    [(M365, SandboxM365), (ActiveDirectory, SandboxAD), (Psa, SandboxPsa)],
)
def test_the_sandbox_implements_every_protocol_method_with_its_signature(
    protocol: type, system: type
) -> None:
    methods = [name for name, member in vars(protocol).items() if inspect.isfunction(member)]
    methods = [name for name in methods if not name.startswith("_")]

    assert methods
    for name in methods:
        expected = inspect.signature(getattr(protocol, name))
        assert inspect.signature(getattr(system, name)) == expected, name


# --- Fault injection ------------------------------------------------------------------------

CALL_IN_A_CHILD = """
import sys
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxM365

SandboxM365(SandboxStore(sys.argv[1]), "contoso-dental").add_group_member(sys.argv[2], sys.argv[3])
print("returned", flush=True)
"""


def start_child(url: str, hang: str, tmp_path: Path, *arguments: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "DESKHAND_SANDBOX_HANG": hang}
    with (tmp_path / "child.err").open("w") as errors:
        return subprocess.Popen(
            [sys.executable, "-c", CALL_IN_A_CHILD, url, *arguments],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )


def wait_until(condition: Any, process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, f"the child exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def kill(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGKILL)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return stdout


def test_a_process_killed_right_after_a_call_leaves_its_effect_once(
    url: str, store: SandboxStore, m365: SandboxM365, tmp_path: Path
) -> None:
    finance, jake = group_id(m365, "Finance Share"), user_id(m365, "jake.morrison")
    child = start_child(url, "after:1", tmp_path, finance, jake)

    wait_until(lambda: store.applied_count() == 1, child, "the call was applied")
    time.sleep(0.2)  # had the hook not held it, the child would now return
    assert child.poll() is None

    assert "returned" not in kill(child)
    assert m365.group_members(finance).count(jake) == 1
    assert outcomes(store) == [("add_group_member", "applied")]
    assert "hangs after mutating call 1" in (tmp_path / "child.err").read_text()


def test_a_process_killed_right_before_a_call_leaves_nothing(
    url: str, store: SandboxStore, m365: SandboxM365, tmp_path: Path
) -> None:
    finance, jake = group_id(m365, "Finance Share"), user_id(m365, "jake.morrison")
    child = start_child(url, "before:1", tmp_path, finance, jake)
    errors = tmp_path / "child.err"

    wait_until(lambda: "hangs before" in errors.read_text(), child, "the hook held the child")
    kill(child)

    assert jake not in m365.group_members(finance)
    assert store.calls() == []
    m365.add_group_member(finance, jake)  # the hanging child held no lock


def test_latency_is_added_to_every_call(m365: SandboxM365, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKHAND_SANDBOX_LATENCY_MS", "150")
    started = time.monotonic()

    m365.list_users()
    m365.revoke_sessions(contoso("jake.morrison"))

    assert time.monotonic() - started >= 0.3


def test_a_hang_setting_that_is_not_understood_is_explained(
    m365: SandboxM365, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKHAND_SANDBOX_HANG", "after-3")

    with pytest.raises(DeskhandError, match="after:N, before:N, pause-after:N or pause-before:N"):
        m365.revoke_sessions(contoso("jake.morrison"))


def test_connector_errors_name_the_system_and_status(m365: SandboxM365) -> None:
    with pytest.raises(ConnectorError) as raised:
        m365.get_user("ghost")

    assert str(raised.value).startswith("sandbox-m365 (404): Resource 'ghost'")
