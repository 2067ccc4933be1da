"""Checks that a step stays inside its ticket's tenant, whoever proposed or edited it.

A specialist (a plugin) or an approver's edit could name an object of another tenant, or
another ticket: the ids are looked up in *this* tenant's systems before anything is stored or
run, and a step that fails is never performed.
"""

from __future__ import annotations

from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import Facts, Params
from deskhand.engine.ticket_origin import outside_psa
from deskhand.errors import DeskhandError


class BindingError(DeskhandError):
    """The step names something outside its ticket's tenant."""


def check_binding(params: Params, connectors: Connectors, psa_ticket_id: str) -> Facts:
    """Raise BindingError unless every object the step names is this tenant's; return the
    directory facts that decide the step's blast radius."""
    values = params.model_dump()
    ticket = values.get("psa_ticket_id")
    if ticket is not None and ticket != psa_ticket_id:
        raise BindingError(f"The step writes to PSA ticket {ticket}, not this ticket's.")
    if ticket is not None and (outside := outside_psa(ticket)) is not None:
        raise BindingError(
            f"Ticket {ticket} {outside.why}: the tenant's PSA does not have it, so deskhand "
            "writes no note or reply on it.",
            hint=f"Answer the requester in {outside.answer_in}.",
        )
    privileged: set[str] = set()
    try:
        if "user_id" in values:
            connectors.m365.get_user(values["user_id"])
        if "group_id" in values:
            group = connectors.m365.get_group(values["group_id"])
            if group.privileged:
                privileged.add(group.id)
        if "sku_id" in values:
            sku_ids = {sku.id for sku in connectors.m365.subscribed_skus()}
            if values["sku_id"] not in sku_ids:
                raise BindingError(f"The licence {values['sku_id']} is not this tenant's.")
    except ConnectorError as error:
        raise BindingError(f"The step names something this tenant does not have: {error}") from None
    return Facts(privileged_groups=frozenset(privileged))
