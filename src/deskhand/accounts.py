"""The MSP's people as deskhand knows them: accounts (added, changed, disabled, removed),
passwords (argon2id), browser sessions and API tokens. Used by the CLI and the web app alike.

Secrets never rest in the database: a session cookie and an API token are random strings of
which only the SHA-256 is stored, and a password only as its argon2 hash. Every change to an
account is an event in the event log. A disabled account signs in nowhere: disabling ends its
sessions and revokes its tokens, and sessions and tokens of a disabled account are refused
besides. A new password also ends the sessions and revokes the tokens (whoever knew the old
password may have made them). An account that decided drafts, was shown a secret, started an
analysis or appears in the event log as an actor cannot be removed — the approval history
points at it — only disabled. Guessing is slowed down by ``deskhand.sign_in_throttle``.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from deskhand import sign_in_throttle
from deskhand.audit.log import append
from deskhand.domain import events as ev
from deskhand.domain.roles import ROLES
from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import (
    Analysis,
    ApiToken,
    Approval,
    EventRecord,
    StepSecret,
    Tenant,
    User,
    WebSession,
    now,
)

SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)
MIN_PASSWORD = 12
# argon2id with RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes.
PASSWORD_HASHING = profiles.RFC_9106_LOW_MEMORY
_hasher = PasswordHasher.from_parameters(PASSWORD_HASHING)


@cache
def _dummy(hasher: PasswordHasher) -> str:
    """Verifying against this keeps a wrong e-mail as slow as a wrong password (no user
    probing). Made when first needed, not when the module is imported: a hash takes a good
    part of a second, which every command that imports accounts would pay."""
    return hasher.hash("deskhand-dummy-password")


_LIST_HINT = "`deskhand users list` shows them."


WRONG_CREDENTIALS = "Wrong e-mail address or password."


class AuthError(DeskhandError):
    """Signing in is refused."""

    exit_code = 2


class AccountDisabled(AuthError):  # noqa: N818 - a state the account is in
    """The password was right, but the account is disabled (403)."""

    http_status = 403


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
        return _hasher.verify(stored or _dummy(_hasher), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def sign_in(session: Session, email: str, password: str, address: str) -> User | None:
    """The user if the password is right; None if not. Every attempt is recorded — the caller
    must let the transaction commit either way, or guessing would never be slowed down.
    ``TooManyAttempts`` (``deskhand.sign_in_throttle``) when guessing from ``address`` is
    stopped for now, before the password is checked; AccountDisabled when the password is
    right but the account is disabled (not counted: it was no guess)."""
    email = email.strip().lower()
    moment = now()
    sign_in_throttle.check(session, email, address, moment)
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    ok = _password_matches(user, password)
    if ok and user is not None and user.disabled_at is not None:
        raise AccountDisabled(
            f"The account {email} is disabled.",
            hint="Ask a deskhand admin to enable it again (`deskhand users enable`).",
        )
    sign_in_throttle.record(session, email, address, moment, ok)
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
    """The browser session for a cookie, if it is valid now; idle or old sessions, and those of
    a disabled account, end."""
    found = session.get(WebSession, _digest(token))
    moment = now()
    if found is None:
        return None
    if (
        found.expires_at <= moment
        or found.last_seen_at + SESSION_IDLE <= moment
        or found.user.disabled_at is not None
    ):
        session.delete(found)
        return None
    if moment - found.last_seen_at > timedelta(minutes=1):  # not a write per request
        found.last_seen_at = moment
    return found


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def create_token(session: Session, user: User, name: str) -> str:
    """A new API token for ``user``; the returned value is shown once and never again."""
    if user.disabled_at is not None:
        raise InputError(
            f"{user.email} is disabled; a token for them would be refused.",
            hint=f"Enable the account first: `deskhand users enable {user.email}`.",
        )
    token = "dh_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(token), prefix=token[:10]))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The user an API token acts as, unless it is revoked or the account is disabled."""
    found = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if found is None or found.user.disabled_at is not None:
        return None
    if found.last_used_at is None or now() - found.last_used_at > timedelta(minutes=1):
        found.last_used_at = now()
    return found.user


# Changing accounts. Each function works in the caller's transaction and records its event.


def find_user(session: Session, email: str) -> User:
    """The user with this e-mail address; InputError naming it if there is none."""
    address = email.strip().lower()
    user = session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    if user is None:
        raise InputError(f"No user {address}.", hint=_LIST_HINT)
    return user


