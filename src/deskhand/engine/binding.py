"""Binds a step to the tenant's own systems, whoever proposed or edited it.

Every parameter an action declares as a reference (``deskhand.domain.actions.Reference``) is
looked up in *this* tenant's systems before a step is stored, approved or run: the id is the
truth, and every display field it shows (a user's sign-in name, a group's name) is filled in
from what the directory returned — never taken from a specialist's proposal or an approver's
edit. A step that names something the tenant does not have, another ticket, or someone other
than the requester is never performed. What the directory says about the objects (a privileged
group) is returned as the facts that decide the step's blast radius.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deskhand.actions.contract import Action
from deskhand.actions.registry import catalogue
from deskhand.connectors.capabilities import AD_GROUPS
from deskhand.connectors.errors import ConnectorError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import (
    ActionError,
    Facts,
    NoteParams,
    Params,
    Reference,
    ReplyParams,
)
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.domain.origin import Outside, outside_psa
from deskhand.errors import DeskhandError
from deskhand.store.models import Ticket
from deskhand.triage.warning_signs import canonical_address

DirectoryObject = DirectoryUser | DirectoryGroup | Sku


class BindingError(DeskhandError):
    """The step names something outside its ticket's tenant, or not what it shows."""


@dataclass(frozen=True)
class TicketRef:
    """The ticket a step belongs to: the only one it may write to, whom it may answer, and
    whether a PSA holds it."""

    psa_ticket_id: str
    requester_email: str
    outside: Outside | None  # why no PSA holds it (mailed in, imported); None: the tenant's does

    @classmethod
    def of(cls, ticket: Ticket) -> TicketRef:
        """The stored ticket as its steps are bound to it."""
        outside = outside_psa(ticket.origin, ticket.exported_from)
        return cls(ticket.psa_ticket_id, ticket.requester.email, outside)


@dataclass(frozen=True)
class Bound:
    """A step's parameters as the tenant's systems have them: ids as the directory spells
    them, display fields from the directory, and the objects and facts found on the way."""

    params: Params
    facts: Facts
    objects: dict[str, DirectoryObject] = field(default_factory=dict)  # by parameter name
    # Display fields the caller gave that are not what the directory shows for the id:
    # (parameter, given, from the directory).
    mismatched: tuple[tuple[str, str, str], ...] = ()


def bind(
    spec: Action,
    raw: Mapping[str, Any],
    connectors: Connectors,
    ticket: TicketRef,
    created: frozenset[str] = frozenset(),
) -> Bound:
    """``raw`` validated for ``spec`` and resolved against the tenant's systems; a
    BindingError (or ActionError for parameters that do not fit) naming what is wrong — also
    when the tenant's connectors lack a capability the action needs.

    ``created``: the sign-in names (folded) of the users an earlier step of the same plan
    creates. A user reference that names one by its sign-in name is kept as that name (it is
    the starter's id until they exist): looked up when the user exists, to check it is them,
    and not before."""
    missing = spec.missing(connectors)
    if missing:
        raise BindingError(
            f"{spec.name} cannot run for this tenant: {'; '.join(missing)}.",
            hint="Connect the system in the tenant's connection file (`deskhand tenants "
            "doctor` shows what each connection can do), or do this step by hand.",
        )
    values = dict(spec.validate(raw).model_dump(mode="json"))
    found: dict[str, DirectoryObject] = {}
    privileged: set[str] = set()
    mismatched: list[tuple[str, str, str]] = []
    try:
        for name, reference in spec.references.items():
            value = values[name]
            if reference.kind == "ticket":
                _check_ticket(spec, values, str(value), connectors, ticket)
                continue
            if reference.kind == "requester":
                _check_requester(name, str(value), ticket)
                continue
            if value is None:  # an optional reference left out (a new user with no manager)
                values.update(dict.fromkeys(reference.shows))
                continue
            if reference.kind == "user" and str(value).casefold() in created:
                _keep_new_user(reference, str(value), values, connectors)
                continue
            obj = _look_up(reference, str(value), connectors)
            found[name] = obj
            values[name] = obj.id
            if isinstance(obj, DirectoryGroup) and obj.privileged:
                privileged.add(obj.id)
            for shown, directory_value in _shown(reference, obj).items():
                given = values.get(shown)
                if given is not None and given != directory_value:
                    mismatched.append((shown, str(given), directory_value))
                values[shown] = directory_value
    except ConnectorError as error:
        raise BindingError(f"The step names something this tenant does not have: {error}") from None
    try:
        params = spec.validate(values)
    except ActionError as error:  # a directory value that does not fit (should not happen)
        raise BindingError(str(error)) from None
    try:
        privileged |= spec.facts(params, connectors).privileged_groups
    except ConnectorError as error:
        raise BindingError(f"The step names something this tenant does not have: {error}") from None
    return Bound(
        params=params,
        facts=Facts(privileged_groups=frozenset(privileged)),
        objects=found,
        mismatched=tuple(mismatched),
    )


