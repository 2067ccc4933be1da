"""What a tenant's connectors can do, named: an action says which capabilities it needs, and a
tenant whose systems lack one is told so when a step is planned — not with an AttributeError
when it runs.

A capability is a small protocol over one of a tenant's systems (``Connectors.m365``, ``.ad``,
``.psa``, ``.mail``): the methods an action calls on it. Connectors grow by capability: a new
kind of change is a new protocol here (or in a plugin) and the methods on the clients that can
do it; the system's own interface does not have to grow with every action. A system that is
configured as absent (a cloud-only tenant's Active Directory) says why with ``absent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from deskhand.connectors.ad import AdPlacement, AdProvisioning
from deskhand.connectors.errors import ForbiddenError
from deskhand.connectors.m365 import (
    AddressLists,
    AllLicences,
    AutoReplies,
    DriveSharing,
    MailForwarding,
    Profiles,
    SignInMethods,
    UserCreation,
    UserGroups,
)
from deskhand.domain.directory import (
    DirectoryGroup,
    DirectoryUser,
    PsaComment,
    PsaTicket,
    PsaTimeEntry,
    SignInState,
    Sku,
)

SYSTEMS = {
    "m365": "Microsoft 365",
    "ad": "Active Directory",
    "psa": "PSA",
    "mail": "outgoing mail (SMTP)",
}


P = TypeVar("P")


@dataclass(frozen=True)
class Capability(Generic[P]):
    """One thing a tenant's ``system`` can do: the protocol its connector must offer."""

    name: str  # "m365.passwords"
    system: str  # the attribute of Connectors: m365, ad, psa, mail
    protocol: type[Any]  # a runtime-checkable Protocol: P, which mypy will not take as a type
    what: str  # in words, after "cannot": "reset Microsoft 365 passwords"

    def of(self, connectors: Any) -> P:
        """The tenant's system as this capability's protocol, for an action that needs it (and
        was refused when planned if the system lacks it). Lacking it now — the connection file
        changed since — is a refusal that says which capability, recorded as the step's error."""
        why = self.missing(connectors)
        if why is not None:
            raise ForbiddenError(why[0].upper() + why[1:] + ".", system=self.system)
        system: P = getattr(connectors, self.system)
        return system

    def missing(self, connectors: Any) -> str | None:
        """Why ``connectors`` cannot do this, in words; None when it can."""
        system = getattr(connectors, self.system, None)
        where = SYSTEMS.get(self.system, self.system)
        if system is None:
            return f"the tenant has no {where} connection, so deskhand cannot {self.what}"
        absent = getattr(system, "absent", None)
        if absent:
            return f"{absent}, so deskhand cannot {self.what}"
        if not isinstance(system, self.protocol):
            return (
                f"the tenant's {where} connector ({type(system).__name__}) cannot {self.what} "
                f"(capability {self.name})"
            )
        return None


@runtime_checkable
class UserLookup(Protocol):
    def get_user(self, key: str) -> DirectoryUser: ...


@runtime_checkable
class M365Passwords(Protocol):
    def sign_in_state(self, user_id: str) -> SignInState: ...
    def reset_password(self, user_id: str, password: str, force_change: bool) -> None: ...


@runtime_checkable
class M365Sessions(Protocol):
    def sign_in_state(self, user_id: str) -> SignInState: ...
    def revoke_sessions(self, user_id: str) -> None: ...


@runtime_checkable
class M365SignIn(Protocol):
    def sign_in_state(self, user_id: str) -> SignInState: ...
    def set_sign_in(self, user_id: str, enabled: bool) -> None: ...


@runtime_checkable
class GroupMembership(Protocol):
    def get_group(self, key: str) -> DirectoryGroup: ...
    def group_members(self, group_id: str) -> list[str]: ...
    def add_group_member(self, group_id: str, user_id: str) -> None: ...
    def remove_group_member(self, group_id: str, user_id: str) -> None: ...


@runtime_checkable
class GroupMembersRead(Protocol):
    def get_group(self, key: str) -> DirectoryGroup: ...
    def group_members(self, group_id: str) -> list[str]: ...


@runtime_checkable
class Licences(Protocol):
    def get_user(self, key: str) -> DirectoryUser: ...
    def assign_license(self, user_id: str, add: list[str], remove: list[str]) -> None: ...


@runtime_checkable
class Seats(Protocol):
    def subscribed_skus(self) -> list[Sku]: ...
    def add_license_seats(self, sku_id: str, seats: int) -> None: ...


@runtime_checkable
class MailboxPurpose(Protocol):
    def mailbox_purpose(self, user_id: str) -> str: ...


@runtime_checkable
class AdPasswords(Protocol):
    def account_state(self, user_id: str) -> SignInState: ...
    def reset_password(self, user_id: str, password: str, force_change: bool) -> None: ...


@runtime_checkable
class AdUnlock(Protocol):
    def account_state(self, user_id: str) -> SignInState: ...
    def unlock(self, user_id: str) -> None: ...


@runtime_checkable
class AdAccounts(Protocol):
    def account_state(self, user_id: str) -> SignInState: ...
    def disable(self, user_id: str) -> None: ...
    def enable(self, user_id: str) -> None: ...


@runtime_checkable
class AdGroups(Protocol):
    def get_group(self, key: str) -> DirectoryGroup: ...
    def groups_of(self, user_id: str) -> list[DirectoryGroup]: ...
    def add_group_member(self, group_id: str, user_id: str) -> None: ...
    def remove_group_member(self, group_id: str, user_id: str) -> None: ...


