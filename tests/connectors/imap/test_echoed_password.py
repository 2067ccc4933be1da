"""A mail server that refuses the IMAP sign-in by echoing the LOGIN command back, password and
all, never gets the password into what the IMAP connector says: the doctor's findings, a read's
error, the log. (Dovecot never echoes a password; this stand-in does nothing else.)"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskhand.connectors.calls import Breakers, Caller
from deskhand.connectors.errors import AuthenticationError
from deskhand.connectors.mail.imap import ImapMailbox
from deskhand.connectors.mail.settings import ImapSettings
from tests.connectors.mail.server import write_certificate

USER = "support@client.example"
PASSWORD = "Imap/Passw0rd+echoed=back"


class EchoingImap:
    """IMAPS on 127.0.0.1 that answers LOGIN with NO, quoting the command it was sent."""

    def __init__(self, folder: Path) -> None:
        self.cert_file, key_file = write_certificate(folder)
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(self.cert_file, key_file)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), connection:
            secured = self._tls.wrap_socket(connection, server_side=True)
            lines = secured.makefile("rb")
            secured.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
            for raw in lines:
                tag, _, command = raw.decode().rstrip("\r\n").partition(" ")
                verb = command.split(" ")[0].upper()
                if verb == "LOGIN":
                    said = f"{tag} NO [AUTHENTICATIONFAILED] refused: {command}\r\n"
                elif verb == "CAPABILITY":
                    said = f"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"
                else:  # LOGOUT
                    said = f"* BYE\r\n{tag} OK done\r\n"
                secured.sendall(said.encode())
                if verb == "LOGOUT":
                    return


@pytest.fixture
def echoing(tmp_path: Path) -> Iterator[EchoingImap]:
    server = EchoingImap(tmp_path)
    yield server
    server.close()


def mailbox(server: EchoingImap) -> ImapMailbox:
    settings = ImapSettings(
        host="127.0.0.1", port=server.port, username=USER, ca_file=server.cert_file
    )
    caller = Caller("contoso", "imap", breakers=Breakers(), sleep=lambda _: None)
    return ImapMailbox("contoso", settings, PASSWORD, caller=caller)


def test_the_doctor_reports_the_refused_login_without_the_echoed_password(
    echoing: EchoingImap, caplog: pytest.LogCaptureFixture
) -> None:
    findings = mailbox(echoing).doctor()

    failed = findings[-1]
    assert (failed.check, failed.outcome) == ("login", "fail")
    assert f'LOGIN {USER} "[redacted: IMAP password]"' in failed.detail
    assert "intake.imap.username" in (failed.fix or "")
    for text in (*(f.detail for f in findings), *(f.fix or "" for f in findings), caplog.text):
        assert PASSWORD not in text


def test_a_read_refused_at_login_fails_without_the_echoed_password(
    echoing: EchoingImap, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        mailbox(echoing).fetch_new(0, None)

    assert "[redacted: IMAP password]" in caught.value.message
    assert PASSWORD not in str(caught.value) and PASSWORD not in caplog.text
