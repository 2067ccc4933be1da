"""Building a tenant's connectors from its configuration: every connector call carries one
tenant, and a connector is never shared between tenants.

A tenant without a connection file (``config_path`` None) uses the sandbox. With one, each
system is real or sandbox as its section says; secrets are resolved here, at build time, and
nowhere else. Built connectors are kept per tenant, file version and secret values, so that a
client's state (an msal token cache, a rate limiter) lives across calls and is replaced as soon
as the file or a secret changes.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from deskhand.connectors.ad import ActiveDirectory
from deskhand.connectors.connection import Connection, load_connection
from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import NotFoundError
from deskhand.connectors.m365 import M365
from deskhand.connectors.mail import Mailer
from deskhand.connectors.psa import Psa
from deskhand.domain.directory import DirectoryUser, SignInState
from deskhand.errors import DeskhandError

if TYPE_CHECKING:
    from deskhand.connectors.mail.imap import ImapMailbox
    from deskhand.connectors.sandbox.store import SandboxStore
    from deskhand.store.models import Tenant


@dataclass(frozen=True)
class Connectors:
    """One tenant's outside systems."""

    tenant_id: str
    psa: Psa
    m365: M365
    ad: ActiveDirectory
    mail: Mailer | None = None  # None: replies to the client go through the PSA
    mailbox: ImapMailbox | None = None  # a support mailbox whose mail becomes tickets


