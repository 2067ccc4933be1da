"""Leavers and starters on a real-kind tenant (tests/e2e/conftest.py), on SQLite and PostgreSQL:
the ticket comes in from Syncro, the worker plans, one plan approval, and every result is read
back from the systems themselves — the Graph stand-in (which checks every call against Graph's
schema) and the real Samba DC. Time is injected (``rt.clock``), never slept.

(a) a leaver synced from AD, scheduled for their last day: nothing runs before it; at it every
step runs in the order it waits for and verifies, the AD account disabled and moved to the
disabled OU, the licences removed only once the mailbox reads back as shared; (b) the undo plan
puts the account back; (c) a cloud-only starter copied from a colleague; (d) a starter created in
AD whose sync never comes, escalated after the bounded wait with nothing done in Microsoft 365.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import ldap3
import pytest
from sqlalchemy import select

from deskhand.engine import approvals, undo
from deskhand.engine.executor import MANUAL_WINDOW
from deskhand.store.models import Escalation, EventRecord, Step, now
from tests.connectors.graph.standin import GraphStandIn
from tests.connectors.ldap.fixtures import MakeGroup, MakeUser
from tests.connectors.ldap.samba_dc import BASE_DN, DISABLED_OU, STAFF_OU
from tests.connectors.ldap.support import Person
from tests.connectors.syncro.standin import SyncroStandIn
from tests.e2e.conftest import APPROVER, DOMAIN, OLGA, TENANT, Client, Desk
from tests.e2e.test_real_tenant import comments, new_ticket, work

ZONE = ZoneInfo("Europe/London")
DISABLED = 0x2  # userAccountControl: ACCOUNTDISABLE
DENTRIX = "Dentrix → Office Manager → Maintenance → Users → select the user → Inactive → OK"
POLICY = f"""\
approvers: [approver, admin]
approval_expiry_hours: 24
time_zone: Europe/London
lifecycle:
  usage_location: GB
  offboarding:
    auto_reply: "{{name}} has left Northbridge Dental. Please write to {{delegate}} instead."
    disabled_ou: "{DISABLED_OU}"
  roles:
    Front Desk:
      licences: [SPB]
      ou: "{STAFF_OU}"
  vendor_checklist:
    - system: Dentrix
      offboarding: "{DENTRIX}"
"""


def at(desk: Desk, moment: datetime) -> None:
    """The clock the worker schedules by now reads ``moment``."""
    desk.rt.clock = lambda: moment


def with_policy(desk: Desk, tmp_path: Path) -> None:
    """The tenant's policy file, given as an operator gives it."""
    policy = tmp_path / "northbridge-policy.yaml"
    policy.write_text(POLICY)
    desk.run("tenants", "policy", TENANT, str(policy))


def the_plan(desk: Desk, ticket_id: int) -> approvals.PlanView:
    [plan] = [p for p in approvals.list_plans(desk.rt, APPROVER) if p.ticket_id == ticket_id]
    return plan


def steps_of(desk: Desk, run_id: int) -> list[Step]:
    with desk.rt.db.reading() as session:
        found = list(
            session.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.position))
        )
        for step in found:
            session.expunge(step)
        return found


def events(desk: Desk, run_id: int, kind: str) -> dict[int, int]:
    """Each step's position → the id of its event of ``kind`` (the log's order)."""
    with desk.rt.db.reading() as session:
        rows = session.scalars(
            select(EventRecord).where(EventRecord.run_id == run_id, EventRecord.type == kind)
        ).all()
        return {row.data["position"]: row.id for row in rows}


def escalation_of(desk: Desk, ticket_id: int) -> Escalation:
    with desk.rt.db.reading() as session:
        found = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket_id)).one()
        session.expunge(found)
        return found


def in_ad(admin: ldap3.Connection, sam: str, *attributes: str) -> tuple[str, dict[str, list[str]]]:
    """Where the account is now (it moves) and its attributes as text, read as the
    Administrator."""
    assert admin.search(BASE_DN, f"(sAMAccountName={sam})", attributes=list(attributes))
    [entry] = [e for e in admin.response or [] if e["type"] == "searchResEntry"]
    raw = entry["raw_attributes"]
    return str(entry["dn"]), {name: [v.decode() for v in raw.get(name, [])] for name in attributes}


