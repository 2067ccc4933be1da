"""Building a tenant's connectors from its configuration: every connector call carries one
tenant, and a connector is never shared between tenants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from deskhand.connectors.ad import ActiveDirectory
from deskhand.connectors.m365 import M365
from deskhand.connectors.psa import Psa
from deskhand.errors import DeskhandError

if TYPE_CHECKING:
    from deskhand.connectors.sandbox.store import SandboxStore
    from deskhand.store.models import Tenant


@dataclass(frozen=True)
class Connectors:
    """One tenant's outside systems."""

    tenant_id: str
    psa: Psa
    m365: M365
    ad: ActiveDirectory


class Factory:
    """Makes ``Connectors`` for a tenant according to its ``connector`` setting."""

    def __init__(self, sandbox: SandboxStore) -> None:
        self.sandbox = sandbox

    def for_tenant(self, tenant: Tenant) -> Connectors:
        if tenant.connector == "sandbox":
            from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa

            return Connectors(
                tenant_id=tenant.id,
                psa=SandboxPsa(self.sandbox, tenant.id),
                m365=SandboxM365(self.sandbox, tenant.id),
                ad=SandboxAD(self.sandbox, tenant.id),
            )
        raise DeskhandError(
            f"Tenant {tenant.id} uses the connector {tenant.connector!r}, which this deskhand "
            "does not have.",
            hint="Only 'sandbox' exists so far.",
        )
