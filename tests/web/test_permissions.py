"""Role and tenant scope on every route of the app and the API, found by walking the routes:
a route added without a case here fails ``test_every_route_is_covered``.

The scope rule: a user scoped to one tenant gets exactly the answer for a missing object (404)
for anything of another tenant, and no page or API answer they get mentions another tenant's
tickets, people or name — whatever the query string asks for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from deskhand.accounts import create_token
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake import quarantine
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Analysis, Approval, Escalation, Quarantined, Step, Ticket, User
from deskhand.web.app import create_app
from tests.web.conftest import sign_in

# Routes anyone may call: signing in, the favicon, the home redirect, the API's document.
PUBLIC = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("GET", "/favicon.ico")}
PUBLIC_API = {("GET", "/openapi.json")}
# Markers of each tenant that must never reach a user scoped to the other one.
MARKERS = {
    "northwind-law": ("Northwind", "northwindlaw.example", "Printer on floor 3"),
    "contoso-dental": ("Contoso", "contosodental.example", "Forgot my password"),
}
OTHER = {"contoso-dental": "northwind-law", "northwind-law": "contoso-dental"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the client calls it (with /api/v1 for the API)
    api: bool

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def _routes(app: FastAPI) -> list[Route]:
    """Every page route and API operation, read from the OpenAPI documents (which FastAPI
    builds from the routes themselves)."""
    found = [
        Route(method.upper(), path, False)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if (method.upper(), path) not in PUBLIC
    ]
    with TestClient(app) as client:
        document = client.get("/api/v1/openapi.json").json()
    found += [
        Route(method.upper(), "/api/v1" + path, True)
        for path, operations in document["paths"].items()
        for method in operations
        if (method.upper(), path) not in PUBLIC_API
    ]
    return found


@pytest.fixture
def scoped_rt(web_rt: Runtime) -> Iterator[Runtime]:
    """The demo plus a Northwind ticket with a pending draft, an escalated Northwind ticket,
    and an analysis (which only all-tenant users may see)."""
    add_ticket(
        web_rt,
        "northwind-law",
        "grace.liu@northwindlaw.example",
        "Printer on floor 3 password",
        "I forgot my password, please reset it. Grace",
    )
    add_ticket(
        web_rt,
        "northwind-law",
        "samuel.ortiz@northwindlaw.example",
        "Printer on floor 3 jams",
        "The printer on floor 3 jams all the time.",
    )
    Worker(web_rt, "test-worker").run_once()
    with web_rt.db.session() as session:
        dana = session.execute(select(User).where(User.email == "dana@msp.example")).scalar_one()
        session.add(Analysis(created_by=dana.id, filename="export.csv", folder="1", status="done"))
        for tenant, (name, domain, subject) in MARKERS.items():  # what intake could not take
            content = f"From: {name} <x@{domain}>\r\nSubject: {subject}\r\n\r\n".encode()
            quarantine.hold(session, tenant, "imap", f"UID 1: {subject}", f"{name}?", content)
    yield web_rt


def _ids(rt: Runtime, tenant: str) -> dict[str, str]:
    """An object of ``tenant`` for each path parameter name the routes use."""
    with rt.db.reading() as session:
        ticket = session.scalars(
            select(Ticket.id).where(Ticket.tenant_id == tenant).order_by(Ticket.id)
        ).first()
        draft = session.scalars(
            select(Approval.id)
            .where(Approval.tenant_id == tenant, Approval.status == "pending")
            .order_by(Approval.id)
        ).first()
        escalation = session.scalars(
            select(Escalation.id).where(Escalation.tenant_id == tenant).order_by(Escalation.id)
        ).first()
        analysis = session.scalars(select(Analysis.id).order_by(Analysis.id)).first()
        run = session.scalars(
            select(Step.run_id)
            .join(Approval, Approval.step_id == Step.id)
            .where(Approval.id == draft)
        ).first()
        held = session.scalars(
            select(Quarantined.id).where(Quarantined.tenant_id == tenant).order_by(Quarantined.id)
        ).first()
    assert ticket and draft and escalation and analysis and held, (tenant, ticket, draft, held)
    assert run is not None
    return {
        "ticket_id": str(ticket),
        "draft_id": str(draft),
        "run_id": str(run),  # a plan: the run of that draft
        "tenant_id": tenant,
        "escalation_id": str(escalation),
        "analysis_id": str(analysis),
        "quarantine_id": str(held),
    }


def _fill(route: Route, ids: dict[str, str]) -> str:
    path = route.path
    for name in route.params:
        path = path.replace("{" + name + "}", ids[name])
    return path


# Every field a route's body needs, filled, so that what answers is the permission check.
_BODY = {
    "reason": "scope test",
    "from_address": "scope@test.example",
    "body": "scope test",
    "text": "scope test",
    "resolution": "scope test",
    "to": "scope@test.example",
}


def _call(client: TestClient, route: Route, url: str, csrf: str, token: str) -> tuple[int, str]:
    headers = {"X-CSRF-Token": csrf}
    if route.api:
        headers = {"Authorization": f"Bearer {token}"}
    if route.method == "GET":
        response = client.get(url, headers=headers, follow_redirects=False)
    else:
        response = client.request(
            route.method,
            url,
            headers=headers,
            data=None if route.api else {"csrf": csrf, "reason": "scope test"},
            # A body every route accepts, so that what answers is the permission check.
            json=_BODY if route.api else None,
            follow_redirects=False,
        )
    return response.status_code, response.text


def test_every_route_is_covered(web_rt: Runtime) -> None:
    routes = _routes(create_app(web_rt))
    known = {
        "ticket_id",
        "draft_id",
        "run_id",
        "tenant_id",
        "escalation_id",
        "analysis_id",
        "quarantine_id",
    }
    unknown = {(r.path, p) for r in routes for p in r.params if p not in known}
    assert not unknown, f"add these path parameters to _ids(): {unknown}"
    assert len(routes) >= 20, [r.path for r in routes]


def test_nothing_but_signing_in_works_without_a_session(web_rt: Runtime) -> None:
    ids = _ids_or_dummy(web_rt)
    with TestClient(create_app(web_rt), base_url="https://127.0.0.1") as client:
        for route in _routes(client.app):  # type: ignore[arg-type]
            url = _fill(route, ids)
            response = client.request(route.method, url, follow_redirects=False)
            if route.api:
                assert response.status_code == 401, (route, response.text)
                assert "Bearer" in response.json()["hint"]
            else:
                assert response.status_code == 303, (route, response.status_code)
                assert response.headers["location"].startswith("/login?next="), route


def _ids_or_dummy(rt: Runtime) -> dict[str, str]:
    return {
        "ticket_id": "1",
        "draft_id": "1",
        "run_id": "1",
        "tenant_id": "contoso-dental",
        "escalation_id": "1",
        "analysis_id": "1",
        "quarantine_id": "1",
    }


@pytest.mark.parametrize(
    ("email", "tenant"),
    [("lee@msp.example", "contoso-dental"), ("riley@msp.example", "northwind-law")],
)
def test_a_scoped_user_gets_nothing_of_another_tenant(
    scoped_rt: Runtime, email: str, tenant: str
) -> None:
    other = OTHER[tenant]
    theirs = _ids(scoped_rt, other)
    with scoped_rt.db.session() as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        token = create_token(session, user, "scope test")
    with TestClient(create_app(scoped_rt), base_url="https://127.0.0.1") as client:
        csrf = sign_in(client, email)
        checked = 0
        for route in _routes(client.app):  # type: ignore[arg-type]
            if route.path == "/logout":
                continue
            if route.params:
                # Another tenant's object: exactly like a missing one (or a role refusal).
                status, text = _call(client, route, _fill(route, theirs), csrf, token)
                assert status in (403, 404), (route, status, text[:300])
                _assert_clean(text, other, route)
                checked += 1
            elif route.method == "GET":
                for query in ("", f"?tenant={other}", f"?tenant_id={other}"):
                    status, text = _call(client, route, route.path + query, csrf, token)
                    assert status < 500, (route, query, text[:300])
                    _assert_clean(text, other, route)
                    checked += 1
        assert checked >= 20


# Ids no object has: what another tenant's objects must be indistinguishable from.
MISSING = {
    "ticket_id": "987654321",
    "draft_id": "987654321",
    "run_id": "987654321",
    "tenant_id": "no-such-tenant",
    "escalation_id": "987654321",
    "analysis_id": "987654321",
    "quarantine_id": "987654321",
}
# Query parameters that name a tenant (every list takes one) or a ticket (the event searches).
NAMING = {"tenant": "tenant_id", "tenant_id": "tenant_id"}
TICKET_FILTERS = {
    "/api/v1/events": "ticket_id",
    "/audit": "ticket",
    "/audit/export.jsonl": "ticket",
}


@pytest.mark.parametrize(
    ("email", "tenant"),
    [("lee@msp.example", "contoso-dental"), ("riley@msp.example", "northwind-law")],
)
def test_another_tenants_object_answers_exactly_like_one_that_does_not_exist(
    scoped_rt: Runtime, email: str, tenant: str
) -> None:
    """Same status, same body (the id aside), for every route that takes an object, and for
    every list that filters by tenant or ticket: the scope does not leak what exists."""
    theirs = _ids(scoped_rt, OTHER[tenant])
    with scoped_rt.db.session() as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        token = create_token(session, user, "scope test")
    with TestClient(create_app(scoped_rt), base_url="https://127.0.0.1") as client:
        csrf = sign_in(client, email)
        compared = []
        for route in _routes(client.app):  # type: ignore[arg-type]
            if route.path == "/logout":
                continue
            pairs: list[tuple[list[str], list[str]]] = []  # (the two urls, ids they name)
            if route.params:
                pairs.append(([_fill(route, ids) for ids in (theirs, MISSING)], route.params))
            elif route.method == "GET":
                queries = dict(NAMING)
                if route.path in TICKET_FILTERS:
                    queries[TICKET_FILTERS[route.path]] = "ticket_id"
                for query, kind in queries.items():
                    urls = [f"{route.path}?{query}={ids[kind]}" for ids in (theirs, MISSING)]
                    pairs.append((urls, [kind]))
            for (out_of_scope, missing), named in pairs:
                hidden = _call(client, route, out_of_scope, csrf, token)
                absent = _call(client, route, missing, csrf, token)
                assert hidden[0] == absent[0], (out_of_scope, hidden, absent)
                assert hidden[1] == _as_if(absent[1], theirs, named), (hidden, absent)
                compared.append(out_of_scope)
        assert len(compared) >= 30, compared


def _as_if(text: str, ids: dict[str, str], names: list[str]) -> str:
    """The answer about a missing object, with its id (unique, long) written as ``ids``'s."""
    for name in names:
        text = text.replace(MISSING[name], ids[name])
    return text


