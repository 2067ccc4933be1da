"""Undo as a plan, through the real runtime on SQLite and PostgreSQL against the sandbox tenant:
a leaver offboarded, then 'propose undo' — a rehire — is a new plan of the same ticket, drafted
from what each step kept before it acted, last done first undone, approved like any plan and
read back: sign-in allowed again, groups and licences back, forwarding, automatic reply and the
OneDrive grant gone; what deskhand cannot undo (the password reset, the MFA methods, the shared
mailbox) named for a technician."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.engine.test_flow import KAREN, status, ticket, work
from tests.engine.test_offboarding import (
    APPROVER,
    CONTOSO,
    DISABLED_OU,
    MARCUS,
    PRIYA,
    TOM,
    m365,
    sandbox_user,
    with_policy,
)
from tests.engine.test_shared_mailbox_steps import in_exchange

from deskhand.connectors.capabilities import AD_GROUPS
from deskhand.connectors.sandbox.seed import object_id
from deskhand.connectors.sandbox.store import (
    SandboxGroup,
    SandboxGroupMember,
    SandboxLicenseAssignment,
    SandboxSku,
)
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.undo import UndoRefusedError, propose_undo, undo_offer
from deskhand.store.models import Escalation, EventRecord, Run, Tenant

AUTO_REPLY = (
    'lifecycle:\n  offboarding:\n    auto_reply: "{name} has left. Please write to {delegate}."\n'
)
TECHNICIAN = "lee@msp.example"  # works Contoso's tickets, approves nothing
RILEY = "riley@msp.example"  # an approver of another tenant only


def offboarded(rt: Runtime, subject: str, body: str, upn: str) -> tuple[int, int]:
    """A leaver's ticket planned, approved and run to the end: (ticket, plan)."""
    ticket_id = ticket(rt, KAREN, subject, body)
    work(rt)
    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == ticket_id]
    in_exchange(rt, upn, mailbox_purpose="shared")  # the manual step, done
    approvals.approve_plan(rt, plan.run_id, APPROVER)
    work(rt)
    return ticket_id, plan.run_id


def escalations(rt: Runtime, ticket_id: int) -> list[Escalation]:
    with rt.db.reading() as session:
        found = list(session.scalars(select(Escalation).where(Escalation.ticket_id == ticket_id)))
        for escalation in found:
            session.expunge(escalation)
        return found


