"""The stand-in's routing and OData query handling answer as Graph v1.0 does, so a client that
works against it (deskhand's own, or Microsoft's SDK) meets no surprise from real Graph: the cast
segment in both its spellings, ``$top`` and its paging, Graph's refusals of an unknown
``$select`` property and of a wrong method, and the cap a ``$expand`` puts on a page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.connectors.graph.conftest import Tenant
from tests.connectors.graph.standin import GraphStandIn


def ask(graph: GraphStandIn, path: str, method: str = "GET", **params: Any) -> httpx.Response:
    """One request to the stand-in with a token it issued, as any client would send it."""
    graph._tokens.add("token")
    return httpx.request(
        method,
        path if path.startswith("https://") else f"{graph.origin}/v1.0/{path}",
        params=params,
        headers={"Authorization": "Bearer token"},
        verify=graph.client_ssl(),
    )


def error(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()["error"]
    return answer.status_code, body["code"], body["message"]


# --- memberOf casts --------------------------------------------------------------------------


@pytest.mark.parametrize("cast", ["microsoft.graph.group", "graph.group"])
def test_member_of_answers_the_group_cast_in_both_its_spellings(
    graph: GraphStandIn, tenant: Tenant, cast: str
) -> None:
    answer = ask(graph, f"users/{tenant.ada}/memberOf/{cast}", **{"$select": "id,displayName"})

    assert answer.status_code == 200
    assert answer.json()["value"] == [
        {"@odata.type": "#microsoft.graph.group", "id": tenant.sales, "displayName": "Sales"}
    ]


def test_member_of_without_a_cast_holds_groups_and_roles_as_directory_objects(
    graph: GraphStandIn, tenant: Tenant
) -> None:
    answer = ask(graph, f"users/{tenant.ada}/memberOf", **{"$select": "id", "$top": "10"})

    assert answer.status_code == 200
    assert sorted(item["@odata.type"] for item in answer.json()["value"]) == [
        "#microsoft.graph.directoryRole",
        "#microsoft.graph.group",
    ]


def test_a_segment_after_member_of_that_is_no_cast_is_a_membership_id(
    graph: GraphStandIn, tenant: Tenant
) -> None:
    answer = ask(graph, f"users/{tenant.ada}/memberOf/no-such-group")

    assert error(answer)[:2] == (404, "Request_ResourceNotFound")


# --- $top and paging -------------------------------------------------------------------------


def test_top_sets_the_page_size_and_the_next_link_keeps_it(
    graph: GraphStandIn, tenant: Tenant
) -> None:
    first = ask(graph, "users", **{"$select": "id", "$top": "3"}).json()
    second = httpx.get(
        first["@odata.nextLink"],
        headers={"Authorization": "Bearer token"},
        verify=graph.client_ssl(),
    ).json()

    assert len(first["value"]) == 3
    assert "%24top=3" in first["@odata.nextLink"]
    assert len(second["value"]) == 1  # four users in all
    assert "@odata.nextLink" not in second


def test_without_top_the_stand_ins_own_page_size_applies(
    graph: GraphStandIn, tenant: Tenant
) -> None:
    graph.page_size = 3

    assert len(ask(graph, "users", **{"$select": "id"}).json()["value"]) == 3


@pytest.mark.parametrize("top", ["0", "1000", "ten"])
def test_a_page_size_outside_one_to_999_is_refused(
    graph: GraphStandIn, tenant: Tenant, top: str
) -> None:
    assert error(ask(graph, "users", **{"$top": top})) == (
        400,
        "Request_UnsupportedQuery",
        f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
    )


@pytest.mark.parametrize("path", ["subscribedSkus", "directoryRoles"])
def test_collections_graph_pages_on_its_own_terms_refuse_top(
    graph: GraphStandIn, tenant: Tenant, path: str
) -> None:
    assert error(ask(graph, path, **{"$top": "5"})) == (
        400,
        "Request_UnsupportedQuery",
        "This resource does not support custom page sizes. "
        "Please retry without a page size argument.",
    )


def test_directory_role_members_refuse_top(graph: GraphStandIn, tenant: Tenant) -> None:
    role = ask(graph, "directoryRoles").json()["value"][0]["id"]

    answer = ask(graph, f"directoryRoles/{role}/members", **{"$top": "5"})

    assert error(answer)[:2] == (400, "Request_UnsupportedQuery")


# --- $select -----------------------------------------------------------------------------------


def test_an_unknown_select_property_is_refused_in_graphs_words(
    graph: GraphStandIn, tenant: Tenant
) -> None:
    answer = ask(graph, f"users/{tenant.ada}", **{"$select": "id,acountEnabled"})

    assert error(answer) == (
        400,
        "Request_BadRequest",
        "Could not find a property named 'acountEnabled' on type "
        "'Microsoft.DirectoryServices.User'.",
    )


def test_a_directory_object_collection_has_only_directory_object_properties(
    graph: GraphStandIn, tenant: Tenant
) -> None:
    answer = ask(graph, f"groups/{tenant.sales}/members", **{"$select": "id,userPrincipalName"})

    assert error(answer) == (
        400,
        "Request_BadRequest",
        "Could not find a property named 'userPrincipalName' on type "
        "'Microsoft.DirectoryServices.DirectoryObject'.",
    )


def test_an_unknown_expand_property_is_refused(graph: GraphStandIn, tenant: Tenant) -> None:
    answer = ask(graph, "users", **{"$expand": "managr($select=id)"})

    assert error(answer)[:2] == (400, "Request_BadRequest")
    assert "'managr'" in error(answer)[2]


def test_an_unknown_select_property_of_a_mailbox_is_refused_as_exchange_does(
    graph: GraphStandIn, tenant: Tenant
) -> None:
    answer = ask(graph, f"users/{tenant.bob}/mailboxSettings", **{"$select": "purpose"})

    assert error(answer) == (
        400,
        "RequestBroker--ParseUri",
        "Could not find a property named 'purpose' on type 'microsoft.graph.mailboxSettings'.",
    )


# --- methods -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "subscribedSkus"),
        ("POST", "users/{ada}"),
        ("GET", "users/{ada}/revokeSignInSessions"),
        ("PATCH", "groups/{sales}/members"),
    ],
)
def test_a_wrong_method_on_a_known_path_is_405_in_graphs_words(
    graph: GraphStandIn, tenant: Tenant, method: str, path: str
) -> None:
    answer = ask(graph, path.format(ada=tenant.ada, sales=tenant.sales), method)

    assert error(answer) == (
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )


def test_an_unknown_path_is_still_not_found(graph: GraphStandIn) -> None:
    assert error(ask(graph, "users/x/nothingHere"))[:2] == (404, "Request_ResourceNotFound")


# --- $expand -----------------------------------------------------------------------------------


def test_a_page_with_expand_holds_at_most_100_objects_and_links_to_the_rest(
    graph: GraphStandIn, tenant: Tenant
) -> None:
    for n in range(146):
        graph.add_user(f"user{n}@contoso.com", f"User {n}", manager=tenant.dan)
    query = {"$select": "id", "$expand": "manager($select=id)", "$top": "999"}

    first = ask(graph, "users", **query).json()
    second = httpx.get(
        first["@odata.nextLink"],
        headers={"Authorization": "Bearer token"},
        verify=graph.client_ssl(),
    ).json()
    whole = ask(graph, "users", **{"$select": "id", "$top": "999"}).json()

    assert (len(first["value"]), len(second["value"])) == (100, 50)
    assert "@odata.nextLink" not in second
    assert len(whole["value"]) == 150  # without $expand, $top=999 is one page
