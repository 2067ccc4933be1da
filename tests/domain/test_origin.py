"""Where a ticket came from says whether a PSA holds it, and where a technician answers it
instead."""

from __future__ import annotations

from deskhand.domain.origin import Outside, TicketOrigin, outside_psa


def test_only_a_ticket_of_the_tenants_psa_is_held_by_a_psa() -> None:
    assert outside_psa(TicketOrigin.PSA) is None
    assert outside_psa("psa", "ConnectWise Manage") is None
    assert outside_psa(TicketOrigin.MAILBOX) == Outside(
        "arrived by e-mail in the tenant's support mailbox", "your mail client"
    )
    assert outside_psa("export", "ConnectWise Manage") == Outside(
        "was imported from a ConnectWise Manage export", "ConnectWise Manage"
    )
