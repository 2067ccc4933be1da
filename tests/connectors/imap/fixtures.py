"""One real Dovecot IMAP server for the session (registered for every test directory by
tests/conftest.py), and a folder of its own for each test, so tests share the server but no
messages."""

from __future__ import annotations

import imaplib
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.mail.imap import ImapMailbox
from deskhand.connectors.mail.settings import ImapSettings
from tests.connectors.imap import dovecot
from tests.connectors.imap.dovecot import HOST, PASSWORD, USERNAME, Dovecot, DovecotSetupError


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    try:
        server = dovecot.start()
    except DovecotSetupError as error:
        pytest.fail(str(error))
    yield server
    server.stop()


_serial = itertools.count(1)


@dataclass
class SupportMailbox:
    """A test's own folder in the test user's mailbox on the real Dovecot."""

    server: Dovecot
    folder: str

    def settings(self, **changes: object) -> ImapSettings:
        values: dict[str, object] = {
            "host": HOST,
            "port": self.server.imaps_port,
            "tls": "imaps",
            "username": USERNAME,
            "folder": self.folder,
            "ca_file": self.server.ca_file,
            "timeout_seconds": 10,
        }
        values.update(changes)
        return ImapSettings.model_validate(values)

    def mailbox(self, *, password: str = PASSWORD, **changes: object) -> ImapMailbox:
        """A connector on this folder that never waits between retries."""
        caller = Caller(
            "contoso",
            "imap",
            policy=CallPolicy(timeout_seconds=10, attempts=2),
            breakers=Breakers(),
            sleep=lambda seconds: None,
        )
        return ImapMailbox("contoso", self.settings(**changes), password, caller=caller)

    def append(
        self, raw: bytes | str, folder: str | None = None, *, arrived: datetime | None = None
    ) -> None:
        """Put a message in the folder the way a mail server's delivery would (IMAP APPEND),
        arrived now or at ``arrived`` (the message's internal date)."""
        data = raw.encode() if isinstance(raw, str) else raw
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        session = self.server.connect()
        try:
            when = imaplib.Time2Internaldate(arrived) if arrived else None
            status, said = session.append(_quoted(folder or self.folder), None, when, data)
            assert status == "OK", said
        finally:
            session.logout()

    def create(self, folder: str) -> None:
        session = self.server.connect()
        try:
            status, said = session.create(_quoted(folder))
            assert status == "OK", said
        finally:
            session.logout()

    def recreate(self) -> None:
        """Delete the folder and make it again: the server gives it a new UIDVALIDITY."""
        session = self.server.connect()
        try:
            assert session.delete(_quoted(self.folder))[0] == "OK"
            assert session.create(_quoted(self.folder))[0] == "OK"
        finally:
            session.logout()

    def flags(self, folder: str | None = None) -> list[tuple[int, str]]:
        """(UID, flags) of each message in the folder, as the server has them."""
        session = self.server.connect()
        try:
            session.select(_quoted(folder or self.folder), readonly=True)
            status, said = session.uid("FETCH", "1:*", "(UID FLAGS)")
            assert status == "OK", said
            found = []
            for line in said:
                if isinstance(line, bytes):
                    text = line.decode()
                    uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                    flags = text.split("FLAGS (")[1].split(")")[0].split()
                    # \Recent is the server's session bookkeeping, not something deskhand set.
                    found.append((uid, " ".join(f for f in flags if f != "\\Recent")))
            return sorted(found)
        finally:
            session.logout()


def _quoted(folder: str) -> str:
    return f'"{folder}"'


@pytest.fixture
def support_mailbox(dovecot_server: Dovecot) -> SupportMailbox:
    """A fresh folder for this test."""
    folder = f"t{os.getpid() % 1000}x{next(_serial)}"
    mailbox = SupportMailbox(dovecot_server, folder)
    mailbox.create(folder)
    return mailbox
