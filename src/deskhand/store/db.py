"""Connecting to the application database, and keeping its schema current.

SQLite (the embedded default) takes the write lock at the start of every transaction
(``BEGIN IMMEDIATE``): one writer at a time, readers never blocked (WAL). PostgreSQL is reached
through psycopg 3; workers there claim work with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from deskhand.errors import DeskhandError

MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "deskhand_read_only"


class DatabaseError(DeskhandError):
    """The database cannot be used: unreachable, or its schema is not current."""

    exit_code = 2


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3, the driver deskhand ships with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, the folder is created and the file set up for one
    writer and many readers."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"Cannot read the database URL {url!r}.",
            hint="Use sqlite:///path/to/deskhand.db or postgresql://user@host:5432/dbname.",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        _sqlite_one_writer(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_one_writer(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling would begin lazily and deferred; take over so
        # that every transaction holds the write lock from its first statement.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Readers (traces, audits, listings) begin deferred: under WAL they never wait for, or
        # hold up, a writer.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The application database: an engine, sessions, and the schema's version."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work commits together at the end of the block, or not at all."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading only: on SQLite it does not take the write lock."""
        with self._readers() as session, session.begin():
            yield session

    def upgrade(self) -> tuple[str | None, str]:
        """Bring the schema to the newest version: (version before, version now)."""
        before = self.current_revision()
        command.upgrade(self._alembic_config(), "head")
        return before, self.head_revision()

    def current_revision(self) -> str | None:
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except OperationalError as error:
            raise DatabaseError(
                f"Cannot open the database at {self.engine.url.render_as_string()}: "
                f"{str(error.orig).strip()}",
                hint="Check DESKHAND_DATABASE_URL (or --db), and that the server is running.",
            ) from None

    def head_revision(self) -> str:
        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        assert head is not None
        return head

    def require_current(self) -> None:
        """Refuse to work on a schema that is missing or older than this deskhand."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "has no deskhand schema" if current is None else f"is at version {current}"
            raise DatabaseError(
                f"The database {self.engine.url.render_as_string()} {state}; this deskhand "
                f"needs version {head}.",
                hint="Run `deskhand db upgrade` (with the same --db or DESKHAND_DATABASE_URL).",
            )

    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def dispose(self) -> None:
        self.engine.dispose()
