"""Schemathesis against /api/v1: requests generated from the published OpenAPI document, as an
approver of every tenant and as a tech of one tenant. No answer may be a server error, every
answer must match the document, and every error must be JSON a person can act on.

(The operations are driven with Hypothesis directly: schemathesis's pytest fixture loader does
not run under pytest 9.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import select

from deskhand.accounts import create_token
from deskhand.engine.runtime import Runtime
from deskhand.store.models import User
from deskhand.web.app import create_app

EXAMPLES = 25


def _token(rt: Runtime, email: str) -> str:
    with rt.db.session() as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        return create_token(session, user, "fuzz")


@pytest.mark.parametrize("email", ["dana@msp.example", "lee@msp.example"])
def test_generated_requests_get_documented_answers(web_rt: Runtime, email: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(web_rt))
    # A NUL is refused with 400 whatever the parameter (test_nul_or_surrogates_… below).
    schema.config.generation.update(allow_x00=False)
    headers = {"Authorization": f"Bearer {_token(web_rt, email)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9, [op.label for op in operations]
    seen: dict[str, set[int]] = {}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            seen.setdefault(case.operation.label, set()).add(response.status_code)
            assert response.status_code < 500, f"{case.operation.label}: {response.text}"
            case.validate_response(response)
            if response.status_code >= 400:
                body = response.json()
                assert isinstance(body.get("error"), str) and body["error"], body

        check()

    assert set(seen) == {op.label for op in operations}
    assert any(code < 300 for codes in seen.values() for code in codes), seen


@pytest.mark.parametrize("email", ["dana@msp.example", "lee@msp.example"])
def test_invalid_requests_get_json_errors(web_rt: Runtime, email: str) -> None:
    """Requests that break the document (wrong types, out-of-range ids, bad bodies)."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(web_rt))
    headers = {"Authorization": f"Bearer {_token(web_rt, email)}"}
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, f"{case.operation.label}: {response.text}"
            if response.status_code >= 400:
                body = response.json()
                assert isinstance(body.get("error"), str) and body["error"], body

        try:
            check()
            tried += 1
        except Unsatisfiable:  # nothing to break: the operation takes no parameters
            assert not operation.path_parameters and not operation.query, operation.label
    assert tried >= 8


# NUL and lone surrogates: what PostgreSQL (NUL) and every UTF-8 encoder (surrogates) refuse.
UNSTORABLE = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\udc80\x00"])


def _poisoned(value: Any, bad: str) -> Any:
    """``value`` with ``bad`` put into every string of it (keys too)."""
    if isinstance(value, str):
        return value + bad
    if isinstance(value, dict):
        return {_poisoned(k, bad): _poisoned(v, bad) for k, v in value.items()}
    if isinstance(value, list):
        return [_poisoned(item, bad) for item in value]
    return value


@pytest.mark.parametrize("backend", ["web_rt", "pg_web_rt"])
def test_nul_or_surrogates_in_any_string_parameter_never_give_a_500(
    request: pytest.FixtureRequest, backend: str
) -> None:
    """Every string the document lets a client send — query parameters and JSON bodies — with
    NUL or a lone surrogate in it gets a JSON error a person can act on, on either database."""
    rt: Runtime = request.getfixturevalue(backend)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(rt))
    headers = {"Authorization": f"Bearer {_token(rt, 'dana@msp.example')}"}
    refused: set[str] = set()

    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(), bad=UNSTORABLE, in_body=st.booleans())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any, bad: str, in_body: bool) -> None:
            query, sent = case.query or {}, {}
            if in_body and _poisoned(case.body, bad) != case.body:
                # Serialised here: the client library would refuse a lone surrogate.
                sent = {"data": json.dumps(_poisoned(case.body, bad))}
            else:  # a URL cannot carry a surrogate: NUL there, in a parameter of the operation's
                in_url = bad.encode("utf-8", "ignore").decode() + "\x00"
                poisoned = _poisoned(query, in_url)
                query = poisoned if poisoned != query else {**query, "tenant": in_url}
            response = case.call(headers=headers, params=query, **sent)
            assert response.status_code < 500, f"{case.operation.label}: {response.text}"
            assert response.status_code == 400, f"{case.operation.label}: {response.text}"
            body = response.json()
            assert "contains" in body["error"] and body["hint"], body
            refused.add(case.operation.label)

        check()

    assert len(refused) >= 9, refused
