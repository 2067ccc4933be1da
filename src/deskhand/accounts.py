"""The MSP's people as deskhand knows them: passwords (argon2id), browser sessions, API tokens,
and the brake on password guessing. Used by the CLI and the web app alike.

Secrets never rest in the database: a session cookie and an API token are random strings of
which only the SHA-256 is stored, and a password only as its argon2 hash.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import ApiToken, LoginAttempt, User, WebSession, now

SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)
FAILURE_WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Verifying against this keeps a wrong e-mail as slow as a wrong password (no user probing).
_DUMMY = _hasher.hash("deskhand-dummy-password")


WRONG_CREDENTIALS = "Wrong e-mail address or password."


class AuthError(DeskhandError):
    """Signing in is refused."""

    exit_code = 2


class TooManyAttempts(AuthError):  # noqa: N818 - a state the user is in, not a fault
    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, int(retry_after.total_seconds() // 60) + 1)
        super().__init__(
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}.",
            hint="Ask an admin to reset your password if you have forgotten it.",
        )
        self.retry_after = retry_after


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_password() -> str:
    """A password to hand out once: 20 letters and digits in groups, easy to type."""
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"A password needs at least {MIN_PASSWORD} characters.")
    user.password_hash = _hasher.hash(password)


def _password_matches(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None else None
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def sign_in(session: Session, email: str, password: str, address: str) -> User | None:
    """The user if the password is right; None if not. Every attempt is recorded — the caller
    must let the transaction commit either way, or guessing would never be slowed down.
    TooManyAttempts when this account or address has failed too often lately."""
    email = email.strip().lower()
    moment = now()
    since = moment - FAILURE_WINDOW
    failures = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))
    )
    by_account = session.scalar(failures.where(LoginAttempt.email == email)) or 0
    by_address = session.scalar(failures.where(LoginAttempt.address == address)) or 0
    if by_account >= FAILURES_PER_ACCOUNT or by_address >= FAILURES_PER_ADDRESS:
        oldest = session.scalar(
            select(func.min(LoginAttempt.at)).where(
                LoginAttempt.at >= since,
                LoginAttempt.succeeded.is_(False),
                (LoginAttempt.email == email) | (LoginAttempt.address == address),
            )
        )
        raise TooManyAttempts((oldest or moment) + FAILURE_WINDOW - moment)
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    ok = _password_matches(user, password)
    session.add(LoginAttempt(email=email, address=address, at=moment, succeeded=ok))
    if not ok or user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    return user


@dataclass(frozen=True)
class OpenedSession:
    token: str  # goes in the cookie, never stored
    csrf_token: str
    user: User


def open_session(session: Session, user: User) -> OpenedSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=now() + SESSION_LIFETIME,
        )
    )
    return OpenedSession(token, csrf, user)


def resume_session(session: Session, token: str) -> WebSession | None:
    """The browser session for a cookie, if it is valid now; idle or old sessions end."""
    found = session.get(WebSession, _digest(token))
    moment = now()
    if found is None:
        return None
    if found.expires_at <= moment or found.last_seen_at + SESSION_IDLE <= moment:
        session.delete(found)
        return None
    if moment - found.last_seen_at > timedelta(minutes=1):  # not a write per request
        found.last_seen_at = moment
    return found


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def create_token(session: Session, user: User, name: str) -> str:
    """A new API token for ``user``; the returned value is shown once and never again."""
    token = "dh_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(token), prefix=token[:10]))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    found = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if found is None:
        return None
    if found.last_used_at is None or now() - found.last_used_at > timedelta(minutes=1):
        found.last_used_at = now()
    return found.user
