"""The Graph calls of a leaver's and a starter's steps (groups, automatic replies, inbox rules,
OneDrive sharing, sign-in methods, profile, manager, new users, the address list), made again
through Microsoft's own Graph SDK against the stand-in, one test per call deskhand's client
makes: each must come back as the SDK's models, and each body the SDK sends must pass the
stand-in's schema check (see ``sdk.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from msgraph.generated.drives.item.items.item.invite.invite_post_request_body import (
    InvitePostRequestBody,
)
from msgraph.generated.models.automatic_replies_setting import AutomaticRepliesSetting
from msgraph.generated.models.automatic_replies_status import AutomaticRepliesStatus
from msgraph.generated.models.drive_recipient import DriveRecipient
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.external_audience_scope import ExternalAudienceScope
from msgraph.generated.models.group import Group
from msgraph.generated.models.mailbox_settings import MailboxSettings
from msgraph.generated.models.message_rule import MessageRule
from msgraph.generated.models.message_rule_actions import MessageRuleActions
from msgraph.generated.models.password_authentication_method import (
    PasswordAuthenticationMethod,
)
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.permission import Permission
from msgraph.generated.models.phone_authentication_method import PhoneAuthenticationMethod
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.models.reference_update import ReferenceUpdate
from msgraph.generated.models.user import User

from deskhand.connectors.graph.client import GROUP_FIELDS, PAGE_SIZE, PROFILE_FIELDS
from tests.connectors.graph.conftest import Tenant
from tests.connectors.graph.sdk import SdkClient
from tests.connectors.graph.standin import LIFECYCLE_ROLES, GraphStandIn

pytestmark = [
    pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning"),
]


@pytest.fixture
def sdk(graph: GraphStandIn) -> SdkClient:
    """Microsoft's Graph SDK pointed at the running stand-in, the app granted what a leaver's
    and a starter's steps need."""
    graph.roles |= LIFECYCLE_ROLES
    return SdkClient(graph)


def root(sdk: SdkClient, user_id: str, rest: str = "") -> str:
    """users/{id}/drive/root…: a path of the CSDL the SDK has no builder for (it reaches a
    OneDrive's root through drives/{drive id}/items/root); its builders take it with_url."""
    return f"{sdk.graph.origin}/v1.0/users/{user_id}/drive/root{rest}"


# --- groups ----------------------------------------------------------------------------------


def test_a_users_groups_with_deskhands_select_show_a_dynamic_one(
    sdk: SdkClient, graph: GraphStandIn, tenant: Tenant
) -> None:
    graph.groups[tenant.team]["groupTypes"] = ["Unified", "DynamicMembership"]
    graph.groups[tenant.team]["membershipRule"] = 'user.department -eq "Projects"'
    graph.members[tenant.team].append(tenant.ada)

    groups = sdk.pages(
        lambda c: c.users.by_user_id(tenant.ada).member_of.graph_group,
        select=GROUP_FIELDS.split(","),
        top=PAGE_SIZE,
    )

    assert all(isinstance(g, Group) for g in groups)
    assert {g.display_name: g.group_types for g in groups} == {
        "Sales": [],
        "Project Team": ["Unified", "DynamicMembership"],
    }


# --- automatic replies -----------------------------------------------------------------------


