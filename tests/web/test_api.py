"""The JSON API with an API token: drafts decided, a stale mention held back, the temporary
password shown once, and errors a person can act on."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from deskhand.accounts import create_token
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Tenant, User
from deskhand.web.app import create_app
from tests.web.conftest import sign_in


def token_for(rt: Runtime, email: str) -> str:
    with rt.db.session() as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        return create_token(session, user, "tests")


@pytest.fixture
def api(web_rt: Runtime) -> Iterator[TestClient]:
    """A client calling /api/v1 as dana (approver of every tenant) with a token."""
    headers = {"Authorization": f"Bearer {token_for(web_rt, 'dana@msp.example')}"}
    with TestClient(
        create_app(web_rt), base_url="https://127.0.0.1/api/v1", headers=headers
    ) as client:
        yield client


def test_a_token_lists_and_decides_drafts(api: TestClient, web_rt: Runtime) -> None:
    assert api.get("/me").json()["email"] == "dana@msp.example"
    pending = api.get("/drafts").json()
    assert {d["id"] for d in pending} >= {1, 2, 3, 4, 5}
    approved = api.post("/drafts/1/approve").json()
    assert approved["status"] == "approved" and len(approved["payload_hash"]) == 64
    rejected = api.post("/drafts/6/reject", json={"reason": "the client has a seat free"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    again = api.post("/drafts/1/approve")
    assert again.status_code == 409
    assert again.json()["error"] == "Draft 1 is approved; only pending drafts can be decided."


def test_an_edit_is_replanned_and_a_stale_mention_needs_an_acknowledgement(
    api: TestClient, web_rt: Runtime
) -> None:
    with web_rt.db.reading() as session:
        tenant = session.get(Tenant, "contoso-dental")
    assert tenant is not None
    front_desk = web_rt.connectors(tenant).m365.get_group("Front Desk")
    approved = api.post("/drafts/4/approve", json={"edit": {"group_id": front_desk.id}})
    assert approved.status_code == 200, approved.text
    assert approved.json()["changes"]["group_name"] == ["Finance Share", "Front Desk"]
    reply = api.get("/drafts/5").json()
    assert reply["replanned_by"] == 4 and reply["stale"] == []
    assert "Front Desk" in reply["proposed_params"]["body"]
    body = reply["proposed_params"]["body"] + "\nFinance Share was what you asked for."
    refused = api.post("/drafts/5/approve", json={"edit": {"body": body}})
    assert refused.status_code == 409
    assert "body still says “Finance Share”" in refused.json()["error"]
    assert "acknowledge_stale" in refused.json()["hint"]
    kept = api.post("/drafts/5/approve", json={"edit": {"body": body}, "acknowledge_stale": True})
    assert kept.status_code == 200 and kept.json()["changes"]["body"][1] == body


def test_a_reset_cannot_be_retargeted_to_an_admin_through_the_api(
    api: TestClient, web_rt: Runtime
) -> None:
    with web_rt.db.reading() as session:
        tenant = session.get(Tenant, "contoso-dental")
    assert tenant is not None
    admin = web_rt.connectors(tenant).m365.get_user("it.admin@contosodental.example")
    assert api.get("/drafts/1").json()["action"] == "m365.reset_password"
    refused = api.post("/drafts/1/approve", json={"edit": {"user_id": admin.id}})
    assert refused.status_code == 409
    assert "not verified for it.admin@contosodental.example" in refused.json()["error"]
    assert api.get("/drafts/1").json()["status"] == "pending"
    privileged = web_rt.connectors(tenant).m365.get_group("Domain Admins")
    raised = api.post("/drafts/4/approve", json={"edit": {"group_id": privileged.id}})
    assert raised.status_code == 409
    assert '"approve_as": "security"' in raised.json()["hint"]
    accepted = api.post(
        "/drafts/4/approve",
        json={
            "edit": {"group_id": privileged.id},
            "approve_as": "security",
            "verification": "called back 555-0142 on file",
        },
    )
    assert accepted.status_code == 200 and accepted.json()["blast_radius"] == "security"


def test_the_temporary_password_is_shown_once(api: TestClient, web_rt: Runtime) -> None:
    for draft_id in (1, 2, 3):
        assert api.post(f"/drafts/{draft_id}/approve").status_code == 200
    Worker(web_rt, "w").run_once()
    assert api.get("/drafts/1").json()["step_status"] == "verified"
    shown = api.post("/drafts/1/secret")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert len(shown.json()["secret"]) >= 12
    again = api.post("/drafts/1/secret")
    assert again.status_code == 409
    assert "already shown and erased" in again.json()["error"]
    assert api.post("/drafts/4/secret").status_code == 409  # not a verified reset


def test_a_tech_token_cannot_see_secrets_or_other_tenants(web_rt: Runtime, api: TestClient) -> None:
    for draft_id in (1, 2, 3):
        api.post(f"/drafts/{draft_id}/approve")
    Worker(web_rt, "w").run_once()
    headers = {"Authorization": f"Bearer {token_for(web_rt, 'lee@msp.example')}"}
    with TestClient(create_app(web_rt), base_url="https://127.0.0.1/api/v1") as client:
        refused = client.post("/drafts/1/secret", headers=headers)
        assert refused.status_code == 403 and "may not see secrets" in refused.json()["error"]
        riley = {"Authorization": f"Bearer {token_for(web_rt, 'riley@msp.example')}"}
        hidden = client.post("/drafts/1/secret", headers=riley)
        assert hidden.status_code == 404 and hidden.json()["error"] == "There is no draft 1."
    assert len(api.post("/drafts/1/secret").json()["secret"]) >= 12  # still there, unseen


def test_the_ticket_page_reveals_the_password_once(
    app_client: TestClient, web_rt: Runtime, api: TestClient
) -> None:
    for draft_id in (1, 2, 3):
        api.post(f"/drafts/{draft_id}/approve")
    Worker(web_rt, "w").run_once()
    csrf = sign_in(app_client, "dana@msp.example")
    ticket = app_client.get("/tickets/1").text
    assert "Show the temporary password (once)" in ticket
    assert app_client.post("/drafts/1/secret").status_code == 403  # no CSRF token
    shown = app_client.post(
        "/drafts/1/secret", headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    )
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert re.search(r'<code class="password">[^<]{12,}</code>', shown.text)
    after = app_client.get("/tickets/1").text
    assert "Show the temporary password" not in after
    assert "its temporary secret was shown to dana@msp.example, then erased" in after


def test_a_security_draft_needs_the_verification_in_the_body(
    api: TestClient, web_rt: Runtime
) -> None:
    ticket = add_ticket(
        web_rt,
        "contoso-dental",
        "lisa.chen@contosodental.example",
        "Password",
        "Please reset my password. Do it now, keep this between us, don't call me.",
    ).ticket_id
    Worker(web_rt, "w").run_once()
    reset = next(
        d for d in api.get("/drafts").json()
        if d["ticket_id"] == ticket and d["action"] == "m365.reset_password"
    )  # fmt: skip
    assert reset["verify_first"] is True
    refused = api.post(f"/drafts/{reset['id']}/approve")
    assert refused.status_code == 409
    assert "Call back the number on file" in refused.json()["hint"]
    done = api.post(
        f"/drafts/{reset['id']}/approve", json={"verification": "called back 555-0142 on file"}
    )
    assert done.status_code == 200 and done.json()["status"] == "approved"
