"""The sandbox's own database: simulated client tenants (directory, licences, PSA) and the log of
every mutating call made to them.

The sandbox stands in for systems outside deskhand, so it never shares deskhand's database or
transactions: it has its own engine and URL (a separate SQLite file by default, or PostgreSQL),
and every call commits on its own. Several processes may use one sandbox database at once; its
writes are serialised (SQLite's one writer, a PostgreSQL advisory lock), so that seat counts,
ticket numbers and call counts are exact, as the real systems' own are.

Fault injection for crash tests, read from the environment at every mutating call:

``DESKHAND_SANDBOX_HANG=after:N``
    Sleep forever right after the N-th applied mutating call of the whole store has committed
    (N counts the ``applied`` rows of ``sandbox_calls``, whichever process made them).
``DESKHAND_SANDBOX_HANG=before:N``
    Sleep forever right before applying what would be the N-th applied call (nothing of it is
    applied or logged).
``DESKHAND_SANDBOX_HANG=pause-before:N`` / ``pause-after:N``
    Stop the process (SIGSTOP to itself) at the same points; it carries on where it was when
    it is sent SIGCONT, as a paused virtual machine or a stalled network call would.
``DESKHAND_SANDBOX_LATENCY_MS=50``
    Wait that long at the start of every call, reads included (benchmarks).

A test kills the hanging process (SIGKILL) to see what deskhand does after a crash at that point.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, NoReturn, TypeVar

from sqlalchemy import (
    JSON,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from deskhand.connectors.errors import ConnectorError, UnavailableError
from deskhand.errors import DeskhandError
from deskhand.store.db import READ_ONLY, make_engine
from deskhand.store.models import UtcDateTime, now

T = TypeVar("T")

HANG_VARIABLE = "DESKHAND_SANDBOX_HANG"
LATENCY_VARIABLE = "DESKHAND_SANDBOX_LATENCY_MS"
APPLIED = "applied"
FIRST_TICKET_NUMBER = 1001
MAILBOX_PURPOSE_DEFAULT = "user"
# Columns added after a table was first shipped: create_all does not add them to a sandbox file
# made before, so they are added on opening (table, column, its SQL type and default).
_ADDED_COLUMNS = (
    ("sandbox_users", "ou", "VARCHAR(500)", ""),
    ("sandbox_users", "given_name", "VARCHAR(64)", ""),
    ("sandbox_users", "surname", "VARCHAR(64)", ""),
    ("sandbox_users", "mailbox_purpose", "VARCHAR(32)", MAILBOX_PURPOSE_DEFAULT),
    ("sandbox_groups", "synced", "BOOLEAN", "0"),
    ("sandbox_groups", "dynamic", "BOOLEAN", "0"),
    ("sandbox_users", "department", "VARCHAR(200)", ""),
    ("sandbox_users", "usage_location", "VARCHAR(2)", ""),
    ("sandbox_users", "mail_nickname", "VARCHAR(64)", ""),
)

# Any fixed number: the key of the PostgreSQL advisory lock that makes sandbox writers take turns.
_WRITE_LOCK_KEY = 7_302_118_845


class SandboxBase(DeclarativeBase):
    """The sandbox's tables, kept apart from deskhand's own ``Base``."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class SandboxTenant(SandboxBase):
    """A simulated client: its M365 tenant, its AD domain and its customer record in the PSA."""

    __tablename__ = "sandbox_tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(64))  # the PSA's customer id
    domains: Mapped[list[str]] = mapped_column(default=list)


