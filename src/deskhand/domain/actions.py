"""The parameters of deskhand's actions, and how a parameter declares that it names an object
in the tenant's systems (``Reference``). Pure types: the actions themselves — blast radius,
draft wording, undo, snapshot, act and read-back — are in ``deskhand.actions``, one class each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from deskhand.errors import DeskhandError


class ActionError(DeskhandError):
    """An unknown action, or parameters that do not fit it."""


class Params(BaseModel):
    """Base of every action's parameters: strict, so a typo is an error, not a silent extra."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ReferenceKind = Literal["user", "group", "ad_group", "ad_user", "licence", "ticket", "requester"]
# The kinds that name a group (a privileged one raises a step's radius), and every kind that
# names an object in the tenant's directory.
GROUP_KINDS: frozenset[ReferenceKind] = frozenset({"group", "ad_group"})
DIRECTORY_KINDS: frozenset[ReferenceKind] = frozenset(
    {"user", "group", "ad_group", "ad_user", "licence"}
)
# The kinds that name what a person is given (a group, a licence), not a person: what an
# approver may leave out of a plan (deskhand.engine.leave_out).
GIVEN_KINDS: frozenset[ReferenceKind] = frozenset({"group", "ad_group", "licence"})


@dataclass(frozen=True)
class Reference:
    """Declares that a parameter names an object in the tenant's own systems. The engine looks
    it up there before a step is stored, approved or run — the id is the truth — and fills in
    the parameters it ``shows`` (display names) from what it found, never from the proposal or
    an edit. A ``ticket`` must be the step's own ticket; a ``requester`` its requester."""

    kind: ReferenceKind
    shows: tuple[str, ...] = ()


USER = Reference("user", shows=("user_principal_name",))
GROUP = Reference("group", shows=("group_name",))
AD_GROUP = Reference("ad_group", shows=("group_name",))  # a group in on-premises AD
AD_MANAGER = Reference("ad_user", shows=("manager_principal_name",))  # a user in on-premises AD
LICENCE = Reference("licence", shows=("sku_name",))
TICKET = Reference("ticket")
REQUESTER = Reference("requester")


class UserParams(Params):
    user_id: Annotated[str, USER] = Field(description="Directory id of the user")
    user_principal_name: str = Field(description="The user's sign-in name, from the directory")


class PasswordResetParams(UserParams):
    force_change: bool = Field(
        True,
        title="password change at sign-in",
        description="Make the user choose a new password at sign-in",
    )


class GroupMemberParams(UserParams):
    group_id: Annotated[str, GROUP] = Field(description="Directory id of the group")
    group_name: str = Field(description="The group's name, from the directory")


class AdGroupMemberParams(UserParams):
    group_id: Annotated[str, AD_GROUP] = Field(description="Active Directory id of the group")
    group_name: str = Field(description="The group's name, from Active Directory")


_NOT_IN_LOGON_NAMES = set('"/\\[]:;|=,+*?<>@')


def _logon_name(value: str) -> str:
    """A pre-Windows 2000 logon name (sAMAccountName) as Active Directory takes it."""
    bad = sorted({c for c in value if c in _NOT_IN_LOGON_NAMES or c.isspace() or ord(c) < 32})
    if bad or not 1 <= len(value) <= 20 or value.endswith("."):
        raise ValueError(
            'a logon name has 1 to 20 characters, no spaces, none of " / \\ [ ] : ; | = , + * '
            "? < > @ and no full stop at the end" + (f" (found {' '.join(bad)!r})" if bad else "")
        )
    return value


def _sign_in_name(value: str) -> str:
    """A user principal name: name@domain, without spaces."""
    name, at, domain = value.partition("@")
    if not name or not at or "." not in domain or any(c.isspace() or c == "@" for c in domain):
        raise ValueError("a sign-in name is name@domain, as in anna.berg@contoso.com")
    if any(c.isspace() or ord(c) < 32 for c in name):
        raise ValueError("a sign-in name has no spaces")
    return value