class NoDirectory:
    """The AD of a tenant that has none (cloud-only, ``ad: {kind: none}``): every call says so."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        # Read by deskhand.connectors.capabilities: an action that needs AD is refused when it
        # is planned, not when it runs.
        self.absent = f"tenant {tenant_id} has no on-premises Active Directory configured"

    def _none(self) -> NotFoundError:
        return NotFoundError(
            f"tenant {self.tenant_id} has no on-premises Active Directory configured",
            system="ad",
            fix="add an `ad:` section with kind ldap to the tenant's connection file, or "
            "change the user in Microsoft 365 if they are not synced",
        )

    def doctor(self) -> list[Finding]:
        """Nothing to reach: the file says the tenant has no Active Directory."""
        return [Finding("ad", "configured", "ok", "no Active Directory (kind none)")]

    def get_user(self, key: str) -> DirectoryUser:
        raise self._none()

    def account_state(self, user_id: str) -> SignInState:
        raise self._none()

    def reset_password(self, user_id: str, password: str, force_change: bool) -> None:
        raise self._none()

    def unlock(self, user_id: str) -> None:
        raise self._none()


T = TypeVar("T")

# Per sandbox store (one per runtime), then per (tenant, file, mtime, secrets digest).
_Key = tuple[str, str, int, str]
_BUILT: weakref.WeakKeyDictionary[SandboxStore, dict[_Key, Connectors]] = (
    weakref.WeakKeyDictionary()
)
_READ: dict[tuple[str, int], Connection] = {}  # each file version is read and checked once
_LOCK = threading.Lock()


class Factory:
    """Makes ``Connectors`` for a tenant from its connection file, or the sandbox."""

    def __init__(
        self,
        sandbox: SandboxStore,
        *,
        environ: Mapping[str, str] | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.environ = os.environ if environ is None else environ
        self._secret_key = secret_key

    def for_tenant(self, tenant: Tenant) -> Connectors:
        if tenant.config_path is None:
            if tenant.connector != "sandbox":
                raise DeskhandError(
                    f"Tenant {tenant.id} uses the connector {tenant.connector!r}, which this "
                    "deskhand does not have.",
                    hint="Give the tenant a connection file: `deskhand tenants add` writes one.",
                )
            return self._sandbox_connectors(tenant.id)
        path = Path(tenant.config_path)
        connection = self.connection(tenant)
        secrets = self.secrets(tenant.id, connection)
        digest = hashlib.sha256(repr(sorted(secrets.items())).encode()).hexdigest()
        key: _Key = (tenant.id, str(path), _mtime(path), digest)
        with _LOCK:
            built = _BUILT.setdefault(self.sandbox, {})
            if key not in built:
                for old in [k for k in built if k[0] == tenant.id]:
                    del built[old]
                built[key] = self._build(tenant.id, connection, secrets)
            return built[key]

    def connection(self, tenant: Tenant) -> Connection:
        """The tenant's connection file, checked; an error naming the tenant otherwise."""
        assert tenant.config_path is not None
        path = Path(tenant.config_path)
        version = (str(path), _mtime(path))
        with _LOCK:
            if version in _READ:
                return _READ[version]
        try:
            connection = load_connection(path)
        except DeskhandError as error:
            raise type(error)(f"Tenant {tenant.id}: {error.message}", hint=error.hint) from None
        with _LOCK:
            for old in [v for v in _READ if v[0] == version[0]]:
                del _READ[old]
            _READ[version] = connection
        return connection

    def secrets(self, tenant_id: str, connection: Connection) -> dict[str, str | None]:
        """Each real section's secret, resolved; a SecretError naming the tenant and field."""
        resolved: dict[str, str | None] = {}
        for section in connection.file.sections():
            ref = section.secret()
            if not section.real or ref is None:
                resolved[section.system] = None
                continue
            field = f"Tenant {tenant_id} ({connection.path.name}) {section.system}."
            field += section.secret_field
            resolved[section.system] = ref.resolve(
                field, environ=self.environ, key=self.secret_key()
            )
        return resolved

    def secret_key(self) -> str | None:
        if self._secret_key is None:
            from deskhand.config import Settings

            key = Settings().secret_key
            self._secret_key = key.get_secret_value() if key else ""
        return self._secret_key or None

    def _sandbox_connectors(self, tenant_id: str) -> Connectors:
        from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa

        return Connectors(
            tenant_id=tenant_id,
            psa=SandboxPsa(self.sandbox, tenant_id),
            m365=SandboxM365(self.sandbox, tenant_id),
            ad=SandboxAD(self.sandbox, tenant_id),
        )

    def _build(
        self, tenant_id: str, connection: Connection, secrets: dict[str, str | None]
    ) -> Connectors:
        sandbox = self._sandbox_connectors(tenant_id)
        file = connection.file
        psa: Psa = sandbox.psa
        if file.psa.kind == "syncro":
            from deskhand.connectors.syncro import SyncroPsa, SyncroSettings

            syncro = _settings(connection, "psa", SyncroSettings)
            psa = SyncroPsa(tenant_id, syncro, _required(secrets["psa"]))
        m365: M365 = sandbox.m365
        if file.m365.kind == "graph":
            from deskhand.connectors.graph import GraphM365, GraphSettings

            graph = _settings(connection, "m365", GraphSettings)
            m365 = GraphM365(
                tenant_id, graph, secrets["m365"], vips=file.vips, sku_names=file.licenses
            )
        ad: ActiveDirectory = sandbox.ad
        if file.ad.kind == "ldap":
            from deskhand.connectors.ldap import LdapDirectory, LdapSettings

            ldap = _settings(connection, "ad", LdapSettings)
            ad = LdapDirectory(tenant_id, ldap, _required(secrets["ad"]))
        elif file.ad.kind == "none":
            ad = NoDirectory(tenant_id)
        mail: Mailer | None = None
        if file.mail.kind == "smtp":
            from deskhand.connectors.mail.settings import SmtpSettings
            from deskhand.connectors.mail.smtp import SmtpMailer

            smtp = _settings(connection, "mail", SmtpSettings)
            mail = SmtpMailer(tenant_id, smtp, secrets["mail"])
        mailbox = None
        if file.intake.imap is not None:
            from deskhand.connectors.mail.imap import ImapMailbox
            from deskhand.connectors.mail.settings import ImapSettings

            imap = _settings(connection, "intake.imap", ImapSettings)
            mailbox = ImapMailbox(tenant_id, imap, _required(secrets["imap"]))
        return Connectors(
            tenant_id=tenant_id, psa=psa, m365=m365, ad=ad, mail=mail, mailbox=mailbox
        )


def _settings(connection: Connection, section: str, model: type[T]) -> T:
    """A section's settings, which the file check validated with ``model``."""
    settings = connection.settings[section]
    assert isinstance(settings, model), f"{section} settings are {type(settings).__name__}"
    return settings


def _required(secret: str | None) -> str:
    assert secret is not None, "the connection file check requires this section's secret"
    return secret


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