@runtime_checkable
class TicketComments(Protocol):
    def get_ticket(self, ticket_id: str) -> PsaTicket: ...
    def add_comment(self, ticket_id: str, subject: str, body: str, hidden: bool) -> PsaComment: ...
    def list_comments(self, ticket_id: str) -> list[PsaComment]: ...


@runtime_checkable
class TicketStatus(Protocol):
    def get_ticket(self, ticket_id: str) -> PsaTicket: ...
    def update_status(self, ticket_id: str, status: str) -> PsaTicket: ...


@runtime_checkable
class TicketTime(Protocol):
    def log_time(
        self, ticket_id: str, minutes: int, notes: str, billable: bool
    ) -> PsaTimeEntry: ...
    def time_entries(self, ticket_id: str) -> list[PsaTimeEntry]: ...


M365_PASSWORDS: Capability[M365Passwords] = Capability(
    "m365.passwords", "m365", M365Passwords, "reset Microsoft 365 passwords"
)
M365_SESSIONS: Capability[M365Sessions] = Capability(
    "m365.sessions", "m365", M365Sessions, "sign users out of Microsoft 365"
)
M365_SIGN_IN: Capability[M365SignIn] = Capability(
    "m365.sign_in", "m365", M365SignIn, "block or allow sign-in to Microsoft 365"
)
M365_GROUPS: Capability[GroupMembership] = Capability(
    "m365.groups", "m365", GroupMembership, "change group memberships in Microsoft 365"
)
M365_GROUPS_READ: Capability[GroupMembersRead] = Capability(
    "m365.groups.read", "m365", GroupMembersRead, "read group memberships in Microsoft 365"
)
M365_LICENCES: Capability[Licences] = Capability(
    "m365.licences", "m365", Licences, "assign or remove Microsoft 365 licences"
)
M365_SEATS: Capability[Seats] = Capability(
    "m365.seats", "m365", Seats, "buy Microsoft 365 licence seats"
)
M365_MAILBOXES: Capability[MailboxPurpose] = Capability(
    "m365.mailboxes", "m365", MailboxPurpose, "read a mailbox's type in Microsoft 365"
)
AD_PASSWORDS: Capability[AdPasswords] = Capability(
    "ad.passwords", "ad", AdPasswords, "reset Active Directory passwords"
)
AD_UNLOCK: Capability[AdUnlock] = Capability(
    "ad.unlock", "ad", AdUnlock, "unlock Active Directory accounts"
)
AD_ACCOUNTS: Capability[AdAccounts] = Capability(
    "ad.accounts", "ad", AdAccounts, "disable or enable Active Directory accounts"
)
AD_GROUPS: Capability[AdGroups] = Capability(
    "ad.groups", "ad", AdGroups, "change group memberships in Active Directory"
)
PSA_COMMENTS: Capability[TicketComments] = Capability(
    "psa.comments", "psa", TicketComments, "write notes on the ticket"
)
PSA_STATUS: Capability[TicketStatus] = Capability(
    "psa.status", "psa", TicketStatus, "set the ticket's status"
)
PSA_TIME: Capability[TicketTime] = Capability(
    "psa.time", "psa", TicketTime, "log technician time on the ticket"
)


# --- a leaver's and a starter's Microsoft 365 (protocols in deskhand.connectors.m365) --------

M365_USER_GROUPS: Capability[UserGroups] = Capability(
    "m365.user_groups",
    "m365",
    UserGroups,
    "list and remove a user's group memberships in Microsoft 365",
)
M365_ALL_LICENCES: Capability[AllLicences] = Capability(
    "m365.all_licences",
    "m365",
    AllLicences,
    "tell a user's own licences from those a group gives them",
)
M365_AUTO_REPLIES: Capability[AutoReplies] = Capability(
    "m365.auto_replies", "m365", AutoReplies, "set automatic replies"
)
M365_FORWARDING: Capability[MailForwarding] = Capability(
    "m365.forwarding",
    "m365",
    MailForwarding,
    "forward a mailbox's mail with an inbox rule",
)
M365_ONEDRIVE: Capability[DriveSharing] = Capability(
    "m365.onedrive", "m365", DriveSharing, "share a user's OneDrive files"
)
M365_AUTH_METHODS: Capability[SignInMethods] = Capability(
    "m365.auth_methods",
    "m365",
    SignInMethods,
    "remove a user's MFA methods in Microsoft 365",
)
M365_PROFILES: Capability[Profiles] = Capability(
    "m365.profiles",
    "m365",
    Profiles,
    "change a user's department, job title, usage location or manager",
)
M365_CREATE_USERS: Capability[UserCreation] = Capability(
    "m365.create_users", "m365", UserCreation, "create Microsoft 365 users"
)
M365_USERS_READ: Capability[UserLookup] = Capability(
    "m365.users.read", "m365", UserLookup, "look users up in Microsoft 365"
)
M365_ADDRESS_LISTS: Capability[AddressLists] = Capability(
    "m365.address_lists.read",
    "m365",
    AddressLists,
    "read whether a user shows in the address lists",
)


# --- Active Directory accounts: moving between OUs, creating (protocols in connectors/ad.py) ---

AD_PLACEMENT: Capability[AdPlacement] = Capability(
    "ad.placement",
    "ad",
    AdPlacement,
    "move accounts between organisational units in Active Directory",
)
AD_PROVISIONING: Capability[AdProvisioning] = Capability(
    "ad.provisioning", "ad", AdProvisioning, "create user accounts in Active Directory"
)
