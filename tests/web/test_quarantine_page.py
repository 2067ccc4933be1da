"""The quarantine's page: what intake could not take, counted and listed for the user's own
tenants only, each item with its reason and content; a tech takes one again or dismisses it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from deskhand.domain.origin import TicketOrigin
from deskhand.engine.runtime import Runtime
from deskhand.intake import quarantine
from deskhand.intake.arrival import Arrival
from deskhand.store.models import Quarantined, Ticket
from tests.web.conftest import sign_in

LISA = "lisa.chen@contosodental.example"


def hold(rt: Runtime, tenant_id: str, reference: str, content: bytes) -> int:
    with rt.db.session() as session:
        return quarantine.hold(
            session, tenant_id, "import", reference, "the database refused it", content
        ).id


def test_a_tech_sees_only_their_tenants_items_counted_with_reason_and_content(
    app_client: TestClient, web_rt: Runtime
) -> None:
    contoso = hold(
        web_rt,
        "contoso-dental",
        "cw.csv row 3: connectwise:24002",
        Arrival(
            LISA,
            "connectwise:24002",
            "Printer <script>alert(1)</script>",
            "Jammed.",
            TicketOrigin.EXPORT,
            "ConnectWise Manage",
        ).content(),
    )
    northwind = hold(web_rt, "northwind-law", "nw.csv row 9: halo:77", b"{}")
    sign_in(app_client, "lee@msp.example")  # tech, Contoso Dental only

    listed = app_client.get("/intake/quarantine")
    assert listed.status_code == 200
    assert '<p id="held-count"><strong>1</strong> item(s) held.</p>' in listed.text
    assert "cw.csv row 3: connectwise:24002" in listed.text
    assert "nw.csv row 9" not in listed.text
    tickets = app_client.get("/tickets")
    assert "1 message(s) or row(s) could not be taken" in tickets.text

    shown = app_client.get(f"/intake/quarantine/{contoso}")
    assert shown.status_code == 200
    assert "the database refused it" in shown.text
    assert "Printer &lt;script&gt;alert(1)&lt;/script&gt;" in shown.text  # content, escaped
    assert "<script>alert(1)" not in shown.text

    other = app_client.get(f"/intake/quarantine/{northwind}")
    missing = app_client.get("/intake/quarantine/99999")
    assert other.status_code == missing.status_code == 404
    assert f"There is no quarantined item {northwind}." in other.text
    assert "There is no quarantined item 99999." in missing.text


def test_a_tech_takes_an_item_again_and_dismisses_another(
    app_client: TestClient, web_rt: Runtime
) -> None:
    arrival = Arrival(
        LISA, "connectwise:24009", "reset\x00my password", "Locked out.", TicketOrigin.EXPORT
    )
    first = hold(web_rt, "contoso-dental", "cw.csv row 2", arrival.content())
    second = hold(web_rt, "contoso-dental", "cw.csv row 3", b"{}")
    csrf = sign_in(app_client, "lee@msp.example")

    taken = app_client.post(f"/intake/quarantine/{first}/retry", data={"csrf": csrf})
    assert taken.status_code == 200  # followed the redirect to the item
    with web_rt.db.reading() as session:
        ticket = session.scalars(
            select(Ticket).where(Ticket.psa_ticket_id == "connectwise:24009")
        ).one()
        assert ticket.subject == "reset my password"
    assert f"Item {first} is ticket {ticket.id} now." in taken.text
    assert f'href="/tickets/{ticket.id}"' in taken.text

    dismissed = app_client.post(f"/intake/quarantine/{second}/dismiss", data={"csrf": csrf})
    assert dismissed.status_code == 200 and f"Item {second} dismissed." in dismissed.text
    assert '<p id="held-count"><strong>0</strong> item(s) held.</p>' in dismissed.text
    with web_rt.db.reading() as session:
        statuses = session.scalars(select(Quarantined.status).order_by(Quarantined.id)).all()
        assert list(statuses) == ["taken", "dismissed"]


def test_a_viewer_may_look_but_not_act_and_every_change_needs_the_csrf_token(
    app_client: TestClient, web_rt: Runtime
) -> None:
    item = hold(web_rt, "contoso-dental", "cw.csv row 2", b"{}")
    csrf = sign_in(app_client, "vic@msp.example")  # viewer, Contoso Dental
    page = app_client.get(f"/intake/quarantine/{item}")
    assert page.status_code == 200 and "Take it again" not in page.text
    refused = app_client.post(f"/intake/quarantine/{item}/dismiss", data={"csrf": csrf})
    assert refused.status_code == 403
    app_client.post("/logout", data={"csrf": csrf})
    sign_in(app_client, "lee@msp.example")
    forged = app_client.post(f"/intake/quarantine/{item}/dismiss", data={"csrf": "forged"})
    assert forged.status_code == 403
    with web_rt.db.reading() as session:
        assert session.scalar(select(Quarantined.status)) == "held"
