"""The errors deskhand shows to people.

Every error carries a message that says what went wrong and, where there is one, what to do
next. The CLI prints ``str(error)`` and exits with ``exit_code``; it never prints a traceback
for these.
"""

from __future__ import annotations


class DeskhandError(Exception):
    """Base class: something the user can act on."""

    exit_code = 1
    http_status = 400  # how the web app and the API answer it

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class InputError(DeskhandError):
    """The input cannot be used at all (empty, unreadable, unknown format, missing columns)."""

    exit_code = 2


class UnknownFormatError(InputError):
    """A file's columns match no export layout deskhand knows."""


class UsageError(DeskhandError):
    """A command-line option is wrong or contradicts another."""

    exit_code = 2
