"""A leaver's and a starter's Microsoft 365 steps on a tenant whose Microsoft 365 is the Graph
client, as the executor runs them, where Graph shows more than the sandbox could: the exact
requests each step sends (every body also passes the stand-in's schema check). Each action
runs on both the sandbox and Graph in tests/connectors/contract/test_m365_lifecycle.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deskhand.actions import action
from deskhand.actions.contract import Baseline
from deskhand.connectors.graph import GraphM365
from tests.actions.test_m365_on_graph import connectors
from tests.connectors.graph.conftest import Tenant
from tests.connectors.graph.standin import LIFECYCLE_ROLES, GraphStandIn


@pytest.fixture(autouse=True)
def lifecycle_roles(graph: GraphStandIn) -> None:
    graph.roles |= LIFECYCLE_ROLES


def run(name: str, params: dict[str, Any], m365: GraphM365, tmp_path: Path) -> Any:
    """Snapshot, act and a check that is done, as the executor runs a step; what acting said."""
    c = connectors(m365, tmp_path)
    operation = action(name)
    valid = operation.validate(params)
    baseline = Baseline(datetime.now(UTC) - timedelta(seconds=1), operation.snapshot(valid, c))
    acted = operation.act(valid, c, "key-1", operation.secret())
    assert operation.check(valid, c, "key-1", baseline).done
    return acted


def sent(graph: GraphStandIn, endpoint: str) -> list[Any]:
    return [body for name, body in graph.bodies if name == endpoint]


def changes(graph: GraphStandIn) -> list[str]:
    """Every request that changes something: its method and path."""
    return [
        line.split("?")[0]
        for line in graph.received
        if line.startswith(("POST /v1.0", "PATCH /v1.0", "PUT /v1.0", "DELETE /v1.0"))
    ]


def bob_to_dan(tenant: Tenant) -> dict[str, str]:
    return {
        "user_id": tenant.bob,
        "user_principal_name": "bob@contoso.com",
        "delegate_id": tenant.dan,
        "delegate_principal_name": "dan@contoso.com",
    }


def test_mail_is_forwarded_by_one_inbox_rule_to_the_colleagues_address(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    run("m365.forward_mail", bob_to_dan(tenant), m365, tmp_path)
    run("m365.forward_mail", bob_to_dan(tenant), m365, tmp_path)  # again: no second rule

    assert sent(graph, "add_message_rule") == [
        {
            "displayName": "deskhand: forward to dan@contoso.com",
            "sequence": 1,
            "isEnabled": True,
            "actions": {
                "forwardTo": [{"emailAddress": {"address": "dan@contoso.com"}}],
                "stopProcessingRules": False,
            },
        }
    ]


def test_onedrive_is_shared_by_an_invite_that_sends_no_mail(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    run("m365.grant_onedrive_access", bob_to_dan(tenant), m365, tmp_path)

    assert changes(graph) == [f"POST /v1.0/users/{tenant.bob}/drive/root/invite"]
    assert sent(graph, "drive_invite") == [
        {
            "recipients": [{"objectId": tenant.dan}],
            "roles": ["write"],
            "requireSignIn": True,
            "sendInvitation": False,
        }
    ]


def test_the_automatic_reply_is_one_patch_of_mailbox_settings_for_everyone(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    params = {
        "user_id": tenant.bob,
        "user_principal_name": "bob@contoso.com",
        "message": "Bob has left. Please write to dan@contoso.com.",
    }

    run("m365.set_auto_reply", params, m365, tmp_path)

    assert sent(graph, "patch_mailbox_settings") == [
        {
            "automaticRepliesSetting": {
                "status": "alwaysEnabled",
                "externalAudience": "all",
                "internalReplyMessage": "Bob has left. Please write to dan@contoso.com.",
                "externalReplyMessage": "Bob has left. Please write to dan@contoso.com.",
            }
        }
    ]


def test_each_mfa_method_is_deleted_at_its_own_kinds_endpoint_and_the_phone_last(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    phone = graph.add_auth_method(tenant.bob, "phoneAuthenticationMethod", phoneNumber="+1 555")
    app = graph.add_auth_method(
        tenant.bob, "microsoftAuthenticatorAuthenticationMethod", displayName="iPhone"
    )
    key = graph.add_auth_method(tenant.bob, "fido2AuthenticationMethod", displayName="YubiKey")

    acted = run(
        "m365.remove_mfa_methods",
        {"user_id": tenant.bob, "user_principal_name": "b"},
        m365,
        tmp_path,
    )

    base = f"DELETE /v1.0/users/{tenant.bob}/authentication"
    assert changes(graph) == [
        f"{base}/microsoftAuthenticatorMethods/{app}",
        f"{base}/fido2Methods/{key}",
        f"{base}/phoneMethods/{phone}",
    ]
    # The password is never among what it tries to remove.
    assert acted.result == {
        "removed": [
            "microsoftAuthenticatorAuthenticationMethod",
            "fido2AuthenticationMethod",
            "phoneAuthenticationMethod",
        ],
        "refused": [],
    }


def test_a_new_user_is_one_post_with_the_temporary_password_kept_out_of_the_record(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    params = {
        "display_name": "Fay Starter",
        "user_principal_name": "fay@contoso.com",
        "mail_nickname": "fay",
        "department": "Sales",
        "usage_location": "gb",
    }

    acted = run("m365.create_user", params, m365, tmp_path)

    [body] = sent(graph, "create_user")
    password = body["passwordProfile"]["password"]
    assert body == {
        "accountEnabled": True,
        "displayName": "Fay Starter",
        "mailNickname": "fay",
        "userPrincipalName": "fay@contoso.com",
        "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": True},
        "department": "Sales",
        "usageLocation": "GB",
    }
    assert password not in str(acted.result)


def test_a_profile_is_one_patch_and_the_manager_one_reference(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    params = {
        "user_id": tenant.bob,
        "user_principal_name": "bob@contoso.com",
        "job_title": "Buyer",
        "manager_id": tenant.dan,
        "manager_principal_name": "dan@contoso.com",
    }

    run("m365.set_profile", params, m365, tmp_path)

    assert changes(graph) == [
        f"PATCH /v1.0/users/{tenant.bob}",
        f"PUT /v1.0/users/{tenant.bob}/manager/$ref",
    ]
    assert sent(graph, "patch_user") == [{"jobTitle": "Buyer"}]
    assert sent(graph, "set_manager") == [{"@odata.id": f"{graph.origin}/v1.0/users/{tenant.dan}"}]


def test_a_licence_a_group_gives_is_kept_and_named_and_only_the_users_own_are_removed(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    graph.license_through_group(tenant.bob, tenant.full, tenant.sales)
    graph.users[tenant.bob]["assignedLicenses"].append(
        {"skuId": tenant.premium, "disabledPlans": []}
    )

    acted = run(
        "m365.remove_all_licences",
        {"user_id": tenant.bob, "user_principal_name": "bob@contoso.com"},
        m365,
        tmp_path,
    )

    assert sent(graph, "assign_license") == [
        {"addLicenses": [], "removeLicenses": [tenant.premium]}
    ]
    assert acted.result["kept"] == [
        {
            "id": tenant.full,
            "name": "Microsoft 365 Business Basic",
            "why": "a group gives it: it goes when they leave the group",
        }
    ]
    assert [a["skuId"] for a in graph.users[tenant.bob]["assignedLicenses"]] == [tenant.full]
