"""SyncroPsa against the stand-in: what the PSA interface promises, the way Syncro does it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskhand.connectors.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from deskhand.connectors.psa import Psa
from deskhand.connectors.syncro import SyncroPsa, SyncroSettings
from tests.connectors.syncro.conftest import Client


def test_a_syncro_client_is_a_psa(syncro: Client) -> None:
    psa: Psa = syncro.psa()  # mypy checks the Protocol; this checks it at runtime too
    assert all(callable(getattr(psa, name)) for name in Psa.__dict__ if not name.startswith("_"))


def test_get_ticket_reads_the_request_and_its_requester(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(
        syncro.customer_id, "Password reset", "I am locked out", contact_id=syncro.sam
    )
    ticket = syncro.psa().get_ticket(str(ticket_id))
    assert ticket.id == str(ticket_id)
    assert ticket.number == str(syncro.standin.tickets[ticket_id]["number"])
    assert ticket.customer_id == str(syncro.customer_id)
    assert ticket.contact_email == "sam.ortiz@contoso-dental.example"
    assert (ticket.subject, ticket.body, ticket.status) == (
        "Password reset",
        "I am locked out",
        "New",
    )
    assert syncro.standin.requests_to("GET", f"/api/v1/tickets/{ticket_id}")


def test_a_ticket_without_a_contact_comes_from_the_customer(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "Printer", "It jams")
    assert syncro.psa().get_ticket(str(ticket_id)).contact_email == "office@contoso-dental.example"


def test_a_ticket_from_a_contact_without_an_address_has_no_requester_address(
    syncro: Client,
) -> None:
    ticket_id = syncro.standin.add_ticket(
        syncro.customer_id, "Phone", "called in", contact_id=syncro.phone_only
    )
    psa = syncro.psa()
    assert psa.get_ticket(str(ticket_id)).contact_email == ""
    [listed] = psa.list_tickets(None).tickets
    assert listed.ticket.contact_email == ""


def test_another_customers_ticket_does_not_exist_for_this_tenant(syncro: Client) -> None:
    theirs = syncro.standin.add_ticket(syncro.other_customer_id, "Theirs", "not yours")
    psa = syncro.psa()
    with pytest.raises(NotFoundError):
        psa.get_ticket(str(theirs))
    with pytest.raises(NotFoundError):
        psa.add_comment(str(theirs), "note", "leak", hidden=True)
    assert syncro.standin.requests_to("POST", f"/api/v1/tickets/{theirs}/comment") == []


def test_a_missing_ticket_is_not_found_with_syncros_words(syncro: Client) -> None:
    with pytest.raises(NotFoundError) as raised:
        syncro.psa().get_ticket("999999")
    assert raised.value.status == 404
    assert raised.value.message == "Not found"


def test_internal_note_is_hidden_and_never_emailed(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down", contact_id=syncro.dana)
    note = syncro.psa().add_comment(str(ticket_id), "deskhand note", "Checked VPN", hidden=True)
    assert note.hidden and note.subject == "deskhand note" and note.ticket_id == str(ticket_id)
    [sent] = syncro.standin.requests_to("POST", f"/api/v1/tickets/{ticket_id}/comment")
    assert sent.body == {
        "subject": "deskhand note",
        "body": "Checked VPN",
        "hidden": True,
        "do_not_email": True,
    }


def test_public_reply_is_sent_with_its_subject(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down", contact_id=syncro.dana)
    psa = syncro.psa()
    reply = psa.add_comment(str(ticket_id), "Update on your ticket", "Fixed. Ref: k1", hidden=False)
    [sent] = syncro.standin.requests_to("POST", f"/api/v1/tickets/{ticket_id}/comment")
    assert sent.body["subject"] == "Update on your ticket"
    assert sent.body["hidden"] is False and sent.body["do_not_email"] is False
    comments = psa.list_comments(str(ticket_id))
    assert [c.body for c in comments] == ["down", "Fixed. Ref: k1"]  # oldest first
    assert comments[-1] == reply


def test_a_blank_comment_is_refused_with_syncros_messages(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down")
    with pytest.raises(ConflictError) as raised:
        syncro.psa().add_comment(str(ticket_id), " ", " ", hidden=True)
    assert raised.value.status == 422
    assert raised.value.message == "Body can't be blank; Subject can't be blank"


def test_update_status_and_read_it_back(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down")
    psa = syncro.psa()
    assert psa.update_status(str(ticket_id), "Waiting on Customer").status == "Waiting on Customer"
    assert psa.get_ticket(str(ticket_id)).status == "Waiting on Customer"
    with pytest.raises(ConflictError, match="Status is not included in the list"):
        psa.update_status(str(ticket_id), "Done-ish")


def test_timer_entry_logs_the_minutes_and_reads_them_back(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down")
    psa = syncro.psa()
    entry = psa.log_minutes(str(ticket_id), 12, "deskhand: password reset, approved by Dana")
    assert entry.minutes == 12 and entry.ticket_id == str(ticket_id)
    assert psa.ticket_timers(str(ticket_id)) == [entry]
    [sent] = syncro.standin.requests_to("POST", f"/api/v1/tickets/{ticket_id}/timer_entry")
    assert sent.body["notes"] == "deskhand: password reset, approved by Dana"
    with pytest.raises(ValueError, match="positive"):
        psa.log_minutes(str(ticket_id), 0, "nothing")


def test_contacts_are_the_customers_with_an_address_and_authorised_from_configuration(
    syncro: Client,
) -> None:
    contacts = syncro.psa().contacts()
    assert [(c.name, c.email, c.authorised) for c in contacts] == [
        ("Dana Reyes", "dana.reyes@contoso-dental.example", True),
        ("Sam Ortiz", "sam.ortiz@contoso-dental.example", False),
    ]
    assert syncro.standin.requests_to("GET", "/api/v1/contacts")[0].query == {
        "customer_id": str(syncro.customer_id),
        "page": "1",
    }


def test_contacts_are_read_across_pages_of_fifty(syncro: Client) -> None:
    for n in range(60):
        syncro.standin.add_contact(syncro.customer_id, f"Person {n:02}", f"p{n}@contoso.example")
    assert len(syncro.psa().contacts()) == 62
    assert [r.query["page"] for r in syncro.standin.requests_to("GET", "/api/v1/contacts")] == [
        "1",
        "2",
    ]


def test_customer_record(syncro: Client) -> None:
    customer = syncro.psa().customer()
    assert (customer.id, customer.name, customer.email) == (
        str(syncro.customer_id),
        "Contoso Dental",
        "office@contoso-dental.example",
    )


def test_create_ticket_links_the_contact(syncro: Client) -> None:
    created = syncro.psa().create_ticket("Dana.Reyes@contoso-dental.example", "New laptop", "Hi")
    stored = syncro.standin.tickets[int(created.id)]
    assert stored["contact_id"] == syncro.dana and stored["customer_id"] == syncro.customer_id
    assert (created.subject, created.body, created.status) == ("New laptop", "Hi", "New")


def test_listing_pages_by_25_across_three_pages(syncro: Client) -> None:
    ids = {
        syncro.standin.add_ticket(syncro.customer_id, f"T{n}", "body", contact_id=syncro.sam)
        for n in range(60)
    }
    syncro.standin.add_ticket(syncro.other_customer_id, "not ours", "body")
    pages = list(syncro.psa().pages(None))
    assert [(p.page, p.total_pages, len(p.tickets)) for p in pages] == [
        (1, 3, 25),
        (2, 3, 25),
        (3, 3, 10),
    ]
    assert {int(t.ticket.id) for p in pages for t in p.tickets} == ids
    assert all(t.ticket.contact_email.startswith("sam.") for p in pages for t in p.tickets)


def test_listing_since_updated_at_leaves_older_tickets_out(syncro: Client) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=3)
    syncro.standin.add_ticket(syncro.customer_id, "old", "body", updated_at=long_ago)
    recent = syncro.standin.add_ticket(syncro.customer_id, "recent", "body")
    page = syncro.psa().list_tickets(datetime.now(UTC) - timedelta(days=1))
    assert [t.ticket.id for t in page.tickets] == [str(recent)]
    [listed] = syncro.standin.requests_to("GET", "/api/v1/tickets")
    assert listed.query["since_updated_at"].endswith("Z")


def test_a_wrong_key_is_an_authentication_error_saying_where_to_make_one(syncro: Client) -> None:
    with pytest.raises(AuthenticationError) as raised:
        syncro.psa(api_key="not-the-key").customer()
    assert raised.value.status == 401
    assert "Syncro → Admin → API Tokens" in str(raised.value)
    assert "Tickets - List/Search" in str(raised.value)


def test_a_missing_permission_names_it(syncro: Client) -> None:
    syncro.standin.denied.add("Ticket Timers - Overview")
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down")
    with pytest.raises(ForbiddenError) as raised:
        syncro.psa().log_minutes(str(ticket_id), 5, "time")
    assert "update your group permissions" in raised.value.message
    assert "'Ticket Timers - Overview'" in str(raised.value.fix)


def test_settings_take_the_syncro_address_with_or_without_the_api_path() -> None:
    plain = SyncroSettings(base_url="https://acme.syncromsp.com/", customer_id=1)
    assert plain.base_url == "https://acme.syncromsp.com/api/v1"
    with pytest.raises(ValueError, match="not a URL"):
        SyncroSettings(base_url="acme.syncromsp.com", customer_id=1)


def test_an_unreachable_syncro_is_unavailable_with_what_to_check(syncro: Client) -> None:
    settings = SyncroSettings(base_url="http://127.0.0.1:9/api/v1", customer_id=1)
    psa = SyncroPsa("contoso", settings, "key", caller=syncro.psa().caller)
    with pytest.raises(Exception) as raised:
        psa.customer()
    assert "unreachable" in str(raised.value) and "firewall" in str(raised.value)
