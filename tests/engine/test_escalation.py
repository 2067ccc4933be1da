"""Escalation reaches people outside deskhand: a note on the PSA ticket and a webhook, over
real HTTP to a server the test runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from tests.engine.test_flow import JAKE, escalation, ticket, work

from deskhand.engine.runtime import Runtime
from deskhand.store.models import EventRecord


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/escalations", received
    server.shutdown()


def test_an_escalation_posts_its_reason_to_the_webhook(
    rt: Runtime, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = hook
    rt.settings.escalation_webhook = url
    ticket_id = ticket(rt, JAKE, "Printer", "The printer in reception is jammed again.")
    work(rt)
    assert escalation(rt, ticket_id).reason == "no_specialist"
    assert len(received) == 1
    assert received[0]["ticket_id"] == ticket_id
    assert received[0]["reason"] == "no_specialist"
    assert received[0]["tenant_id"] == "contoso-dental"
    with rt.db.session() as session:
        notified = session.scalars(
            select(EventRecord.data).where(EventRecord.type == "escalation.notified")
        ).one()
    assert notified == {"channel": "webhook", "ok": True, "detail": "HTTP 204"}


def test_an_unreachable_webhook_is_recorded_and_the_escalation_stands(rt: Runtime) -> None:
    rt.settings.escalation_webhook = "http://127.0.0.1:9/nowhere"
    ticket_id = ticket(rt, JAKE, "Printer", "The printer in reception is jammed again.")
    work(rt)
    assert escalation(rt, ticket_id).status == "open"
    with rt.db.session() as session:
        notified = session.scalars(
            select(EventRecord.data).where(EventRecord.type == "escalation.notified")
        ).one()
    assert notified["ok"] is False
