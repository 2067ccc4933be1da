"""The actions deskhand can take: each one typed, with the parameters it needs, its blast
radius, what it looks like in a draft, and how it is undone (or that it cannot be).

This module is pure: it says *what* an action is. How it is snapshotted, performed and verified
against a connector lives in ``deskhand.engine.operations``, the only place that acts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deskhand.domain.risks import BlastRadius
from deskhand.errors import DeskhandError


class ActionError(DeskhandError):
    """An unknown action, or parameters that do not fit it."""


class Params(BaseModel):
    """Base of every action's parameters: strict, so a typo is an error, not a silent extra."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ReferenceKind = Literal["user", "group", "licence", "ticket", "requester"]


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
LICENCE = Reference("licence", shows=("sku_name",))
TICKET = Reference("ticket")
REQUESTER = Reference("requester")


class UserParams(Params):
    user_id: Annotated[str, USER] = Field(description="Directory id of the user")
    user_principal_name: str = Field(description="The user's sign-in name, from the directory")


class PasswordResetParams(UserParams):
    force_change: bool = Field(True, description="Make the user choose a new password at sign-in")


class GroupMemberParams(UserParams):
    group_id: Annotated[str, GROUP] = Field(description="Directory id of the group")
    group_name: str = Field(description="The group's name, from the directory")


class LicenseParams(UserParams):
    sku_id: Annotated[str, LICENCE] = Field(description="Id of the licence (SKU)")
    sku_name: str = Field(description="The licence's name, from the tenant's subscriptions")


class SeatParams(Params):
    sku_id: Annotated[str, LICENCE] = Field(description="Id of the licence (SKU)")
    sku_name: str = Field(description="The licence's name, from the tenant's subscriptions")
    seats: int = Field(ge=1, le=50, description="Seats to add to the subscription")


class NoteParams(Params):
    psa_ticket_id: Annotated[str, TICKET]
    body: str = Field(min_length=1, max_length=20000)


class TimeParams(Params):
    psa_ticket_id: Annotated[str, TICKET]
    minutes: int = Field(ge=1, le=480, description="Technician minutes to log on the ticket")
    billable: bool = Field(description="Billable on the client's invoice, or covered by a plan")
    notes: str = Field(min_length=1, max_length=2000)


class ReplyParams(Params):
    psa_ticket_id: Annotated[str, TICKET]
    to: Annotated[str, REQUESTER] = Field(description="The requester's address")
    body: str = Field(min_length=1, max_length=20000)


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


@dataclass(frozen=True)
class ActionSpec:
    """One action: its parameters, its blast radius, how it reads in a draft, how to undo it."""

    name: str
    params: type[Params]
    radius: BlastRadius
    summary: str  # format string over the parameters
    undo: str | None  # how to undo it; None: it cannot be undone
    privileged_radius: BlastRadius | None = None  # when the group is privileged
    # A manual step: the summary is the exact instructions a technician follows, their
    # approval is the tick that says it is done, and acting changes nothing.
    manual: bool = False
    # Whether acting twice leaves things as acting once would (set a membership, assign a
    # licence). After a takeover a step whose outcome cannot be read back is repeated only if
    # this is true; otherwise (buy seats, log time, send a reply) the run escalates instead.
    safe_to_repeat: bool = False

    @property
    def references(self) -> dict[str, Reference]:
        """Which parameters name objects in the tenant's systems, and of what kind."""
        return references(self.params)

    @property
    def shown(self) -> frozenset[str]:
        """Parameters filled in from the directory (display names): never edited directly."""
        return frozenset(name for ref in self.references.values() for name in ref.shows)

    def validate(self, raw: Mapping[str, Any]) -> Params:
        """The parameters as this action's model; an ActionError that names what is wrong."""
        try:
            return self.params.model_validate(dict(raw))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'parameters'}: {e['msg']}"
                for e in error.errors()
            )
            raise ActionError(f"Parameters for {self.name} are not valid: {problems}.") from None

    def blast_radius(self, params: Params, facts: Facts) -> BlastRadius:
        group = getattr(params, "group_id", None)
        if self.privileged_radius is not None and group in facts.privileged_groups:
            return self.privileged_radius
        return self.radius

    def describe(self, params: Params) -> str:
        """One line a technician reads in the approval queue."""
        return self.summary.format(**params.model_dump())

    def target(self, params: Params) -> str:
        """Who or what the action changes."""
        for field in ("user_principal_name", "to", "sku_name", "psa_ticket_id"):
            value = getattr(params, field, None)
            if value:
                return str(value)
        return self.name


