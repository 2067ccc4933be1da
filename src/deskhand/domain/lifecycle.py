"""A tenant's lifecycle templates: what offboarding a leaver and onboarding a starter mean for
this client. Written in the tenant's policy file under ``lifecycle`` (checked with file and
line by ``deskhand.policy.lifecycle``), shown by ``deskhand tenants policy``, and handed to the
specialists in their plan context. Pure types: nothing here reads a file or calls a system.

The defaults are the safe, common MSP practice: block and sign out first, keep the mailbox as a
shared mailbox, and remove licences only after that conversion is verified."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Instructions = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]


class _Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VendorItem(_Template):
    """One line-of-business system or vendor portal deskhand cannot reach: a manual step with
    exact instructions that the technician ticks off."""

    system: Text = Field(description="The portal or application, as technicians call it")
    offboarding: Instructions | None = Field(
        None, description="What to do there for a leaver, step by step"
    )
    onboarding: Instructions | None = Field(
        None, description="What to do there for a starter, step by step"
    )


class OffboardingDefaults(_Template):
    """What offboarding a leaver does at this client, beyond blocking sign-in and signing out
    every session (always done, first)."""

    leave_at: time = Field(
        time(17, 0), description="When a leaver's last day ends, in the tenant's time zone"
    )
    reset_password: bool = Field(True, description="Set a new password nobody is told")
    remove_mfa: bool = Field(True, description="Remove every MFA method")
    auto_reply: Text | None = Field(
        None,
        description="The automatic reply set on the leaver's mailbox; {name} is the leaver, "
        "{delegate} who takes over",
    )
    forward_to_manager: bool = Field(
        True, description="Forward mail to the leaver's manager unless the ticket names someone"
    )
    files_to_manager: bool = Field(
        True, description="Give the manager (or the named colleague) the leaver's OneDrive files"
    )
    convert_to_shared: bool = Field(True, description="Keep the mailbox as a shared mailbox")
    remove_licences: bool = Field(
        True, description="Remove the licences once the shared mailbox is verified"
    )
    keep_licences_days: int = Field(
        0,
        ge=0,
        le=90,
        description="Days the licences stay after the last day (0: removed by the plan, once "
        "the shared mailbox is verified); a technician removes them then",
    )
    remove_groups: bool = Field(True, description="Remove every group membership")
    hide_from_address_list: bool = Field(True, description="Hide the mailbox from the address list")
    disabled_ou: Text | None = Field(
        None, description="Where a leaver synced from AD is moved (the OU's distinguished name)"
    )


class RoleTemplate(_Template):
    """What a starter in this role gets."""

    job_title: Text | None = Field(None, description="The starter's job title")
    licences: list[Text] = Field(default_factory=list)
    groups: list[Text] = Field(default_factory=list)
    ad_groups: list[Text] = Field(default_factory=list)
    ou: Text | None = Field(None, description="The OU a starter synced from AD is created in")


class Lifecycle(_Template):
    """A tenant's lifecycle templates."""

    offboarding: OffboardingDefaults = OffboardingDefaults()
    start_at: time = Field(time(9, 0), description="When a starter's first day begins")
    usage_location: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        None,
        description="Where a new user's services are (two capital letters, as GB or DE): "
        "Microsoft 365 assigns no licence without it",
    )
    roles: dict[Text, RoleTemplate] = Field(default_factory=dict)
    vendor_checklist: list[VendorItem] = Field(default_factory=list)

    def role(self, name: str) -> RoleTemplate | None:
        """The role named ``name``, ignoring case."""
        wanted = name.casefold()
        return next((r for n, r in self.roles.items() if n.casefold() == wanted), None)
