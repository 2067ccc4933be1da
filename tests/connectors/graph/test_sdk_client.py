"""Every Graph call deskhand's client makes, made again through Microsoft's own Graph SDK against
the stand-in: each must come back as the SDK's models with the values the stand-in holds, so
the stand-in answers as Graph does and not only as deskhand's client expects (see ``sdk.py``
for how to add the test of a new call)."""

from __future__ import annotations

from uuid import UUID

import pytest
from msgraph.generated.models.assigned_license import AssignedLicense
from msgraph.generated.models.directory_role import DirectoryRole
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User
from msgraph.generated.models.user_purpose import UserPurpose
from msgraph.generated.users.item.assign_license.assign_license_post_request_body import (
    AssignLicensePostRequestBody,
)

from deskhand.connectors.graph.client import GROUP_FIELDS, PAGE_SIZE, SIGN_IN_FIELDS, USER_FIELDS
from tests.connectors.graph.conftest import Tenant
from tests.connectors.graph.sdk import SdkClient
from tests.connectors.graph.standin import GraphStandIn

# The SDK's generated request builders warn of their own deprecated classes as they load.
pytestmark = [
    pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning"),
]
USER = USER_FIELDS.split(",")
MANAGER = ["manager($select=id)"]


@pytest.fixture
def sdk(graph: GraphStandIn) -> SdkClient:
    """Microsoft's Graph SDK pointed at the running stand-in."""
    return SdkClient(graph)


# --- users -----------------------------------------------------------------------------------


def test_a_user_by_id_with_deskhands_select_and_the_expanded_manager(
    sdk: SdkClient, tenant: Tenant
) -> None:
    user = sdk.get(lambda c: c.users.by_user_id(tenant.ada), select=USER, expand=MANAGER)

    assert isinstance(user, User)
    assert (user.id, user.user_principal_name, user.display_name) == (
        tenant.ada,
        "ada@contoso.onmicrosoft.com",
        "Ada Lovelace",
    )
    assert (user.mail, user.account_enabled, user.on_premises_sync_enabled) == (
        "ada.lovelace@contoso.com",
        True,
        None,
    )
    assert sorted(str(a.sku_id) for a in user.assigned_licenses) == sorted(
        [tenant.premium, tenant.full]
    )
    assert isinstance(user.manager, User) and user.manager.id == tenant.dan


def test_a_user_by_principal_name(sdk: SdkClient, tenant: Tenant) -> None:
    user = sdk.get(lambda c: c.users.by_user_id("carol@contoso.com"), select=USER, expand=MANAGER)

    assert (user.id, user.on_premises_sync_enabled, user.manager) == (tenant.carol, True, None)


def test_a_user_found_by_mail_address(sdk: SdkClient, tenant: Tenant) -> None:
    found = sdk.get(
        lambda c: c.users,
        select=USER,
        expand=MANAGER,
        filter="mail eq 'Ada.Lovelace@contoso.com'",
    )

    assert [user.id for user in found.value] == [tenant.ada]