_SPECS = (
    ActionSpec(
        "m365.reset_password",
        PasswordResetParams,
        BlastRadius.SECURITY,
        "Reset the Microsoft 365 password of {user_principal_name} (temporary password, "
        "change at next sign-in: {force_change})",
        undo=None,
        safe_to_repeat=True,
    ),
    ActionSpec(
        "m365.revoke_sessions",
        UserParams,
        BlastRadius.SECURITY,
        "Sign {user_principal_name} out of every session and device",
        undo=None,
        safe_to_repeat=True,
    ),
    ActionSpec(
        "m365.add_group_member",
        GroupMemberParams,
        BlastRadius.INTERNAL,
        "Add {user_principal_name} to the group {group_name}",
        undo="m365.remove_group_member with the same parameters",
        privileged_radius=BlastRadius.SECURITY,
        safe_to_repeat=True,
    ),
    ActionSpec(
        "m365.remove_group_member",
        GroupMemberParams,
        BlastRadius.INTERNAL,
        "Remove {user_principal_name} from the group {group_name}",
        undo="m365.add_group_member with the same parameters",
        privileged_radius=BlastRadius.SECURITY,
        safe_to_repeat=True,
    ),
    ActionSpec(
        "m365.assign_license",
        LicenseParams,
        BlastRadius.INTERNAL,
        "Assign the licence {sku_name} to {user_principal_name}",
        undo="m365.remove_license with the same parameters",
        safe_to_repeat=True,
    ),
    ActionSpec(
        "m365.remove_license",
        LicenseParams,
        BlastRadius.DESTRUCTIVE,
        "Remove the licence {sku_name} from {user_principal_name} (their services stop)",
        undo="m365.assign_license with the same parameters, within 30 days",
        safe_to_repeat=True,
    ),
    ActionSpec(
        "m365.add_license_seats",
        SeatParams,
        BlastRadius.BILLING,
        "Buy {seats} more seat(s) of {sku_name}",
        undo="reduce the seat count in the licensing portal (billing may not be refunded)",
    ),
    ActionSpec(
        "ad.reset_password",
        PasswordResetParams,
        BlastRadius.SECURITY,
        "Reset the Active Directory password of {user_principal_name} (temporary password, "
        "change at next logon: {force_change})",
        undo=None,
        safe_to_repeat=True,
    ),
    ActionSpec(
        "ad.unlock_account",
        UserParams,
        BlastRadius.SECURITY,
        "Unlock the Active Directory account of {user_principal_name}",
        undo=None,
        safe_to_repeat=True,
    ),
    # Exchange Online owns distribution lists and mail-enabled security groups: Graph cannot
    # change their members, so these are manual steps (the draft card keys on "exchange.").
    ActionSpec(
        "exchange.add_distribution_list_member",
        GroupMemberParams,
        BlastRadius.INTERNAL,
        "Exchange admin center → Recipients → Groups → Distribution list → {group_name} → "
        "Members → Add member → {user_principal_name} → Save",
        undo="exchange.remove_distribution_list_member with the same parameters",
        privileged_radius=BlastRadius.SECURITY,
        manual=True,
        safe_to_repeat=True,
    ),
    ActionSpec(
        "exchange.remove_distribution_list_member",
        GroupMemberParams,
        BlastRadius.INTERNAL,
        "Exchange admin center → Recipients → Groups → Distribution list → {group_name} → "
        "Members → select {user_principal_name} → Remove → Save",
        undo="exchange.add_distribution_list_member with the same parameters",
        privileged_radius=BlastRadius.SECURITY,
        manual=True,
        safe_to_repeat=True,
    ),
    # Security: it changes who can open the mailbox (the licence it frees is a separate step).
    ActionSpec(
        "exchange.convert_to_shared_mailbox",
        UserParams,
        BlastRadius.SECURITY,
        "Exchange admin center → Recipients → Mailboxes → {user_principal_name} → Others → "
        "Convert to shared mailbox → Confirm",
        undo="Exchange admin center → Recipients → Mailboxes → (the mailbox) → Others → Convert "
        "to regular mailbox; the user needs a licence with Exchange Online first",
        manual=True,
        safe_to_repeat=True,
    ),
    ActionSpec(
        "psa.add_internal_note",
        NoteParams,
        BlastRadius.INTERNAL,
        "Add an internal note to PSA ticket {psa_ticket_id}",
        undo="internal notes stay; add a correcting note",
        safe_to_repeat=True,
    ),
    # Billing: a timer entry is labour on the client's invoice once it is charged.
    ActionSpec(
        "psa.log_time",
        TimeParams,
        BlastRadius.BILLING,
        "Log {minutes} minutes (billable: {billable}) on PSA ticket {psa_ticket_id}",
        undo="delete the timer entry in Syncro → ticket → Timers (before it is invoiced)",
    ),
    ActionSpec(
        "psa.send_reply",
        ReplyParams,
        BlastRadius.EXTERNAL_COMMUNICATION,
        "Reply to {to} on PSA ticket {psa_ticket_id}",
        undo=None,
    ),
)

ACTIONS: dict[str, ActionSpec] = {spec.name: spec for spec in _SPECS}


def action(name: str) -> ActionSpec:
    """The spec of ``name``; an ActionError listing the known actions otherwise."""
    try:
        return ACTIONS[name]
    except KeyError:
        raise ActionError(
            f"Unknown action {name!r}.", hint="Known actions: " + ", ".join(sorted(ACTIONS)) + "."
        ) from None
