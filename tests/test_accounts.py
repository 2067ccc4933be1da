"""How deskhand stores passwords. The other tests hash with argon2id at its cheapest settings
(tests/conftest.py, for speed); this checks the settings deskhand itself uses."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles

from deskhand import accounts
from deskhand.store.models import User


def test_passwords_are_hashed_with_argon2id_at_rfc_9106_low_memory_settings() -> None:
    assert accounts.PASSWORD_HASHING == profiles.RFC_9106_LOW_MEMORY
    stored = PasswordHasher.from_parameters(accounts.PASSWORD_HASHING).hash("correct horse")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_password_is_stored_only_as_its_hash_and_checked_against_it() -> None:
    user = User(email="a@msp.example", name="A", role="tech", tenants=["*"])
    accounts.set_password(user, "correct horse battery")
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert accounts._password_matches(user, "correct horse battery")
    assert not accounts._password_matches(user, "wrong horse battery")
    assert not accounts._password_matches(None, "correct horse battery")  # no such user
