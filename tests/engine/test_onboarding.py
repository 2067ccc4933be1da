"""Onboarding a starter, through the real runtime on SQLite and PostgreSQL against the sandbox
tenant: the account created (in Microsoft 365 for a cloud starter; in Active Directory for a
role whose template names an OU, then waited for in Microsoft 365), the manager, licences and
groups copied from the colleague the ticket names or taken from the tenant's role template, each
step named by the starter's sign-in name before the starter exists, and the plan scheduled for
the start date. The bounded wait for a directory sync that never comes is tested against the
real Samba DC (tests/e2e/test_lifecycle.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from tests.engine.test_flow import KAREN, approve_all, escalation, status, ticket, work
from tests.engine.test_offboarding import m365, steps_of, the_plan, with_policy

from deskhand.connectors.sandbox.store import SandboxUser
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Run, StepSecret

CONTOSO = "contoso-dental"
JANE = "jane.doe@contosodental.example"
JAKE = "jake.morrison@contosodental.example"
STAFF_OU = "OU=Staff,DC=contosodental,DC=example"


def sandbox_user(rt: Runtime, upn: str) -> SandboxUser | None:
    with rt.sandbox.session() as session:
        user = session.scalars(
            select(SandboxUser).where(SandboxUser.tenant_id == CONTOSO, SandboxUser.upn == upn)
        ).one_or_none()
        if user is not None:
            session.expunge(user)
        return user


def test_a_cloud_starter_gets_the_access_of_the_colleague_the_ticket_names(rt: Runtime) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "New starter",
        "New starter: Jane Doe joins the front desk today, same access as Jake Morrison please.",
    )
    work(rt)
    plan = the_plan(rt, ticket_id)
    assert plan.specialist == "onboarding"
    actions = [s.action for s in plan.steps]
    assert actions[:2] == ["m365.create_user", "m365.set_profile"]
    assert actions.count("m365.add_group_member") == 2  # Jake's groups but the mailing list
    assert plan.left == ["add them to the All Staff mailing list"]
    assert plan.reply is not None and "the temporary password" in plan.reply
    assert all(plan.waits_for[p] == [1] for p in range(2, 6))  # everything waits for the account
    jake = m365(rt).get_user(JAKE)

    approve_all(rt, ticket_id)
    work(rt)
    assert [s.status for s in steps_of(rt, ticket_id)] == ["verified"] * len(actions)
    jane = m365(rt).get_user(JANE)
    assert jane.display_name == "Jane Doe" and jane.manager_id == jake.manager_id
    assert jane.licenses == jake.licenses
    mine = {g.display_name for g in m365(rt).groups_of(jane.id)}
    assert mine == {"Front Desk", "Practice Management App Users"}
    with rt.db.reading() as session:  # the temporary password waits for its one-time reveal
        [secret] = session.scalars(select(StepSecret)).all()
        assert secret.value is not None
    assert status(rt, ticket_id) == "escalated"  # the mailing list is a technician's
    assert escalation(rt, ticket_id).reason == "left_for_technician"


def test_a_starter_in_a_role_with_an_ou_is_created_in_active_directory(
    rt: Runtime, tmp_path: Path
) -> None:
    with_policy(
        rt,
        tmp_path,
        "lifecycle:\n"
        "  usage_location: GB\n"
        "  roles:\n"
        "    Front Desk:\n"
        "      licences: [Microsoft 365 Business Basic]\n"
        "      groups: [Front Desk]\n"
        f'      ou: "{STAFF_OU}"\n',
    )
    ticket_id = ticket(
        rt, KAREN, "New starter", "New starter: Jane Doe, Front Desk, starting today."
    )
    work(rt)
    plan = the_plan(rt, ticket_id)
    actions = [s.action for s in plan.steps]
    assert actions[:4] == [
        "ad.create_user",
        "m365.await_user",
        "m365.assign_license",
        "m365.add_group_member",
    ]
    assert plan.waits_for[2] == [1] and plan.waits_for[3] == [2]  # nothing in 365 before sync

    approve_all(rt, ticket_id)
    work(rt)
    assert {s.status for s in steps_of(rt, ticket_id)} == {"verified"}
    jane = sandbox_user(rt, JANE)
    assert jane is not None and jane.synced and jane.ou == STAFF_OU
    assert jane.usage_location == "GB"  # set in AD as the country, which the sync brings
    graph = m365(rt)
    assert graph.get_user(JANE).licenses
    assert {g.display_name for g in graph.groups_of(jane.id)} == {"Front Desk"}


def test_a_starter_who_starts_later_is_created_before_their_first_morning(rt: Runtime) -> None:
    ticket_id = ticket(
        rt,
        KAREN,
        "New starter",
        "New starter: Jane Doe starts on 4 January 2027, same access as Jake Morrison.",
    )
    work(rt)
    with rt.db.reading() as session:
        run = session.scalars(select(Run).where(Run.ticket_id == ticket_id)).one()
        # 09:00 on the day (the tenant's start_at), two hours ahead for the directory sync
        assert run.not_before == datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
    approve_all(rt, ticket_id)
    work(rt)
    assert sandbox_user(rt, JANE) is None  # nothing before the time


def test_an_hr_form_mailed_in_is_read_and_the_role_s_title_and_location_are_set(
    rt: Runtime, tmp_path: Path
) -> None:
    with_policy(
        rt,
        tmp_path,
        "lifecycle:\n"
        "  usage_location: GB\n"
        "  roles:\n"
        "    Front Desk:\n"
        "      job_title: Receptionist\n"
        "      licences: [Microsoft 365 Business Basic]\n",
    )
    ticket_id = ticket(
        rt,
        KAREN,
        "Starter form",
        "Please set up the following new starter.\n"
        "Name: Jane Doe\nDepartment: Front Desk\nStart date: today\n",
    )
    work(rt)
    [create, licence, *_] = the_plan(rt, ticket_id).steps
    assert create.action == "m365.create_user" and licence.action == "m365.assign_license"
    approve_all(rt, ticket_id)
    work(rt)
    jane = sandbox_user(rt, JANE)
    assert jane is not None
    assert (jane.display_name, jane.job_title, jane.usage_location) == (
        "Jane Doe",
        "Receptionist",
        "GB",
    )
