"""The Active Directory connector interface: the on-premises side of a hybrid client, where a
synced user's password is reset and a locked account unlocked. Implemented by the sandbox and
by the LDAP client; tests/connectors/contract/test_ad.py holds both to what is promised here.

Beyond the interface, the capabilities some actions need (``deskhand.connectors.capabilities``)
over the same two clients: moving an account to another organisational unit (a leaver parked in
"Disabled Users") and creating one (a starter). An OU is given by its distinguished name; a name
that is not one, or lies outside the domain, is refused before the domain controller is asked
(``deskhand.connectors.ldap.security.checked_dn``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from deskhand.domain.directory import AdAccount, DirectoryUser, NewAdAccount, SignInState


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


@runtime_checkable
class AdPlacement(Protocol):
    """Where an account sits in the domain's organisational units."""

    def account(self, user_id: str) -> AdAccount:
        """The account as AD holds it, with the OU it is in; NotFoundError when there is none."""
        ...

    def move_to_ou(self, user_id: str, ou: str) -> None:
        """Move the account into the OU ``ou`` (a distinguished name); NotFoundError when no
        such OU is in the domain, ConnectorError (status 34) for a name that is not a
        distinguished name. Moving it where it already is is not an error."""
        ...


@runtime_checkable
class AdProvisioning(Protocol):
    """Creating user accounts."""

    def account(self, user_id: str) -> AdAccount:
        """The account as AD holds it; NotFoundError when there is none."""
        ...

    def create_user(self, account: NewAdAccount, password: str) -> None:
        """Create the account in ``account.ou``, enabled, with ``password`` to be changed at
        the next logon. ConflictError when the logon name or sign-in name is taken, or the
        password is one the domain's policy refuses; NotFoundError when the OU or the
        manager is not in the domain."""
        ...
