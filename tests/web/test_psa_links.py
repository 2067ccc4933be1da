"""A PSA ticket number links to the ticket in the PSA: Syncro's page, from the address of the
tenant's Syncro account; the sandbox and tickets deskhand keeps itself have no page to link."""

from __future__ import annotations

from types import SimpleNamespace

from deskhand.connectors.syncro import SyncroSettings
from deskhand.web.psa_links import psa_ticket_url


def test_a_syncro_ticket_links_to_its_page_in_syncro() -> None:
    syncro = SimpleNamespace(
        settings=SyncroSettings(base_url="https://acme.syncromsp.com", customer_id=4107)
    )
    assert psa_ticket_url(syncro, "91234") == "https://acme.syncromsp.com/tickets/91234"
    assert psa_ticket_url(syncro, "a/b") == "https://acme.syncromsp.com/tickets/a%2Fb"


def test_a_psa_without_an_address_has_no_link() -> None:
    assert psa_ticket_url(object(), "1") is None
    assert psa_ticket_url(SimpleNamespace(settings=None), "1") is None
