"""What the cards of the approval queues need besides the cards: the tenants the user sees (by
name), those they may approve for, and links to the PSA's tickets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from deskhand.engine import schedule
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Tenant
from deskhand.web.psa_links import PsaLinks, link_psa_mentions
from deskhand.web.security import Viewer


def visible_tenants(rt: Runtime, who: Viewer) -> dict[str, Tenant]:
    """The tenants the user may see, by id, in the order of their names."""
    with rt.db.reading() as session:
        rows = session.scalars(select(Tenant).order_by(Tenant.name)).all()
    return {t.id: t for t in rows if who.sees(t.id)}


def card_context(rt: Runtime, who: Viewer) -> dict[str, Any]:
    tenants = visible_tenants(rt, who)
    return {
        "tenants": tenants,
        "approving": {t.id for t in tenants.values() if who.may_approve(rt, t)},
        "psa_link": PsaLinks(rt, tenants),
        "link_psa": link_psa_mentions,
        # each tenant's time zone: a scheduled plan says when it runs in the tenant's time
        "zones": {tenant_id: schedule.time_zone(rt, t) for tenant_id, t in tenants.items()},
    }
