"""What specialists are tried on: a ticket, and every combination of the directory objects a
plan must cope with (no target, one cloud user, a synced locked one, a disabled one, two; an
ordinary group, a privileged one, a distribution list; a licence with and without free seats;
adding and removing). Synthetic: every name and address is invented."""

from __future__ import annotations

import itertools

from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.specialists.contract import PlanContext, TenantView, TicketView, TriageView

TICKET = TicketView(
    id=7,
    tenant_id="contoso-dental",
    psa_ticket_id="1042",
    subject="Please help",
    body="See subject.",
    requester_email="karen.whitfield@contosodental.example",
    requester_name="Karen Whitfield",
)
CLOUD = DirectoryUser(
    id="u-lisa",
    user_principal_name="lisa.chen@contosodental.example",
    display_name="Lisa Chen",
    licenses=("sku-basic",),
)
SYNCED = DirectoryUser(
    id="u-emily",
    user_principal_name="emily.nguyen@contosodental.example",
    display_name="Emily Nguyen",
    synced=True,
    locked=True,
)
DISABLED = DirectoryUser(
    id="u-old",
    user_principal_name="old@contosodental.example",
    display_name="Old",
    account_enabled=False,
)
GROUP = DirectoryGroup(id="g-finance", display_name="Finance Share")
ADMINS = DirectoryGroup(id="g-admins", display_name="Domain Admins", privileged=True)
LIST = DirectoryGroup(id="g-all", display_name="All Staff", mail_enabled=True)
FULL = Sku(
    id="sku-premium", part_number="SPB", display_name="Business Premium", total=5, consumed=5
)
FREE = Sku(id="sku-basic", part_number="BASIC", display_name="Business Basic", total=12, consumed=9)


def contexts(intent: str) -> list[PlanContext]:
    """Every combination of the situations a plan must cope with, for one intent."""
    variants = []
    for targets, groups, skus, removal in itertools.product(
        [(), (CLOUD,), (SYNCED,), (DISABLED,), (CLOUD, SYNCED)],
        [(), (GROUP,), (ADMINS,), (LIST,), (GROUP, ADMINS)],
        [(), (FULL,), (FREE,)],
        [False, True],
    ):
        variants.append(
            PlanContext(
                tenant=TenantView(id="contoso-dental", name="Contoso Dental"),
                triage=TriageView(intent=intent, confidence=0.9, removal=removal),
                requester=None,
                targets=targets,
                groups=groups,
                skus=skus,
                identity="authorised_contact",
            )
        )
    return variants
