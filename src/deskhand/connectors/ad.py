"""The Active Directory connector interface: the on-premises side of a hybrid client, where a
synced user's password is reset and a locked account unlocked. Implemented by the sandbox now
and by an LDAP client later."""

from __future__ import annotations

from typing import Protocol

from deskhand.domain.directory import DirectoryUser, SignInState


class ActiveDirectory(Protocol):
    """One client's AD domain. Raises ``deskhand.connectors.errors`` only."""

    def get_user(self, key: str) -> DirectoryUser:
        """The user with this id, user principal name, sAMAccountName or mail address."""
        ...

    def account_state(self, user_id: str) -> SignInState: ...

    def reset_password(self, user_id: str, password: str, force_change: bool) -> None: ...

    def unlock(self, user_id: str) -> None: ...
