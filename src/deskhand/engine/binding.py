"""Checks that a step stays inside its ticket's tenant, whoever proposed or edited it.

A specialist (a plugin) or an approver's edit could name an object of another tenant, or
another ticket: the ids are looked up in *this* tenant's systems before anything is stored or
run, and a step that fails is never performed.
"""

from __future__ import annotations

from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import Facts, NoteParams, Params, ReplyParams
from deskhand.engine.ticket_origin import Outside, outside_psa
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
        _check_outside(params, connectors, ticket, outside)
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


def _check_outside(params: Params, connectors: Connectors, ticket: str, outside: Outside) -> None:
    """A ticket no PSA holds keeps its notes in deskhand and is answered by e-mail: a reply
    needs the tenant's SMTP, since no PSA would send it; nothing else writes to such a ticket."""
    if isinstance(params, NoteParams):
        return
    if isinstance(params, ReplyParams):
        if connectors.mail is not None:
            return
        raise BindingError(
            f"Ticket {ticket} {outside.why}: no PSA holds it, and the tenant sends no e-mail "
            "of its own, so deskhand has no way to send this reply.",
            hint="Add a `mail:` section with `kind: smtp` to the tenant's connection file (then "
            f"run `deskhand tenants doctor`), or answer the requester in {outside.answer_in}.",
        )
    raise BindingError(
        f"Ticket {ticket} {outside.why}: no PSA holds it, so deskhand cannot do this on it.",
        hint=f"Do it in {outside.answer_in}.",
    )