def test_a_rehire_is_a_plan_that_restores_the_account_and_names_what_it_cannot(
    rt: Runtime, tmp_path: Path
) -> None:
    with_policy(rt, tmp_path, AUTO_REPLY)
    graph = m365(rt)
    marcus = graph.get_user(MARCUS)
    groups_before = sorted(g.id for g in graph.groups_of(marcus.id))
    licences_before = sorted(marcus.licenses)
    assert licences_before and groups_before
    ticket_id, offboarding = offboarded(
        rt, "Please offboard Marcus Lee", "Marcus Lee has left the company.", MARCUS
    )
    assert status(rt, ticket_id) == "escalated"  # All Staff, a distribution list, is left
    assert sandbox_user(rt, MARCUS).account_enabled is False
    assert graph.auto_reply(marcus.id).status == "alwaysEnabled"

    undo = propose_undo(rt, offboarding, APPROVER)

    assert status(rt, ticket_id) == "awaiting_approval"  # the ticket is worked again
    plan = approvals.show_plan(rt, undo, APPROVER)
    assert plan.specialist == "undo" and plan.undo_of == offboarding
    assert plan.ticket_id == ticket_id
    actions = [s.action for s in plan.steps]
    # last done, first undone: the groups first, sign-in last
    assert actions[0] == "m365.add_group_member" and actions[-1] == "m365.allow_sign_in"
    assert actions.count("m365.assign_license") == len(licences_before)
    assert actions.index("m365.assign_license") < actions.index("m365.revoke_onedrive_access")
    assert {"m365.stop_forwarding", "m365.clear_auto_reply"} <= set(actions)
    assert not [a for a in actions if a.startswith("psa.")]  # the note and reply stay,
    assert not [words for words in plan.left if "PSA ticket" in words]  # as the record
    assert all(s.status == "awaiting_approval" for s in plan.steps if s.decision == "approve")
    assert plan.pending  # nothing runs before a human approves
    left = " | ".join(plan.left)
    assert "Reset the Microsoft 365 password" in left and "cannot be undone" in left
    assert "MFA" in left and "registers MFA again" in left
    assert "Convert to regular mailbox" in left  # the action's own words, for a technician
    with rt.db.reading() as session:
        [proposed] = session.scalars(
            select(EventRecord).where(
                EventRecord.ticket_id == ticket_id, EventRecord.type == "plan.undo_proposed"
            )
        ).all()
        assert (proposed.actor_kind, proposed.actor) == ("user", APPROVER) and proposed.data[
            "undo_of"
        ] == offboarding

    work(rt)  # nothing is approved yet: nothing changes
    assert sandbox_user(rt, MARCUS).account_enabled is False
    approvals.approve_plan(rt, undo, APPROVER)
    work(rt)

    with rt.db.reading() as session:
        run = session.get(Run, undo)
        assert run is not None
        assert {s.status for s in run.steps} == {"verified"}
    assert sandbox_user(rt, MARCUS).account_enabled is True
    assert sorted(g.id for g in graph.groups_of(marcus.id)) == groups_before
    assert sorted(graph.get_user(MARCUS).licenses) == licences_before
    assert not [r for r in graph.inbox_rules(marcus.id) if PRIYA in str(r)]
    assert graph.auto_reply(marcus.id).status == "disabled"
    priya = graph.get_user(PRIYA)
    assert not [g for g in graph.drive_grants(marcus.id) if g.user_id == priya.id]
    # what deskhand could not undo goes to a technician, by name
    [handed] = [e for e in escalations(rt, ticket_id) if e.run_id == undo]
    assert handed.reason == "left_for_technician"
    assert "Reset the Microsoft 365 password" in handed.detail


def test_a_synced_leaver_is_enabled_moved_back_and_returned_to_every_ad_group(
    rt: Runtime, tmp_path: Path
) -> None:
    with_policy(rt, tmp_path, f'lifecycle:\n  offboarding:\n    disabled_ou: "{DISABLED_OU}"\n')
    tom = sandbox_user(rt, TOM)
    ou_before = tom.ou
    with rt.db.reading() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        session.expunge(tenant)
    with rt.sandbox.session() as session:  # two groups of the domain Tom is in
        for name in ("Dental Records", "Imaging"):
            group_id = object_id(CONTOSO, "group", name)
            session.add(
                SandboxGroup(tenant_id=CONTOSO, id=group_id, display_name=name, synced=True)
            )
            session.flush()
            session.add(SandboxGroupMember(tenant_id=CONTOSO, group_id=group_id, user_id=tom.id))
    directory = AD_GROUPS.of(rt.connectors(tenant))
    groups_before = sorted(g.id for g in directory.groups_of(TOM))
    assert groups_before and ou_before != DISABLED_OU
    ticket_id, offboarding = offboarded(
        rt, "Leaver: Tom Becker", "Tom Becker has left the company, please offboard him.", TOM
    )
    assert sandbox_user(rt, TOM).ou == DISABLED_OU and not directory.groups_of(TOM)

    undo = propose_undo(rt, offboarding, APPROVER)
    plan = approvals.show_plan(rt, undo, APPROVER)
    actions = [s.action for s in plan.steps]
    assert "ad.move_to_ou" in actions and "ad.add_group_member" in actions
    assert actions[-1] == "ad.enable_account"  # sign-in was ended first: it comes back last
    [move] = [s for s in plan.steps if s.action == "ad.move_to_ou"]
    assert ou_before in move.description
    approvals.approve_plan(rt, undo, APPROVER)
    work(rt)

    tom = sandbox_user(rt, TOM)
    assert tom.account_enabled is True and tom.ou == ou_before
    assert sorted(g.id for g in directory.groups_of(TOM)) == groups_before
    assert status(rt, ticket_id) == "escalated"  # the password reset is a technician's