def disabled(admin: ldap3.Connection, sam: str) -> bool:
    _, found = in_ad(admin, sam, "userAccountControl")
    return bool(int(found["userAccountControl"][0]) & DISABLED)


# --- (a) and (b): a synced leaver, scheduled, and undone ---------------------------------------


@dataclass(frozen=True)
class Leaver:
    person: Person  # in Samba
    graph_id: str  # synced to Graph under the same UPN
    ad_group: str


@pytest.fixture
def leaver(
    desk: Desk,
    graph: GraphStandIn,
    client: Client,
    make_user: MakeUser,
    make_group: MakeGroup,
    tmp_path: Path,
) -> Leaver:
    """Sam, synced from AD: an AD group; in Microsoft 365 a licence, the Finance group, an
    Authenticator, and Olga as manager (who takes over mail and files)."""
    with_policy(desk, tmp_path)
    person = make_user(display_name="Sam Leaver")
    ad_group = make_group(members=(person,))
    graph_id = graph.add_user(
        person.upn,
        "Sam Leaver",
        mail=person.mail,
        synced=True,
        licences=(client.premium,),
        manager=client.olga_graph,
    )
    graph.members[client.finance].append(graph_id)
    graph.add_auth_method(graph_id, "microsoftAuthenticatorAuthenticationMethod", displayName="S")
    return Leaver(person, graph_id, ad_group)


SYNCED_PLAN = [
    "ad.disable_account",
    "m365.revoke_sessions",
    "ad.reset_password",
    "m365.remove_mfa_methods",
    "m365.set_auto_reply",
    "m365.forward_mail",
    "m365.grant_onedrive_access",
    "exchange.convert_to_shared_mailbox",
    "m365.remove_all_licences",
    "exchange.hide_from_address_list",
    "m365.remove_all_groups",
    "ad.remove_all_groups",
    "ad.move_to_ou",
    "vendor.checklist_item",
    "psa.add_internal_note",
    "psa.send_reply",
]


def offboarded(
    desk: Desk,
    syncro: SyncroStandIn,
    graph: GraphStandIn,
    admin: ldap3.Connection,
    client: Client,
    leaver: Leaver,
    *,
    converted: bool = True,
) -> tuple[int, int, approvals.PlanView]:
    """Sam's last day, three days ahead, asked for by Olga; planned, approved once the day
    before, and run at the end of the day. The PSA's ticket id, deskhand's, and the plan."""
    last_day = date.today() + timedelta(days=3)
    psa_id, ticket_id = new_ticket(
        desk,
        syncro,
        client,
        client.olga_contact,
        "Leaver: Sam Leaver",
        f"Sam Leaver's last day is {last_day:%d %B %Y}. Please offboard Sam then. Olga",
    )
    plan = the_plan(desk, ticket_id)
    due = datetime.combine(last_day, datetime.min.time().replace(hour=17), tzinfo=ZONE)
    assert plan.specialist == "offboarding"
    assert plan.not_before == due
    assert [s.action for s in plan.steps] == SYNCED_PLAN
    assert plan.left == []

    at(desk, due - timedelta(days=1))
    approvals.approve_plan(desk.rt, plan.run_id, APPROVER)  # the one decision
    at(desk, due - timedelta(minutes=1))
    assert work(desk) == 0  # approved, not due: nothing runs before the time
    assert not disabled(admin, leaver.person.sam)
    assert graph.users[leaver.graph_id]["assignedLicenses"]
    assert {s.status for s in steps_of(desk, plan.run_id)} <= {"approved", "ready"}

    if converted:
        graph.purposes[leaver.graph_id] = "shared"  # the technician converted it in Exchange
    at(desk, due)
    assert work(desk) == 1
    return psa_id, ticket_id, plan