def _keep_new_user(
    reference: Reference, value: str, values: dict[str, Any], connectors: Connectors
) -> None:
    """A starter named by the sign-in name an earlier step creates them with: not there yet
    when the plan is made; once they exist, it must be them (the same sign-in name)."""
    try:
        found = connectors.m365.get_user(value)
    except NotFoundError:
        found = None
    if found is not None and found.user_principal_name.casefold() != value.casefold():
        raise BindingError(
            f"{value} now names {found.user_principal_name}, not the user this plan creates."
        )
    values.update(dict.fromkeys(reference.shows, value))


def created_by(steps: Sequence[tuple[str, Mapping[str, Any]]]) -> frozenset[str]:
    """The sign-in names (folded) of the users these steps create."""
    names = set()
    for name, params in steps:
        made = catalogue().get(name)
        field = made.creates if made is not None else None
        if field and params.get(field):
            names.add(str(params[field]).casefold())
    return frozenset(names)


def _look_up(reference: Reference, value: str, connectors: Connectors) -> DirectoryObject:
    if reference.kind == "user":
        return connectors.m365.get_user(value)  # an id or a sign-in name; the id comes back
    if reference.kind == "group":
        return connectors.m365.get_group(value)
    if reference.kind == "ad_group":
        return AD_GROUPS.of(connectors).get_group(value)
    if reference.kind == "ad_user":
        return connectors.ad.get_user(value)  # as AD knows them: its own id (objectGUID)
    for sku in connectors.m365.subscribed_skus():
        # by id, part number or product name ("Microsoft 365 Business Premium" in a template)
        if value in (sku.id, sku.part_number) or value.casefold() == sku.display_name.casefold():
            return sku
    raise BindingError(f"The licence {value} is not one this tenant subscribes to.")


def _shown(reference: Reference, obj: DirectoryObject) -> dict[str, str]:
    """What each display field of ``reference`` says for ``obj``: a user's sign-in name, a
    group's or a licence's name, whatever the parameter is called (manager_principal_name)."""
    value = obj.user_principal_name if isinstance(obj, DirectoryUser) else obj.display_name
    if not value:
        raise ActionError(
            f"Nothing in the directory fills in {reference.shows} for a {reference.kind}."
        )
    return dict.fromkeys(reference.shows, value)


def _check_requester(name: str, value: str, ticket: TicketRef) -> None:
    if canonical_address(value) != canonical_address(ticket.requester_email):
        raise BindingError(
            f"The step would write to {value}, not to the ticket's requester "
            f"({ticket.requester_email}).",
            hint=f"{name} is always the requester; to tell someone else, reply from the PSA.",
        )


def _check_ticket(
    spec: Action, values: dict[str, Any], value: str, c: Connectors, ticket: TicketRef
) -> None:
    if value != ticket.psa_ticket_id:
        raise BindingError(f"The step writes to PSA ticket {value}, not this ticket's.")
    if ticket.outside is not None:
        _check_outside(spec.Params, c, value, ticket.outside)


def _check_outside(
    params: type[Params], connectors: Connectors, ticket: str, outside: Outside
) -> None:
    """A ticket no PSA holds keeps its notes in deskhand and is answered by e-mail: a reply
    needs the tenant's SMTP, since no PSA would send it; nothing else writes to such a ticket."""
    if issubclass(params, NoteParams):
        return
    if issubclass(params, ReplyParams):
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
