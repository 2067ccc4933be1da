"""deskhand's Graph client against the local Graph stand-in: each M365 call, Graph's paging,
refusals, throttling and failures, as ``deskhand.connectors.errors`` with their fixes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskhand.connectors.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    UnavailableError,
)
from deskhand.connectors.graph import GraphM365
from tests.connectors.graph.conftest import Tenant, Waits, client_for
from tests.connectors.graph.standin import GraphStandIn

# --- users -----------------------------------------------------------------------------------


def test_get_user_by_principal_name_reads_manager_licences_and_roles(
    m365: GraphM365, tenant: Tenant
) -> None:
    user = m365.get_user("ada@contoso.onmicrosoft.com")

    assert user.id == tenant.ada
    assert user.display_name == "Ada Lovelace"
    assert user.manager_id == tenant.dan
    assert user.licenses == tuple(sorted((tenant.premium, tenant.full)))
    assert user.admin is True
    assert user.synced is False


def test_get_user_by_id_and_by_mail_finds_the_same_user(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    assert m365.get_user(tenant.ada).user_principal_name == "ada@contoso.onmicrosoft.com"
    by_mail = m365.get_user("Ada.Lovelace@contoso.com")

    assert by_mail.id == tenant.ada
    assert any("%24filter=mail+eq+%27Ada.Lovelace%40contoso.com%27" in r for r in graph.received)


def test_a_mail_address_with_a_quote_is_escaped_in_the_filter(
    m365: GraphM365, graph: GraphStandIn
) -> None:
    sean = graph.add_user("sean@contoso.com", "Seán O'Brien", mail="sean.o'brien@contoso.com")

    assert m365.get_user("sean.o'brien@contoso.com").id == sean
    assert any("%27sean.o%27%27brien%40contoso.com%27" in r for r in graph.received)


def test_a_synced_user_reads_as_synced_and_without_roles(m365: GraphM365, tenant: Tenant) -> None:
    user = m365.get_user("carol@contoso.com")

    assert user.synced is True
    assert user.admin is False
    assert user.manager_id is None


def test_an_unknown_user_is_not_found(m365: GraphM365) -> None:
    with pytest.raises(NotFoundError) as caught:
        m365.get_user("nobody@contoso.com")

    assert caught.value.status == 404
    assert "does not exist" in caught.value.message


def test_list_users_follows_every_next_link(m365: GraphM365, graph: GraphStandIn) -> None:
    for n in range(120):
        graph.add_user(f"user{n:03}@contoso.com", f"User {n:03}")

    users = m365.list_users()

    assert [u.display_name for u in users][:5] == [
        "Ada Lovelace",
        "Bob Builder",
        "Carol Synced",
        "Dan Manager",
        "User 000",
    ]
    assert len(users) == 124
    pages = [r for r in graph.received if r.startswith("GET /v1.0/users?")]
    assert len(pages) == 2  # $top=999, but a page that expands the manager holds 100 users
    assert "%24skiptoken=100" in pages[1]


# --- sign-in ---------------------------------------------------------------------------------


def test_reset_password_of_a_cloud_only_user_patches_the_password_profile(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)

    m365.reset_password(tenant.bob, "Tr0ub4dor&3x", force_change=True)

    assert (
        "patch_user",
        {"passwordProfile": {"password": "Tr0ub4dor&3x", "forceChangePasswordNextSignIn": True}},
    ) in graph.bodies
    state = m365.sign_in_state(tenant.bob)
    assert state.password_changed_at is not None and state.password_changed_at >= before
    assert state.must_change_password is True
    assert graph.forced[tenant.bob] is True


def test_must_change_is_not_claimed_when_graph_does_not_say_and_this_client_did_not_set_it(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    first = client_for(graph, waits)
    first.reset_password(tenant.bob, "Tr0ub4dor&3x", force_change=True)

    # Another process (a restarted worker) reads back: Graph's passwordProfile is null.
    state = client_for(graph, waits).sign_in_state(tenant.bob)

    assert state.password_changed_at is not None
    assert state.must_change_password is False


def test_a_synced_users_password_is_refused_before_graph_is_asked(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    with pytest.raises(ForbiddenError) as caught:
        m365.reset_password(tenant.carol, "Tr0ub4dor&3x", force_change=True)

    assert "synced from on-premises Active Directory" in caught.value.message
    assert caught.value.fix is not None and "Active Directory" in caught.value.fix
    assert not any(r.startswith("PATCH") for r in graph.received)


def test_a_weak_password_is_refused_in_graphs_words(m365: GraphM365, tenant: Tenant) -> None:
    with pytest.raises(ConflictError) as caught:
        m365.reset_password(tenant.bob, "short", force_change=True)

    assert "password complexity requirements" in caught.value.message


def test_revoke_sessions_moves_the_sessions_valid_from_time(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    before = m365.sign_in_state(tenant.ada).sessions_revoked_at

    m365.revoke_sessions(tenant.ada)

    after = m365.sign_in_state(tenant.ada).sessions_revoked_at
    assert before is not None and after is not None and after > before
    assert ("revoke", None) in graph.bodies  # revokeSignInSessions has no body


def test_sign_in_is_blocked_and_allowed_again(m365: GraphM365, tenant: Tenant) -> None:
    m365.set_sign_in(tenant.bob, enabled=False)
    assert m365.sign_in_state(tenant.bob).account_enabled is False

    m365.set_sign_in(tenant.bob, enabled=True)
    assert m365.get_user(tenant.bob).account_enabled is True


# --- mailboxes -------------------------------------------------------------------------------


def test_a_mailbox_reads_as_a_user_mailbox_until_exchange_converts_it(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    before = m365.mailbox_purpose(tenant.bob)
    graph.purposes[tenant.bob] = "shared"  # what Exchange admin center's conversion leaves

    assert (before, m365.mailbox_purpose(tenant.bob)) == ("user", "shared")
    asked = [r for r in graph.received if "/mailboxSettings" in r]
    assert asked == [f"GET /v1.0/users/{tenant.bob}/mailboxSettings?%24select=userPurpose"] * 2


def test_a_user_without_a_mailbox_is_not_found_in_plain_words(
    m365: GraphM365, tenant: Tenant
) -> None:
    with pytest.raises(NotFoundError) as caught:
        m365.mailbox_purpose(tenant.carol)  # no mail address: no Exchange Online mailbox

    assert caught.value.status == 404
    assert caught.value.message.startswith(f"Graph finds no mailbox for the user {tenant.carol}")
    assert "hosted on-premise" in caught.value.message
    assert caught.value.fix is not None
    assert "Exchange admin center → Recipients → Mailboxes" in caught.value.fix


def test_reading_a_mailbox_needs_mailbox_settings_read(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    graph.roles -= {"MailboxSettings.Read", "MailboxSettings.ReadWrite"}  # either reads it

    with pytest.raises(ForbiddenError) as caught:
        m365.mailbox_purpose(tenant.bob)

    assert caught.value.fix is not None
    assert "Application permissions → MailboxSettings.Read" in caught.value.fix


# --- groups ----------------------------------------------------------------------------------


def test_get_group_by_id_and_by_name_ignoring_case(m365: GraphM365, tenant: Tenant) -> None:
    assert m365.get_group(tenant.sales).display_name == "Sales"
    assert m365.get_group("all staff").id == tenant.staff_list


def test_distribution_lists_read_as_mail_enabled_and_microsoft_365_groups_do_not(
    m365: GraphM365, tenant: Tenant
) -> None:
    groups = {g.display_name: g for g in m365.list_groups()}

    assert groups["All Staff"].mail_enabled is True
    assert groups["Project Team"].mail_enabled is False  # Graph changes its members
    assert groups["Sales"].mail_enabled is False


def test_two_groups_with_the_asked_name_are_not_guessed_between(
    m365: GraphM365, graph: GraphStandIn
) -> None:
    graph.add_group("Sales")

    with pytest.raises(ConflictError, match="2 groups are named 'Sales'"):
        m365.get_group("Sales")


def test_add_and_remove_a_member_by_reference(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    m365.add_group_member(tenant.sales, tenant.bob)

    assert m365.group_members(tenant.sales) == sorted([tenant.ada, tenant.bob])
    reference = {"@odata.id": f"{graph.origin}/v1.0/directoryObjects/{tenant.bob}"}
    assert ("add_member", reference) in graph.bodies

    m365.remove_group_member(tenant.sales, tenant.bob)
    assert m365.group_members(tenant.sales) == [tenant.ada]


def test_adding_an_existing_member_is_a_conflict(m365: GraphM365, tenant: Tenant) -> None:
    with pytest.raises(ConflictError) as caught:
        m365.add_group_member(tenant.sales, tenant.ada)

    assert "already exist" in caught.value.message


def test_a_distribution_list_is_refused_with_where_to_change_it(
    m365: GraphM365, tenant: Tenant
) -> None:
    with pytest.raises(ForbiddenError) as caught:
        m365.add_group_member(tenant.staff_list, tenant.bob)

    assert "mail-enabled" in caught.value.message
    assert caught.value.fix is not None and "Exchange admin center" in caught.value.fix


def test_many_group_members_come_from_every_page(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    joined = [graph.add_user(f"user{n:04}@contoso.com", f"User {n:04}") for n in range(1000)]
    graph.members[tenant.sales].extend(joined)

    assert m365.group_members(tenant.sales) == sorted([tenant.ada, *joined])
    pages = [r for r in graph.received if f"/groups/{tenant.sales}/members?" in r]
    assert len(pages) == 2  # 1,001 members, 999 a page


# --- licences --------------------------------------------------------------------------------


def test_subscribed_skus_with_their_seats(m365: GraphM365, tenant: Tenant) -> None:
    skus = {sku.id: sku for sku in m365.subscribed_skus()}

    assert skus[tenant.premium].display_name == "Microsoft 365 Business Premium"
    assert (skus[tenant.premium].total, skus[tenant.premium].consumed) == (5, 1)
    assert skus[tenant.full].available == 0


def test_assign_and_remove_a_licence_with_both_arrays(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    m365.assign_license(tenant.bob, add=[tenant.premium], remove=[])

    assert m365.get_user(tenant.bob).licenses == (tenant.premium,)
    assert (
        "assign_license",
        {"addLicenses": [{"skuId": tenant.premium, "disabledPlans": []}], "removeLicenses": []},
    ) in graph.bodies

    m365.assign_license(tenant.bob, add=[], remove=[tenant.premium])
    assert m365.get_user(tenant.bob).licenses == ()


def test_a_sku_without_seats_is_a_quota_error(m365: GraphM365, tenant: Tenant) -> None:
    with pytest.raises(QuotaExceededError) as caught:
        m365.assign_license(tenant.bob, add=[tenant.full], remove=[])

    assert "does not have any available licenses" in caught.value.message
    assert caught.value.fix is not None and "Partner Center" in caught.value.fix


def test_seats_are_bought_in_partner_center_not_through_graph(
    m365: GraphM365, tenant: Tenant
) -> None:
    with pytest.raises(ForbiddenError) as caught:
        m365.add_license_seats(tenant.full, 1)

    assert caught.value.fix is not None and "Partner Center" in caught.value.fix


# --- tokens, throttling, failures ------------------------------------------------------------


def test_one_token_serves_many_calls(m365: GraphM365, graph: GraphStandIn, tenant: Tenant) -> None:
    m365.get_user(tenant.ada)
    m365.list_groups()
    m365.subscribed_skus()
    m365.revoke_sessions(tenant.bob)

    assert graph.token_requests == 1


def test_throttling_waits_as_long_as_retry_after_says(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    graph.fail_next(429, times=2, path="GET /v1.0/subscribedSkus", retry_after=7)

    assert len(m365.subscribed_skus()) == 2
    assert waits.seconds == [7, 7]


def test_a_failing_read_is_retried(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    graph.fail_next(503, times=1, path="GET /v1.0/groups")

    assert len(m365.list_groups()) == 3
    assert len(waits.seconds) == 1


def test_a_failing_add_is_not_repeated(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    graph.fail_next(503, times=1, path=r"POST /v1.0/groups/.*/members/\$ref")

    with pytest.raises(UnavailableError) as caught:
        m365.add_group_member(tenant.sales, tenant.bob)

    assert caught.value.status == 503
    assert waits.seconds == []
    assert sum(r.startswith("POST /v1.0/groups") for r in graph.received) == 1


def test_a_refused_token_is_an_authentication_error(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    m365.get_user(tenant.ada)
    graph._tokens.clear()  # Graph no longer accepts the cached token (e.g. the app was deleted)

    with pytest.raises(AuthenticationError) as caught:
        m365.get_user(tenant.ada)

    assert caught.value.status == 401
    assert caught.value.fix is not None and "App registrations" in caught.value.fix


def test_a_missing_permission_names_the_one_to_grant(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant
) -> None:
    graph.roles.discard("Group.ReadWrite.All")

    with pytest.raises(ForbiddenError) as caught:
        m365.add_group_member(tenant.sales, tenant.bob)

    assert caught.value.status == 403
    assert "Insufficient privileges" in caught.value.message
    assert caught.value.fix is not None
    assert "Application permissions → Group.ReadWrite.All" in caught.value.fix
    assert "Grant admin consent" in caught.value.fix


def test_a_wrong_secret_says_where_to_make_a_new_one(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    client = client_for(graph, waits, secret="wrong")

    with pytest.raises(AuthenticationError) as caught:
        client.get_user(tenant.ada)

    assert "AADSTS7000215" in caught.value.message
    assert caught.value.fix is not None
    assert "App registrations → deskhand-contoso → Certificates & secrets" in caught.value.fix


def test_the_tenant_files_vips_and_licence_names_are_applied(
    graph: GraphStandIn, tenant: Tenant, waits: Waits
) -> None:
    """Graph knows neither who the client treats as VIP nor the client's names for its
    licences; the tenant file says, and the client applies it to what Graph returns."""
    client = client_for(graph, waits)
    client.vips = frozenset({"ada.lovelace@contoso.com"})
    client.sku_names = {tenant.premium.lower(): "Office bundle (owners)"}
    try:
        assert client.get_user("ada@contoso.onmicrosoft.com").vip is True
        assert client.get_user(tenant.bob).vip is False
        listed = {user.id: user.vip for user in client.list_users()}
        assert listed[tenant.ada] is True and listed[tenant.bob] is False
        names = {sku.id: sku.display_name for sku in client.subscribed_skus()}
        assert names[tenant.premium] == "Office bundle (owners)"
        assert names[tenant.full] != "Office bundle (owners)"
    finally:
        client.close()