def test_a_synced_leaver_is_offboarded_at_the_end_of_their_last_day(
    desk: Desk,
    syncro: SyncroStandIn,
    graph: GraphStandIn,
    admin: ldap3.Connection,
    client: Client,
    leaver: Leaver,
) -> None:
    psa_id, ticket_id, plan = offboarded(desk, syncro, graph, admin, client, leaver)

    assert [s.status for s in steps_of(desk, plan.run_id)] == ["verified"] * len(SYNCED_PLAN)
    started = events(desk, plan.run_id, "step.started")
    verified = events(desk, plan.run_id, "step.verified")
    for step in plan.steps:  # each step started only once every step it waits for verified
        waited = plan.waits_for.get(step.position, list(range(1, step.position)))
        assert all(verified[w] < started[step.position] for w in waited), step.action
    # Active Directory: disabled, in the disabled OU, out of its group (Domain Users stays).
    where, found = in_ad(admin, leaver.person.sam, "userAccountControl", "memberOf")
    assert where.endswith(f",{DISABLED_OU}")
    assert int(found["userAccountControl"][0]) & DISABLED
    assert not found["memberOf"]
    # Microsoft 365: the licences went only after the mailbox read back as shared.
    user = graph.users[leaver.graph_id]
    assert user["assignedLicenses"] == []
    requests = [unquote(r) for r in graph.received]
    licences = requests.index(f"POST /v1.0/users/{leaver.graph_id}/assignLicense?")
    purpose = f"GET /v1.0/users/{leaver.graph_id}/mailboxSettings?$select=userPurpose"
    assert purpose in requests[:licences]  # the conversion, read back before
    assert leaver.graph_id not in graph.members[client.finance]
    assert graph.methods[leaver.graph_id] == []
    assert any(OLGA in str(rule) for rule in graph.rules[leaver.graph_id])
    # The PSA: the last note lists every step and its state; the reply what was done.
    written = comments(syncro, psa_id)
    finished = written[-1]["body"]
    assert written[-1]["hidden"] and finished.startswith("deskhand finished this ticket")
    for ran in steps_of(desk, plan.run_id):
        read_back = ran.action not in {"exchange.hide_from_address_list", "vendor.checklist_item"}
        where = "done, read back" if read_back else "done on the technician's word, not read back"
        assert f"- {ran.position}. {ran.description}: {where}\n" in finished, ran.action
    [reply] = [c["body"] for c in written if not c["hidden"]]
    for words in (
        "Sam Leaver can no longer sign in",
        "every device has been signed out",
        "their password is changed",
        "their MFA methods are removed",
        "an automatic reply is set",
        "new mail is forwarded to Olga Office",
        "Olga Office can open their OneDrive files",
        "their mailbox is kept as a shared mailbox",
        "their licences are removed",
        "they are hidden from the address list",
        "they are removed from the Microsoft 365 groups deskhand can change (a technician "
        "checks any distribution list or dynamic group they are in)",
        "they are removed from their Active Directory groups",
        "the account is moved to the disabled users",
        "their Dentrix access is ended",
    ):
        assert words in reply, words
    assert "A technician will also" not in reply  # nothing is left for them
    assert syncro.tickets[psa_id]["status"] == "Resolved"
    # One human decision: the plan approval, which also ticked off the three manual steps.
    with desk.rt.db.reading() as session:
        decisions = session.scalars(
            select(EventRecord.type).where(
                EventRecord.ticket_id == ticket_id, EventRecord.actor_kind == "user"
            )
        ).all()
    assert decisions.count("plan.approved") == 1
    assert sum(s.manual for s in plan.steps) == 3


