"""The Microsoft 365 connector interface: users, groups, licences and sign-in, as Graph offers
them. Implemented by the sandbox now and by a Graph client later."""

from __future__ import annotations

from typing import Protocol

from deskhand.domain.directory import DirectoryGroup, DirectoryUser, SignInState, Sku


class M365(Protocol):
    """One client tenant's Microsoft 365. Raises ``deskhand.connectors.errors`` only."""

    def get_user(self, key: str) -> DirectoryUser:
        """The user with this id, user principal name or mail address (NotFoundError otherwise)."""
        ...

    def list_users(self) -> list[DirectoryUser]: ...

    def get_group(self, key: str) -> DirectoryGroup:
        """The group with this id or display name, compared ignoring case."""
        ...

    def list_groups(self) -> list[DirectoryGroup]: ...

    def group_members(self, group_id: str) -> list[str]:
        """The ids of the group's members."""
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

    def revoke_sessions(self, user_id: str) -> None: ...

    def add_group_member(self, group_id: str, user_id: str) -> None:
        """ConflictError when already a member; ForbiddenError for a mail-enabled group."""
        ...

    def remove_group_member(self, group_id: str, user_id: str) -> None:
        """NotFoundError when not a member."""
        ...

    def assign_license(self, user_id: str, add: list[str], remove: list[str]) -> None:
        """QuotaExceededError when a SKU has no seat left."""
        ...

    def add_license_seats(self, sku_id: str, seats: int) -> None:
        """Buy seats (a CSP order in real life)."""
        ...
