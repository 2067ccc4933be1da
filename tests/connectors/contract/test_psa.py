"""What ``deskhand.connectors.psa.Psa`` promises and the actions rely on, held against the
sandbox and against the Syncro client talking to the Syncro stand-in (which checks every request
and answer against Syncro's published OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deskhand.actions import action
from deskhand.actions.contract import Baseline
from deskhand.connectors.capabilities import TicketStatus
from deskhand.connectors.errors import ConflictError, NotFoundError
from deskhand.connectors.factory import Connectors, NoDirectory
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxM365
from deskhand.domain.directory import PsaContact
from tests.connectors.contract.conftest import DANA, SAM, TENANT, PsaCase


def test_a_ticket_opened_is_read_back_with_its_request_as_the_first_comment(
    psa_case: PsaCase,
) -> None:
    psa = psa_case.psa

    ticket = psa.create_ticket(SAM, "Printer offline", "The front desk printer is offline.")

    assert psa.get_ticket(ticket.id) == ticket
    assert (ticket.subject, ticket.body, ticket.contact_email, ticket.status) == (
        "Printer offline",
        "The front desk printer is offline.",
        SAM,
        "New",
    )
    assert ticket.customer_id == psa_case.customer_id and ticket.number.isdigit()
    [request] = psa.list_comments(ticket.id)
    assert (request.ticket_id, request.body, request.hidden) == (
        ticket.id,
        "The front desk printer is offline.",
        False,
    )


def test_a_ticket_without_a_subject_is_refused(psa_case: PsaCase) -> None:
    with pytest.raises(ConflictError):
        psa_case.psa.create_ticket(SAM, " ", "No subject")


def test_notes_and_replies_come_back_oldest_first_as_written(psa_case: PsaCase) -> None:
    psa = psa_case.psa
    ticket = psa.create_ticket(SAM, "Locked out", "Can't sign in")

    note = psa.add_comment(ticket.id, "deskhand note", "trace 42", hidden=True)
    reply = psa.add_comment(ticket.id, "Update on your ticket", "Unlocked.", hidden=False)

    assert psa.list_comments(ticket.id)[1:] == [note, reply]
    assert (note.ticket_id, note.subject, note.body, note.hidden) == (
        ticket.id,
        "deskhand note",
        "trace 42",
        True,
    )
    assert not reply.hidden and note.id != reply.id
    assert note.created_at.tzinfo is not None


def test_a_comment_without_a_subject_or_a_body_is_refused_and_not_written(
    psa_case: PsaCase,
) -> None:
    psa = psa_case.psa
    ticket = psa.create_ticket(SAM, "Locked out", "Can't sign in")
    before = psa.list_comments(ticket.id)

    with pytest.raises(ConflictError):
        psa.add_comment(ticket.id, " ", "Unlocked.", hidden=False)
    with pytest.raises(ConflictError):
        psa.add_comment(ticket.id, "Update", "", hidden=True)

    assert psa.list_comments(ticket.id) == before


def test_time_is_logged_as_asked_and_read_back_oldest_first(psa_case: PsaCase) -> None:
    psa = psa_case.psa
    ticket = psa.create_ticket(SAM, "Locked out", "Can't sign in")

    billed = psa.log_time(ticket.id, 15, "deskhand: unlock [deskhand k1]", billable=True)
    covered = psa.log_time(ticket.id, 5, "deskhand: note", billable=False)

    assert psa.time_entries(ticket.id) == [billed, covered]
    assert (billed.ticket_id, billed.minutes, billed.notes, billed.billable) == (
        ticket.id,
        15,
        "deskhand: unlock [deskhand k1]",
        True,
    )
    assert (covered.minutes, covered.billable) == (5, False)


def test_time_that_is_not_positive_is_the_callers_mistake_and_nothing_is_logged(
    psa_case: PsaCase,
) -> None:
    psa = psa_case.psa
    ticket = psa.create_ticket(SAM, "Locked out", "Can't sign in")

    with pytest.raises(ValueError, match="positive"):
        psa.log_time(ticket.id, 0, "nothing", billable=False)

    assert psa.time_entries(ticket.id) == []


@pytest.mark.parametrize("which", ["missing", "not a number", "another client's"])
def test_a_ticket_not_there_or_another_clients_does_not_exist(
    psa_case: PsaCase, which: str
) -> None:
    psa = psa_case.psa
    ticket_id = {"missing": "999999", "not a number": "not-a-number"}.get(
        which, psa_case.foreign_ticket
    )

    with pytest.raises(NotFoundError):
        psa.get_ticket(ticket_id)
    with pytest.raises(NotFoundError):
        psa.list_comments(ticket_id)
    with pytest.raises(NotFoundError):
        psa.add_comment(ticket_id, "Note", "text", hidden=True)
    with pytest.raises(NotFoundError):
        psa.time_entries(ticket_id)
    with pytest.raises(NotFoundError):
        psa.log_time(ticket_id, 10, "time", billable=False)
    with pytest.raises(NotFoundError):
        psa.update_status(ticket_id, "Resolved")


def test_a_status_set_is_read_back_and_one_the_psa_does_not_list_changes_nothing(
    psa_case: PsaCase,
) -> None:
    psa = psa_case.psa
    assert isinstance(psa, TicketStatus)
    ticket = psa.create_ticket(SAM, "Locked out", "I cannot sign in")

    assert psa.update_status(ticket.id, "Waiting on Customer").status == "Waiting on Customer"
    assert psa.get_ticket(ticket.id).status == "Waiting on Customer"
    with pytest.raises(ConflictError, match="Status is not included in the list"):
        psa.update_status(ticket.id, "Done-ish")

    assert psa.get_ticket(ticket.id).status == "Waiting on Customer"


def test_contacts_say_who_may_ask_for_changes_for_others(psa_case: PsaCase) -> None:
    assert psa_case.psa.contacts() == [
        PsaContact(email=DANA, name="Dana Reyes", authorised=True),
        PsaContact(email=SAM, name="Sam Ortiz", authorised=False),
    ]


# --- the actions, as the executor runs them -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("psa.add_internal_note", {"body": "deskhand reset the password"}),
        ("psa.send_reply", {"body": "Your password was reset.", "to": SAM}),
        ("psa.log_time", {"minutes": 10, "billable": True, "notes": "deskhand: reset"}),
    ],
)
def test_each_action_is_found_again_by_its_step_key(
    psa_case: PsaCase, sandbox: SandboxStore, name: str, params: dict[str, object]
) -> None:
    ticket = psa_case.psa.create_ticket(SAM, "Forgot my password", "Please reset it")
    operation = action(name)
    validated = operation.validate({"psa_ticket_id": ticket.id, **params})
    c = Connectors(
        TENANT, psa=psa_case.psa, m365=SandboxM365(sandbox, TENANT), ad=NoDirectory(TENANT)
    )
    baseline = Baseline(datetime.now(UTC), operation.snapshot(validated, c))
    assert not operation.check(validated, c, "dh-7-1", baseline).done

    operation.act(validated, c, "dh-7-1", None)

    assert operation.check(validated, c, "dh-7-1", baseline).done
    assert not operation.check(validated, c, "dh-7-2", baseline).done  # another step's key


def test_a_status_is_set_by_its_action_verified_by_reading_back_and_undone_to_the_snapshot(
    psa_case: PsaCase, sandbox: SandboxStore
) -> None:
    ticket = psa_case.psa.create_ticket(SAM, "Forgot my password", "Please reset it")
    operation = action("psa.set_status")
    params = operation.validate({"psa_ticket_id": ticket.id, "status": "Resolved"})
    c = Connectors(
        TENANT, psa=psa_case.psa, m365=SandboxM365(sandbox, TENANT), ad=NoDirectory(TENANT)
    )
    baseline = Baseline(datetime.now(UTC), operation.snapshot(params, c))
    assert baseline.snapshot == {"status": "New"}
    assert not operation.check(params, c, "dh-7-1", baseline).done

    operation.act(params, c, "dh-7-1", None)
    operation.act(params, c, "dh-7-1", None)  # safe to repeat: the same status again

    assert operation.check(params, c, "dh-7-1", baseline).done
    back = operation.validate({"psa_ticket_id": ticket.id, **baseline.snapshot})
    operation.act(back, c, "dh-8-1", None)
    assert psa_case.psa.get_ticket(ticket.id).status == "New"
