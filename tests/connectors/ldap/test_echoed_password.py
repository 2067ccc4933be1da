"""A directory server that refuses the bind by echoing the bind request back — the account and
its password in the diagnostic message, as a broken appliance in front of a DC might — never
gets the bind password into what the LDAP connector says: the doctor's findings, an operation's
error, the log. (Samba, like AD, never echoes a password; this stand-in does nothing else.)"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3.protocol.rfc4511 import (
    LDAPDN,
    BindResponse,
    LDAPMessage,
    LDAPString,
    MessageID,
    ProtocolOp,
    ResultCode,
)
from pyasn1.codec.ber import decoder, encoder

from deskhand.connectors.calls import Breakers, Caller
from deskhand.connectors.errors import AuthenticationError
from deskhand.connectors.ldap import LdapDirectory, LdapSettings
from tests.connectors.mail.server import write_certificate

BIND_USER = "svc-deskhand@client.example"
BIND_PASSWORD = "B1nd/Passw0rd+for=AD"


class EchoingDirectory:
    """LDAPS on 127.0.0.1 that answers each bind with AD's "invalid credentials" (data 52e),
    its diagnostic message echoing the name and simple password it was sent."""

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
            while (request := _read_message(secured)) is not None:
                operation = request["protocolOp"]
                if operation.getName() != "bindRequest":
                    return  # an unbind: the client is done
                bind = operation["bindRequest"]
                name = str(bind["name"])
                password = bytes(bind["authentication"]["simple"]).decode()
                said = (
                    "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, "
                    f"data 52e, v4563 (bind {name} with {password})"
                )
                secured.sendall(_bind_refused(int(request["messageID"]), said))


def _read_message(stream: ssl.SSLSocket) -> LDAPMessage | None:
    head = _read(stream, 2)
    if head is None:
        return None
    size = head[1]
    length = b""
    if size & 0x80:
        length = _read(stream, size & 0x7F) or b""
        size = int.from_bytes(length, "big")
    body = _read(stream, size) or b""
    message, _ = decoder.decode(head + length + body, asn1Spec=LDAPMessage())
    return message


def _read(stream: ssl.SSLSocket, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = stream.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _bind_refused(message_id: int, said: str) -> bytes:
    response = BindResponse()
    response["resultCode"] = ResultCode("invalidCredentials")
    response["matchedDN"] = LDAPDN("")
    response["diagnosticMessage"] = LDAPString(said)
    operation = ProtocolOp()
    operation["bindResponse"] = response
    message = LDAPMessage()
    message["messageID"] = MessageID(message_id)
    message["protocolOp"] = operation
    return bytes(encoder.encode(message))


@pytest.fixture
def echoing(tmp_path: Path) -> Iterator[EchoingDirectory]:
    server = EchoingDirectory(tmp_path)
    yield server
    server.close()


def directory(server: EchoingDirectory) -> LdapDirectory:
    settings = LdapSettings(
        servers=[f"ldaps://127.0.0.1:{server.port}"],
        base_dn="DC=client,DC=example",
        bind_user=BIND_USER,
        ca_file=server.cert_file,
        timeout_seconds=5,
    )
    caller = Caller("contoso", "ldap", breakers=Breakers(), sleep=lambda _: None)
    return LdapDirectory("contoso", settings, BIND_PASSWORD, caller=caller)


def test_the_doctor_reports_the_refused_bind_without_the_echoed_password(
    echoing: EchoingDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    findings = directory(echoing).doctor()

    failed = findings[-1]
    assert (failed.check, failed.outcome) == ("authenticates", "fail")
    assert "the password is wrong" in failed.detail
    assert f"(bind {BIND_USER} with [redacted: AD bind password])" in failed.detail
    assert "bind password" in (failed.fix or "")
    for text in (*(f.detail for f in findings), *(f.fix or "" for f in findings), caplog.text):
        assert BIND_PASSWORD not in text


def test_an_operation_refused_at_the_bind_fails_without_the_echoed_password(
    echoing: EchoingDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        directory(echoing).get_user("pat.synced")

    assert caught.value.status == 49
    assert "[redacted: AD bind password]" in caught.value.message
    assert BIND_PASSWORD not in str(caught.value) and BIND_PASSWORD not in caplog.text