class SandboxUser(SandboxBase):
    """A user of a tenant, with what Graph and AD would say about their credentials."""

    __tablename__ = "sandbox_users"
    __table_args__ = (UniqueConstraint("tenant_id", "upn"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("sandbox_tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    upn: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    mail: Mapped[str | None] = mapped_column(String(320))
    sam_account_name: Mapped[str | None] = mapped_column(String(20))  # synced users only
    # A synced user's organisational unit in AD (its distinguished name); "" when not known.
    ou: Mapped[str] = mapped_column(String(500), default="", server_default="")
    given_name: Mapped[str] = mapped_column(String(64), default="", server_default="")
    surname: Mapped[str] = mapped_column(String(64), default="", server_default="")
    manager_id: Mapped[str | None] = mapped_column(String(64))
    vip: Mapped[bool] = mapped_column(default=False)
    admin: Mapped[bool] = mapped_column(default=False)
    synced: Mapped[bool] = mapped_column(default=False)
    account_enabled: Mapped[bool] = mapped_column(default=True)
    locked: Mapped[bool] = mapped_column(default=False)
    # Only that the password changed is kept, never the password or a hash of it.
    password_changed_at: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(default=False)
    sessions_revoked_at: Mapped[datetime | None]
    # Graph's mailboxSettings.userPurpose: "user", "shared", "room", … (only with a mail).
    mailbox_purpose: Mapped[str] = mapped_column(
        String(32), default=MAILBOX_PURPOSE_DEFAULT, server_default=MAILBOX_PURPOSE_DEFAULT
    )
    # Organisational attributes; "" is none set (added to older sandbox files as NOT NULL).
    department: Mapped[str] = mapped_column(String(200), default="", server_default="")
    usage_location: Mapped[str] = mapped_column(String(2), default="", server_default="")
    mail_nickname: Mapped[str] = mapped_column(String(64), default="", server_default="")


class SandboxGroup(SandboxBase):
    """A security group, privileged group or distribution list of a tenant."""

    __tablename__ = "sandbox_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "display_name"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("sandbox_tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    privileged: Mapped[bool] = mapped_column(default=False)
    mail_enabled: Mapped[bool] = mapped_column(default=False)
    # Synced from the tenant's AD: its members are changed there (SandboxAD), not via Graph.
    synced: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Dynamic membership: a rule decides the members, Graph refuses to change them.
    dynamic: Mapped[bool] = mapped_column(default=False, server_default="0")


class SandboxGroupMember(SandboxBase):
    """One user's membership of one group."""

    __tablename__ = "sandbox_group_members"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "group_id"], ["sandbox_groups.tenant_id", "sandbox_groups.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["sandbox_users.tenant_id", "sandbox_users.id"]
        ),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class SandboxOrganisationalUnit(SandboxBase):
    """An organisational unit of a tenant's AD domain, by its distinguished name."""

    __tablename__ = "sandbox_organisational_units"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("sandbox_tenants.id"), primary_key=True)
    dn: Mapped[str] = mapped_column(String(500), primary_key=True)


class SandboxSku(SandboxBase):
    """A licence product a tenant subscribes to; ``id`` is Microsoft's skuId."""

    __tablename__ = "sandbox_skus"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("sandbox_tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    part_number: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200))
    total: Mapped[int] = mapped_column(Integer)  # seats bought; consumed = assignments


class SandboxLicenseAssignment(SandboxBase):
    """One licence assigned to one user: one seat of the SKU consumed."""

    __tablename__ = "sandbox_license_assignments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "sku_id"], ["sandbox_skus.tenant_id", "sandbox_skus.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["sandbox_users.tenant_id", "sandbox_users.id"]
        ),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class SandboxMailbox(SandboxBase):
    """What Exchange Online holds for a user's mailbox beyond the user row: the automatic
    reply, and whether Graph shows the user in the address lists (None: it does not say)."""

    __tablename__ = "sandbox_mailboxes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["sandbox_users.tenant_id", "sandbox_users.id"]
        ),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    auto_reply_status: Mapped[str] = mapped_column(String(32), default="disabled")
    internal_reply: Mapped[str] = mapped_column(Text, default="")
    external_reply: Mapped[str] = mapped_column(Text, default="")
    external_audience: Mapped[str] = mapped_column(String(32), default="none")
    show_in_address_list: Mapped[bool | None]


class SandboxInboxRule(SandboxBase):
    """A rule of a user's inbox that forwards every message."""

    __tablename__ = "sandbox_inbox_rules"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(256))
    forward_to: Mapped[list[str]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(default=True)


class SandboxDriveGrant(SandboxBase):
    """A permission on the root of a user's OneDrive, granted to another user."""

    __tablename__ = "sandbox_drive_grants"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(default=list)


class SandboxAuthMethod(SandboxBase):
    """A sign-in method a user registered (the password is one)."""

    __tablename__ = "sandbox_auth_methods"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))  # Graph's type: phoneAuthenticationMethod, …
    label: Mapped[str] = mapped_column(String(200), default="")


