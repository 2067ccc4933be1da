"""The CSDL checker itself: it must catch what Graph's schema does not allow, or the stand-in's
checks would prove nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.connectors.graph.csdl import schema
from tests.connectors.graph.standin import GraphStandIn


def test_a_misspelled_property_is_caught() -> None:
    problems = schema().check_entity("user", {"id": "u1", "accontEnabled": True})

    assert problems == ["user: 'accontEnabled' is not a property of user"]


def test_properties_of_base_types_and_annotations_are_allowed() -> None:
    user = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "id": "u1",  # declared on entity
        "deletedDateTime": None,  # declared on directoryObject
        "accountEnabled": True,
        "assignedLicenses": [
            {"skuId": "c42b9cae-ea4f-4ab7-9717-81576235ccac", "disabledPlans": []}
        ],
    }

    assert schema().check_entity("user", user) == []


def test_a_property_of_another_type_is_caught() -> None:
    assert schema().check_entity("user", {"id": "u1", "mailEnabled": True}) == [
        "user: 'mailEnabled' is not a property of user"
    ]


def test_values_must_have_the_declared_type_and_nullability() -> None:
    problems = schema().check_entity(
        "user",
        {
            "accountEnabled": "yes",
            "assignedLicenses": None,
            "lastPasswordChangeDateTime": "yesterday",
            "passwordProfile": {"forceChangePasswordNextSignin": True},
        },
    )

    assert problems == [
        "user.accountEnabled: 'yes' is not an Edm.Boolean",
        "user.assignedLicenses: null, but the schema says not nullable",
        "user.lastPasswordChangeDateTime: 'yesterday' is not an Edm.DateTimeOffset",
        "user.passwordProfile: 'forceChangePasswordNextSignin' is not a property of "
        "passwordProfile",
    ]


def test_a_derived_type_must_derive_from_the_declared_one() -> None:
    manager_is_a_user = {"manager": {"@odata.type": "#microsoft.graph.user", "id": "m1"}}
    manager_is_a_sku = {"manager": {"@odata.type": "#microsoft.graph.subscribedSku", "id": "s"}}

    assert schema().check_entity("user", manager_is_a_user) == []
    assert schema().check_entity("user", manager_is_a_sku) == [
        "user.manager: @odata.type #microsoft.graph.subscribedSku is not a directoryObject"
    ]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"addLicenses": []}, "assignLicense: the parameter 'removeLicenses' is missing"),
        (
            {"addLicenses": [], "removeLicenses": [], "disabledPlans": []},
            "assignLicense: 'disabledPlans' is not a parameter (parameters: addLicenses, "
            "removeLicenses)",
        ),
        (
            {"addLicenses": [{"skuid": "x"}], "removeLicenses": []},
            "assignLicense.addLicenses[0]: 'skuid' is not a property of assignedLicense",
        ),
        (
            {"addLicenses": [], "removeLicenses": None},
            "assignLicense.removeLicenses: null, but the schema says not nullable",
        ),
    ],
)
def test_assign_license_parameters_are_checked(body: dict[str, object], problem: str) -> None:
    assert schema().check_action("assignLicense", "graph.user", body) == [problem]


def test_revoke_sign_in_sessions_takes_no_parameters() -> None:
    assert schema().check_action("revokeSignInSessions", "user", None) == []
    assert schema().check_action("revokeSignInSessions", "user", {"all": True}) == [
        "revokeSignInSessions: 'all' is not a parameter (parameters: none)"
    ]


def test_the_stand_in_refuses_and_records_a_body_graph_would_not_accept() -> None:
    graph = GraphStandIn().start()
    try:
        user = graph.add_user("ada@contoso.com", "Ada")
        graph._tokens.add("t")
        answer = httpx.patch(
            f"{graph.origin}/v1.0/users/{user}",
            json={"acountEnabled": False},
            headers={"Authorization": "Bearer t"},
            verify=graph.client_ssl(),
        )
    finally:
        graph.stop()

    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "PATCH user: 'acountEnabled' is not a property of user"
    )
    assert graph.violations == ["PATCH user: 'acountEnabled' is not a property of user"]
    assert graph.users[user]["accountEnabled"] is True


def test_an_enum_value_must_be_one_of_its_members() -> None:
    assert schema().check_entity("mailboxSettings", {"userPurpose": "shared"}) == []
    assert schema().check_entity("mailboxSettings", {"userPurpose": "sharedMailbox"}) == [
        "mailboxSettings.userPurpose: 'sharedMailbox' is not one of userPurpose: "
        "['equipment', 'linked', 'others', 'room', 'shared', 'unknownFutureValue', 'user']"
    ]


def test_the_stand_in_refuses_and_records_mailbox_settings_graph_would_not_return() -> None:
    graph = GraphStandIn().start()
    try:
        user = graph.add_user("ada@contoso.com", "Ada", mail="ada@contoso.com")
        graph.purposes[user] = "SharedMailbox"  # Exchange PowerShell's word, not Graph's
        graph._tokens.add("t")
        answer = httpx.get(
            f"{graph.origin}/v1.0/users/{user}/mailboxSettings",
            headers={"Authorization": "Bearer t"},
            verify=graph.client_ssl(),
        )
    finally:
        graph.stop()

    assert answer.status_code == 400
    assert graph.violations and "'SharedMailbox' is not one of userPurpose" in graph.violations[0]