def test_an_escalated_run_undoes_what_it_verified_and_names_the_step_that_failed(
    rt: Runtime,
) -> None:
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    [plan] = approvals.list_plans(rt, APPROVER)
    approvals.approve_plan(rt, plan.run_id, APPROVER)  # ticked off, but never converted
    work(rt)
    assert status(rt, ticket_id) == "escalated"

    undo = propose_undo(rt, plan.run_id, APPROVER)

    assert status(rt, ticket_id) == "awaiting_approval"
    shown = approvals.show_plan(rt, undo, APPROVER)
    actions = [s.action for s in shown.steps]
    assert "m365.assign_license" not in actions  # the licences were never removed
    assert actions[-1] == "m365.allow_sign_in"
    assert any("convert_to_shared_mailbox" in words and "failed" in words for words in shown.left)


def test_an_open_plan_is_not_undone_and_an_undo_is_proposed_once(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    [plan] = approvals.list_plans(rt, APPROVER)
    with pytest.raises(UndoRefusedError, match="is still waiting for approval"):
        propose_undo(rt, plan.run_id, APPROVER)
    in_exchange(rt, MARCUS, mailbox_purpose="shared")
    approvals.approve_plan(rt, plan.run_id, APPROVER)
    work(rt)

    undo = propose_undo(rt, plan.run_id, APPROVER)
    with pytest.raises(UndoRefusedError, match=f"proposed already: plan {undo}") as refused:
        propose_undo(rt, plan.run_id, APPROVER)
    assert refused.value.http_status == 409
    assert undo_offer(rt, plan.run_id, APPROVER).proposed == undo
    assert not undo_offer(rt, plan.run_id, APPROVER).possible
    approvals.approve_plan(rt, undo, APPROVER)
    work(rt)
    with pytest.raises(UndoRefusedError, match=f"undone already, by plan {undo}"):
        propose_undo(rt, plan.run_id, APPROVER)
    assert undo_offer(rt, undo, APPROVER).possible  # the undo itself can be undone
    assert [e.type for e in _events(rt, ticket_id)].count("plan.undo_proposed") == 1


def test_only_an_approver_who_sees_the_tenant_proposes_an_undo(rt: Runtime) -> None:
    ticket_id, offboarding = offboarded(
        rt, "Please offboard Marcus Lee", "Marcus Lee has left the company.", MARCUS
    )
    with pytest.raises(approvals.NotAllowedError, match=r"lee@msp\.example is a tech"):
        propose_undo(rt, offboarding, TECHNICIAN)
    assert not undo_offer(rt, offboarding, TECHNICIAN).possible
    with pytest.raises(approvals.PlanNotFoundError, match=f"No plan {offboarding}"):
        propose_undo(rt, offboarding, RILEY)  # Northwind's approver: Contoso's plan is not there
    with pytest.raises(approvals.PlanNotFoundError):
        propose_undo(rt, 999, APPROVER)
    assert status(rt, ticket_id) == "escalated"  # All Staff, a distribution list, is left
    assert len(escalations(rt, ticket_id)) == 1  # no undo was proposed


def test_a_rejected_plan_changed_nothing_and_a_password_reset_cannot_be_undone(
    rt: Runtime,
) -> None:
    rejected = ticket(rt, KAREN, "Please offboard Marcus Lee", "Marcus Lee has left the company.")
    work(rt)
    [plan] = approvals.list_plans(rt, APPROVER)
    approvals.reject_plan(rt, plan.run_id, APPROVER, "He stays after all")
    with pytest.raises(UndoRefusedError, match="changed nothing: none of its steps was done"):
        propose_undo(rt, plan.run_id, APPROVER)

    reset = ticket(
        rt, KAREN, "Password reset for Lisa", "Lisa Chen forgot her password, please reset it."
    )
    work(rt)
    [plan] = [p for p in approvals.list_plans(rt, APPROVER) if p.ticket_id == reset]
    approvals.approve_plan(rt, plan.run_id, APPROVER)
    work(rt)
    assert status(rt, reset) == "resolved"
    with pytest.raises(UndoRefusedError, match="can be undone by deskhand"):
        propose_undo(rt, plan.run_id, APPROVER)
    assert status(rt, reset) == "resolved" and status(rt, rejected) == "escalated"


def _events(rt: Runtime, ticket_id: int) -> list[EventRecord]:
    with rt.db.reading() as session:
        found = list(session.scalars(select(EventRecord).where(EventRecord.ticket_id == ticket_id)))
        for event in found:
            session.expunge(event)
        return found


def test_an_undo_step_is_not_retargeted_by_an_edit(rt: Runtime) -> None:
    _, offboarding = offboarded(
        rt, "Please offboard Marcus Lee", "Marcus Lee has left the company.", MARCUS
    )
    undo = propose_undo(rt, offboarding, APPROVER)
    first = approvals.show_plan(rt, undo, APPROVER).steps[0]
    assert first.action == "m365.add_group_member" and first.approval_id is not None
    with pytest.raises(approvals.EditRefusedError, match="it undoes another plan, step by step"):
        approvals.approve(rt, first.approval_id, APPROVER, {"group_id": "Finance Share"})
    assert approvals.show(rt, first.approval_id).status == "pending"


def test_an_undo_step_waits_only_for_the_undo_of_the_steps_that_waited_for_its_step(
    rt: Runtime, tmp_path: Path
) -> None:
    with_policy(rt, tmp_path, AUTO_REPLY)
    graph = m365(rt)
    marcus = graph.get_user(MARCUS)
    groups_before = sorted(g.id for g in graph.groups_of(marcus.id))
    _, offboarding = offboarded(
        rt, "Please offboard Marcus Lee", "Marcus Lee has left the company.", MARCUS
    )
    undo = propose_undo(rt, offboarding, APPROVER)
    plan = approvals.show_plan(rt, undo, APPROVER)

    def at(name: str) -> list[int]:
        return [s.position for s in plan.steps if s.action == name]

    groups, licences = at("m365.add_group_member"), at("m365.assign_license")
    [forward], [auto_reply] = at("m365.stop_forwarding"), at("m365.clear_auto_reply")
    [files], [sign_in] = at("m365.revoke_onedrive_access"), at("m365.allow_sign_in")
    # the licences went after the forwarding, the reply and the files were set up: they come
    # back first; sign-in went first of all: it comes back once the groups are back
    assert plan.waits_for[forward] == plan.waits_for[auto_reply] == licences
    assert plan.waits_for[files] == sorted(groups + licences)
    assert plan.waits_for[sign_in] == groups
    assert all(plan.waits_for[p] == [] for p in groups + licences)

    approvals.approve_plan(rt, undo, APPROVER)
    [sku_id] = marcus.licenses
    with rt.sandbox.session() as session:  # its last seat went to someone else meanwhile
        sku = session.get_one(SandboxSku, (CONTOSO, sku_id))
        sku.total = session.scalar(
            select(func.count())
            .select_from(SandboxLicenseAssignment)
            .where(
                SandboxLicenseAssignment.tenant_id == CONTOSO,
                SandboxLicenseAssignment.sku_id == sku_id,
            )
        )
    work(rt)

    with rt.db.reading() as session:
        run = session.get(Run, undo)
        assert run is not None
        statuses = {s.position: s.status for s in run.steps}
    assert [statuses[p] for p in licences] == ["failed"]
    assert statuses[forward] == statuses[auto_reply] == statuses[files] == "cancelled"
    assert {statuses[p] for p in [*groups, sign_in]} == {"verified"}  # they did not wait for it
    assert sandbox_user(rt, MARCUS).account_enabled is True
    assert sorted(g.id for g in graph.groups_of(marcus.id)) == groups_before
    assert not graph.get_user(MARCUS).licenses
