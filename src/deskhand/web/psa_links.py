"""Links from deskhand into the PSA: a ticket's page in Syncro, from the address of the
tenant's Syncro account (``https://acme.syncromsp.com/api/v1`` → ``…/tickets/ID``)."""

from __future__ import annotations

from urllib.parse import quote


def psa_ticket_url(psa: object, psa_ticket_id: str) -> str | None:
    """The ticket's page in the tenant's PSA; None when the PSA has no address to link to (the
    sandbox, a ticket deskhand keeps itself)."""
    settings = getattr(psa, "settings", None)
    base = getattr(settings, "base_url", None)
    if not isinstance(base, str) or not base.startswith(("https://", "http://")):
        return None
    return f"{base.removesuffix('/api/v1')}/tickets/{quote(psa_ticket_id, safe='')}"