def test_every_user_from_every_page(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    for n in range(110):
        graph.add_user(f"user{n:03}@contoso.com", f"User {n:03}", manager=tenant.dan)

    users = sdk.pages(lambda c: c.users, select=USER, expand=MANAGER, top=PAGE_SIZE)

    assert len(users) == 114
    assert all(isinstance(user, User) for user in users)
    assert sum(user.manager is not None and user.manager.id == tenant.dan for user in users) == 111
    assert sum(r.startswith("GET /v1.0/users?") for r in graph.received) == 2  # 100 a page


def test_the_directory_roles_a_user_holds(sdk: SdkClient, tenant: Tenant) -> None:
    roles = sdk.pages(
        lambda c: c.users.by_user_id(tenant.ada).member_of.graph_directory_role, select=["id"]
    )
    none = sdk.pages(
        lambda c: c.users.by_user_id(tenant.bob).member_of.graph_directory_role, select=["id"]
    )

    assert [type(role) for role in roles] == [DirectoryRole]
    assert none == []


def test_the_groups_a_user_is_a_member_of(sdk: SdkClient, tenant: Tenant) -> None:
    # The SDK sends the cast as graph.group, the alias of microsoft.graph.group.
    groups = sdk.pages(
        lambda c: c.users.by_user_id(tenant.ada).member_of.graph_group,
        select=GROUP_FIELDS.split(","),
        top=PAGE_SIZE,
    )

    assert [(type(g), g.id, g.display_name) for g in groups] == [(Group, tenant.sales, "Sales")]


def test_the_directory_roles_and_their_members(sdk: SdkClient, tenant: Tenant) -> None:
    roles = sdk.pages(lambda c: c.directory_roles, select=["id"])
    members = sdk.pages(
        lambda c: c.directory_roles.by_directory_role_id(roles[0].id).members, select=["id"]
    )

    assert len(roles) == 1
    assert [(type(m), m.id) for m in members] == [(User, tenant.ada)]


def test_the_sign_in_state_of_a_user(sdk: SdkClient, tenant: Tenant) -> None:
    user = sdk.get(lambda c: c.users.by_user_id(tenant.bob), select=SIGN_IN_FIELDS.split(","))

    assert user.account_enabled is True
    assert user.last_password_change_date_time.isoformat() == "2026-01-05T09:00:00+00:00"
    assert user.sign_in_sessions_valid_from_date_time.isoformat() == "2026-01-05T09:00:00+00:00"
    assert user.password_profile is None  # write-only for an app


def test_what_kind_of_mailbox_a_user_has(
    sdk: SdkClient, graph: GraphStandIn, tenant: Tenant
) -> None:
    graph.purposes[tenant.bob] = "shared"

    settings = sdk.get(
        lambda c: c.users.by_user_id(tenant.bob).mailbox_settings, select=["userPurpose"]
    )

    assert settings.user_purpose == UserPurpose.Shared


def test_a_password_reset(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    profile = PasswordProfile(password="Tr0ub4dor&3x", force_change_password_next_sign_in=True)

    sdk.send(lambda c: c.users.by_user_id(tenant.bob).patch(User(password_profile=profile)))

    assert graph.forced[tenant.bob] is True
    assert graph.users[tenant.bob]["lastPasswordChangeDateTime"] != "2026-01-05T09:00:00Z"


def test_revoking_every_session(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    answer = sdk.send(lambda c: c.users.by_user_id(tenant.ada).revoke_sign_in_sessions.post())

    assert answer is not None and answer.value is True
    assert graph.users[tenant.ada]["signInSessionsValidFromDateTime"] != "2026-01-05T09:00:00Z"


def test_blocking_sign_in(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    sdk.send(lambda c: c.users.by_user_id(tenant.bob).patch(User(account_enabled=False)))

    assert graph.users[tenant.bob]["accountEnabled"] is False


# --- groups ----------------------------------------------------------------------------------


def test_a_group_by_id(sdk: SdkClient, tenant: Tenant) -> None:
    group = sdk.get(lambda c: c.groups.by_group_id(tenant.team), select=GROUP_FIELDS.split(","))

    assert isinstance(group, Group)
    assert (group.display_name, group.mail_enabled, group.security_enabled) == (
        "Project Team",
        True,
        False,
    )
    assert (group.group_types, group.is_assignable_to_role) == (["Unified"], False)


def test_a_group_found_by_name(sdk: SdkClient, tenant: Tenant) -> None:
    found = sdk.pages(
        lambda c: c.groups, select=GROUP_FIELDS.split(","), filter="displayName eq 'all staff'"
    )

    assert [(g.id, g.mail_enabled) for g in found] == [(tenant.staff_list, True)]


def test_every_group(sdk: SdkClient, tenant: Tenant) -> None:
    groups = sdk.pages(lambda c: c.groups, select=GROUP_FIELDS.split(","), top=PAGE_SIZE)

    assert sorted(g.display_name for g in groups) == ["All Staff", "Project Team", "Sales"]


def test_the_members_of_a_group(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    graph.members[tenant.sales].append(tenant.bob)

    members = sdk.pages(
        lambda c: c.groups.by_group_id(tenant.sales).members, select=["id"], top=PAGE_SIZE
    )

    assert sorted(m.id for m in members) == sorted([tenant.ada, tenant.bob])


def test_adding_a_member_by_reference(sdk: SdkClient, graph: GraphStandIn, tenant: Tenant) -> None:
    reference = ReferenceCreate(odata_id=f"{graph.origin}/v1.0/directoryObjects/{tenant.bob}")

    sdk.send(lambda c: c.groups.by_group_id(tenant.sales).members.ref.post(reference))

    assert graph.members[tenant.sales] == [tenant.ada, tenant.bob]


def test_removing_a_member_by_reference(
    sdk: SdkClient, graph: GraphStandIn, tenant: Tenant
) -> None:
    sdk.send(
        lambda c: (
            c.groups.by_group_id(tenant.sales).members.by_directory_object_id(tenant.ada).ref
        ).delete()
    )

    assert graph.members[tenant.sales] == []


# --- licences and the organisation -------------------------------------------------------------


def test_the_subscribed_skus_with_their_seats(sdk: SdkClient, tenant: Tenant) -> None:
    skus = {str(sku.sku_id): sku for sku in sdk.pages(lambda c: c.subscribed_skus)}

    premium = skus[tenant.premium]
    assert (premium.sku_part_number, premium.prepaid_units.enabled) == ("SPB", 5)
    assert (premium.consumed_units, skus[tenant.full].consumed_units) == (1, 1)


def test_assigning_and_removing_licences(
    sdk: SdkClient, graph: GraphStandIn, tenant: Tenant
) -> None:
    body = AssignLicensePostRequestBody(
        add_licenses=[AssignedLicense(sku_id=UUID(tenant.premium), disabled_plans=[])],
        remove_licenses=[UUID(tenant.full)],
    )

    user = sdk.send(lambda c: c.users.by_user_id(tenant.ada).assign_license.post(body))

    assert [str(a.sku_id) for a in user.assigned_licenses] == [tenant.premium]
    assert graph.consumed(tenant.full) == 0


def test_the_organisation_deskhands_doctor_reads(sdk: SdkClient, tenant: Tenant) -> None:
    organisations = sdk.pages(lambda c: c.organization, select=["id"])

    assert len(organisations) == 1 and organisations[0].id


# --- refusals ----------------------------------------------------------------------------------


def test_a_refusal_comes_back_as_graphs_odata_error(sdk: SdkClient) -> None:
    with pytest.raises(ODataError) as caught:
        sdk.get(lambda c: c.users.by_user_id("nobody@contoso.com"), select=USER)

    assert caught.value.response_status_code == 404
    assert caught.value.error.code == "Request_ResourceNotFound"


def test_an_unknown_select_property_is_refused_as_graph_refuses_it(
    sdk: SdkClient, tenant: Tenant
) -> None:
    with pytest.raises(ODataError) as caught:
        sdk.get(lambda c: c.users.by_user_id(tenant.ada), select=["id", "acountEnabled"])

    assert caught.value.response_status_code == 400
    assert caught.value.error.code == "Request_BadRequest"
