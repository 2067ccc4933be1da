"""Groups and licences are resolved like users — exactly, else asked about with scores, else
escalated — and devices and dates reach the trace and the technician's note. Runs on SQLite and
PostgreSQL through the real runtime and the sandbox tenants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from tests.engine.test_flow import CONTOSO, KAREN, drafts, escalation, status, ticket, work

from deskhand.connectors.sandbox.seed import object_id
from deskhand.connectors.sandbox.store import SandboxGroup, SandboxSku
from deskhand.engine.runtime import Runtime
from deskhand.store.models import EventRecord, Step, Ticket, now


def _events(rt: Runtime, ticket_id: int, type_: str) -> list[dict[str, Any]]:
    with rt.db.session() as session:
        return [
            e.data
            for e in session.scalars(
                select(EventRecord)
                .where(EventRecord.ticket_id == ticket_id, EventRecord.type == type_)
                .order_by(EventRecord.id)
            )
        ]


def _looked_up(rt: Runtime, ticket_id: int, kind: str) -> list[dict[str, Any]]:
    return [e for e in _events(rt, ticket_id, "entity.resolved") if e["kind"] == kind]


def _actions(rt: Runtime, ticket_id: int) -> list[str]:
    return [d.action for d in drafts(rt, ticket_id)]


def _add_group(rt: Runtime, name: str) -> None:
    with rt.sandbox.session() as session:
        session.add(
            SandboxGroup(tenant_id=CONTOSO, id=object_id(CONTOSO, "group", name), display_name=name)
        )


def test_a_misspelled_group_is_asked_about_with_its_score_never_picked(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Finanse group.")
    work(rt)
    [draft] = drafts(rt, ticket_id)
    assert draft.action == "psa.send_reply"
    assert draft.status == "pending"
    assert 'Which group do you mean by "Finanse"?' in draft.proposed_params["body"]
    assert "- Finance Share" in draft.proposed_params["body"]
    assert "Finance Share (score 0." in draft.reason
    [looked_up] = _looked_up(rt, ticket_id, "group")
    assert looked_up["query"] == "Finanse"
    assert looked_up["resolved"] is None
    assert looked_up["candidates"] == ["Finance Share"]
    assert 0.5 < looked_up["scores"][0] < 1
    with rt.db.session() as session:
        assert [s.action for s in session.scalars(select(Step))] == ["psa.send_reply"]


def test_two_close_groups_are_both_listed_and_neither_chosen(rt: Runtime) -> None:
    _add_group(rt, "Finance Reports")
    ticket_id = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Finance group.")
    work(rt)
    [draft] = drafts(rt, ticket_id)
    assert "- Finance Reports" in draft.proposed_params["body"]
    assert "- Finance Share" in draft.proposed_params["body"]
    [looked_up] = _looked_up(rt, ticket_id, "group")
    assert sorted(looked_up["candidates"]) == ["Finance Reports", "Finance Share"]
    assert all(0 < s < 1 for s in looked_up["scores"])


def test_a_group_close_to_nothing_escalates_saying_why(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Marketing group.")
    work(rt)
    assert drafts(rt, ticket_id) == []
    found = escalation(rt, ticket_id)
    assert found.reason == "low_confidence"
    assert "group 'Marketing'" in found.detail
    assert "no group of this tenant is that or close to it" in found.detail


def test_another_tenants_group_is_never_a_candidate(rt: Runtime) -> None:
    # Northwind Law has a "Case Files" group; Contoso Dental has nothing close to it.
    ticket_id = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Case Files group.")
    work(rt)
    assert drafts(rt, ticket_id) == []
    assert "'Case Files'" in escalation(rt, ticket_id).detail
    [looked_up] = _looked_up(rt, ticket_id, "group")
    assert looked_up["candidates"] == []


def test_a_friendly_licence_name_resolves_exactly(rt: Runtime) -> None:
    body = "Please give Tom Becker a Business Premium licence."
    ticket_id = ticket(rt, KAREN, "Licence", body)
    work(rt)
    # Every Business Premium seat is taken: a seat is bought, then assigned — both drafts.
    assert _actions(rt, ticket_id) == [
        "m365.add_license_seats",
        "m365.assign_license",
        "psa.send_reply",
    ]
    [looked_up] = _looked_up(rt, ticket_id, "licence")
    assert looked_up["resolved"] is not None


def test_a_licence_the_tenant_does_not_have_escalates_naming_what_it_has(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Licence", "Please give Tom Becker an E3 licence.")
    work(rt)
    assert drafts(rt, ticket_id) == []
    found = escalation(rt, ticket_id)
    assert found.reason == "low_confidence"
    assert "'E3' (Microsoft 365 E3 or Office 365 E3)" in found.detail
    assert "Microsoft 365 Business Premium (SPB)" in found.detail
    assert "Adding a subscription is for a technician" in found.detail


def test_e3_when_the_tenant_has_both_products_is_asked_about(rt: Runtime) -> None:
    with rt.sandbox.session() as session:
        for part, name in (("SPE_E3", "Microsoft 365 E3"), ("ENTERPRISEPACK", "Office 365 E3")):
            session.add(
                SandboxSku(
                    tenant_id=CONTOSO,
                    id=object_id(CONTOSO, "sku", part),
                    part_number=part,
                    display_name=name,
                    total=5,
                )
            )
    ticket_id = ticket(rt, KAREN, "Licence", "Please give Tom Becker an E3 licence.")
    work(rt)
    [draft] = drafts(rt, ticket_id)
    assert draft.action == "psa.send_reply"
    assert "- Microsoft 365 E3" in draft.proposed_params["body"]
    assert "- Office 365 E3" in draft.proposed_params["body"]


def test_a_vague_licence_lists_the_close_ones(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Licence", "Please give Tom Becker a Busines licence.")
    work(rt)
    [draft] = drafts(rt, ticket_id)
    body = draft.proposed_params["body"]
    assert 'Which licence do you mean by "Busines"?' in body
    assert "- Microsoft 365 Business Premium" in body
    assert "- Microsoft 365 Business Basic" in body
    assert "Exchange" not in body


def test_a_password_reset_is_not_held_up_by_a_group_it_does_not_need(rt: Runtime) -> None:
    body = "I'm locked out again, I think it's the Marketing group thing. Please reset my password."
    ticket_id = ticket(rt, "lisa.chen@contosodental.example", "Password", body)
    work(rt)
    assert _actions(rt, ticket_id)[0] == "m365.reset_password"


def test_devices_and_dates_reach_the_trace_and_the_technicians_note(rt: Runtime) -> None:
    # The dates are read relative to when the ticket arrived: a Tuesday.
    body = (
        "Please add Tom Becker to the Finance Share group from Monday; he will use "
        "LAPTOP-7F3K2. Needed by end of day Friday at the latest."
    )
    ticket_id = ticket(rt, KAREN, "Access", body)
    with rt.db.session() as session:
        session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id)
            .values(created_at=now().replace(year=2026, month=11, day=24, hour=9))
        )
    work(rt)
    [triaged] = _events(rt, ticket_id, "ticket.triaged")
    assert triaged["entities"]["devices"] == ["LAPTOP-7F3K2"]
    assert triaged["entities"]["dates"] == [
        "from Monday → Mon 30 Nov 2026",
        "by end of day Friday → Fri 27 Nov 2026 17:00",
    ]
    with rt.db.session() as session:
        [note] = session.scalars(select(Step).where(Step.action == "psa.add_internal_note"))
        assert "LAPTOP-7F3K2" in note.params["body"]
        assert "from Monday → Mon 30 Nov 2026" in note.params["body"]
        assert "Steps run when approved, not on these dates." in note.params["body"]
    assert status(rt, ticket_id) == "awaiting_approval"


def test_a_persons_name_before_licence_is_not_taken_for_a_licence(rt: Runtime) -> None:
    ticket_id = ticket(rt, KAREN, "Licence", "Please remove Tom Becker's licence.")
    work(rt)
    assert _looked_up(rt, ticket_id, "licence") == []
    found = escalation(rt, ticket_id)
    assert found.reason == "needs_human"  # the specialist: no licence or group named
    assert "names no group or licence" in found.detail
