"""A ticket left to the technicians by shadow mode shows, on its page, what deskhand would have
done and — once a technician marked it worked — how that compared; the Tenants page says which
tenant is in shadow. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Tenant
from deskhand.web.app import create_app
from tests.web.conftest import sign_in

CONTOSO = "contoso-dental"
KAREN = "karen.whitfield@contosodental.example"


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest) -> Runtime:
    rt: Runtime = request.getfixturevalue("web_rt" if request.param == "sqlite" else "pg_web_rt")
    with rt.db.session() as session:
        session.execute(update(Tenant).where(Tenant.id == CONTOSO).values(mode="shadow"))
    return rt


@pytest.fixture
def client(desk: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(desk), base_url="https://127.0.0.1") as client:
        sign_in(client, "dana@msp.example")
        yield client


def test_the_ticket_page_shows_the_shadow_plan_and_its_comparison(
    desk: Runtime, client: TestClient
) -> None:
    ticket = add_ticket(
        desk, CONTOSO, KAREN, "Access", "Please add Tom Becker to the Finance Share group."
    ).ticket_id
    while Worker(desk, "test-worker").run_once():
        pass

    page = unescape(client.get(f"/tickets/{ticket}").text)
    assert "Shadow — what deskhand would have done" in page
    assert "Add tom.becker@contosodental.example to the group Finance Share" in page
    assert "mark it worked" in page
    again = client.post(f"/tickets/{ticket}/worked", data={"csrf": "wrong"})
    assert again.status_code == 403  # a form from elsewhere is refused

    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    done = client.post(f"/tickets/{ticket}/worked", data={"csrf": csrf.group(1)})
    assert done.status_code == 200, done.text  # back on the ticket's page
    page = unescape(client.get(f"/tickets/{ticket}").text)
    assert "Worked by hand by dana@msp.example" in page
    assert "Compared with deskhand's plan: <strong>not matched</strong>" in page

    tenants = unescape(client.get("/tenants").text)
    assert "plans only, nothing drafted or run" in tenants
    assert "plans only, nothing drafted or run" in unescape(client.get(f"/tenants/{CONTOSO}").text)
