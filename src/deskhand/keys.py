"""The server's own keys: kept in a file outside the database, so that someone who can write
the database cannot forge what they protect.

One file (``DESKHAND_SERVER_KEY_FILE``, default ``server-keys.json`` in the data folder), made
on first use, readable by the deskhand user only. It holds one or more random 256-bit keys, each
with an id; the newest (``current``) signs and encrypts, the older ones only check and decrypt,
so that a rotation (``deskhand keys rotate``) does not void approvals given just before it. Each
use gets its own key derived from the stored one (HKDF, one label per purpose): an approval's
binding, the audit checkpoints and the encrypted temporary passwords never share a key.

Every process of one deployment (web, workers, on any machine) must read the same file: copy it
with the database's backup, never into it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from deskhand.errors import DeskhandError

FILE_NAME = "server-keys.json"


class ServerKeyError(DeskhandError):
    """The server key file is missing a key, unreadable, or not a key file."""

    exit_code = 2


@dataclass(frozen=True)
class Purpose:
    """What a derived key is for: its HKDF label. Two purposes never share a key."""

    label: str


APPROVAL_BINDING = Purpose("deskhand approval binding v1")
AUDIT_CHECKPOINT = Purpose("deskhand audit checkpoint v1")
STEP_SECRET = Purpose("deskhand step secret v1")


@dataclass(frozen=True)
class ServerKeys:
    """The keys read from ``path``: ``current`` signs and encrypts; every key checks."""

    path: Path
    current: str
    keys: dict[str, bytes]

    @classmethod
    def load(cls, path: Path, *, create: bool = True) -> ServerKeys:
        """The key file at ``path``; made with one new key when it does not exist yet."""
        if not path.exists():
            if not create:
                raise ServerKeyError(
                    f"There is no server key file at {path}.",
                    hint="Run `deskhand keys show` once to make one, or set "
                    "DESKHAND_SERVER_KEY_FILE to where the deployment keeps it.",
                )
            _create(path)
        return cls._read(path)

    @classmethod
    def _read(cls, path: Path) -> ServerKeys:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            keys = {str(k): base64.urlsafe_b64decode(v) for k, v in document["keys"].items()}
            current = str(document["current"])
        except OSError as error:
            raise ServerKeyError(
                f"Cannot read the server key file {path}: {error.strerror}.",
                hint="The deskhand user must be able to read it (chmod 600, owned by deskhand).",
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ServerKeyError(
                f"{path} is not a deskhand server key file.",
                hint="Restore it from the backup kept with the database; a new file would void "
                "every pending approval and checkpoint.",
            ) from None
        if current not in keys or any(len(k) != 32 for k in keys.values()):
            raise ServerKeyError(
                f"{path} is damaged: its current key is missing or the wrong size."
            )
        return cls(path=path, current=current, keys=keys)

    def derive(self, purpose: Purpose, key_id: str | None = None) -> bytes:
        """The 32-byte key for ``purpose`` derived from key ``key_id`` (default: current)."""
        key_id = key_id or self.current
        try:
            master = self.keys[key_id]
        except KeyError:
            raise ServerKeyError(
                f"The server key {key_id} is not in {self.path} (it was retired, or this "
                "process reads another key file than the one that made it).",
                hint="Every deskhand process must read the same key file "
                "(DESKHAND_SERVER_KEY_FILE).",
            ) from None
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.label.encode()
        ).derive(master)

    def sign(self, purpose: Purpose, message: bytes) -> str:
        """``KEYID:HEX`` — an HMAC-SHA256 of ``message`` with the current key for ``purpose``."""
        tag = hmac.new(self.derive(purpose), message, hashlib.sha256).hexdigest()
        return f"{self.current}:{tag}"

    def check(self, purpose: Purpose, message: bytes, signature: str) -> bool:
        """Whether ``signature`` (from ``sign``) was made over ``message`` by a key we hold."""
        key_id, _, tag = signature.partition(":")
        if not tag or key_id not in self.keys:
            return False
        expected = hmac.new(self.derive(purpose, key_id), message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, tag)

    def cipher(self, purpose: Purpose) -> MultiFernet:
        """Encrypts with the current key for ``purpose``; decrypts with any key we hold."""
        order = [self.current, *(k for k in self.keys if k != self.current)]
        return MultiFernet(
            [Fernet(base64.urlsafe_b64encode(self.derive(purpose, k))) for k in order]
        )

    def encrypt(self, purpose: Purpose, text: str) -> str:
        return self.cipher(purpose).encrypt(text.encode()).decode()

    def decrypt(self, purpose: Purpose, token: str) -> str | None:
        """The text, or None when no key we hold opens ``token`` (retired key, or tampered)."""
        try:
            return self.cipher(purpose).decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    def rotate(self) -> ServerKeys:
        """A new current key; the old ones stay to check and decrypt what they made."""
        key_id = _new_id()
        keys = {**self.keys, key_id: secrets.token_bytes(32)}
        _write(self.path, key_id, keys, replace=True)
        return ServerKeys(path=self.path, current=key_id, keys=keys)

    def retire(self, key_id: str) -> ServerKeys:
        """Drop an old key: what it signed no longer checks (it fails closed)."""
        if key_id == self.current:
            raise ServerKeyError(
                f"{key_id} is the current key.", hint="Rotate first (`deskhand keys rotate`)."
            )
        if key_id not in self.keys:
            raise ServerKeyError(f"There is no key {key_id} in {self.path}.")
        keys = {k: v for k, v in self.keys.items() if k != key_id}
        _write(self.path, self.current, keys, replace=True)
        return ServerKeys(path=self.path, current=self.current, keys=keys)


def _new_id() -> str:
    return f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


def _create(path: Path) -> None:
    key_id = _new_id()
    _write(path, key_id, {key_id: secrets.token_bytes(32)}, replace=False)


def _write(path: Path, current: str, keys: dict[str, bytes], *, replace: bool) -> None:
    """Write the key file readable by its owner only. A new file never replaces one another
    process made at the same moment: the first one made wins, and both then read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "about": "deskhand server keys: back this file up with the database, never into it",
        "current": current,
        "keys": {k: base64.urlsafe_b64encode(v).decode() for k, v in keys.items()},
    }
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
    try:
        if replace:
            temporary.replace(path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
