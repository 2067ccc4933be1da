"""A real Dovecot IMAP server for the tests: its own configuration, on free loopback ports,
with STARTTLS on the plain port and IMAPS beside it (a certificate from a throwaway CA), a
passwd-file with the test mailbox's user, and maildirs under a temporary folder.

Dovecot refuses to keep mail as root, so when the tests run as root (a container) the mail
belongs to Debian's ``dovecot`` user and the login processes run as ``dovenull``; otherwise
everything runs as the user who runs the tests.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import trustme

USERNAME = "support@client.example"
PASSWORD = "Imap-Passw0rd-Only-In-Tests"
HOST = "127.0.0.1"


class DovecotSetupError(Exception):
    """Dovecot could not be started; the message says why and what to run."""


@dataclass
class Dovecot:
    """A running Dovecot: where it listens and how to trust it."""

    process: subprocess.Popen[bytes]
    root: Path
    starttls_port: int
    imaps_port: int
    ca_file: Path
    log: Path

    def connect(self) -> imaplib.IMAP4_SSL:
        """A session as the test user, for putting messages in and reading flags back."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        session = imaplib.IMAP4_SSL(HOST, self.imaps_port, ssl_context=context, timeout=10)
        session.login(USERNAME, PASSWORD)
        return session

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Dovecot:
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        raise DovecotSetupError(
            "Dovecot is not installed; the IMAP tests need it. Run `bash scripts/dovecot.sh` "
            "(or `make unit`, which runs it)."
        )
    # Not under pytest's tmp folder: that is private to its owner, and as root the mail
    # processes run as another user who must reach the maildirs.
    root = Path(tempfile.mkdtemp(prefix="deskhand-dovecot-"))
    root.chmod(0o755)
    authority = trustme.CA()
    certificate = authority.issue_cert(HOST, "localhost")
    cert_file, key_file, ca_file = root / "cert.pem", root / "key.pem", root / "ca.pem"
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    authority.cert_pem.write_to_path(str(ca_file))
    key_file.chmod(0o600)

    internal, login, mail_user = _users()
    mail_owner = pwd.getpwnam(mail_user)
    mail = root / "mail"
    mail.mkdir()
    os.chown(mail, mail_owner.pw_uid, mail_owner.pw_gid)
    users = root / "users"
    users.write_text(f"{USERNAME}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    users.chmod(0o644)
    starttls_port, imaps_port = _free_port(), _free_port()
    log = root / "dovecot.log"
    config = root / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            root=root,
            starttls_port=starttls_port,
            imaps_port=imaps_port,
            cert=cert_file,
            key=key_file,
            users=users,
            mail=mail,
            uid=mail_owner.pw_uid,
            gid=mail_owner.pw_gid,
            internal=internal,
            login=login,
            log=log,
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = Dovecot(process, root, starttls_port, imaps_port, ca_file, log)
    try:
        _wait_until_ready(server)
    except DovecotSetupError:
        server.stop()
        raise
    return server


def _users() -> tuple[str, str, str]:
    """(internal user, login user, mail owner) for this process's user."""
    me = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() != 0:
        return me, me, me
    for name in ("dovecot", "dovenull"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            raise DovecotSetupError(
                f"Running as root, Dovecot needs the system user {name!r}, which Debian's "
                "dovecot-core package creates. Run `bash scripts/dovecot.sh`."
            ) from None
    return "dovecot", "dovenull", "dovecot"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(server: Dovecot) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            said = (
                server.process.stderr.read().decode(errors="replace")
                if server.process.stderr
                else ""
            )
            logged = server.log.read_text(errors="replace") if server.log.exists() else ""
            raise DovecotSetupError(f"Dovecot exited at start:\n{said}\n{logged}")
        try:
            with socket.create_connection((HOST, server.imaps_port), timeout=1):
                pass
            with socket.create_connection((HOST, server.starttls_port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise DovecotSetupError("Dovecot did not start listening within 30 s; see " + str(server.log))


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = deskhand-test-{imaps_port}
log_path = {log}
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = 1
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {starttls_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