def test_the_licences_stay_while_the_mailbox_is_not_converted(
    desk: Desk,
    syncro: SyncroStandIn,
    graph: GraphStandIn,
    admin: ldap3.Connection,
    client: Client,
    leaver: Leaver,
) -> None:
    _, ticket_id, plan = offboarded(desk, syncro, graph, admin, client, leaver, converted=False)
    licences = [client.premium]

    def statuses() -> dict[str, str]:
        return {s.action: s.status for s in steps_of(desk, plan.run_id)}

    steps = statuses()
    assert steps["exchange.convert_to_shared_mailbox"] == "executing"  # read back until shown
    assert steps["m365.remove_all_licences"] == "approved"  # waits for it
    assert steps["ad.disable_account"] == steps["ad.move_to_ou"] == "verified"
    assert disabled(admin, leaver.person.sam)  # access still ends on time
    assert [a["skuId"] for a in graph.users[leaver.graph_id]["assignedLicenses"]] == licences

    due = plan.not_before
    assert due is not None
    at(desk, due + MANUAL_WINDOW + timedelta(minutes=5))  # never converted that day
    work(desk)
    steps = statuses()
    assert steps["exchange.convert_to_shared_mailbox"] == "failed"
    assert steps["m365.remove_all_licences"] == "cancelled"
    assert [a["skuId"] for a in graph.users[leaver.graph_id]["assignedLicenses"]] == licences
    assert not [r for r in graph.received if r.startswith("POST") and "assignLicense" in r]
    found = escalation_of(desk, ticket_id)
    assert found.reason == "verification_failed"
    assert "still a user mailbox" in found.detail


def test_the_leaver_s_undo_plan_restores_the_account(
    desk: Desk,
    syncro: SyncroStandIn,
    graph: GraphStandIn,
    admin: ldap3.Connection,
    client: Client,
    leaver: Leaver,
) -> None:
    _, ticket_id, plan = offboarded(desk, syncro, graph, admin, client, leaver)
    assert disabled(admin, leaver.person.sam)
    desk.rt.clock = now  # the real time again: drafts expire by it

    undo_run = undo.propose_undo(desk.rt, plan.run_id, APPROVER)
    undoing = approvals.show_plan(desk.rt, undo_run, APPROVER)
    assert undoing.undo_of == plan.run_id
    # Last done, first undone; the account enabled once everything else is back.
    undone = [s.action for s in undoing.steps]
    assert undone[0] == "ad.move_to_ou" and undone[-1] == "ad.enable_account"
    # What deskhand cannot undo is named for a technician, each in its action's words.
    by_hand = " ".join(undoing.left)
    for action in (
        "vendor.checklist_item",
        "exchange.hide_from_address_list",
        "exchange.convert_to_shared_mailbox",
        "Remove every MFA method",
        "Reset the Active Directory password",
        "out of every session",
    ):
        assert action in by_hand, action
    approvals.approve_plan(desk.rt, undo_run, APPROVER)
    assert work(desk) == 1

    assert {s.status for s in steps_of(desk, undo_run)} == {"verified"}
    where, found = in_ad(admin, leaver.person.sam, "userAccountControl", "memberOf")
    assert where.endswith(f",{STAFF_OU}")
    assert not int(found["userAccountControl"][0]) & DISABLED
    assert [g for g in found["memberOf"] if leaver.ad_group in g]
    user = graph.users[leaver.graph_id]
    assert [a["skuId"] for a in user["assignedLicenses"]] == [client.premium]
    assert leaver.graph_id in graph.members[client.finance]
    assert not any(OLGA in str(r) for r in graph.rules.get(leaver.graph_id, []))
    assert graph.replies[leaver.graph_id]["status"] == "disabled"  # the automatic reply
    assert [p["roles"] for p in graph.drives[leaver.graph_id]] == [["owner"]]  # OneDrive
    with desk.rt.db.reading() as session:  # what is left goes to a technician
        reasons = session.scalars(
            select(Escalation.reason).where(Escalation.ticket_id == ticket_id)
        ).all()
    assert reasons == ["left_for_technician"]


# --- (c) a cloud-only starter ------------------------------------------------------------------