def test_the_automatic_reply_read_back(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    found = sdk.get(
        lambda c: c.users.by_user_id(tenant.bob).mailbox_settings,
        select=["automaticRepliesSetting"],
    )

    assert isinstance(found, MailboxSettings)
    assert found.automatic_replies_setting.status == AutomaticRepliesStatus.Disabled


def test_an_automatic_reply_patched_in(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    setting = AutomaticRepliesSetting(
        status=AutomaticRepliesStatus.AlwaysEnabled,
        external_audience=ExternalAudienceScope.All,
        internal_reply_message="Bob has left; write to Dan.",
        external_reply_message="Bob has left; write to Dan.",
    )

    sdk.send(
        lambda c: c.users.by_user_id(tenant.bob).mailbox_settings.patch(
            MailboxSettings(automatic_replies_setting=setting)
        )
    )

    stored = graph.replies[tenant.bob]
    assert (stored["status"], stored["externalAudience"]) == ("alwaysEnabled", "all")
    assert "Bob has left; write to Dan." in stored["internalReplyMessage"]


# --- inbox rules -----------------------------------------------------------------------------


def inbox_of(user_id: str) -> Callable[[Any], Any]:
    return lambda c: c.users.by_user_id(user_id).mail_folders.by_mail_folder_id("inbox")


def test_a_forwarding_rule_posted_listed_and_deleted(
    sdk: SdkClient, graph: GraphStandIn, tenant: Tenant
) -> None:
    inbox = inbox_of(tenant.bob)
    rule = MessageRule(
        display_name="deskhand: forward to dan@contoso.com",
        sequence=1,
        is_enabled=True,
        actions=MessageRuleActions(
            forward_to=[Recipient(email_address=EmailAddress(address="dan@contoso.com"))],
            stop_processing_rules=False,
        ),
    )

    made = sdk.send(lambda c: inbox(c).message_rules.post(rule))
    listed = sdk.pages(lambda c: inbox(c).message_rules)
    sdk.send(lambda c: inbox(c).message_rules.by_message_rule_id(made.id).delete())

    assert isinstance(made, MessageRule) and made.id
    assert [(r.display_name, r.actions.forward_to[0].email_address.address) for r in listed] == [
        ("deskhand: forward to dan@contoso.com", "dan@contoso.com")
    ]
    assert graph.rules[tenant.bob] == []


# --- OneDrive --------------------------------------------------------------------------------


def test_onedrive_shared_by_invite_listed_and_removed(
    sdk: SdkClient, graph: GraphStandIn, tenant: Tenant
) -> None:
    def item(c: Any) -> Any:
        return c.drives.by_drive_id("x").items.by_drive_item_id("root")

    invite = InvitePostRequestBody(
        recipients=[DriveRecipient(object_id=tenant.dan)],
        roles=["write"],
        require_sign_in=True,
        send_invitation=False,
    )

    granted = sdk.send(
        lambda c: item(c).invite.with_url(root(sdk, tenant.bob, "/invite")).post(invite)
    )
    listed = sdk.send(
        lambda c: item(c).permissions.with_url(root(sdk, tenant.bob, "/permissions")).get()
    )
    dan = next(p for p in listed.value if p.granted_to_v2.user.id == tenant.dan)
    sdk.send(
        lambda c: (
            item(c)
            .permissions.by_permission_id(dan.id)
            .with_url(root(sdk, tenant.bob, f"/permissions/{dan.id}"))
            .delete()
        )
    )

    assert [p.roles for p in granted.value] == [["write"]]
    assert all(isinstance(p, Permission) for p in listed.value)
    assert sorted(p.roles[0] for p in listed.value) == ["owner", "write"]
    assert [p["roles"] for p in graph.drives[tenant.bob]] == [["owner"]]


# --- sign-in methods -------------------------------------------------------------------------


def test_sign_in_methods_listed_as_their_types_and_a_phone_deleted(
    sdk: SdkClient, graph: GraphStandIn, tenant: Tenant
) -> None:
    phone = graph.add_auth_method(
        tenant.bob, "phoneAuthenticationMethod", phoneNumber="+44 7700 900123"
    )

    methods = sdk.pages(lambda c: c.users.by_user_id(tenant.bob).authentication.methods)
    sdk.send(
        lambda c: (
            c.users.by_user_id(tenant.bob)
            .authentication.phone_methods.by_phone_authentication_method_id(phone)
            .delete()
        )
    )

    assert [type(m) for m in methods] == [PasswordAuthenticationMethod, PhoneAuthenticationMethod]
    assert methods[1].phone_number == "+44 7700 900123"
    assert graph.methods[tenant.bob] == []


# --- profile, manager, new users, address list -----------------------------------------------


def test_a_profile_read_with_deskhands_select(sdk: SdkClient, tenant: Tenant) -> None:
    user = sdk.get(
        lambda c: c.users.by_user_id(tenant.ada),
        select=PROFILE_FIELDS.split(","),
        expand=["manager($select=id)"],
    )

    assert (user.department, user.job_title, user.usage_location) == (None, None, None)
    assert user.manager.id == tenant.dan


def test_a_profile_patched(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    sdk.send(
        lambda c: c.users.by_user_id(tenant.bob).patch(
            User(department="Sales", job_title="Buyer", usage_location="GB")
        )
    )

    assert {k: graph.users[tenant.bob][k] for k in ("department", "jobTitle", "usageLocation")} == {
        "department": "Sales",
        "jobTitle": "Buyer",
        "usageLocation": "GB",
    }


def test_a_manager_set_by_reference(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    reference = ReferenceUpdate(odata_id=f"{graph.origin}/v1.0/users/{tenant.dan}")

    sdk.send(lambda c: c.users.by_user_id(tenant.bob).manager.ref.put(reference))

    assert graph.managers[tenant.bob] == tenant.dan


def test_a_user_created(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    new = User(
        account_enabled=True,
        display_name="Fay Starter",
        mail_nickname="fay",
        user_principal_name="fay@contoso.com",
        password_profile=PasswordProfile(
            password="Tmp-Orchid-4821", force_change_password_next_sign_in=True
        ),
        department="Sales",
    )

    made = sdk.send(lambda c: c.users.post(new))

    assert isinstance(made, User) and made.user_principal_name == "fay@contoso.com"
    assert graph.created == [made.id] and graph.forced[made.id] is True


def test_the_address_list_setting_read(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    graph.users[tenant.bob]["showInAddressList"] = False

    user = sdk.get(lambda c: c.users.by_user_id(tenant.bob), select=["id", "showInAddressList"])
    unknown = sdk.get(lambda c: c.users.by_user_id(tenant.ada), select=["id", "showInAddressList"])

    assert (user.show_in_address_list, unknown.show_in_address_list) == (False, None)


def test_licences_a_group_gives_read_by_their_assignment_states(
    sdk: SdkClient, graph: GraphStandIn, tenant: Tenant
) -> None:
    graph.license_through_group(tenant.bob, tenant.full, tenant.sales)

    user = sdk.get(
        lambda c: c.users.by_user_id(tenant.bob), select=["id", "licenseAssignmentStates"]
    )

    assert [(str(s.sku_id), s.assigned_by_group) for s in user.license_assignment_states] == [
        (tenant.full, tenant.sales)
    ]
