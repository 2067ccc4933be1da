"""The brake on password guessing, built so that no one can use it to keep an approver out.

Every sign-in attempt is kept in ``login_attempts`` (so every web process sees the same
counts). Three limits apply to the failures of the last ``WINDOW`` (15 minutes):

1. **One address guessing one account.** ``PER_PAIR`` (5) failures of one e-mail address from
   one network address stop that pair, and only that pair.
2. **One address guessing many accounts** (password spraying). ``PER_ADDRESS`` (20) failures
   from one network address, whatever the accounts, stop that address.
3. **Many addresses guessing one account.** Once an account's failures come from
   ``ATTACKING_ADDRESSES`` (5) or more addresses, every address that has failed at all lately
   is stopped for that account — each attacking address gets one guess per window instead of
   five — while an address with no recent failure still gets its try.

Nothing stops an account as a whole: the right password from an address with no recent
failures always signs in. To keep an approver out, an attacker has to be at the approver's
own address. An attempt that is stopped is answered before the password is checked (the
answer says nothing about the password) and is not counted (a stopped guesser cannot make
anyone's wait longer). The network address is the peer's, or the ``X-Forwarded-For`` client
when the peer is a proxy named in ``--forwarded-allow-ips`` (``deskhand.web.security``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from deskhand.errors import DeskhandError
from deskhand.store.models import LoginAttempt

WINDOW = timedelta(minutes=15)
PER_PAIR = 5
PER_ADDRESS = 20
ATTACKING_ADDRESSES = 5


class TooManyAttempts(DeskhandError):  # noqa: N818 - a state the user is in, not a fault
    """Signing in from this address is stopped for a while (429)."""

    exit_code = 2
    http_status = 429

    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, int(retry_after.total_seconds() // 60) + 1)
        super().__init__(
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}.",
            hint="Ask an admin to reset your password if you have forgotten it.",
        )
        self.retry_after = retry_after


def check(session: Session, email: str, address: str, moment: datetime) -> None:
    """Raise TooManyAttempts if a sign-in as ``email`` from ``address`` is stopped now."""
    since = moment - WINDOW
    pair = _failures(session, since, LoginAttempt.email == email, LoginAttempt.address == address)
    if pair.count >= PER_PAIR:
        raise TooManyAttempts(_wait(pair.oldest, moment))
    by_address = _failures(session, since, LoginAttempt.address == address)
    if by_address.count >= PER_ADDRESS:
        raise TooManyAttempts(_wait(by_address.oldest, moment))
    if by_address.count and _attacking_addresses(session, since, email) >= ATTACKING_ADDRESSES:
        raise TooManyAttempts(_wait(by_address.newest, moment))


def record(session: Session, email: str, address: str, moment: datetime, ok: bool) -> None:
    session.add(LoginAttempt(email=email, address=address, at=moment, succeeded=ok))


@dataclass(frozen=True)
class _Failures:
    count: int
    oldest: datetime | None
    newest: datetime | None


def _failures(session: Session, since: datetime, *where: ColumnElement[bool]) -> _Failures:
    count, oldest, newest = session.execute(
        select(func.count(), func.min(LoginAttempt.at), func.max(LoginAttempt.at)).where(
            LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False), *where
        )
    ).one()
    return _Failures(int(count or 0), oldest, newest)


def _attacking_addresses(session: Session, since: datetime, email: str) -> int:
    found = session.scalar(
        select(func.count(func.distinct(LoginAttempt.address))).where(
            LoginAttempt.at >= since,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.email == email,
        )
    )
    return int(found or 0)


def _wait(failed_at: datetime | None, moment: datetime) -> timedelta:
    """How long until the failure at ``failed_at`` leaves the window."""
    return (failed_at or moment) + WINDOW - moment
