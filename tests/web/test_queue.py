"""Signing in, the approval queue and deciding drafts through the pages."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from tests.web.conftest import PASSWORD, sign_in


def test_pages_need_a_session_and_sign_in_returns_to_the_page(app_client: TestClient) -> None:
    response = app_client.get("/queue", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/queue"
    page = app_client.post(
        "/login", data={"email": "dana@msp.example", "password": PASSWORD, "next": "/tickets"}
    )
    assert page.url.path == "/tickets"
    cookie = page.history[0].headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie


def test_sign_in_keeps_a_place_on_the_page_but_nothing_else_after_the_hash(
    app_client: TestClient,
) -> None:
    def lands(target: str) -> str:
        response = app_client.post(
            "/login",
            data={"email": "dana@msp.example", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        app_client.cookies.clear()
        return str(response.headers["location"])

    assert lands("/plans?tenant=northwind-law#plan-6") == "/plans?tenant=northwind-law#plan-6"
    assert lands('/plans#x"><script>') == "/plans"
    assert lands("//evil.example/#plan-6") == "/queue"


def test_a_wrong_password_says_so_without_saying_which(app_client: TestClient) -> None:
    for email in ("dana@msp.example", "nobody@msp.example"):
        response = app_client.post("/login", data={"email": email, "password": "nope" * 4})
        assert response.status_code == 401
        assert "Wrong e-mail address or password." in response.text


def test_guessing_is_slowed_down(app_client: TestClient) -> None:
    for _ in range(5):
        app_client.post("/login", data={"email": "dana@msp.example", "password": "x" * 12})
    response = app_client.post("/login", data={"email": "dana@msp.example", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins. Try again in" in response.text


def test_the_queue_shows_drafts_riskiest_first_with_what_the_approver_needs(
    signed_in: tuple[TestClient, str],
) -> None:
    client, _ = signed_in
    page = client.get("/queue").text
    radii = re.findall(r'<article class="draft radius-([a-z_]+)"', page)
    order = ["destructive", "security", "billing", "external_communication", "internal", "read"]
    assert radii == sorted(radii, key=order.index)
    assert "Reset the Microsoft 365 password of lisa.chen@contosodental.example" in page
    assert "Requester <strong>lisa.chen@contosodental.example</strong>: target" in page
    assert "Undo: cannot be undone" in page


def test_approve_and_reject_in_place_with_the_csrf_header(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    no_token = client.post("/drafts/1/approve", headers={"HX-Request": "true"})
    assert no_token.status_code == 403
    approved = client.post(
        "/drafts/1/approve", headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    )
    assert approved.status_code == 200
    assert "#1 approved" in approved.text and "Bound to sha256" in approved.text
    rejected = client.post(
        "/drafts/2/reject",
        data={"reason": "call Lisa first"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert "#2 rejected" in rejected.text and "call Lisa first" in rejected.text
    Worker(web_rt, "w").run_once()
    assert "approval_rejected" in client.get("/escalations").text


def test_an_edit_runs_and_the_diff_is_shown(signed_in: tuple[TestClient, str]) -> None:
    client, csrf = signed_in
    form = client.get("/drafts/4/edit").text
    assert 'name="group_id"' in form and "Front Desk" in form
    front_desk = re.search(r'<option value="([^"]+)">Front Desk</option>', form)
    assert front_desk
    data = {"csrf": csrf, "edited": "1", "group_id": front_desk.group(1)}
    diff = client.post("/drafts/4/diff", data=data).text
    assert "<del>Finance Share</del>" in diff and "<ins>Front Desk</ins>" in diff
    heads = re.findall(r'<th scope="row">(.*?)</th>', diff)
    assert heads == ['group <small class="muted">(directory id)</small>', "group"]
    done = client.post("/drafts/4/approve", data=data)
    assert "approved with your edit of the group" in done.text


def test_an_edit_replans_the_reply_and_a_stale_mention_brought_back_is_held_back(
    signed_in: tuple[TestClient, str],
) -> None:
    client, csrf = signed_in
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    form = client.get("/drafts/4/edit").text
    assert 'name="group_name"' not in form  # names come from the directory, not the form
    front_desk = re.search(r'<option value="([^"]+)">Front Desk</option>', form)
    assert front_desk
    client.post("/drafts/4/approve", data={"csrf": csrf, "edited": "1", "group_id": front_desk[1]})
    card = client.get("/queue").text.split('id="draft-5"')[1].split("</article>")[0]
    assert "Planned again" in card and 'href="#draft-4"' in card
    params = card.split('aria-label="What will run"')[1].split("</table>")[0]
    assert "added to: Front Desk" in params and "Finance Share" not in params
    assert "Does not follow an earlier edit." not in card and 'data-key="a"' in card

    edit = client.get("/drafts/5/edit").text
    body = re.search(r'<textarea name="body"[^>]*>([^<]*)</textarea>', edit)
    assert body and "added to: Front Desk" in body[1]
    written = html.unescape(body[1]) + " (Finance Share was asked for.)"
    refused = client.post("/drafts/5/approve", data={"csrf": csrf, "edited": "1", "body": written})
    assert refused.status_code == 409  # the edit form again, saying why
    assert "still says “Finance Share”" in refused.text and 'class="error"' in refused.text
    card = client.get("/queue").text.split('id="draft-5"')[1].split("</article>")[0]
    assert "Approve" in card  # still pending, still decidable

    kept = client.post(
        "/drafts/5/approve",
        data={"csrf": csrf, "edited": "1", "body": written, "acknowledge_stale": "1"},
        headers=hx,
    )
    assert kept.status_code == 200 and "#5 approved" in kept.text


def test_deciding_a_draft_decided_elsewhere_shows_how_it_was_decided(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    approvals.approve(web_rt, 1, "sam@msp.example")
    again = client.post("/drafts/1/approve", headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert again.status_code == 409
    assert "#1 approved</strong> by sam@msp.example" in again.text
    assert "only pending drafts can be decided" in again.text
    gone = client.post(
        "/drafts/1/reject",
        data={"reason": "too late"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert gone.status_code == 409 and 'class="draft decided approved"' in gone.text


def test_a_tech_scoped_to_one_tenant_sees_nothing_of_another(
    app_client: TestClient, web_rt: Runtime
) -> None:
    sign_in(app_client, "riley@msp.example")  # approver of northwind-law only
    assert "Nothing waiting for approval." in app_client.get("/queue").text
    assert app_client.get("/tickets/1").status_code == 404
    assert app_client.get("/drafts/1/edit").status_code == 404
    csrf = sign_in(app_client, "riley@msp.example")
    refused = app_client.post("/drafts/1/approve", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 404


def test_hostile_ticket_text_is_shown_as_text(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:

    add_ticket(
        web_rt,
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        '<script>alert("x")</script> Reset',
        'Please reset the password for Tom Becker. <img src=x onerror="alert(1)">',
    )
    Worker(web_rt, "w").run_once()
    client, _ = signed_in
    page = client.get("/queue").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page
    assert '<img src=x onerror="alert(1)">' not in page


def test_a_security_draft_asks_how_the_requester_was_verified(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = signed_in
    add_ticket(
        web_rt,
        "contoso-dental",
        "lisa.chen@contosodental.example",
        "Password",
        "I forgot my password, please reset it. Urgent, do it now and don't call me.",
    )
    Worker(web_rt, "w").run_once()
    reset = next(
        d
        for d in approvals.list_drafts(web_rt, None)
        if d.action == "m365.reset_password" and d.requester_check["verdict"] != "target"
    )
    card = client.get("/queue").text.split(f'id="draft-{reset.id}"')[1].split("</article>")[0]
    assert "Verify the requester before approving." in card
    assert f'hx-include="#verify-{reset.id}"' in card and 'name="verification"' in card
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    refused = client.post(f"/drafts/{reset.id}/approve", headers=hx)
    assert refused.status_code == 409 and "verify the requester before approving" in refused.text
    assert 'name="verification"' in refused.text  # the card is back, still decidable
    done = client.post(
        f"/drafts/{reset.id}/approve",
        data={"verification": "called back 555-0142 on file"},
        headers=hx,
    )
    assert done.status_code == 200 and f"#{reset.id} approved" in done.text


def test_an_edit_to_a_privileged_group_asks_for_the_new_class_in_the_form(
    signed_in: tuple[TestClient, str],
) -> None:
    client, csrf = signed_in
    form = client.get("/drafts/4/edit").text
    admins = re.search(r'<option value="([^"]+)">Domain Admins</option>', form)
    assert admins
    data = {"csrf": csrf, "edited": "1", "group_id": admins[1]}
    refused = client.post("/drafts/4/approve", data=data)
    assert refused.status_code == 409
    assert "makes step 1 SECURITY: Domain Admins is a privileged group" in refused.text
    assert 'name="approve_as" value="security"' in refused.text
    assert 'name="verification"' in refused.text
    assert f'<option value="{admins[1]}" selected>Domain Admins</option>' in refused.text
    done = client.post(
        "/drafts/4/approve",
        data={**data, "approve_as": "security", "verification": "called back 555-0142 on file"},
    )
    assert done.status_code == 200 and "approved with your edit of the group" in done.text
