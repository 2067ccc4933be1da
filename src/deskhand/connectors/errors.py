"""What goes wrong when deskhand talks to an outside system.

Every connector raises these (never a library's own exception), with the outside system's
message kept, so the executor can record it and a technician can read it — without the
connector's secrets, which ``Caller.call`` redacts (``deskhand.connectors.redaction``).
"""

from __future__ import annotations

from typing import Self


class ConnectorError(Exception):
    """The outside system refused or failed."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.status = status
        # What an admin does about it, in the words of the portal where it is done:
        # "grant User-PasswordProfile.ReadWrite.All in Entra admin center → App registrations → …"
        self.fix = fix

    def reworded(self, message: str, fix: str | None) -> Self:
        """The same error (kind, system, status, every detail) in other words, raised from
        nothing: how ``Redactor`` takes a secret out of it."""
        twin = type(self).__new__(type(self), message)
        twin.__dict__.update(self.__dict__)
        twin.message, twin.fix = message, fix
        return twin

    def __str__(self) -> str:
        code = f" ({self.status})" if self.status is not None else ""
        advice = f" — {self.fix}" if self.fix else ""
        return f"{self.system}{code}: {self.message}{advice}"


class NotFoundError(ConnectorError):
    """The user, group, licence or ticket does not exist."""


class ConflictError(ConnectorError):
    """The change is already there (already a member) or contradicts the current state."""


class QuotaExceededError(ConnectorError):
    """No seat left, or the system's limits are reached."""


class ForbiddenError(ConnectorError):
    """Not allowed: missing permission, or an object that must be changed elsewhere."""


class AuthenticationError(ConnectorError):
    """The credentials were refused: a wrong or expired key, secret or certificate."""


class UnavailableError(ConnectorError):
    """The system did not answer or failed; trying again later may work."""


class RateLimitedError(UnavailableError):
    """The system asked us to slow down (429), saying how long to wait when it did."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = 429,
        fix: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, system=system, status=status, fix=fix)
        self.retry_after = retry_after


class CircuitOpenError(UnavailableError):
    """Calls to this tenant's system failed repeatedly; deskhand stops calling it for a while."""
