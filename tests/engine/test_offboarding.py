"""Offboarding a leaver, through the real runtime on SQLite and PostgreSQL against the sandbox
tenant: "Please offboard Marcus" is one plan of every step the tenant's offboarding defaults ask
for, in a safe order — sign-in blocked (in AD for a synced user, never through Graph) and every
session revoked first, mail and files handed to the colleague the ticket names or else the
manager, the mailbox kept as shared and only then the licences removed, the groups removed, the
vendor checklist as manual steps — approved once and read back step by step. A leaver whose
last day is later is scheduled (tests/engine/test_schedules.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from tests.engine.test_flow import KAREN, approve_all, ticket, work
from tests.engine.test_shared_mailbox_steps import in_exchange

from deskhand.connectors.sandbox.store import SandboxUser
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Escalation, EventRecord, Run, Step, Tenant

APPROVER = "dana@msp.example"
CONTOSO = "contoso-dental"
MARCUS = "marcus.lee@contosodental.example"
TOM = "tom.becker@contosodental.example"
PRIYA = "priya.raman@contosodental.example"  # Marcus's manager in the sandbox
DISABLED_OU = "OU=Disabled Users,DC=contosodental,DC=example"
CLOUD_PLAN = [
    "m365.block_sign_in",
    "m365.revoke_sessions",
    "m365.reset_password",
    "m365.remove_mfa_methods",
    "m365.forward_mail",
    "m365.grant_onedrive_access",
    "exchange.convert_to_shared_mailbox",
    "m365.remove_all_licences",
    "exchange.hide_from_address_list",
    "m365.remove_all_groups",
    "psa.add_internal_note",
    "psa.send_reply",
]


def sandbox_user(rt: Runtime, upn: str) -> SandboxUser:
    with rt.sandbox.session() as session:
        user = session.scalars(
            select(SandboxUser).where(SandboxUser.tenant_id == CONTOSO, SandboxUser.upn == upn)
        ).one()
        session.expunge(user)
        return user


def steps_of(rt: Runtime, ticket_id: int) -> list[Step]:
    with rt.db.reading() as session:
        found = list(
            session.scalars(
                select(Step).join(Run).where(Run.ticket_id == ticket_id).order_by(Step.position)
            )
        )
        for step in found:
            session.expunge(step)
        return found


def escalation_of(rt: Runtime, ticket_id: int) -> Escalation:
    with rt.db.reading() as session:
        found = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket_id)).one()
        session.expunge(found)
        return found


def the_plan(rt: Runtime, ticket_id: int) -> approvals.PlanView:
    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    return plan


def m365(rt: Runtime):  # type: ignore[no-untyped-def]
    with rt.db.reading() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        session.expunge(tenant)
    return rt.connectors(tenant).m365


def with_policy(rt: Runtime, tmp_path: Path, text: str) -> None:
    policy = tmp_path / "contoso-policy.yaml"
    policy.write_text("approvers: [approver, admin]\napproval_expiry_hours: 24\n" + text)
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        tenant.policy_path = str(policy)


def test_a_cloud_leaver_is_offboarded_in_one_plan_approval(rt: Runtime) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "Please offboard Marcus Lee",
        "Marcus Lee has left the company. Please offboard him.",
    )
    work(rt)

    plan = the_plan(rt, ticket_id)
    assert plan.specialist == "offboarding"
    assert [s.action for s in plan.steps] == CLOUD_PLAN
    assert plan.left == []
    # security first; the licences wait for the shared mailbox and the hand-over
    assert plan.waits_for[1] == [] and plan.waits_for[2] == [1]
    assert plan.waits_for[8] == [5, 6, 7]
    forward = plan.steps[4]
    assert f"to {PRIYA}" in forward.description  # the manager, as nobody else is named
    assert plan.reply is not None
    assert "new mail is forwarded to Dr. Priya Raman" in plan.reply
    assert "their licences are removed" in plan.reply

    in_exchange(rt, MARCUS, mailbox_purpose="shared")  # the manual step, done
    approvals.approve_plan(rt, plan.run_id, APPROVER)  # one decision
    work(rt)

    assert [s.status for s in steps_of(rt, ticket_id)] == ["verified"] * len(CLOUD_PLAN)
    marcus = sandbox_user(rt, MARCUS)
    assert marcus.account_enabled is False
    graph = m365(rt)
    assert graph.get_user(MARCUS).licenses == ()
    assert [rule for rule in graph.inbox_rules(marcus.id) if PRIYA in str(rule)]
    kept = graph.groups_of(marcus.id)  # what deskhand does not change in Microsoft 365
    assert kept and all(g.mail_enabled or g.synced or g.dynamic for g in kept)


def test_the_licences_wait_for_the_mailbox_to_be_verified_as_shared(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    licences = m365(rt).get_user(MARCUS).licenses
    assert licences
    approve_all(rt, ticket_id)  # ticked off, but not converted in Exchange admin center
    work(rt)

    steps = {s.action: s.status for s in steps_of(rt, ticket_id)}
    assert steps["exchange.convert_to_shared_mailbox"] == "failed"
    assert steps["m365.remove_all_licences"] == "cancelled"
    assert steps["m365.block_sign_in"] == steps["m365.forward_mail"] == "verified"
    assert steps["psa.send_reply"] == "cancelled"
    assert m365(rt).get_user(MARCUS).licenses == licences  # the mailbox is safe
    found = escalation_of(rt, ticket_id)
    assert found.reason == "verification_failed"


def test_the_colleague_the_ticket_names_takes_over_mail_and_files(rt: Runtime) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "Leaver: Marcus Lee",
        "Marcus Lee's last day is today. Forward his mail to Tom Becker and give Tom his files.",
    )
    work(rt)
    plan = the_plan(rt, ticket_id)
    assert plan.steps[0].description.startswith(f"Block {MARCUS}")  # the leaver, not Tom
    handed = [s.description for s in plan.steps if s.action.startswith("m365.")]
    assert any(f"to {TOM}" in d for d in handed)
    assert not any(PRIYA in d for d in handed)
    with rt.db.reading() as session:  # the requester was checked against the leaver
        [checked] = session.scalars(
            select(EventRecord.data).where(
                EventRecord.ticket_id == ticket_id, EventRecord.type == "identity.checked"
            )
        ).all()
    assert checked["target"] == MARCUS


def test_to_me_means_the_requester(rt: Runtime) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "Please offboard Marcus Lee",
        "Marcus Lee has left the company. Please offboard him and forward his mail to me.",
    )
    work(rt)
    [forward] = [s for s in the_plan(rt, ticket_id).steps if s.action == "m365.forward_mail"]
    assert f"to {KAREN}" in forward.description


def test_a_synced_leaver_is_ended_in_active_directory_as_the_tenant_s_template_says(
    rt: Runtime, tmp_path: Path
) -> None:
    with_policy(
        rt,
        tmp_path,
        "lifecycle:\n"
        "  offboarding:\n"
        "    remove_mfa: false\n"
        f'    disabled_ou: "{DISABLED_OU}"\n'
        "  vendor_checklist:\n"
        "    - system: Dentrix\n"
        "      offboarding: Users → select the user → Inactive → OK\n",
    )
    ticket_id = ticket(
        rt, KAREN, "Leaver: Tom Becker", "Tom Becker has left the company, please offboard him."
    )
    work(rt)
    plan = the_plan(rt, ticket_id)
    actions = [s.action for s in plan.steps]
    assert actions[:3] == ["ad.disable_account", "m365.revoke_sessions", "ad.reset_password"]
    assert "m365.block_sign_in" not in actions  # a synced account is never changed in Graph
    assert "m365.remove_mfa_methods" not in actions  # the tenant said no
    assert {"ad.remove_all_groups", "ad.move_to_ou", "vendor.checklist_item"} <= set(actions)
    [vendor] = [s for s in plan.steps if s.action == "vendor.checklist_item"]
    assert vendor.description == f"Dentrix, for {TOM}: Users → select the user → Inactive → OK"

    in_exchange(rt, TOM, mailbox_purpose="shared")
    approvals.approve_plan(rt, plan.run_id, APPROVER)
    work(rt)
    assert {s.status for s in steps_of(rt, ticket_id)} == {"verified"}
    tom = sandbox_user(rt, TOM)
    assert tom.account_enabled is False
    assert tom.ou == DISABLED_OU


def test_a_colleague_the_directory_does_not_know_is_named_not_guessed(rt: Runtime) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "Please offboard Marcus Lee",
        "Marcus Lee has left the company. Please offboard him and forward his mail to Tina.",
    )
    work(rt)
    plan = the_plan(rt, ticket_id)
    actions = [s.action for s in plan.steps]
    assert "m365.forward_mail" not in actions and "m365.grant_onedrive_access" not in actions
    assert not any(PRIYA in s.description for s in plan.steps)  # not the manager instead
    assert plan.left[0].startswith("hand the mail and the files over to Tina")
    assert plan.reply is not None and "over to Tina" in plan.reply


def test_licences_the_tenant_keeps_for_some_days_are_left_for_a_technician(
    rt: Runtime, tmp_path: Path
) -> None:
    with_policy(rt, tmp_path, "lifecycle:\n  offboarding:\n    keep_licences_days: 30\n")
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    plan = the_plan(rt, ticket_id)
    assert "m365.remove_all_licences" not in [s.action for s in plan.steps]
    assert "remove the licences 30 days after the last day" in plan.left[0]


def test_the_groups_deskhand_cannot_change_are_left_for_a_technician_by_name(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    plan = the_plan(rt, ticket_id)
    in_exchange(rt, MARCUS, mailbox_purpose="shared")
    approvals.approve_plan(rt, plan.run_id, APPROVER)
    work(rt)

    left = (
        "remove marcus.lee@contosodental.example from All Staff in Exchange admin center (a "
        "distribution list or mail-enabled group, which deskhand cannot change)"
    )
    assert [s.status for s in steps_of(rt, ticket_id)] == ["verified"] * len(CLOUD_PLAN)
    handed = escalation_of(rt, ticket_id)  # done as approved; All Staff is a person's
    assert handed.reason == "left_for_technician" and left in handed.detail
    assert approvals.show_plan(rt, plan.run_id, APPROVER).left == [left]
    comments = m365_psa(rt).list_comments(plan.psa_ticket_id)
    [note] = [c.body for c in comments if c.body.startswith("deskhand escalated")]
    assert "a step found what it cannot change" in note
    assert (
        f"group deskhand can change (groups synced from AD, dynamic groups and distribution "
        f"lists stay, and are named): done, read back; left for a technician: {left}\n" in note
    )
    [reply] = [c.body for c in comments if "offboarding is done" in c.body]
    assert "removed from their Microsoft 365 groups" not in reply
    assert "the Microsoft 365 groups deskhand can change (a technician checks any" in reply


def m365_psa(rt: Runtime):  # type: ignore[no-untyped-def]
    with rt.db.reading() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        session.expunge(tenant)
    return rt.connectors(tenant).psa
