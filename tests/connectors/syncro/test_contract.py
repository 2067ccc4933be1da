"""The stand-in holds to Syncro's published description: it refuses (and records) any request
or response that does not match, so a test that passes has been checked against the spec."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from werkzeug.wrappers import Request, Response

from tests.connectors.syncro import contract
from tests.connectors.syncro.standin import API_KEY, SyncroStandIn, _json

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def loose() -> Iterator[SyncroStandIn]:
    """A stand-in whose violations the test inspects instead of failing on them."""
    server = SyncroStandIn().start()
    server.add_customer("Contoso Dental", "office@contoso-dental.example")
    yield server
    server.stop()


def test_a_comment_without_a_subject_breaks_the_contract(loose: SyncroStandIn) -> None:
    ticket = loose.add_ticket(101, "VPN", "down")
    answer = httpx.post(
        f"{loose.base_url}/tickets/{ticket}/comment", json={"body": "hi"}, headers=AUTH
    )
    assert answer.status_code == 400
    assert len(loose.violations) == 1 and "subject" in loose.violations[0]
    assert loose.tickets[ticket]["comments"][1:] == []  # refused before it was handled


def test_a_parameter_of_the_wrong_type_breaks_the_contract(loose: SyncroStandIn) -> None:
    answer = httpx.get(f"{loose.base_url}/tickets", params={"page": "two"}, headers=AUTH)
    assert answer.status_code == 400
    assert "page" in loose.violations[0]


def test_a_key_not_sent_as_bearer_breaks_the_contract(loose: SyncroStandIn) -> None:
    httpx.get(f"{loose.base_url}/me", headers={"Authorization": API_KEY})
    assert len(loose.violations) == 1


def test_an_answer_unlike_the_published_one_breaks_the_contract(
    loose: SyncroStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def me(self: SyncroStandIn, request: Request) -> Response:
        answer: dict[str, Any] = contract.example("/me", "get")
        answer["user_id"] = "seven"  # an integer in Syncro's answer
        return _json(answer)

    monkeypatch.setattr(SyncroStandIn, "_me", me)
    assert httpx.get(f"{loose.base_url}/me", headers=AUTH).status_code == 400
    assert "user_id" in loose.violations[0] or "seven" in loose.violations[0]


def test_an_answer_with_a_field_syncro_does_not_send_breaks_the_contract(
    loose: SyncroStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def me(self: SyncroStandIn, request: Request) -> Response:
        return _json({**contract.example("/me", "get"), "authorised": True})

    monkeypatch.setattr(SyncroStandIn, "_me", me)
    httpx.get(f"{loose.base_url}/me", headers=AUTH)
    assert "authorised" in loose.violations[0]


def test_an_undocumented_status_breaks_the_contract(loose: SyncroStandIn) -> None:
    loose.fail_next(418)
    httpx.get(f"{loose.base_url}/me", headers=AUTH)
    assert len(loose.violations) == 1 and "418" in loose.violations[0]


def test_the_corrections_are_to_a_copy_and_leave_a_valid_openapi_30_document() -> None:
    corrected = contract.corrected()
    assert "/ticket_timers/{id}" in corrected["paths"]
    assert "ticket_timers/{id}" not in corrected["paths"]
    assert "ticket_timers/{id}" in contract.published()["paths"]  # the file as published
    comment = corrected["paths"]["/tickets/{id}/comment"]["post"]["requestBody"]
    assert comment["content"]["application/json"]["schema"]["required"] == ["subject", "body"]
    assert contract.checked() is contract.checked()  # openapi-core accepted it, once


def test_a_schema_from_examples_allows_null_only_where_an_example_shows_it() -> None:
    schema = contract.schema_of(
        [{"id": 1, "tech": "Joe", "at": "2019-11-05T09:13:33.422Z"}, {"id": 2, "tech": None}]
    )
    assert schema["required"] == ["id", "tech"]
    assert schema["properties"]["id"] == {"type": "integer"}
    assert schema["properties"]["tech"] == {"nullable": True, "type": "string"}
    assert schema["properties"]["at"] == {"type": "string", "format": "date-time"}
    assert schema["additionalProperties"] is False
