"""`deskhand tenants doctor` for Graph: the token, each application permission deskhand needs,
and the clock, with fixes in the words of the Entra admin center."""

from __future__ import annotations

from datetime import timedelta

from deskhand.connectors.graph import GraphM365
from tests.connectors.graph.conftest import Tenant, Waits, client_for
from tests.connectors.graph.standin import GraphStandIn


def test_everything_granted_is_all_ok(m365: GraphM365) -> None:
    findings = m365.doctor()

    assert [(f.check, f.outcome) for f in findings] == [
        ("token", "ok"),
        ("permission User.ReadWrite.All", "ok"),
        ("permission Group.ReadWrite.All", "ok"),
        ("permission User-PasswordProfile.ReadWrite.All", "ok"),
        ("permission Directory.Read.All", "ok"),
        ("permission Organization.Read.All", "ok"),
        ("permission MailboxSettings.Read", "ok"),
        ("permission MailboxSettings.ReadWrite", "ok"),
        ("permission Files.ReadWrite.All", "ok"),
        ("permission UserAuthenticationMethod.ReadWrite.All", "ok"),
        ("clock skew", "ok"),
    ]


def test_a_permission_only_a_leavers_steps_need_is_a_warning_naming_those_steps(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    graph.roles -= {"UserAuthenticationMethod.ReadWrite.All", "Files.ReadWrite.All"}
    graph.roles.add("Sites.ReadWrite.All")

    findings = {f.check: f for f in client_for(graph, waits).doctor()}

    methods = findings["permission UserAuthenticationMethod.ReadWrite.All"]
    assert (methods.outcome, methods.detail) == (
        "warn",
        "not granted: deskhand cannot remove MFA methods for this tenant",
    )
    assert methods.fix is not None and "UserAuthenticationMethod.ReadWrite.All" in methods.fix
    assert findings["permission Files.ReadWrite.All"].outcome == "ok"  # Sites.ReadWrite.All does


def test_a_permission_missing_from_the_tokens_roles_fails_with_how_to_grant_it(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    graph.roles.discard("User-PasswordProfile.ReadWrite.All")

    findings = {f.check: f for f in client_for(graph, waits).doctor()}

    missing = findings["permission User-PasswordProfile.ReadWrite.All"]
    assert missing.outcome == "fail"
    assert missing.fix == (
        "Entra admin center → App registrations → deskhand-contoso → API permissions → Add a "
        "permission → Microsoft Graph → Application permissions → "
        "User-PasswordProfile.ReadWrite.All, then Grant admin consent"
    )
    assert findings["permission User.ReadWrite.All"].outcome == "ok"


def test_group_member_read_write_covers_group_membership(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    graph.roles.discard("Group.ReadWrite.All")
    graph.roles.add("GroupMember.ReadWrite.All")

    findings = {f.check: f for f in client_for(graph, waits).doctor()}

    assert findings["permission Group.ReadWrite.All"].outcome == "ok"
    assert "GroupMember.ReadWrite.All" in findings["permission Group.ReadWrite.All"].detail


def test_mailbox_settings_missing_fails_and_read_write_covers_it(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    graph.roles -= {"MailboxSettings.Read", "MailboxSettings.ReadWrite"}

    missing = {f.check: f for f in client_for(graph, waits).doctor()}
    graph.roles.add("MailboxSettings.ReadWrite")
    covered = {f.check: f for f in client_for(graph, waits).doctor()}

    assert missing["permission MailboxSettings.Read"].outcome == "fail"
    assert "Application permissions → MailboxSettings.Read, then Grant admin consent" in (
        missing["permission MailboxSettings.Read"].fix or ""
    )
    assert covered["permission MailboxSettings.Read"].outcome == "ok"


def test_a_wrong_secret_is_one_failed_token_finding(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    findings = client_for(graph, waits, secret="expired").doctor()

    assert [(f.check, f.outcome) for f in findings] == [("token", "fail")]
    assert "AADSTS7000215" in findings[0].detail
    assert findings[0].fix is not None
    assert findings[0].fix.startswith("the client secret is wrong or expired: Entra admin center")


def test_a_clock_ten_minutes_off_is_a_warning(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    graph.date_skew = timedelta(minutes=-10)

    skew = client_for(graph, waits).doctor()[-1]

    assert (skew.check, skew.outcome) == ("clock skew", "warn")
    assert "ahead of Graph's" in skew.detail
    assert skew.fix is not None and "NTP" in skew.fix
