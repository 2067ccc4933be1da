"""The Active Directory connector interface: the on-premises side of a hybrid client, where a
synced user's password is reset and a locked account unlocked. Implemented by the sandbox and
by the LDAP client; tests/connectors/contract/test_ad.py holds both to what is promised here."""

from __future__ import annotations

from typing import Protocol

from deskhand.domain.directory import DirectoryUser, SignInState


class ActiveDirectory(Protocol):
    """One client's AD domain. Raises ``deskhand.connectors.errors`` only."""

    def get_user(self, key: str) -> DirectoryUser:
        """The user with this id, user principal name, sAMAccountName or mail address."""
        ...

    def account_state(self, user_id: str) -> SignInState:
        """Password, "must change", lockout and enabled state; AD has no sessions (None)."""
        ...

    def reset_password(self, user_id: str, password: str, force_change: bool) -> None:
        """ConflictError for a password the domain's policy refuses; a lockout stays."""
        ...

    def unlock(self, user_id: str) -> None:
        """Unlocking an account that is not locked is not an error."""
        ...
