"""A real-kind tenant (Syncro and Microsoft Graph stand-ins, its secrets as ``env:`` references)
behind a proxy that echoes deskhand's requests back in its error pages: the Graph client secret
(in the token request's form body) and the Syncro API key (in the Authorization header) reach
none of the places connector text goes to people — `deskhand tenants doctor`'s output, the log,
the escalation's detail, the append-only ``run.escalated`` event, the ticket's PSA note — while
what failed and what to fix still do."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import select

from deskhand.config import Settings
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.store.models import Escalation, EventRecord, Ticket
from tests.connectors.graph.standin import CLIENT_ID, MS_TENANT, GraphStandIn
from tests.connectors.syncro.standin import SyncroStandIn
from tests.e2e.conftest import Desk

TENANT = "northbridge"
APPROVER = "approver@msp.example"
ADMIN = "admin@msp.example"
KIM = "kim.cloud@client.example"
# What every usual encoding changes: a form body, a query string, JSON, base64 all differ.
GRAPH_SECRET = f"Gr4ph~secret/{uuid.uuid4().hex[:8]}+with=chars"
SYNCRO_KEY_ENV, GRAPH_SECRET_ENV = "ECHO_SYNCRO_API_KEY", "ECHO_GRAPH_CLIENT_SECRET"


@pytest.fixture
def syncro() -> Iterator[SyncroStandIn]:
    standin = SyncroStandIn(api_key=f"Sy/ncro+{uuid.uuid4().hex}=").start()
    yield standin
    standin.stop()
    assert standin.violations == [], "\n".join(standin.violations)


@pytest.fixture
def graph() -> Iterator[GraphStandIn]:
    standin = GraphStandIn(secret=GRAPH_SECRET).start()
    yield standin
    standin.stop()
    assert standin.violations == [], "\n".join(standin.violations)


@pytest.fixture
def desk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syncro: SyncroStandIn, graph: GraphStandIn
) -> Iterator[Desk]:
    """A deskhand with one cloud-only client added by `deskhand tenants add --no-input`."""
    folder, database = tmp_path / "desk", f"sqlite:///{tmp_path / 'deskhand.db'}"
    monkeypatch.setenv(SYNCRO_KEY_ENV, syncro.api_key)
    monkeypatch.setenv(GRAPH_SECRET_ENV, GRAPH_SECRET)
    runtime = Runtime.from_settings(
        Settings(data_dir=folder, database_url=database, lease_seconds=30, poll_seconds=0.05)
    )
    desk = Desk(folder, database, runtime)
    customer = syncro.add_customer("Northbridge Dental", "office@client.example")
    syncro.add_contact(customer, "Kim Cloud", KIM)
    graph.add_user(KIM, "Kim Cloud", mail=KIM)
    graph_ca = tmp_path / "graph-ca.pem"
    graph.ca.cert_pem.write_to_path(str(graph_ca))
    try:
        desk.run("db", "upgrade")
        desk.run(
            "tenants", "add", TENANT, "--no-input",
            "--display-name", "Northbridge Dental",
            "--psa-customer-id", str(customer),
            "--syncro-url", syncro.base_url,
            "--syncro-key", f"env:{SYNCRO_KEY_ENV}",
            "--ms-tenant", MS_TENANT,
            "--client-id", CLIENT_ID,
            "--client-secret", f"env:{GRAPH_SECRET_ENV}",
            "--graph-authority", graph.origin,
            "--graph-url", f"{graph.origin}/v1.0",
            "--graph-ca-file", str(graph_ca),
            "--no-ad",
            "--domain", "client.example",
            "--approver", APPROVER,
            "--config", str(folder / "tenants" / f"{TENANT}.yaml"),
        )  # fmt: skip
        desk.run("users", "add", APPROVER, "--role", "approver", "--tenants", TENANT)
        # A new tenant starts in shadow; these tests are about what deskhand's own work writes.
        desk.run("users", "add", ADMIN, "--role", "admin", "--tenants", TENANT)
        desk.run("tenants", "live", TENANT, "--as", ADMIN, "--reason", "echoed-secret tests")
        yield desk
    finally:
        runtime.close()


def secrets_of(syncro: SyncroStandIn) -> list[str]:
    """Each secret as sent, and as its echo may show it."""
    return [
        form
        for value in (GRAPH_SECRET, syncro.api_key)
        for form in (value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1])
    ]


def shown_nowhere(secrets: list[str], *texts: Any) -> None:
    for text in texts:
        said = text if isinstance(text, str) else json.dumps(text, default=str)
        for secret in secrets:
            assert secret not in said


def test_the_doctor_says_what_a_proxy_echoed_without_the_secrets(
    desk: Desk, syncro: SyncroStandIn, graph: GraphStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    graph.echo_next("/oauth2/v2.0/token", 400, times=2)  # a proxy's page, as msal logs it
    syncro.echo_next("/api/v1/me", 407, as_json=True, times=2)

    found = desk.json("tenants", "doctor", TENANT, code=1)[TENANT]
    table = desk.run("tenants", "doctor", TENANT, code=1).stdout

    token = next(f for f in found if f["system"] == "graph")
    assert (token["check"], token["outcome"]) == ("token", "fail")
    assert "HTTP 400" in token["detail"]
    assert "client_secret=[redacted: Graph client secret]" in token["detail"]
    assert "proxy or firewall" in token["fix"]
    syncro_said = next(f for f in found if f["system"] == "syncro" and f["outcome"] == "fail")
    assert "Authorization: Bearer [redacted: Syncro API key]" in syncro_said["detail"]
    assert "[redacted: " in table
    assert any(r.name.startswith("msal") for r in caplog.records)  # msal logged the page
    shown_nowhere(secrets_of(syncro), found, table, caplog.text)


def _kims_ticket(desk: Desk, syncro: SyncroStandIn) -> tuple[int, int]:
    """Kim's password request, read in from Syncro and planned; the PSA's and deskhand's ids."""
    customer = next(iter(syncro.customers))
    kim = next(iter(syncro.contacts))
    psa_id = syncro.add_ticket(
        customer, "Password expired", "I forgot my password, please reset it", contact_id=kim
    )
    assert "1 new" in desk.run("intake", "poll", "--tenant", TENANT).stdout
    assert Worker(desk.rt, "echo-worker").run_once() == 1
    with desk.rt.db.reading() as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.psa_ticket_id == str(psa_id)))
    assert ticket_id is not None
    for draft in approvals.list_drafts(desk.rt, None, status=None, ticket_id=ticket_id):
        if draft.status == "pending":
            approvals.approve(desk.rt, draft.id, APPROVER, verification="called back on file")
    return psa_id, ticket_id


