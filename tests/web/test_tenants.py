"""The Tenants pages: each tenant's connector, approvers and open work, its leavers' and starters'
templates, and its policy with the effective decision for every action — within the user's
tenant scope only."""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from deskhand.actions import catalogue
from deskhand.demo import demo_policy
from deskhand.domain.decisions import Decision
from deskhand.domain.risks import APPROVAL_FLOOR, BlastRadius
from deskhand.engine.runtime import Runtime
from deskhand.policy.tenant_policy import Rule, TenantPolicy
from deskhand.store.models import Approval, Escalation, Tenant, Ticket
from deskhand.web.pages import tenants as tenants_page
from deskhand.web.pages.tenants import ConnectorStatus
from tests.policy.installed import action_decisions, decide
from tests.web.conftest import sign_in

POLICY = """\
# Contoso trusts deskhand with routine licence work. <script>alert("not run")</script>
blast_radius:
  read: auto
  internal: auto
  security: approve
  billing: forbid
  external_communication: approve
  destructive: approve
actions:
  m365.remove_license: forbid
  psa.add_internal_note: auto
approvers: [admin]
approval_expiry_hours: 8
"""

ROW = re.compile(
    r'<tr class="decision-row" data-action="([^"]+)" data-radius="([^"]+)">(.*?)</tr>', re.S
)


def _use_policy(rt: Runtime, tenant_id: str, path: Path) -> None:
    with rt.db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.policy_path = str(path)


def _tenant(rt: Runtime, tenant_id: str) -> Tenant:
    with rt.db.reading() as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        return tenant


def _table(page: str) -> dict[tuple[str, str], str]:
    """The policy table: (action, blast radius) → the row's HTML."""
    return {(action, radius): cells for action, radius, cells in ROW.findall(page)}


def _tenant_rows(page: str) -> list[str]:
    return re.findall(r'<tr id="tenant-([^"]+)">', page)


def test_an_all_tenant_user_sees_every_tenant_with_its_open_work_and_approvers(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    page = client.get("/tenants").text
    assert sorted(_tenant_rows(page)) == ["contoso-dental", "northwind-law"]
    shown = 0
    with web_rt.db.reading() as session:
        for tenant_id in ("contoso-dental", "northwind-law"):
            tickets = session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.tenant_id == tenant_id, Ticket.status != "resolved")
                .where(Ticket.status != "escalated")
            )
            drafts = session.scalar(
                select(func.count())
                .select_from(Approval)
                .where(Approval.tenant_id == tenant_id, Approval.status == "pending")
            )
            escalations = session.scalar(
                select(func.count())
                .select_from(Escalation)
                .where(Escalation.tenant_id == tenant_id, Escalation.status == "open")
            )
            row = page.split(f'<tr id="tenant-{tenant_id}">')[1].split("</tr>")[0]
            numbers = re.findall(r'<td class="num"><a href="[^"]+">(\d+)</a></td>', row)
            assert numbers == [str(tickets), str(drafts), str(escalations)]
            shown += sum(int(n) for n in numbers)
    assert shown, "the demo leaves tickets open and drafts pending: the counts are not all 0"
    contoso = page.split('<tr id="tenant-contoso-dental">')[1].split("</tr>")[0]
    # The built-in policy lets approvers and admins approve; lee (tech), vic (viewer) and riley
    # (approver of northwind-law only) may not approve contoso-dental's drafts.
    approvers = re.findall(r'title="([^"]+)"', contoso)
    assert "dana@msp.example" in approvers and "sam@msp.example" in approvers
    assert not {"lee@msp.example", "vic@msp.example", "riley@msp.example"} & set(approvers)
    northwind = page.split('<tr id="tenant-northwind-law">')[1].split("</tr>")[0]
    assert "riley@msp.example" in northwind


