"""Shadow mode: a tenant or a specialist in shadow plans and records what deskhand would have
done, never drafts and never runs anything, and is compared with what the technician then did.
Moving between shadow and live is an admin's decision, recorded with its evidence. On SQLite and
PostgreSQL, against the sandbox tenant."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from tests.engine.test_flow import CONTOSO, KAREN, LISA, applied, ticket, work

from deskhand.accounts import create_token
from deskhand.engine import shadow
from deskhand.engine.runtime import Runtime
from deskhand.store.models import (
    Approval,
    Escalation,
    EventRecord,
    Run,
    Step,
    Tenant,
    Ticket,
    User,
)
from deskhand.web.app import create_app

# Group changes (internal) run without approval: the plan has an auto step.
AUTO_POLICY = (
    "blast_radius: {read: auto, internal: auto, security: approve, billing: approve,\n"
    "  external_communication: approve, destructive: approve}\n"
    "approvers: [approver]\napproval_expiry_hours: 24\n"
)
ADMIN, APPROVER, TECH = "sam@msp.example", "dana@msp.example", "lee@msp.example"
ACCESS = ("Access", "Please add Tom Becker to the Finance Share group.")


def to_shadow(rt: Runtime, tenant: str = CONTOSO) -> None:
    with rt.db.session() as session:
        session.execute(update(Tenant).where(Tenant.id == tenant).values(mode="shadow"))


def count(rt: Runtime, table: type) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def events(rt: Runtime, kind: str) -> list[EventRecord]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(EventRecord).where(EventRecord.type == kind).order_by(EventRecord.id)
            )
        )


def status(rt: Runtime, ticket_id: int) -> tuple[str, list[str]]:
    with rt.db.reading() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        runs = session.scalars(select(Run.status).where(Run.ticket_id == ticket_id))
        return found.status, list(runs)


def test_a_shadow_tenant_never_drafts_or_runs_even_an_auto_step(
    rt: Runtime, tmp_path: Path
) -> None:
    policy = tmp_path / "contoso.yaml"
    policy.write_text(AUTO_POLICY)
    with rt.db.session() as session:
        session.execute(update(Tenant).where(Tenant.id == CONTOSO).values(policy_path=str(policy)))
    to_shadow(rt)
    access = ticket(rt, KAREN, *ACCESS)
    reset = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)
    work(rt)
    assert work(rt) == 0  # nothing left to run
    assert status(rt, access) == ("left_to_technicians", ["shadowed"])
    assert status(rt, reset) == ("left_to_technicians", ["shadowed"])
    assert applied(rt) == []
    assert count(rt, Approval) == 0
    assert count(rt, Step) == 0
    shadowed = {e.ticket_id: e.data for e in events(rt, "plan.shadowed")}
    planned = shadowed[access]["steps"]
    assert planned[0]["action"] == "m365.add_group_member"
    assert planned[0]["decision"] == "auto"  # it would have run unasked, live
    assert "tom.becker" in planned[0]["description"]
    assert planned[0]["snapshot"] is not None  # the baseline, read before anything changes
    assert shadowed[reset]["steps"][0]["action"] == "m365.reset_password"
    assert events(rt, "draft.created") == []


def test_a_specialist_in_shadow_within_a_live_tenant(rt: Runtime) -> None:
    shadow.set_mode(rt, CONTOSO, "shadow", ADMIN, "new specialist", specialist="access_change")
    access = ticket(rt, KAREN, *ACCESS)
    reset = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)
    work(rt)
    assert status(rt, access) == ("left_to_technicians", ["shadowed"])
    assert status(rt, reset) == ("awaiting_approval", ["awaiting_approval"])  # live
    with rt.db.reading() as session:
        drafted = session.scalars(select(Step.action).join(Run).where(Run.ticket_id == access))
        assert list(drafted) == []
    assert applied(rt) == []


def _shadowed_access(rt: Runtime) -> int:
    to_shadow(rt)
    ticket_id = ticket(rt, KAREN, *ACCESS)
    work(rt)
    return ticket_id


def _by_hand_add_tom(rt: Runtime) -> None:
    with rt.db.reading() as session:
        tenant = session.get(Tenant, CONTOSO)
    assert tenant is not None
    m365 = rt.connectors(tenant).m365
    tom = m365.get_user("tom.becker@contosodental.example")
    group = next(g for g in m365.list_groups() if g.display_name == "Finance Share")
    m365.add_group_member(group.id, tom.id)


def test_worked_by_hand_the_same_way_is_matched(rt: Runtime) -> None:
    ticket_id = _shadowed_access(rt)
    _by_hand_add_tom(rt)
    compared = shadow.worked(rt, ticket_id, TECH)
    assert compared.outcome == shadow.MATCHED
    assert compared.steps[0]["outcome"] == shadow.MATCHED
    assert status(rt, ticket_id)[0] == "resolved"
    [recorded] = events(rt, "shadow.compared")
    assert recorded.actor == TECH
    assert recorded.data["outcome"] == "matched"


def test_worked_another_way_is_not_matched(rt: Runtime) -> None:
    ticket_id = _shadowed_access(rt)
    compared = shadow.worked(rt, ticket_id, TECH)  # Tom was never added
    assert compared.outcome == shadow.NOT_MATCHED
    assert compared.steps[0]["outcome"] == shadow.NOT_MATCHED


def test_only_an_admin_changes_the_mode_and_the_change_carries_its_evidence(
    rt: Runtime,
) -> None:
    ticket_id = _shadowed_access(rt)
    _by_hand_add_tom(rt)
    shadow.worked(rt, ticket_id, TECH)
    for user in (TECH, APPROVER):
        with pytest.raises(shadow.NotAllowedError, match="only an admin"):
            shadow.set_mode(rt, CONTOSO, "live", user, "looks good")
    with rt.db.reading() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None and tenant.mode == "shadow"
    changed = shadow.set_mode(rt, CONTOSO, "live", ADMIN, "one plan matched")
    assert (changed.old, changed.new) == ("shadow", "live")
    [recorded] = events(rt, "tenant.mode_changed")
    assert recorded.actor == ADMIN
    assert recorded.data["reason"] == "one plan matched"
    assert (recorded.data["compared"], recorded.data["matched"]) == (1, 1)
    with pytest.raises(shadow.ShadowError, match="already live"):
        shadow.set_mode(rt, CONTOSO, "live", ADMIN, "again")


def test_a_ticket_not_in_shadow_cannot_be_marked_worked(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, *ACCESS)
    work(rt)
    with pytest.raises(shadow.ShadowError, match="no shadow plan"):
        shadow.worked(rt, ticket_id, TECH)


def test_a_shadow_plan_is_posted_as_an_internal_note_only_when_the_policy_asks(
    rt: Runtime, tmp_path: Path
) -> None:
    policy = tmp_path / "contoso.yaml"
    policy.write_text(AUTO_POLICY + "shadow: {note: true}\n")
    with rt.db.session() as session:
        session.execute(update(Tenant).where(Tenant.id == CONTOSO).values(policy_path=str(policy)))
    ticket_id = _shadowed_access(rt)
    assert applied(rt) == ["add_comment"]  # the note, and nothing else
    with rt.db.reading() as session:
        found = session.get(Ticket, ticket_id)
        tenant = session.get(Tenant, CONTOSO)
        assert found is not None and tenant is not None
        psa_ticket_id = found.psa_ticket_id
    comments = rt.connectors(tenant).psa.list_comments(psa_ticket_id)
    [note] = [c for c in comments if c.subject == "deskhand shadow"]
    assert note.hidden  # for the technicians, never the client
    assert "nothing was drafted or run" in note.body
    assert "tom.becker" in note.body
    assert [e.data["hidden"] for e in events(rt, "psa.note_written")] == [True]


def test_in_shadow_a_ticket_deskhand_would_escalate_is_only_recorded(rt: Runtime) -> None:
    to_shadow(rt)
    ticket_id = ticket(rt, KAREN, "Printer jammed", "The printer on floor 2 keeps jamming paper.")
    work(rt)
    assert status(rt, ticket_id) == ("left_to_technicians", ["shadowed"])
    assert applied(rt) == []  # no escalation note on the PSA ticket
    assert count(rt, Escalation) == 0
    [recorded] = events(rt, "plan.shadowed")
    assert recorded.data["summary"].startswith("would have escalated (")
    assert shadow.worked(rt, ticket_id, TECH).outcome == shadow.NOTHING_TO_COMPARE


def test_the_api_marks_a_shadow_ticket_worked_and_says_how_the_plan_compared(
    rt: Runtime,
) -> None:
    ticket_id = _shadowed_access(rt)
    _by_hand_add_tom(rt)
    with rt.db.session() as session:
        lee = session.execute(select(User).where(User.email == TECH)).scalar_one()
        token = create_token(session, lee, "tests")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(
        create_app(rt, worker=False), base_url="https://127.0.0.1/api/v1", headers=headers
    ) as api:
        answer = api.post(f"/tickets/{ticket_id}/worked")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["ticket_id"], body["outcome"]) == (ticket_id, "matched")
        assert body["steps"][0]["action"] == "m365.add_group_member"
        again = api.post(f"/tickets/{ticket_id}/worked")
        assert again.status_code == 409
        assert "not left to the technicians by shadow mode" in again.json()["error"]
        assert api.post("/tickets/999999/worked").status_code == 404
    assert status(rt, ticket_id)[0] == "resolved"
    [recorded] = events(rt, "shadow.compared")
    assert recorded.actor == TECH
