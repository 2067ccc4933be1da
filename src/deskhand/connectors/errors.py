"""What goes wrong when deskhand talks to an outside system.

Every connector raises these (never a library's own exception), with the outside system's
message kept, so the executor can record it and a technician can read it.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """The outside system refused or failed."""

    def __init__(self, message: str, *, system: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.status = status

    def __str__(self) -> str:
        code = f" ({self.status})" if self.status is not None else ""
        return f"{self.system}{code}: {self.message}"


class NotFoundError(ConnectorError):
    """The user, group, licence or ticket does not exist."""


class ConflictError(ConnectorError):
    """The change is already there (already a member) or contradicts the current state."""


class QuotaExceededError(ConnectorError):
    """No seat left, or the system's limits are reached."""


class ForbiddenError(ConnectorError):
    """Not allowed: missing permission, or an object that must be changed elsewhere."""


class UnavailableError(ConnectorError):
    """The system did not answer or failed; trying again later may work."""