def _assert_clean(text: str, other: str, route: Route) -> None:
    for marker in MARKERS[other]:
        assert marker not in text, f"{route.method} {route.path} shows {marker!r} of {other}"


def test_the_same_routes_do_show_the_users_own_tenant(scoped_rt: Runtime) -> None:
    """The scope test above would pass if every page were empty: this one shows it is not."""
    ids = _ids(scoped_rt, "northwind-law")
    with TestClient(create_app(scoped_rt), base_url="https://127.0.0.1") as client:
        sign_in(client, "riley@msp.example")
        for url in (
            "/queue",
            f"/tickets/{ids['ticket_id']}",
            f"/drafts/{ids['draft_id']}/edit",
            "/escalations",
            "/tenants/northwind-law",
            "/intake/quarantine",
            f"/intake/quarantine/{ids['quarantine_id']}",
        ):
            response = client.get(url)
            assert response.status_code == 200, (url, response.text[:300])
            assert any(m in response.text for m in MARKERS["northwind-law"]), url


def test_roles_below_approver_cannot_decide_or_audit(scoped_rt: Runtime) -> None:
    ids = _ids(scoped_rt, "contoso-dental")
    with TestClient(create_app(scoped_rt), base_url="https://127.0.0.1") as client:
        for email in ("vic@msp.example", "lee@msp.example"):
            csrf = sign_in(client, email)
            for url in (f"/drafts/{ids['draft_id']}/approve", f"/drafts/{ids['draft_id']}/reject"):
                response = client.post(
                    url, data={"csrf": csrf, "reason": "no"}, follow_redirects=False
                )
                assert response.status_code == 403, (email, url, response.text[:300])
            assert client.get("/audit").status_code == 403
            assert client.get("/api/v1/events").status_code == 403
            client.post("/logout", data={"csrf": csrf})
    with scoped_rt.db.reading() as session:
        pending = session.get(Approval, int(ids["draft_id"]))
        assert pending is not None and pending.status == "pending"
