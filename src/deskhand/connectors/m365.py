"""The Microsoft 365 connector interface: users, groups, licences and sign-in, as Graph offers
them; and the protocols of what a leaver's and a starter's steps change besides (a user's
groups and own licences, automatic replies, mail forwarding, OneDrive sharing, sign-in
methods, profile, creation, the address list), each offered as a capability
(``deskhand.connectors.capabilities``). Implemented by the sandbox and by the Graph client;
tests/connectors/contract/test_m365.py and test_m365_lifecycle.py hold both to what is
promised here."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from deskhand.domain.directory import (
    AuthMethod,
    AutoReply,
    DirectoryGroup,
    DirectoryUser,
    DriveGrant,
    InboxRule,
    NewUser,
    SignInState,
    Sku,
    UserProfile,
)


class M365(Protocol):
    """One client tenant's Microsoft 365. Raises ``deskhand.connectors.errors`` only."""

    def get_user(self, key: str) -> DirectoryUser:
        """The user with this id, user principal name or mail address (NotFoundError otherwise).
        ``locked`` is always False: a lockout is on-premises AD's, which Graph does not see."""
        ...

    def list_users(self) -> list[DirectoryUser]:
        """Every user, each as ``get_user`` reads them (their administrative roles included)."""
        ...

    def get_group(self, key: str) -> DirectoryGroup:
        """The group with this id or display name, compared ignoring case."""
        ...

    def list_groups(self) -> list[DirectoryGroup]: ...

    def group_members(self, group_id: str) -> list[str]:
        """The ids of the group's members; the group by id only."""
        ...

    def subscribed_skus(self) -> list[Sku]: ...

    def sign_in_state(self, user_id: str) -> SignInState:
        """What reading the user back shows about password, sessions and sign-in."""
        ...

    def mailbox_purpose(self, user_id: str) -> str:
        """What the user's mailbox is: "user", "shared", "room", … (Graph's
        mailboxSettings.userPurpose); NotFoundError when the user has no mailbox."""
        ...

    def reset_password(self, user_id: str, password: str, force_change: bool) -> None:
        """Set a cloud-only user's password (ForbiddenError for a synced user: reset in AD)."""
        ...

    def revoke_sessions(self, user_id: str) -> None:
        """Invalidate every session; ``sign_in_state`` shows since when."""
        ...

    def add_group_member(self, group_id: str, user_id: str) -> None:
        """ConflictError when already a member; ForbiddenError for a mail-enabled group."""
        ...

    def remove_group_member(self, group_id: str, user_id: str) -> None:
        """NotFoundError when not a member."""
        ...

    def assign_license(self, user_id: str, add: list[str], remove: list[str]) -> None:
        """All of it or nothing: QuotaExceededError when a SKU has no seat left, ConflictError
        to remove a licence the user lacks, NotFoundError for a SKU the tenant lacks. Adding a
        licence the user has changes nothing."""
        ...

    def add_license_seats(self, sku_id: str, seats: int) -> None:
        """Buy seats (a CSP order in real life; Graph cannot, and says where it is done)."""
        ...


# --- what a leaver's and a starter's steps change (one capability each) ---------------------


@runtime_checkable
class UserGroups(Protocol):
    def groups_of(self, user_id: str) -> list[DirectoryGroup]:
        """The groups the user is a direct member of (memberOf), each as ``get_group`` reads
        it: synced from AD, dynamic, mail-enabled and privileged ones included."""
        ...

    def remove_group_member(self, group_id: str, user_id: str) -> None: ...


@runtime_checkable
class AllLicences(Protocol):
    def get_user(self, key: str) -> DirectoryUser: ...

    def direct_licences(self, user_id: str) -> list[str]:
        """The SKU ids assigned to the user directly; a licence held only through a group
        (group-based licensing) is not among them: Graph refuses to remove it from the user,
        it goes when they leave the group."""
        ...

    def assign_license(self, user_id: str, add: list[str], remove: list[str]) -> None: ...


@runtime_checkable
class AutoReplies(Protocol):
    def auto_reply(self, user_id: str) -> AutoReply:
        """The mailbox's automatic reply; NotFoundError when the user has no mailbox."""
        ...

    def set_auto_reply(self, user_id: str, reply: AutoReply) -> None:
        """Replace it (PATCH mailboxSettings.automaticRepliesSetting)."""
        ...


@runtime_checkable
class MailForwarding(Protocol):
    def get_user(self, key: str) -> DirectoryUser: ...

    def inbox_rules(self, user_id: str) -> list[InboxRule]:
        """The rules of the user's inbox; NotFoundError when the user has no mailbox."""
        ...

    def add_inbox_rule(self, user_id: str, display_name: str, forward_to: str) -> InboxRule:
        """A rule, first in order, that forwards every message to ``forward_to``."""
        ...

    def delete_inbox_rule(self, user_id: str, rule_id: str) -> None:
        """NotFoundError when there is no such rule."""
        ...


@runtime_checkable
class DriveSharing(Protocol):
    def drive_grants(self, owner_id: str) -> list[DriveGrant]:
        """The permissions on the root of the owner's OneDrive; NotFoundError when the owner
        has no OneDrive (never signed in to it, or no licence with OneDrive)."""
        ...

    def grant_drive_access(self, owner_id: str, user_id: str) -> None:
        """Let ``user_id`` open and change every file of the owner's OneDrive (invite, role
        write, sign-in required, no e-mail sent). Again changes nothing."""
        ...

    def remove_drive_grant(self, owner_id: str, grant_id: str) -> None:
        """NotFoundError when there is no such permission."""
        ...


@runtime_checkable
class SignInMethods(Protocol):
    def auth_methods(self, user_id: str) -> list[AuthMethod]:
        """Every sign-in method the user has registered, the password included."""
        ...

    def delete_auth_method(self, user_id: str, method: AuthMethod) -> None:
        """Remove one, at its own kind's endpoint. ForbiddenError for the password and for a
        kind deskhand cannot remove (the error says where it is done by hand)."""
        ...


@runtime_checkable
class Profiles(Protocol):
    def user_profile(self, user_id: str) -> UserProfile: ...

    def set_profile(
        self,
        user_id: str,
        *,
        department: str | None = None,
        job_title: str | None = None,
        usage_location: str | None = None,
    ) -> None:
        """Change the attributes given (None: leave as it is; "": clear it). ForbiddenError
        for a user synced from AD, whose attributes are set in AD."""
        ...

    def set_manager(self, user_id: str, manager_id: str) -> None:
        """PUT manager/$ref; ForbiddenError for a user synced from AD."""
        ...


@runtime_checkable
class UserCreation(Protocol):
    def get_user(self, key: str) -> DirectoryUser: ...

    def create_user(self, new: NewUser, password: str) -> DirectoryUser:
        """A cloud-only user, able to sign in with ``password`` and made to change it at first
        sign-in. ConflictError when the sign-in name or mail nickname is taken."""
        ...


@runtime_checkable
class AddressLists(Protocol):
    def shown_in_address_list(self, user_id: str) -> bool | None:
        """user.showInAddressList as Graph reads it: None when Graph does not say (it does not
        follow Exchange's "hide from address lists", which is set in Exchange admin center)."""
        ...