def _escalation(desk: Desk, ticket_id: int) -> tuple[str, list[dict[str, Any]], list[Any]]:
    """The escalation's detail, its run.escalated events' data, and every event's data."""
    with desk.rt.db.reading() as session:
        detail = session.scalars(
            select(Escalation.detail).where(Escalation.ticket_id == ticket_id)
        ).one()
        events = session.scalars(
            select(EventRecord).where(EventRecord.ticket_id == ticket_id).order_by(EventRecord.id)
        ).all()
        return (
            detail,
            [e.data for e in events if e.type == "run.escalated"],
            [[e.type, e.data] for e in events],
        )


def test_a_step_failing_on_an_echoed_token_request_escalates_without_the_client_secret(
    desk: Desk, syncro: SyncroStandIn, graph: GraphStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    graph.token_seconds = 60  # msal asks for a new token before each request
    psa_id, ticket_id = _kims_ticket(desk, syncro)
    graph.echo_next("/oauth2/v2.0/token", 400, as_json=True, times=20)

    Worker(desk.rt, "echo-worker").run_once()

    detail, escalated, everything = _escalation(desk, ticket_id)
    assert "graph (400)" in detail
    assert "client_secret=[redacted: Graph client secret]" in detail
    assert "Entra admin center" in detail  # what to fix is still there
    assert escalated and escalated[-1]["detail"] == detail
    notes = [c["body"] for c in syncro.tickets[psa_id]["comments"][1:] if c["hidden"]]
    assert any("[redacted: Graph client secret]" in note for note in notes)
    assert "[redacted: Graph client secret]" in caplog.text  # the escalation is logged
    shown_nowhere(secrets_of(syncro), detail, everything, notes, caplog.text)


def test_an_escalation_note_the_psa_proxy_echoes_back_is_recorded_without_the_api_key(
    desk: Desk, syncro: SyncroStandIn, graph: GraphStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    psa_id, ticket_id = _kims_ticket(desk, syncro)
    graph.roles.discard("User-PasswordProfile.ReadWrite.All")  # the step fails at Graph
    syncro.echo_next(r"POST /api/v1/tickets/\d+/comment", 502, as_json=True, times=5)

    Worker(desk.rt, "echo-worker").run_once()

    detail, _, everything = _escalation(desk, ticket_id)
    assert "User-PasswordProfile.ReadWrite.All" in detail
    failed = [data for kind, data in everything if kind == "escalation.notified" and not data["ok"]]
    assert failed and "Authorization: Bearer [redacted: Syncro API key]" in failed[-1]["detail"]
    assert "[redacted: Syncro API key]" in caplog.text
    shown_nowhere(secrets_of(syncro), everything, syncro.tickets[psa_id], caplog.text)


def test_the_doctor_warns_of_a_secret_too_short_to_be_recognised_and_redacted(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(GRAPH_SECRET_ENV, "Sh0rt!x")  # 7 characters

    found = desk.json("tenants", "doctor", TENANT, code=1)[TENANT]

    [short] = [f for f in found if f["check"].startswith("secret ")]
    assert (short["check"], short["outcome"]) == ("secret m365.client_secret", "warn")
    assert "7 characters" in short["detail"] and "from 8 characters" in short["detail"]
