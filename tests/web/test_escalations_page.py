"""The escalations page works the human queue: filters, the closed ones on request, per-row
actions behind CSRF-protected forms, the escalated ticket's page with the same actions, and the
count of open escalations in the navigation."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from deskhand.engine import escalation_work as work
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.web.app import create_app
from tests.web.conftest import sign_in

JAKE = "jake.morrison@contosodental.example"
LEE = "lee@msp.example"  # a tech of Contoso Dental only
PHONE = "called Priya back on 555-0100, the number on file"


def escalated_reset(rt: Runtime) -> int:
    ticket_id = add_ticket(
        rt, "contoso-dental", JAKE, "Reset Priya", "Please reset the password for Priya Raman."
    ).ticket_id
    Worker(rt, "test-worker").run_once()
    found = work.list_escalations(rt, work.EscalationFilter(ticket_id=ticket_id))
    return found[0].id


def open_count(html: str) -> int | None:
    found = re.search(r'id="open-escalations"[^>]*>(\d+)<', html)
    return int(found.group(1)) if found else None


def test_take_from_the_queue_and_the_count_in_the_navigation(
    web_rt: Runtime, app_client: TestClient
) -> None:
    escalation_id = escalated_reset(web_rt)
    csrf = sign_in(app_client, LEE)
    queue = app_client.get("/escalations")
    assert f'id="escalation-{escalation_id}"' in queue.text
    before = open_count(queue.text)
    assert before == work.count_open(web_rt, ["contoso-dental"])
    refused = app_client.post(f"/escalations/{escalation_id}/take", data={"back": "/escalations"})
    assert refused.status_code == 403
    taken = app_client.post(
        f"/escalations/{escalation_id}/take", data={"csrf": csrf, "back": "/escalations"}
    )
    assert taken.status_code == 200
    assert f"Escalation {escalation_id} is yours now." in taken.text
    mine = app_client.get("/escalations", params={"assignee": "me"}).text
    assert f'id="escalation-{escalation_id}"' in mine
    resolved = app_client.post(
        f"/escalations/{escalation_id}/resolve",
        data={"csrf": csrf, "resolution": "Reset by phone with Priya.", "back": "/escalations"},
    )
    assert open_count(resolved.text) == (before - 1 or None)
    assert f'id="escalation-{escalation_id}"' not in resolved.text
    closed_too = app_client.get("/escalations", params={"show": "all"}).text
    assert f'id="escalation-{escalation_id}"' in closed_too
    assert "Reset by phone with Priya." in closed_too


def test_the_filters_narrow_the_queue(web_rt: Runtime, app_client: TestClient) -> None:
    escalation_id = escalated_reset(web_rt)
    sign_in(app_client, "dana@msp.example")
    row = f'id="escalation-{escalation_id}"'
    assert row in app_client.get("/escalations", params={"reason": "identity_unverified"}).text
    assert row not in app_client.get("/escalations", params={"reason": "no_specialist"}).text
    assert row not in app_client.get("/escalations", params={"tenant": "northwind-law"}).text
    assert row in app_client.get("/escalations", params={"assignee": "nobody"}).text
    assert row not in app_client.get("/escalations", params={"age": "1d"}).text


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_ticket_page_shows_the_escalation_and_resumes_it(
    backend: str, request: pytest.FixtureRequest
) -> None:
    rt: Runtime = request.getfixturevalue("web_rt" if backend == "sqlite" else "pg_web_rt")
    escalation_id = escalated_reset(rt)
    ticket_id = work.show(rt, escalation_id, LEE).ticket_id
    with TestClient(create_app(rt), base_url="https://127.0.0.1") as client:
        csrf = sign_in(client, LEE)
        page = client.get(f"/tickets/{ticket_id}").text
        assert 'id="escalation"' in page
        assert "the requester could not be verified" in page
        assert f'action="/escalations/{escalation_id}/resume"' in page
        noted = client.post(
            f"/escalations/{escalation_id}/note",
            data={
                "csrf": csrf,
                "text": "Priya is at the front desk.",
                "back": f"/tickets/{ticket_id}",
            },
        )
        assert str(noted.url).endswith(f"/tickets/{ticket_id}")
        assert "Priya is at the front desk." in noted.text
        resumed = client.post(
            f"/escalations/{escalation_id}/resume",
            data={"csrf": csrf, "verification": PHONE, "back": f"/tickets/{ticket_id}"},
        )
        assert f"Ticket {ticket_id} is worked again" in resumed.text
        assert f'action="/escalations/{escalation_id}/resume"' not in resumed.text
        assert PHONE in resumed.text


def test_a_viewer_sees_the_queue_without_actions(web_rt: Runtime, app_client: TestClient) -> None:
    escalation_id = escalated_reset(web_rt)
    sign_in(app_client, "vic@msp.example")
    queue = app_client.get("/escalations").text
    assert f'id="escalation-{escalation_id}"' in queue
    assert f'action="/escalations/{escalation_id}/take"' not in queue


def test_a_form_never_sends_the_browser_off_the_site(
    web_rt: Runtime, app_client: TestClient
) -> None:
    escalation_id = escalated_reset(web_rt)
    csrf = sign_in(app_client, LEE)
    answer = app_client.post(
        f"/escalations/{escalation_id}/take",
        data={"csrf": csrf, "back": "//evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/escalations"