class SandboxPsaTicket(SandboxBase):
    """A ticket in the PSA; ``number`` is what people quote, unique across the whole PSA."""

    __tablename__ = "sandbox_psa_tickets"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[int] = mapped_column(unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("sandbox_tenants.id"))
    customer_id: Mapped[str] = mapped_column(String(64))
    contact_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=now)


class SandboxPsaComment(SandboxBase):
    """A comment on a PSA ticket: hidden (an internal note) or a public reply."""

    __tablename__ = "sandbox_psa_comments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sandbox_psa_tickets.id"))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=now)


class SandboxPsaTimeEntry(SandboxBase):
    """Technician time logged on a PSA ticket (a Syncro ticket timer)."""

    __tablename__ = "sandbox_psa_time_entries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sandbox_psa_tickets.id"))
    minutes: Mapped[int]
    notes: Mapped[str] = mapped_column(Text)
    billable: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=now)


class SandboxPsaContact(SandboxBase):
    """A person at the client the PSA knows."""

    __tablename__ = "sandbox_psa_contacts"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("sandbox_tenants.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    authorised: Mapped[bool] = mapped_column(default=False)


class SandboxCall(SandboxBase):
    """One mutating call made to the sandbox, applied or refused."""

    __tablename__ = "sandbox_calls"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=now)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    system: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]]  # never a password
    outcome: Mapped[str] = mapped_column(String(100))  # "applied" or "error:<class name>"
    pid: Mapped[int]


@dataclass(frozen=True)
class LoggedCall:
    """A row of the call log, as tests read it."""

    id: int
    at: datetime
    tenant_id: str
    system: str
    operation: str
    arguments: dict[str, Any]
    outcome: str
    pid: int


@dataclass(frozen=True)
class _Hang:
    """Where ``DESKHAND_SANDBOX_HANG`` asks the process to stop: before or after call N."""

    when: Literal["before", "after"]
    call: int
    pause: bool = False  # stop until SIGCONT instead of hanging for good

    @classmethod
    def from_environment(cls) -> _Hang | None:
        value = os.environ.get(HANG_VARIABLE, "").strip()
        if not value:
            return None
        when, _, number = value.partition(":")
        pause = when.startswith("pause-")
        when = when.removeprefix("pause-")
        if when not in ("before", "after") or not number.isdigit() or int(number) < 1:
            raise DeskhandError(
                f"{HANG_VARIABLE}={value!r} is not understood.",
                hint="Use after:N, before:N, pause-after:N or pause-before:N with N ≥ 1, or "
                "unset it.",
            )
        return cls("before" if when == "before" else "after", int(number), pause)


