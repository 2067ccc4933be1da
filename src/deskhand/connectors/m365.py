"""The Microsoft 365 connector interface: users, groups, licences and sign-in, as Graph offers
them. Implemented by the sandbox and by the Graph client; tests/connectors/contract/test_m365.py
holds both to what is promised here."""

from __future__ import annotations

from typing import Protocol

from deskhand.domain.directory import DirectoryGroup, DirectoryUser, SignInState, Sku


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
