"""An LLM endpoint (or a proxy before it) that refuses the request by echoing it back, API key
and all, leaves the key out of the reason triage records for a failed LLM — which goes into the
append-only event log."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from deskhand.specialists.registry import discover
from deskhand.triage.llm import LlmTriager, parse_llm

API_KEY = "sk-proj-Echo/Key+for=the-tests"


@pytest.fixture
def echoing_llm() -> Iterator[str]:
    """An OpenAI-compatible address whose every answer is a 401 that echoes the key sent."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        sent = Request(environ).headers.get("Authorization", "")
        refusal = {"error": {"message": f"Incorrect API key provided: {sent}", "code": 401}}
        return Response(json.dumps(refusal), 401, content_type="application/json")(
            environ, start_response
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_an_echoed_api_key_is_not_in_the_reason_the_llm_failed(echoing_llm: str) -> None:
    config = parse_llm(
        f"openai-compatible:{echoing_llm}:llama3.1", api_key=API_KEY, env={}, timeout=5
    )

    answer = LlmTriager(config).propose("Password expired", "Please reset it.", discover().intents)

    assert answer.proposal is None and answer.error is not None
    assert "401" in answer.error
    assert "[redacted: LLM API key]" in answer.error
    assert API_KEY not in answer.error