def test_a_cloud_starter_gets_the_colleague_s_licences_groups_and_manager(
    desk: Desk, syncro: SyncroStandIn, graph: GraphStandIn, client: Client
) -> None:
    front_desk = graph.add_group("Front Desk")
    jake = graph.add_user(
        f"jake.morrison@{DOMAIN}",
        "Jake Morrison",
        mail=f"jake.morrison@{DOMAIN}",
        licences=(client.premium,),
        manager=client.olga_graph,
    )
    graph.members[front_desk].append(jake)
    graph.members[client.finance].append(jake)
    psa_id, ticket_id = new_ticket(
        desk,
        syncro,
        client,
        client.olga_contact,
        "New starter",
        "New starter: Jane Doe starts today, same access as Jake Morrison please. Olga",
    )
    plan = the_plan(desk, ticket_id)
    assert plan.specialist == "onboarding"
    assert plan.not_before is None
    assert [s.action for s in plan.steps][:2] == ["m365.create_user", "m365.set_profile"]

    approvals.approve_plan(desk.rt, plan.run_id, APPROVER)
    assert work(desk) == 1

    assert {s.status for s in steps_of(desk, plan.run_id)} == {"verified"}
    [jane] = [graph.users[u] for u in graph.created]
    assert jane["userPrincipalName"] == f"jane.doe@{DOMAIN}"
    assert jane["displayName"] == "Jane Doe"
    assert [a["skuId"] for a in jane["assignedLicenses"]] == [client.premium]
    assert {g for g, members in graph.members.items() if jane["id"] in members} == {
        front_desk,
        client.finance,
    }
    assert graph.managers[jane["id"]] == client.olga_graph
    [reply] = [c["body"] for c in comments(syncro, psa_id) if not c["hidden"]]
    assert f"jane.doe@{DOMAIN}" in reply
    assert "never sent by e-mail" in reply


# --- (d) a hybrid starter whose sync never comes -----------------------------------------------


@pytest.fixture
def jane_in_ad(admin: ldap3.Connection) -> Iterator[str]:
    """Jane's AD account, deleted after the test (its sign-in name is the same every run)."""
    yield "jane.doe"
    if admin.search(BASE_DN, "(sAMAccountName=jane.doe)"):
        for entry in [e for e in admin.response or [] if e["type"] == "searchResEntry"]:
            admin.delete(entry["dn"])  # type: ignore[no-untyped-call]


def test_a_hybrid_starter_whose_sync_never_comes_escalates_after_the_bounded_wait(
    desk: Desk,
    syncro: SyncroStandIn,
    graph: GraphStandIn,
    admin: ldap3.Connection,
    client: Client,
    tmp_path: Path,
    jane_in_ad: str,
) -> None:
    with_policy(desk, tmp_path)
    psa_id, ticket_id = new_ticket(
        desk,
        syncro,
        client,
        client.olga_contact,
        "New starter",
        "New starter: Jane Doe, Front Desk, starting today. Olga",
    )
    plan = the_plan(desk, ticket_id)
    actions = [s.action for s in plan.steps]
    assert actions[:3] == ["ad.create_user", "m365.await_user", "m365.assign_license"]

    start = datetime.now(ZONE)
    at(desk, start)
    approvals.approve_plan(desk.rt, plan.run_id, APPROVER)
    work(desk)
    steps = steps_of(desk, plan.run_id)
    assert [s.status for s in steps[:3]] == ["verified", "executing", "approved"]
    where, account = in_ad(admin, jane_in_ad, "userPrincipalName", "pwdLastSet", "c")
    assert where.endswith(f",{STAFF_OU}")  # created in AD, read back
    assert account["userPrincipalName"] == [f"jane.doe@{DOMAIN}"]
    assert account["c"] == ["GB"]  # the usage location, as the sync will read it
    assert account["pwdLastSet"] == ["0"]  # the temporary password is changed at first sign-in
    assert not disabled(admin, jane_in_ad)

    at(desk, start + timedelta(minutes=45))
    work(desk)  # still not synced: waits again
    assert steps_of(desk, plan.run_id)[1].status == "executing"

    at(desk, start + timedelta(minutes=91))
    work(desk)
    steps = steps_of(desk, plan.run_id)
    assert [s.status for s in steps[:3]] == ["verified", "failed", "cancelled"]
    found = escalation_of(desk, ticket_id)
    assert found.reason == "verification_failed"
    assert "did not show within 90 minutes" in found.detail
    assert graph.created == []  # nothing was done in Microsoft 365
    assert graph.consumed(client.premium) == 1  # Olga's
    assert not [body for endpoint, body in graph.bodies if endpoint == "assign_license"]
    assert not [c for c in comments(syncro, psa_id) if not c["hidden"]]  # no reply