def _organisational_unit(value: str) -> str:
    """An OU's distinguished name as a technician would give it; the Active Directory
    connector checks it fully (syntax, inside the domain, an OU that exists)."""
    text = value.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("an OU's distinguished name has no control characters")
    if not text.upper().startswith("OU=") or "=" not in text[3:]:
        raise ValueError(
            "give the OU's distinguished name, as in OU=Disabled Users,DC=contoso,DC=local "
            "(Active Directory Users and Computers → View → Advanced Features → the OU → "
            "Properties → Attribute Editor → distinguishedName)"
        )
    return text


OrganisationalUnit = Annotated[
    str, Field(min_length=4, max_length=1000), AfterValidator(_organisational_unit)
]


class MoveToOuParams(UserParams):
    ou: OrganisationalUnit = Field(
        title="organisational unit",
        description="The distinguished name of the OU the account moves to",
    )


def _country_code(value: str | None) -> str | None:
    if not value:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValueError("a usage location is a country's two letters (ISO 3166), as in GB or DE")
    return value.upper()


class CreateAdUserParams(Params):
    display_name: str = Field(min_length=1, max_length=256, title="display name")
    given_name: str = Field(min_length=1, max_length=64, title="first name")
    surname: str = Field(min_length=1, max_length=64, title="last name")
    sam_account_name: Annotated[str, AfterValidator(_logon_name)] = Field(
        title="logon name",
        description="The pre-Windows 2000 logon name: at most 20 characters, no spaces",
    )
    user_principal_name: Annotated[str, AfterValidator(_sign_in_name)] = Field(
        max_length=256,
        title="sign-in name",
        description="The user's sign-in name, name@domain",
    )
    ou: OrganisationalUnit = Field(
        title="organisational unit",
        description="The distinguished name of the OU the account is created in",
    )
    department: str | None = Field(None, max_length=64, title="department")
    job_title: str | None = Field(None, max_length=128, title="job title")
    usage_location: Annotated[str | None, AfterValidator(_country_code)] = Field(
        None,
        title="usage location",
        description="The country's two letters (ISO 3166), set as the account's country (c): "
        "the directory sync takes the Microsoft 365 usage location from it",
    )
    manager: Annotated[str | None, AD_MANAGER] = Field(
        None, title="manager", description="The manager's account in Active Directory"
    )
    manager_principal_name: str | None = Field(
        None, title="manager", description="The manager's sign-in name, from Active Directory"
    )


class LicenseParams(UserParams):
    sku_id: Annotated[str, LICENCE] = Field(description="Id of the licence (SKU)")
    sku_name: str = Field(description="The licence's name, from the tenant's subscriptions")


class SeatParams(Params):
    sku_id: Annotated[str, LICENCE] = Field(description="Id of the licence (SKU)")
    sku_name: str = Field(description="The licence's name, from the tenant's subscriptions")
    seats: int = Field(ge=1, le=50, title="seats", description="Seats to add to the subscription")


class NoteParams(Params):
    psa_ticket_id: Annotated[str, TICKET]
    body: str = Field(min_length=1, max_length=20000, title="text")


class TimeParams(Params):
    psa_ticket_id: Annotated[str, TICKET]
    minutes: int = Field(
        ge=1, le=480, title="minutes", description="Technician minutes to log on the ticket"
    )
    billable: bool = Field(
        title="billing", description="Billable on the client's invoice, or covered by a plan"
    )
    notes: str = Field(min_length=1, max_length=2000, title="notes")


class StatusParams(Params):
    psa_ticket_id: Annotated[str, TICKET]
    status: str = Field(
        min_length=1,
        max_length=50,
        title="status",
        description="The PSA's status, as the PSA words it",
    )


class ReplyParams(Params):
    psa_ticket_id: Annotated[str, TICKET]
    to: Annotated[str, REQUESTER] = Field(description="The requester's address")
    body: str = Field(min_length=1, max_length=20000, title="text")


def references(params: type[Params]) -> dict[str, Reference]:
    """The parameters of ``params`` that name objects, as declared on the model's fields."""
    found = {}
    for name, info in params.model_fields.items():
        for meta in info.metadata:
            if isinstance(meta, Reference):
                found[name] = meta
    return found


@dataclass(frozen=True)
class Facts:
    """What the directory says about the objects a step touches, read by the engine, never
    taken from the ticket: it is what decides a step's blast radius."""

    privileged_groups: frozenset[str] = frozenset()
