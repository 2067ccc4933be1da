"""A PSA ticket number links to the ticket in the PSA: Syncro's page, from the address of the
tenant's Syncro account; the sandbox and tickets deskhand keeps itself have no page to link."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from deskhand.connectors.factory import Connectors
from deskhand.connectors.syncro import SyncroSettings
from deskhand.domain.origin import TicketOrigin
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Tenant, Ticket
from deskhand.web.psa_links import link_psa_mentions, psa_ticket_url

APPROVER = "dana@msp.example"
GRACE = "grace.liu@northwindlaw.example"


def test_a_syncro_ticket_links_to_its_page_in_syncro() -> None:
    syncro = SimpleNamespace(
        settings=SyncroSettings(base_url="https://acme.syncromsp.com", customer_id=4107)
    )
    assert psa_ticket_url(syncro, "91234") == "https://acme.syncromsp.com/tickets/91234"
    assert psa_ticket_url(syncro, "a/b") == "https://acme.syncromsp.com/tickets/a%2Fb"


def test_a_psa_without_an_address_has_no_link() -> None:
    assert psa_ticket_url(object(), "1") is None
    assert psa_ticket_url(SimpleNamespace(settings=None), "1") is None


def test_link_psa_mentions_links_the_ticket_and_escapes_the_rest() -> None:
    url = "https://acme.syncromsp.com/tickets/12"
    linked = link_psa_mentions("Reply to <b>x</b> on PSA ticket 12", "12", url)
    assert linked == (
        'Reply to &lt;b&gt;x&lt;/b&gt; on <a href="https://acme.syncromsp.com/tickets/12" '
        'class="psa" target="_blank" rel="noopener">PSA ticket 12</a>'
    )
    assert link_psa_mentions("on PSA ticket 12", "12", None) == "on PSA ticket 12"
    assert "<a" not in link_psa_mentions("on PSA ticket 123", "12", url).replace("123", "")


ACME = "https://acme.syncromsp.com"


class AtAcme:
    """A PSA with the address of a Syncro account: what links are made from."""

    settings = SyncroSettings(base_url=ACME, customer_id=4107)

    def __init__(self, psa: object) -> None:
        self.psa = psa

    def __getattr__(self, name: str) -> object:
        return getattr(self.psa, name)


@pytest.fixture
def contoso_on_syncro(web_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The demo, with contoso-dental's PSA (still the sandbox's) at a Syncro address."""
    real = Runtime.connectors

    def connectors(self: Runtime, tenant: Tenant) -> Connectors:
        found = real(self, tenant)
        if tenant.id != "contoso-dental":
            return found
        return dataclasses.replace(found, psa=AtAcme(found.psa))

    monkeypatch.setattr(Runtime, "connectors", connectors)
    return web_rt


def psa_links(page: str) -> set[str]:
    return set(re.findall(rf'href="{ACME}/tickets/([^"]+)"', page))


def test_cards_and_the_human_queue_link_each_psa_ticket_to_the_psa(
    signed_in: tuple[TestClient, str], contoso_on_syncro: Runtime
) -> None:
    client, _ = signed_in
    rt = contoso_on_syncro
    add_ticket(rt, "northwind-law", GRACE, "Password", "I forgot my password, please reset it")
    Worker(rt, "w").run_once()
    plans = approvals.list_plans(rt, APPROVER)
    contoso = {p.psa_ticket_id for p in plans if p.tenant_id == "contoso-dental"}
    assert contoso and len(contoso) < len(plans)  # other tenants' plans are on the sandbox

    page = client.get("/plans").text
    assert psa_links(page) == contoso
    # The reply step says "PSA ticket N" in words: that is a link too.
    assert re.search(rf'<a href="{ACME}/tickets/\d+" class="psa"[^>]*>PSA ticket \d+</a>', page)
    assert psa_links(client.get("/queue").text) == contoso
    assert psa_links(client.get("/tickets").text) >= contoso  # every contoso ticket, linked

    # A ticket that came in by e-mail is not in the PSA: no link for it.
    mailed = next(p for p in plans if p.tenant_id == "contoso-dental")
    with rt.db.session() as session:
        ticket = session.get(Ticket, mailed.ticket_id)
        assert ticket is not None
        ticket.origin = TicketOrigin.MAILBOX.value
    assert psa_links(client.get("/plans").text) == contoso - {mailed.psa_ticket_id}
    assert mailed.psa_ticket_id not in psa_links(client.get("/tickets").text)

    # An escalated ticket is linked from the human queue.
    rejected = next(p for p in plans if p.tenant_id == "contoso-dental" and p is not mailed)
    approvals.reject_plan(rt, rejected.run_id, APPROVER, "the caller sounded wrong")
    assert rejected.psa_ticket_id in psa_links(client.get("/escalations").text)