def tenant_scope(session: Session, tenants: str) -> list[str]:
    """Comma-separated tenant ids (or ``*`` for all) as a user's scope; every id must exist."""
    scope = [t.strip() for t in tenants.split(",") if t.strip()]
    known = set(session.scalars(select(Tenant.id)))
    unknown = [t for t in scope if t != "*" and t not in known]
    if unknown or not scope:
        raise InputError(
            f"Unknown tenant(s): {', '.join(unknown) or '(none given)'}.",
            hint=f"Tenants: {', '.join(sorted(known))}, or * for all.",
        )
    return ["*"] if "*" in scope else list(dict.fromkeys(scope))


def _role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"Unknown role {role!r}.", hint=f"Roles: {', '.join(ROLES)}.")
    return role


def add_user(
    session: Session,
    email: str,
    *,
    name: str,
    role: str,
    tenants: Sequence[str],
    password: str,
    actor: ev.Actor,
) -> User:
    """A new account; InputError if the address is taken or the role unknown."""
    address = email.strip().lower()
    _role(role)
    if session.execute(select(User).where(User.email == address)).scalar() is not None:
        raise InputError(f"{address} is already a user.", hint=_LIST_HINT)
    user = User(email=address, name=name or address, role=role, tenants=list(tenants))
    set_password(user, password)
    session.add(user)
    append(session, ev.UserAdded(address, role, list(tenants)), actor=actor)
    return user


@dataclass(frozen=True)
class Ended:
    """What a change ended: browser sessions signed out, API tokens revoked."""

    sessions: int
    tokens: int


def _end_access(session: Session, user: User) -> Ended:
    sessions = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    tokens = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return Ended(sessions.rowcount or 0, tokens.rowcount or 0)  # type: ignore[attr-defined]


def change_password(session: Session, user: User, password: str, actor: ev.Actor) -> Ended:
    """Set a new password; the user's sessions end and their API tokens are revoked."""
    set_password(user, password)
    ended = _end_access(session, user)
    append(session, ev.UserPasswordChanged(user.email, ended.sessions, ended.tokens), actor=actor)
    return ended


def disable_user(session: Session, user: User, actor: ev.Actor) -> Ended:
    """The user can no longer sign in; their sessions end and their API tokens are revoked."""
    if user.disabled_at is not None:
        raise InputError(f"{user.email} is disabled already.")
    user.disabled_at = now()
    ended = _end_access(session, user)
    append(session, ev.UserDisabled(user.email, ended.sessions, ended.tokens), actor=actor)
    return ended


def enable_user(session: Session, user: User, actor: ev.Actor) -> None:
    """A disabled user may sign in again; tokens revoked when they were disabled stay so."""
    if user.disabled_at is None:
        raise InputError(f"{user.email} is not disabled.")
    user.disabled_at = None
    append(session, ev.UserEnabled(user.email), actor=actor)


def set_role(session: Session, user: User, role: str, actor: ev.Actor) -> None:
    """A new role, in force from the user's next request (sessions and tokens keep working)."""
    before = user.role
    user.role = _role(role)
    if before != role:
        append(session, ev.UserRoleChanged(user.email, before, role), actor=actor)


def set_tenants(session: Session, user: User, tenants: Sequence[str], actor: ev.Actor) -> None:
    """A new tenant scope, in force from the user's next request."""
    before = list(user.tenants)
    user.tenants = list(tenants)
    if before != list(tenants):
        append(session, ev.UserTenantsChanged(user.email, before, list(tenants)), actor=actor)


def history(session: Session, user: User) -> list[str]:
    """What the event log and the approval records hold of ``user``, in words; empty if
    nothing."""
    counts = {
        "decided {} draft(s)": select(func.count())
        .select_from(Approval)
        .where(Approval.approver_id == user.id),
        "was shown {} secret(s)": select(func.count())
        .select_from(StepSecret)
        .where(StepSecret.revealed_by == user.id),
        "started {} analysis(es)": select(func.count())
        .select_from(Analysis)
        .where(Analysis.created_by == user.id),
        "acted in {} event(s)": select(func.count())
        .select_from(EventRecord)
        .where(EventRecord.actor_kind == ev.ActorKind.USER.value, EventRecord.actor == user.email),
    }
    found = []
    for words, query in counts.items():
        count = session.scalar(query) or 0
        if count:
            found.append(words.format(count))
    return found


def remove_user(session: Session, user: User, actor: ev.Actor) -> None:
    """Delete an account that has no history; InputError saying to disable it otherwise."""
    held = history(session, user)
    if held:
        raise InputError(
            f"{user.email} cannot be removed: they {', '.join(held)}, and the audit history "
            "must keep pointing at them.",
            hint=f"Disable the account instead (`deskhand users disable {user.email}`): it can "
            "no longer sign in, and its sessions and tokens end.",
        )
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    append(session, ev.UserRemoved(user.email, user.role, list(user.tenants)), actor=actor)
    session.delete(user)
