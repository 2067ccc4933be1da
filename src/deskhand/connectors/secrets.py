"""Secrets in a tenant's connection file: never the value itself, only where to find it.

A secret field holds a reference: ``env:NAME`` (an environment variable of the deskhand
process), ``file:/path`` (a file only the deskhand user can read) or ``enc:TOKEN`` (the value
encrypted with the operator's key, ``DESKHAND_SECRET_KEY``; ``deskhand tenants secret encrypt``
makes one). References are resolved when a connector is built, and only then.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet, InvalidToken

from deskhand.errors import DeskhandError, InputError

Kind = Literal["env", "file", "enc"]
KINDS: tuple[Kind, ...] = ("env", "file", "enc")

HOW_TO_REFERENCE = (
    "Write `env:NAME` (an environment variable), `file:/path` (a file readable only by deskhand), "
    "or an `enc:` value from `deskhand tenants secret encrypt`."
)


class SecretError(DeskhandError):
    """A secret reference cannot be resolved: a missing variable, file or key, or a wrong key."""


@dataclass(frozen=True)
class SecretRef:
    """Where a secret is: ``kind`` and what follows the colon (a name, a path, a token)."""

    kind: Kind
    value: str

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """The reference ``text``; a ValueError (worded for the user) for anything else."""
        kind, colon, value = text.partition(":")
        if not colon or kind not in KINDS or not value.strip():
            # Never echo the text: it may be the secret itself, pasted in by mistake.
            raise ValueError(f"is not a secret reference. {HOW_TO_REFERENCE}")
        if kind == "file" and not Path(value).is_absolute():
            raise ValueError(f"`file:` needs an absolute path, like file:/etc/deskhand/{value}")
        return cls(kind, value.strip())

    def describe(self) -> str:
        """The reference as it may be shown: a variable name or path, never an encrypted value."""
        return "enc:…(encrypted)" if self.kind == "enc" else f"{self.kind}:{self.value}"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    def resolve(self, field: str, *, environ: Mapping[str, str], key: str | None) -> str:
        """The secret's value; a SecretError naming ``field`` and what to do otherwise."""
        if self.kind == "env":
            value = environ.get(self.value)
            if not value:
                raise SecretError(
                    f"{field}: the environment variable {self.value} is not set.",
                    hint=f"Set {self.value} in the environment of deskhand (its service unit "
                    "or container), then try again.",
                )
            return value
        if self.kind == "file":
            try:
                return Path(self.value).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise SecretError(
                    f"{field}: cannot read {self.value}: {error.strerror}.",
                    hint="Create the file with the secret in it, readable by the deskhand user "
                    f"only (chmod 600 {self.value}).",
                ) from None
        return decrypt(self.value, key, field)

    def permission_warning(self) -> str | None:
        """For a ``file:`` secret that others may read, what is wrong and how to fix it."""
        if self.kind != "file":
            return None
        try:
            mode = Path(self.value).stat().st_mode
        except OSError:
            return None  # resolving says so, with the reason
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            return (
                f"{self.value} can be read by other users (mode {stat.filemode(mode)}): "
                f"run chmod 600 {self.value}"
            )
        return None


def new_key() -> str:
    """A new key for ``DESKHAND_SECRET_KEY``."""
    return Fernet.generate_key().decode("ascii")


def encrypt(value: str, key: str | None) -> str:
    """``value`` encrypted with ``key``, as the ``enc:`` reference to write in a tenant file."""
    return "enc:" + _fernet(key, "the value").encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str, key: str | None, field: str) -> str:
    try:
        return _fernet(key, field).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise SecretError(
            f"{field}: the encrypted value cannot be decrypted with DESKHAND_SECRET_KEY.",
            hint="The key is not the one it was encrypted with, or the value was cut short. "
            "Set the original key, or encrypt the secret again with "
            "`deskhand tenants secret encrypt` and paste the new enc: value.",
        ) from None


def _fernet(key: str | None, field: str) -> Fernet:
    if not key:
        raise SecretError(
            f"{field}: encrypted secrets need DESKHAND_SECRET_KEY, which is not set.",
            hint="Set DESKHAND_SECRET_KEY to the key the secrets were encrypted with; "
            "`deskhand tenants secret new-key` makes a key for a new installation.",
        )
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeError):
        raise InputError(
            "DESKHAND_SECRET_KEY is not a valid key (it must be 32 url-safe base64-encoded bytes).",
            hint="`deskhand tenants secret new-key` makes one.",
        ) from None