def test_the_approvers_follow_the_tenants_policy(
    signed_in: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, _ = signed_in
    policy = tmp_path / "contoso.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    _use_policy(web_rt, "contoso-dental", policy)
    page = client.get("/tenants").text
    contoso = page.split('<tr id="tenant-contoso-dental">')[1].split("</tr>")[0]
    assert re.findall(r'title="([^"]+)"', contoso) == ["sam@msp.example"]  # approvers: [admin]
    assert "contoso.yaml" in contoso


@pytest.mark.parametrize(
    ("email", "visible", "hidden"),
    [
        ("lee@msp.example", "contoso-dental", "northwind-law"),
        ("vic@msp.example", "contoso-dental", "northwind-law"),
        ("riley@msp.example", "northwind-law", "contoso-dental"),
    ],
)
def test_a_scoped_user_sees_only_their_tenants_and_others_answer_like_missing_ones(
    app_client: TestClient, email: str, visible: str, hidden: str
) -> None:
    sign_in(app_client, email)
    page = app_client.get("/tenants").text
    assert _tenant_rows(page) == [visible]
    assert hidden not in page
    assert app_client.get(f"/tenants/{visible}").status_code == 200
    assert app_client.get(f"/tenants/{visible}/connector").status_code == 200
    for path in (f"/tenants/{hidden}", f"/tenants/{hidden}/connector"):
        response = app_client.get(path)
        assert response.status_code == 404
        assert "There is no tenant" in response.text
    missing = app_client.get("/tenants/no-such-tenant")
    assert missing.status_code == 404
    assert (
        missing.text.replace("no-such-tenant", hidden) == app_client.get(f"/tenants/{hidden}").text
    )


def test_the_pages_need_a_session(app_client: TestClient) -> None:
    for path in ("/tenants", "/tenants/contoso-dental", "/tenants/contoso-dental/connector"):
        response = app_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_every_action_shows_the_decision_deskhand_would_make(
    signed_in: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, _ = signed_in
    path = tmp_path / "contoso.yaml"
    path.write_text(POLICY, encoding="utf-8")
    _use_policy(web_rt, "contoso-dental", path)
    policy = web_rt.policy(_tenant(web_rt, "contoso-dental"))
    table = _table(client.get("/tenants/contoso-dental").text)
    expected = {(name, spec.radius.value) for name, spec in catalogue().items()} | {
        (name, spec.privileged_radius.value)
        for name, spec in catalogue().items()
        if spec.privileged_radius is not None
    }
    assert set(table) == expected
    for (action, radius), cells in table.items():
        decision, _ = decide(policy, action, BlastRadius(radius))
        assert f'<strong class="effective decision-{decision}">{decision}</strong>' in cells, (
            action,
            radius,
        )
    # The file's rules show through: forbid by action and by radius, auto for internal work.
    assert "decision-forbid" in table[("m365.remove_license", "destructive")]
    assert "decision-forbid" in table[("m365.add_license_seats", "billing")]
    assert "decision-auto" in table[("m365.assign_license", "internal")]
    assert "line 10" in table[("m365.remove_license", "destructive")]
    # A group change is internal, but security when the group is privileged: never auto.
    assert "decision-auto" in table[("m365.add_group_member", "internal")]
    privileged = table[("m365.add_group_member", "security")]
    assert "decision-approve" in privileged and "when the group is privileged" in privileged
    assert "admin" in privileged  # who may approve


def test_the_floor_is_shown_beside_each_action(
    signed_in: tuple[TestClient, str],
) -> None:
    client, _ = signed_in
    page = client.get("/tenants/northwind-law").text
    assert "built-in policy" in page
    for (_, radius), cells in _table(page).items():
        floor = re.search(r'<td class="floor">(.*?)</td>', cells)
        assert floor is not None
        if BlastRadius(radius) in APPROVAL_FLOOR:
            assert floor.group(1) == "never auto"
            assert "decision-auto" not in cells
        else:
            assert "never auto" not in floor.group(1)


def test_a_setting_the_floor_overrides_is_explained() -> None:
    # A policy made without its checks (as an old database row might be): decide() still
    # holds the floor, and the table says so.
    policy = TenantPolicy.model_construct(
        source="old.yaml",
        blast_radius={BlastRadius.SECURITY: Rule(decision=Decision.AUTO, line=3)},
        actions={},
        approvers=frozenset({"approver"}),
        approval_expiry_hours=24.0,
    )
    rows = {(d.action, d.radius): d for d in action_decisions(policy)}
    reset = rows[("m365.reset_password", BlastRadius.SECURITY)]
    assert reset.setting is Decision.AUTO and reset.decision is Decision.APPROVE
    assert reset.raised_by_floor
    assert reset.explanation.startswith("raised to approve by the safety floor")
    note = rows[("psa.add_internal_note", BlastRadius.INTERNAL)]
    assert note.rule == "no rule" and note.decision is Decision.APPROVE
    assert not note.raised_by_floor


def test_the_policy_file_is_shown_as_stored_escaped_with_its_path(
    signed_in: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, _ = signed_in
    path = tmp_path / "contoso.yaml"
    path.write_text(POLICY, encoding="utf-8")
    _use_policy(web_rt, "contoso-dental", path)
    page = client.get("/tenants/contoso-dental").text
    assert str(path) in page
    assert '<script>alert("not run")</script>' not in page
    shown = re.search(r'<pre class="yaml">(.*?)</pre>', page, re.S)
    assert shown is not None and html.unescape(shown.group(1)) == POLICY
    builtin = client.get("/tenants/northwind-law").text
    assert "default_policy.yaml" in builtin
    assert "approval_expiry_hours: 24" in builtin


def test_a_policy_file_that_no_longer_loads_is_reported_not_a_crash(
    signed_in: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, _ = signed_in
    path = tmp_path / "contoso.yaml"
    path.write_text(POLICY, encoding="utf-8")
    _use_policy(web_rt, "contoso-dental", path)
    path.write_text(POLICY.replace("security: approve", "security: auto"), encoding="utf-8")
    page = client.get("/tenants/contoso-dental")
    assert page.status_code == 200
    assert "This policy cannot be loaded" in page.text
    assert "line 5" in page.text and "security: auto" in page.text
    listing = client.get("/tenants")
    assert listing.status_code == 200 and "cannot be loaded" in listing.text


def test_the_connector_status_says_sandbox_and_what_it_reached(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    page = client.get("/tenants").text
    assert 'hx-get="/tenants/contoso-dental/connector" hx-trigger="load"' in page
    status = client.get("/tenants/contoso-dental/connector").text
    connectors = web_rt.connectors(_tenant(web_rt, "contoso-dental"))
    users, contacts = len(connectors.m365.list_users()), len(connectors.psa.contacts())
    assert users > 1
    assert "sandbox" in status
    assert f"reachable, {users} users, {contacts} PSA contact" in status


def test_a_failing_connector_is_shown_and_the_page_still_works(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    with web_rt.db.session() as session:
        tenant = session.get(Tenant, "northwind-law")
        assert tenant is not None
        tenant.connector = "syncro"
    assert client.get("/tenants").status_code == 200
    assert client.get("/tenants/northwind-law").status_code == 200
    status = client.get("/tenants/northwind-law/connector").text
    assert "connector-failed" in status and "real" in status
    assert "uses the connector &#39;syncro&#39;, which this deskhand does not have" in status


def test_a_connector_that_does_not_answer_is_given_up_on(
    signed_in: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = signed_in
    release = threading.Event()

    def hangs(rt: Runtime, tenant: Tenant) -> ConnectorStatus:
        release.wait()
        return ConnectorStatus(tenant.connector, "ok", "answered after all")

    monkeypatch.setattr(tenants_page, "_probe", hangs)
    monkeypatch.setattr(tenants_page, "CHECK_SECONDS", 0.05)
    try:
        status = client.get("/tenants/contoso-dental/connector")
    finally:
        release.set()
    assert status.status_code == 200
    assert "connector-slow" in status.text
    assert "no answer within 0.05 s" in status.text


def test_the_tenant_page_says_what_time_the_policy_logs(
    signed_in: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, _ = signed_in
    assert "No technician time is logged" in client.get("/tenants/contoso-dental").text
    policy = tmp_path / "contoso.yaml"
    policy.write_text(
        "approvers: [approver]\napproval_expiry_hours: 24\n"
        "time_entries:\n  billable: true\n  minutes:\n    password_reset: 10\n"
        "    access_change: 15\n",
        encoding="utf-8",
    )
    _use_policy(web_rt, "contoso-dental", policy)
    page = client.get("/tenants/contoso-dental").text
    said = page.split('<p class="time-entries">')[1].split("</p>")[0]
    assert "psa.log_time; billable)" in said and "not billable" not in said
    assert "access change 15 min, password reset 10 min." in said


def test_the_tenant_page_shows_a_leaver_s_offboarding_the_roles_and_the_vendor_checklist(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    _use_policy(web_rt, "contoso-dental", Path(demo_policy("contoso-dental") or ""))

    page = client.get("/tenants/contoso-dental").text
    section = page.split('<section class="lifecycle" id="lifecycle">')[1].split("</section>")[0]
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())

    assert "Time zone Europe/London" in text
    assert "run at 17:00 (Europe/London) on that day" in text
    steps = re.findall(r'<li data-action="([^"]+)">', section)
    assert steps[:2] == ["ad.disable_account", "m365.revoke_sessions"]
    assert steps.index("exchange.convert_to_shared_mailbox") < steps.index(
        "m365.remove_all_licences"
    )
    assert steps[-2:] == ["psa.add_internal_note", "psa.send_reply"]
    assert steps.count("vendor.checklist_item") == 2
    assert "synced from AD only Move the account to OU=Disabled Users,DC=contosodental" in text
    assert "{name} has left Contoso Dental." in text
    assert "Front Desk Licences: Microsoft 365 Business Basic · Groups: Front Desk, " in text
    assert "Dentrix Leaver: Dentrix → Office Manager" in text
    assert "Starter: Before the first day: distributor portal" in text
    assert "Not done here" not in text
    # the section comes before the policy's decision table
    assert page.index('id="lifecycle"') < page.index('class="striped decisions"')


def test_a_tenant_on_the_built_in_policy_shows_the_default_offboarding_and_what_it_leaves_out(
    signed_in: tuple[TestClient, str],
) -> None:
    client, _ = signed_in

    page = client.get("/tenants/northwind-law").text
    section = page.split('id="lifecycle"')[1].split("</section>")[0]
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())

    assert "Time zone UTC" in text
    assert "Not done here: No automatic reply is set (no auto_reply)." in text
    assert "No starter roles" in text and "None: the policy has no vendor_checklist" in text
    assert "Usage location: none (no usage_location)" in text


def test_the_tenant_page_says_how_long_licences_stay_and_the_starters_usage_location(
    signed_in: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, _ = signed_in
    policy = tmp_path / "keeping.yaml"
    policy.write_text(
        "approvers: [approver]\napproval_expiry_hours: 24\nlifecycle:\n"
        "  offboarding:\n    keep_licences_days: 30\n  usage_location: GB\n",
        encoding="utf-8",
    )
    _use_policy(web_rt, "contoso-dental", policy)

    page = client.get("/tenants/contoso-dental").text
    section = page.split('id="lifecycle"')[1].split("</section>")[0]
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())

    assert "m365.remove_all_licences" not in section
    assert "The licences stay 30 days after the last day; a technician removes them then" in text
    assert "Usage location: GB, given to each starter (for one created in Active" in text


def test_a_policy_that_no_longer_loads_shows_no_lifecycle_section(
    signed_in: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, _ = signed_in
    path = tmp_path / "contoso.yaml"
    path.write_text("approvers: [approver]\napproval_expiry_hours: 24\nlifecycle: [1]\n")
    _use_policy(web_rt, "contoso-dental", path)

    page = client.get("/tenants/contoso-dental")

    assert page.status_code == 200
    assert "This policy cannot be loaded" in page.text
    assert 'id="lifecycle"' not in page.text
