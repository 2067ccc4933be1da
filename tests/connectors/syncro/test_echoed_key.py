"""A proxy in front of Syncro that answers 200 with the request echoed back as a JSON string —
not Syncro's shape — never gets the API key into the Syncro connector's error."""

from __future__ import annotations

import json

import httpx
import pytest

from deskhand.connectors.calls import Breakers, Caller
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.syncro import SyncroPsa, SyncroSettings

API_KEY = "Sy/ncro+key=echoed-back-1234"


def echo_as_a_json_string(request: httpx.Request) -> httpx.Response:
    said = f"{request.method} {request.url} Authorization: {request.headers['Authorization']}"
    return httpx.Response(200, content=json.dumps(said), headers={"Content-Type": "text/json"})


def test_a_json_string_echoing_the_request_is_refused_without_the_key() -> None:
    psa = SyncroPsa(
        "contoso",
        SyncroSettings(base_url="https://msp.syncromsp.example/api/v1", customer_id=4107),
        API_KEY,
        caller=Caller("contoso", "syncro", breakers=Breakers(), sleep=lambda _: None),
        transport=httpx.MockTransport(echo_as_a_json_string),
    )

    with pytest.raises(ConnectorError) as caught:
        psa.contacts()

    assert "answered a JSON str, not an object" in caught.value.message
    assert API_KEY not in str(caught.value)
