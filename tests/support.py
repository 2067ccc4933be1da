"""Helpers the tests share: writing small export files the way PSAs write them."""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from deskhand.store.db import normalise_url

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "syncro-synthetic"

WriteCsv = Callable[..., Path]


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]], delimiter: str = ",") -> str:
    """CSV text with proper quoting, as a PSA export would have it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


POSTGRES = os.environ.get("DESKHAND_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/test")


@contextmanager
def postgres_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A throwaway database on the test PostgreSQL server, dropped afterwards; a copy of the
    database ``template`` (its name) when given.

    Tests that need PostgreSQL fail — never skip — when it is down: `make test` starts it
    (scripts/services.sh).
    """
    server = create_engine(normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    except OperationalError as error:
        pytest.fail(f"PostgreSQL at {POSTGRES} is not reachable: {error.orig}")
    url = normalise_url(str(make_url(POSTGRES).set(database=name).render_as_string(False)))
    try:
        yield url
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
