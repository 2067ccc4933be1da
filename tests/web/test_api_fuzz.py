"""Schemathesis against /api/v1: requests generated from the published OpenAPI document, as an
approver of every tenant and as a tech of one tenant. No answer may be a server error, every
answer must match the document, and every error must be JSON a person can act on.

(The operations are driven with Hypothesis directly: schemathesis's pytest fixture loader does
not run under pytest 9.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
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
