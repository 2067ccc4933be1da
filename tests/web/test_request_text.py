"""Text no database can store — a NUL, a lone surrogate — anywhere in a request (the address,
a query parameter, a form field, a JSON string) is a 400 with a message, never a 500: the JSON
problem for the API, the error page for pages. PostgreSQL is where a NUL used to fail, so every
case runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.web.app import create_app
from deskhand.web.request_text import MAX_BODY
from tests.web.conftest import add_users
from tests.web.conftest import sign_in as sign_in_web
from tests.web.test_api_fuzz import _token

DANA = "dana@msp.example"
# What a hostile client puts in text: NUL alone or inside, lone surrogates (JSON only: they
# cannot be percent-encoded), with ordinary text around them.
HOSTILE = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(max_size=8),
    st.sampled_from(["\x00", "\x00\x00", "\ud800", "\udfff", "\udc80x"]),
    st.text(max_size=8),
)
# In an address, as the percent-escapes a client can send (a surrogate: invalid UTF-8).
HOSTILE_IN_URL = HOSTILE.map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe=""))


@pytest.fixture
def hostile_rt(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """The demo with its sample tickets (not dispatched) and the test users, on each backend."""
    rt = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(rt)
    add_users(rt)
    yield rt
    rt.close()


@pytest.fixture
def client(hostile_rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(hostile_rt), base_url="https://127.0.0.1") as found:
        yield found


def _api(hostile_rt: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(hostile_rt, DANA)}"}


def _problem(response: Any, words: str) -> None:
    """A 400 JSON problem naming what is wrong, with a hint."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert words in body["error"], body
    assert body["hint"] == "Remove it and send the request again.", body


def _error_page(response: Any, words: str) -> None:
    assert response.status_code == 400, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text.replace("&#39;", "'"), response.text[:2000]


def test_a_nul_in_the_sign_in_email_is_an_error_page(client: TestClient) -> None:
    answer = client.post("/login", data={"email": f"{DANA}\x00", "password": "whatever it is"})
    _error_page(answer, "The form field 'email' contains a NUL character.")
    sign_in_web(client, DANA)  # and nothing else broke


def test_a_nul_or_a_lone_surrogate_in_an_answer_to_a_ticket_is_a_json_400(
    client: TestClient, hostile_rt: Runtime
) -> None:
    headers = {**_api(hostile_rt), "Content-Type": "application/json"}
    for body, where in (
        ({"from_address": "lisa@contosodental.example", "body": "hi\x00there"}, "'body'"),
        ({"from_address": "li\x00sa@contosodental.example", "body": "hi"}, "'from_address'"),
        ({"from_address": "lisa@contosodental.example", "body": "\ud83d"}, "'body'"),
    ):
        answer = client.post("/api/v1/tickets/1/replies", content=json.dumps(body), headers=headers)
        _problem(answer, f"The JSON field {where} contains")


def test_decisions_with_hostile_text_are_refused_before_anything_is_decided(
    client: TestClient, hostile_rt: Runtime
) -> None:
    Worker(hostile_rt, "test-worker").run_once()  # the sample tickets' drafts
    headers = {**_api(hostile_rt), "Content-Type": "application/json"}
    approve = {"edit": {"user_id": "\ud800"}, "verification": "called back"}
    _problem(
        client.post("/api/v1/drafts/1/approve", content=json.dumps(approve), headers=headers),
        "The JSON field 'edit.user_id' contains an unpaired surrogate (U+D800).",
    )
    _problem(
        client.post("/api/v1/drafts/1/reject", json={"reason": "no\x00"}, headers=headers),
        "The JSON field 'reason' contains a NUL character.",
    )
    csrf = sign_in_web(client, DANA)
    _error_page(
        client.post("/drafts/1/reject", data={"csrf": csrf, "reason": "\x00"}),
        "The form field 'reason' contains a NUL character.",
    )
    assert client.get("/api/v1/drafts/1", headers=headers).json()["status"] == "pending"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/events?actor=dana%00", "actor"),
        ("/api/v1/events?type=%00&tenant=contoso-dental", "type"),
        ("/api/v1/tickets?status=%00", "status"),
        ("/api/v1/tickets?tenant=contoso%00", "tenant"),
        ("/api/v1/drafts?status=pending&specialist=%00", "specialist"),
        ("/api/v1/escalations?status=open%00", "status"),
    ],
)
def test_a_nul_in_any_api_query_parameter_is_a_json_400(
    client: TestClient, hostile_rt: Runtime, url: str, name: str
) -> None:
    _problem(
        client.get(url, headers=_api(hostile_rt)),
        f"The query parameter '{name}' contains a NUL character.",
    )


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/tickets?status=%00", "status"),
        ("/queue?tenant=%00", "tenant"),
        ("/audit?actor=dana%00", "actor"),
        ("/audit/export.jsonl?type=%00", "type"),
        ("/escalations?show=%00", "show"),
        ("/analysis?next=%00", "next"),
    ],
)
def test_a_nul_in_any_page_query_parameter_is_an_error_page(
    client: TestClient, url: str, name: str
) -> None:
    sign_in_web(client, DANA)
    _error_page(client.get(url), f"The query parameter '{name}' contains a NUL character.")


def test_a_nul_in_the_address_is_refused(client: TestClient, hostile_rt: Runtime) -> None:
    sign_in_web(client, DANA)
    _error_page(client.get("/tenants/contoso%00"), "The address contains a NUL character.")
    _problem(
        client.get("/api/v1/tickets/%00", headers=_api(hostile_rt)),
        "The address contains a NUL character.",
    )


def test_json_too_deep_or_too_large_is_refused_in_words(
    client: TestClient, hostile_rt: Runtime
) -> None:
    headers = {**_api(hostile_rt), "Content-Type": "application/json"}
    deep = "[" * 100_000 + "]" * 100_000
    answer = client.post("/api/v1/drafts/1/reject", content=deep, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"] == "The JSON document is nested too deeply."
    large = json.dumps({"reason": "x" * MAX_BODY})
    answer = client.post("/api/v1/drafts/1/reject", content=large, headers=headers)
    assert answer.status_code == 413
    assert "larger than the 1 MiB a form or JSON document may have" in answer.json()["error"]


@given(name=st.sampled_from(["status", "tenant", "actor", "q", "next"]), value=HOSTILE_IN_URL)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_query_text_on_every_page_is_never_a_server_error(
    client: TestClient, name: str, value: str
) -> None:
    if "deskhand_session" not in client.cookies:
        sign_in_web(client, DANA)
    for path in ("/queue", "/tickets", "/escalations", "/tenants", "/audit", "/trust", "/analysis"):
        answer = client.get(f"{path}?{name}={value}")
        assert answer.status_code < 500, (path, name, value, answer.text[:300])
