"""Links from deskhand into the PSA: a ticket's page in Syncro, from the address of the
tenant's Syncro account (``https://acme.syncromsp.com/api/v1`` → ``…/tickets/ID``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import quote

from markupsafe import Markup, escape

from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError
from deskhand.store.models import Tenant

log = logging.getLogger(__name__)


def psa_ticket_url(psa: object, psa_ticket_id: str) -> str | None:
    """The ticket's page in the tenant's PSA; None when the PSA has no address to link to (the
    sandbox, a ticket deskhand keeps itself)."""
    settings = getattr(psa, "settings", None)
    base = getattr(settings, "base_url", None)
    if not isinstance(base, str) or not base.startswith(("https://", "http://")):
        return None
    return f"{base.removesuffix('/api/v1')}/tickets/{quote(psa_ticket_id, safe='')}"


class PsaLinks:
    """``psa_link(tenant_id, psa_ticket_id, in_psa)`` for a page's templates: each tenant's PSA
    is looked up once per page, and a tenant whose connection file cannot be read gets no links
    rather than a broken page (the tenant's own page says what is wrong with it)."""

    def __init__(self, rt: Runtime, tenants: Mapping[str, Tenant]) -> None:
        self._rt = rt
        self._tenants = tenants
        self._psa: dict[str, object | None] = {}

    def __call__(self, tenant_id: str, psa_ticket_id: str, in_psa: bool = True) -> str | None:
        if not in_psa or not psa_ticket_id:
            return None
        if tenant_id not in self._psa:
            self._psa[tenant_id] = self._lookup(tenant_id)
        psa = self._psa[tenant_id]
        return None if psa is None else psa_ticket_url(psa, psa_ticket_id)

    def _lookup(self, tenant_id: str) -> object | None:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            return None
        try:
            return self._rt.connectors(tenant).psa
        except DeskhandError as error:
            log.warning("no PSA links for tenant %s: %s", tenant_id, error)
            return None


def link_psa_mentions(text: str, psa_ticket_id: str, url: str | None) -> Markup:
    """``text``, escaped, with each "PSA ticket <id>" in it a link to the ticket in the PSA."""
    escaped = escape(text)
    if not url or not psa_ticket_id:
        return escaped
    mention = re.compile(rf"PSA ticket {re.escape(str(escape(psa_ticket_id)))}(?![\w-])")
    link = Markup('<a href="{}" class="psa" target="_blank" rel="noopener">PSA ticket {}</a>')
    linked = str(link.format(url, psa_ticket_id))
    return Markup(mention.sub(lambda _: linked, escaped))
