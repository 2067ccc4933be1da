"""A throwaway Samba Active Directory domain controller for the LDAP connector's tests.

Provisioned from scratch into a directory the test session owns (a few seconds), listening
only on a loopback address of its own (127.0.0.N, so 389/636 need not be free on 127.0.0.1),
with LDAP as its only service and Samba's self-signed certificate for LDAPS. Before it starts,
the OUs ``Staff`` and ``Disabled Users`` are made and a service account ``svc-deskhand`` is
delegated on both exactly what deskhand needs — the rights an admin grants in ADUC → Delegate
Control… — and the domain locks an account after three bad passwords. A third OU, ``Archive``,
delegates nothing: what deskhand may not do there is refused.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import ldap3
from ldap3.core.exceptions import LDAPException

REALM = "DESKHAND.TEST"
DOMAIN = "DESKHAND"
BASE_DN = "DC=deskhand,DC=test"
STAFF_OU = f"OU=Staff,{BASE_DN}"
DISABLED_OU = f"OU=Disabled Users,{BASE_DN}"
ARCHIVE_OU = f"OU=Archive,{BASE_DN}"
CERT_NAME = "DC1.deskhand.test"  # the name on Samba's self-signed certificate
ADMIN_PASSWORD = "Adm1n-Passw0rd-Samba"
SERVICE_USER = f"svc-deskhand@{REALM.lower()}"
SERVICE_PASSWORD = "Svc-Passw0rd-Samba1"
LOCKOUT_THRESHOLD = 3

_USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"
_GROUP_CLASS = "bf967a9c-0de6-11d0-a285-00aa003049e2"
# What Delegate Control… writes for "Reset user passwords and force password change at next
# logon", "Modify the membership of a group", and write access to lockoutTime and
# userAccountControl, each inherited by the users (or groups) of the OU; and, of "Create, delete,
# and manage user accounts", what creating and moving an account takes: creating and deleting
# user objects in the OU, and writing a user's name (its RDN, cn).
_DELEGATION = [
    ("CCDC", _USER_CLASS, ""),  # create and delete user objects in the OU
    ("WP", "bf967a0e-0de6-11d0-a285-00aa003049e2", _USER_CLASS),  # name
    ("WP", "bf96793f-0de6-11d0-a285-00aa003049e2", _USER_CLASS),  # cn
    ("CR", "00299570-246d-11d0-a768-00aa006e0529", _USER_CLASS),  # Reset Password
    ("RPWP", "bf967a0a-0de6-11d0-a285-00aa003049e2", _USER_CLASS),  # pwdLastSet
    ("RPWP", "28630ebf-41d5-11d1-a9c1-0000f80367c1", _USER_CLASS),  # lockoutTime
    ("RPWP", "bf967a68-0de6-11d0-a285-00aa003049e2", _USER_CLASS),  # userAccountControl
    ("RPWP", "bf9679c0-0de6-11d0-a285-00aa003049e2", _GROUP_CLASS),  # member
]
_PORTS = (389, 636, 3268, 3269)


class SambaSetupError(RuntimeError):
    """The domain controller could not be set up; the message says what to do."""


@dataclass
class SambaDC:
    root: Path
    address: str
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"ldaps://{self.address}:636"

    @property
    def ca_file(self) -> Path:
        return self.root / "private" / "tls" / "ca.pem"

    @property
    def log(self) -> Path:
        return self.root / "samba.log"

    def connect(self, user: str, password: str) -> ldap3.Connection:
        """A connection over LDAPS that trusts the DC's CA; bound when the bind succeeds."""
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_file), valid_names=[CERT_NAME]
        )
        server = ldap3.Server(self.url, tls=tls, get_info=ldap3.NONE, connect_timeout=10)
        connection = ldap3.Connection(server, user=user, password=password, receive_timeout=30)
        connection.open()
        connection.bind()
        return connection

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(root: Path) -> SambaDC:
    """Provision a domain into ``root`` and start its DC; SambaSetupError when that fails."""
    for program in ("samba", "samba-tool"):
        if shutil.which(program) is None:
            raise SambaSetupError(
                f"{program} is not installed: run `bash scripts/samba.sh` (`make unit` does), "
                "which installs Debian's samba-ad-dc"
            )
    address = _free_loopback_address()
    config = root / "etc" / "smb.conf"
    _tool(
        "domain",
        "provision",
        "--use-rfc2307",
        f"--realm={REALM}",
        f"--domain={DOMAIN}",
        f"--adminpass={ADMIN_PASSWORD}",
        "--server-role=dc",
        "--dns-backend=NONE",
        "--host-name=dc1",
        f"--targetdir={root}",
    )
    config.write_text(_config(root, address))
    database = ["-H", f"tdb://{root}/private/sam.ldb", "-s", str(config)]
    _tool(
        "domain",
        "passwordsettings",
        "set",
        f"--account-lockout-threshold={LOCKOUT_THRESHOLD}",
        *database,
    )
    for ou in (STAFF_OU, DISABLED_OU, ARCHIVE_OU):
        _tool("ou", "create", ou, *database)
    _tool("user", "create", "svc-deskhand", SERVICE_PASSWORD, *database)
    shown = _tool("user", "show", "svc-deskhand", "--attributes=objectSid", *database)
    sid = next(
        line.split(":", 1)[1].strip() for line in shown.splitlines() if line.startswith("objectSid")
    )
    aces = "".join(f"(OA;CI;{rights};{what};{on};{sid})" for rights, what, on in _DELEGATION)
    for ou in (STAFF_OU, DISABLED_OU):
        _tool("dsacl", "set", f"--objectdn={ou}", "--action=allow", f"--sddl={aces}", *database)
    log = (root / "samba.log").open("wb")
    process = subprocess.Popen(
        ["samba", "--interactive", "--model=single", "-s", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    dc = SambaDC(root=root, address=address, process=process)
    _wait_until_serving(dc)
    return dc


def _config(root: Path, address: str) -> str:
    # Only LDAP, only this loopback address, every path inside root: nothing of the machine's
    # own Samba (if any) is read or written. Without the grace period for old passwords, a
    # replaced password stops working at once, so the tests can see that it did.
    return f"""[global]
	netbios name = DC1
	realm = {REALM}
	workgroup = {DOMAIN}
	server role = active directory domain controller
	server services = ldap
	interfaces = {address}/8
	bind interfaces only = yes
	tls enabled = yes
	private dir = {root}/private
	lock directory = {root}
	state directory = {root}/state
	cache directory = {root}/cache
	pid directory = {root}/run
	binddns dir = {root}/bind-dns
	ncalrpc dir = {root}/run/ncalrpc
	winbindd socket directory = {root}/run/winbindd
	log file = {root}/samba.log
	idmap_ldb:use rfc2307 = yes
	old password allowed period = 0
"""


def _tool(*arguments: str) -> str:
    done = subprocess.run(["samba-tool", *arguments], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SambaSetupError(
            f"samba-tool {' '.join(arguments[:2])} failed:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def _free_loopback_address() -> str:
    """A 127.0.0.N on which every port the DC opens is free; N varies with the process so
    that two test sessions on one machine rarely try the same one."""
    first = 2 + os.getpid() % 200
    for step in range(250):
        address = f"127.0.0.{2 + (first + step) % 250}"
        if all(_free(address, port) for port in _PORTS):
            return address
    raise SambaSetupError("no loopback address 127.0.0.2–251 has ports 389 and 636 free")


def _free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def _wait_until_serving(dc: SambaDC) -> None:
    """Until LDAPS answers a bind, the DC exited, or a minute passed."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if dc.process.poll() is not None:
            raise SambaSetupError(f"samba exited at start; its log:\n{dc.log.read_text()[-3000:]}")
        if dc.ca_file.exists():
            try:
                connection = dc.connect(f"Administrator@{REALM.lower()}", ADMIN_PASSWORD)
            except LDAPException:
                pass
            else:
                bound = connection.bound
                connection.unbind()
                if bound:
                    return
        time.sleep(0.2)
    dc.stop()
    raise SambaSetupError(
        f"samba did not serve LDAPS within a minute; its log:\n{dc.log.read_text()[-3000:]}"
    )
