"""/api/v1/escalations works the human queue to the end: list with filters, read one, take,
assign, note, resolve, resume — with the same scope and role rules as the pages, and CSRF for
a browser's session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.web.app import create_app
from deskhand.web.params import NOT_BLANK
from tests.web.conftest import sign_in
from tests.web.test_api import token_for

JAKE = "jake.morrison@contosodental.example"
PHONE = "called Priya back on 555-0100, the number on file"


def escalated_reset(rt: Runtime) -> int:
    ticket_id = add_ticket(
        rt, "contoso-dental", JAKE, "Reset", "Please reset the password for Priya Raman."
    ).ticket_id
    Worker(rt, "test-worker").run_once()
    return ticket_id


def client_as(rt: Runtime, email: str) -> TestClient:
    headers = {"Authorization": f"Bearer {token_for(rt, email)}"}
    return TestClient(create_app(rt), base_url="https://127.0.0.1/api/v1", headers=headers)


@pytest.fixture(params=["sqlite", "postgresql"])
def rt(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    yield request.getfixturevalue("web_rt" if request.param == "sqlite" else "pg_web_rt")


def test_a_technician_takes_notes_and_resumes_an_escalation(rt: Runtime) -> None:
    ticket_id = escalated_reset(rt)
    with client_as(rt, "lee@msp.example") as api:
        mine = api.get("/escalations", params={"ticket_id": ticket_id}).json()
        assert [(e["reason"], e["assignee"]) for e in mine] == [("identity_unverified", None)]
        escalation_id = mine[0]["id"]
        taken = api.post(f"/escalations/{escalation_id}/take")
        assert taken.status_code == 200, taken.text
        assert taken.json()["assignee"] == "lee@msp.example"
        noted = api.post(f"/escalations/{escalation_id}/notes", json={"text": "Voicemail left."})
        assert noted.json()["notes"][0]["text"] == "Voicemail left."
        assert noted.json()["notes"][0]["in_psa"] is True
        listed = api.get("/escalations", params={"assignee": "lee@msp.example"}).json()
        assert [e["id"] for e in listed] == [escalation_id]
        resumed = api.post(f"/escalations/{escalation_id}/resume", json={"verification": PHONE})
        assert resumed.json()["closed_as"] == "resumed"
        assert api.get("/escalations", params={"ticket_id": ticket_id}).json() == []
        closed = api.get("/escalations", params={"status": "closed"}).json()
        assert escalation_id in [e["id"] for e in closed]
        again = api.post(f"/escalations/{escalation_id}/resolve", json={"resolution": "x"})
        assert again.status_code == 409
        assert again.json()["hint"]


def test_scope_and_role_are_those_of_the_pages(rt: Runtime) -> None:
    ticket_id = escalated_reset(rt)
    with client_as(rt, "dana@msp.example") as api:
        escalation_id = api.get("/escalations", params={"ticket_id": ticket_id}).json()[0]["id"]
    with client_as(rt, "riley@msp.example") as api:  # Northwind Law only
        assert api.get("/escalations", params={"ticket_id": ticket_id}).json() == []
        assert api.get(f"/escalations/{escalation_id}").status_code == 404
        assert api.post(f"/escalations/{escalation_id}/take").status_code == 404
    with client_as(rt, "vic@msp.example") as api:  # a viewer reads but does not work
        assert api.get(f"/escalations/{escalation_id}").status_code == 200
        assert api.post(f"/escalations/{escalation_id}/take").status_code == 403
    with client_as(rt, "lee@msp.example") as api:
        refused = api.post(f"/escalations/{escalation_id}/assign", json={"to": "riley@msp.example"})
        assert refused.status_code == 403
        assert "cannot work escalations of contoso-dental" in refused.json()["error"]


def test_a_browser_session_needs_the_csrf_header(web_rt: Runtime, app_client: TestClient) -> None:
    ticket_id = escalated_reset(web_rt)
    csrf = sign_in(app_client, "lee@msp.example")
    listed = app_client.get("/api/v1/escalations", params={"ticket_id": ticket_id}).json()
    path = f"/api/v1/escalations/{listed[0]['id']}/take"
    assert app_client.post(path).status_code == 403
    assert app_client.post(path, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_a_blank_note_is_refused_whatever_counts_as_blank_to_the_schema(rt: Runtime) -> None:
    """The schema's regex is ECMAScript's, which does not count U+0085 or U+001C as white space;
    the server must refuse as blank exactly what the schema says is blank, and take the rest."""
    ticket_id = escalated_reset(rt)
    with client_as(rt, "lee@msp.example") as api:
        escalation_id = api.get("/escalations", params={"ticket_id": ticket_id}).json()[0]["id"]
        schema = api.get("/openapi.json").json()["components"]["schemas"]["Note"]
        assert schema["properties"]["text"]["pattern"] == NOT_BLANK
        for blank in ("\u0085", "\x1c", "\ufeff", " \u00a0\t"):
            refused = api.post(f"/escalations/{escalation_id}/notes", json={"text": blank})
            assert refused.status_code == 422, repr(blank)
            assert "not valid" in refused.json()["error"]
        kept = api.post(f"/escalations/{escalation_id}/notes", json={"text": "\u0085Called."})
        assert kept.status_code == 200 and kept.json()["notes"][-1]["text"] == "Called."