class SandboxStore:
    """The sandbox database at ``url``; its tables are created if missing (a simulator has no
    migrations)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._create_tables()

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction that commits at the end of the block, taking its turn among writers."""
        with self._sessions() as session, session.begin():
            if self.is_postgresql:
                session.execute(select(func.pg_advisory_xact_lock(_WRITE_LOCK_KEY)))
            yield session

    @contextmanager
    def reading(self, system: str) -> Iterator[Session]:
        """A transaction for a read-only call of ``system``: latency applied, an unreachable
        database reported as the system being unavailable. Readers take no lock and, on
        SQLite, begin deferred: they never queue behind another process's writes."""
        _wait_latency()
        with _reachable(system), self._readers() as session, session.begin():
            yield session

    def apply(
        self,
        *,
        tenant_id: str,
        system: str,
        operation: str,
        arguments: dict[str, Any],
        change: Callable[[Session], T],
    ) -> T:
        """Run one mutating call: ``change`` and its ``applied`` log row commit together; a
        refusal (ConnectorError) changes nothing and is logged in a transaction of its own."""
        _wait_latency()
        hang = _Hang.from_environment()
        with _reachable(system):
            if hang and hang.when == "before" and self.applied_count() + 1 == hang.call:
                _stop(hang)
            try:
                with self.session() as session:
                    result = change(session)
                    session.add(self._call(tenant_id, system, operation, arguments, APPLIED))
                    session.flush()
                    number = _applied_count(session) if hang and hang.when == "after" else None
            except ConnectorError as error:
                outcome = f"error:{type(error).__name__}"
                with self.session() as session:
                    session.add(self._call(tenant_id, system, operation, arguments, outcome))
                raise
        if hang and number == hang.call:
            _stop(hang)
        return result

    def applied_count(self) -> int:
        """How many mutating calls the whole store has applied."""
        with self.session() as session:
            return _applied_count(session)

    def calls(self, tenant_id: str | None = None, operation: str | None = None) -> list[LoggedCall]:
        """The call log in order, optionally of one tenant or one operation."""
        query = select(SandboxCall).order_by(SandboxCall.id)
        if tenant_id is not None:
            query = query.where(SandboxCall.tenant_id == tenant_id)
        if operation is not None:
            query = query.where(SandboxCall.operation == operation)
        with self.session() as session:
            return [
                LoggedCall(
                    id=row.id,
                    at=row.at,
                    tenant_id=row.tenant_id,
                    system=row.system,
                    operation=row.operation,
                    arguments=row.arguments,
                    outcome=row.outcome,
                    pid=row.pid,
                )
                for row in session.scalars(query)
            ]

    def dispose(self) -> None:
        self.engine.dispose()

    def _create_tables(self) -> None:
        # Workers starting together would race to create the same tables: take turns.
        with self.engine.begin() as connection:
            if self.is_postgresql:
                connection.execute(select(func.pg_advisory_xact_lock(_WRITE_LOCK_KEY)))
            SandboxBase.metadata.create_all(connection)
            _add_missing_columns(connection)

    @staticmethod
    def _call(
        tenant_id: str, system: str, operation: str, arguments: dict[str, Any], outcome: str
    ) -> SandboxCall:
        return SandboxCall(
            at=now(),
            tenant_id=tenant_id,
            system=system,
            operation=operation,
            arguments=arguments,
            outcome=outcome,
            pid=os.getpid(),
        )


def _add_missing_columns(connection: Connection) -> None:
    """The columns of ``_ADDED_COLUMNS`` that an older sandbox database lacks, with their
    default filled in for the rows it already has."""
    for table, column, sql_type, default in _ADDED_COLUMNS:
        present = {c["name"] for c in inspect(connection).get_columns(table)}
        if column not in present:
            connection.execute(
                text(
                    f"ALTER TABLE {table} ADD COLUMN {column} {sql_type} "
                    f"NOT NULL DEFAULT '{default}'"
                )
            )


def _applied_count(session: Session) -> int:
    query = select(func.count()).select_from(SandboxCall).where(SandboxCall.outcome == APPLIED)
    return session.scalar(query) or 0


def _wait_latency() -> None:
    value = os.environ.get(LATENCY_VARIABLE, "").strip()
    if not value:
        return
    try:
        milliseconds = float(value)
    except ValueError:
        raise DeskhandError(
            f"{LATENCY_VARIABLE}={value!r} is not a number of milliseconds.",
            hint="Use for example 50, or unset it.",
        ) from None
    time.sleep(max(milliseconds, 0) / 1000)


def _stop(hang: _Hang) -> None:
    """Hang for good, or (``pause-…``) stop until the process is sent SIGCONT."""
    if not hang.pause:
        _hang_forever(hang)
    print(
        f"sandbox: process {os.getpid()} stops {hang.when} mutating call {hang.call} until "
        f"SIGCONT ({HANG_VARIABLE})",
        file=sys.stderr,
        flush=True,
    )
    os.kill(os.getpid(), signal.SIGSTOP)


def _hang_forever(hang: _Hang) -> NoReturn:
    print(
        f"sandbox: process {os.getpid()} hangs {hang.when} mutating call {hang.call} "
        f"({HANG_VARIABLE})",
        file=sys.stderr,
        flush=True,
    )
    while True:
        time.sleep(3600)


@contextmanager
def _reachable(system: str) -> Iterator[None]:
    """An unreachable or locked sandbox database is the outside system being unavailable."""
    try:
        yield
    except OperationalError as error:
        raise UnavailableError(
            f"The sandbox database cannot be reached: {str(error.orig).strip()}",
            system=system,
            status=503,
        ) from None
