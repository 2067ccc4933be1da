"""Active Directory over LDAPS (or StartTLS): the real ``ActiveDirectory`` connector.

Each call opens a connection, binds as the tenant's service account, does its work and
unbinds, inside ``Caller.call`` — so a dropped connection is a retry, never a stale socket.
Users are found by objectGUID, sAMAccountName, user principal name, mail or DN.
"""

from __future__ import annotations

import math
import ssl
import struct
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from deskhand.connectors.calls import Caller, caller_for
from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import (
    ConflictError,
    ConnectorError,
    NotFoundError,
    UnavailableError,
)
from deskhand.connectors.ldap.doctor import examine
from deskhand.connectors.ldap.errors import (
    SYSTEM,
    bind_refusal,
    broken_connection,
    parent_of,
    refusal,
)
from deskhand.connectors.ldap.security import checked_dn, is_administrator, sid_text
from deskhand.connectors.ldap.settings import LdapSettings
from deskhand.connectors.redaction import Redactor
from deskhand.domain.directory import (
    AdAccount,
    DirectoryGroup,
    DirectoryUser,
    NewAdAccount,
    SignInState,
    dn_key,
)

if TYPE_CHECKING:
    from deskhand.connectors.ad import ActiveDirectory, AdPlacement, AdProvisioning

T = TypeVar("T")

ACCOUNT_DISABLED = 0x2  # userAccountControl ACCOUNTDISABLE
NORMAL_ACCOUNT = 0x200  # userAccountControl of an ordinary, enabled user account
LOCKED_OUT = 0x10  # msDS-User-Account-Control-Computed UF_LOCKOUT
_UNICODE_PWD_ATTID = 0x9005A  # unicodePwd in replPropertyMetaData
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)

_USER_ATTRIBUTES = [
    "objectGUID",
    "distinguishedName",
    "sAMAccountName",
    "userPrincipalName",
    "displayName",
    "cn",
    "mail",
    "manager",
    "userAccountControl",
    "msDS-User-Account-Control-Computed",
    "lockoutTime",
    "pwdLastSet",
    "replPropertyMetaData",
]
_ACCOUNT_ATTRIBUTES = ["givenName", "sn", "department", "title", "c"]
_GROUP_ATTRIBUTES = ["objectGUID", "distinguishedName", "cn", "mail", "adminCount"]


@dataclass(frozen=True)
class Entry:
    """One object read from the directory, its attributes as raw bytes by lower-case name."""

    dn: str
    attributes: dict[str, list[bytes]]

    def text(self, name: str) -> str | None:
        values = self.attributes.get(name.lower())
        return values[0].decode() if values else None

    def number(self, name: str) -> int:
        text = self.text(name)
        return int(text) if text else 0

    def guid(self) -> str:
        return str(uuid.UUID(bytes_le=self.attributes["objectguid"][0]))


def filetime(value: int) -> datetime | None:
    """A Windows FILETIME (100 ns since 1601) as a datetime; 0 and "never" as None."""
    if value <= 0 or value >= 0x7FFFFFFFFFFFFFFF:
        return None
    return _FILETIME_EPOCH + timedelta(microseconds=value // 10)


def _encoded_password(password: str) -> bytes:
    # unicodePwd takes the password in double quotes, UTF-16LE ([MS-ADTS] §3.1.1.3.1.5.2).
    return f'"{password}"'.encode("utf-16-le")


class LdapDirectory:
    """One client's AD domain over LDAP. Raises ``deskhand.connectors.errors`` only."""

    def __init__(
        self,
        tenant_id: str,
        settings: LdapSettings,
        bind_password: str,
        *,
        caller: Caller | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.tenant_id = tenant_id
        self.settings = settings
        self._bind_password = bind_password
        self.redactor = Redactor({"AD bind password": bind_password})
        self.caller = caller_for(
            tenant_id, SYSTEM, self.redactor, settings.timeout_seconds, given=caller
        )
        self.clock = clock

    # --- the ActiveDirectory protocol ------------------------------------------------------

    def get_user(self, key: str) -> DirectoryUser:
        """The user with this objectGUID, user principal name, sAMAccountName, mail or DN."""

        def read(connection: ldap3.Connection) -> DirectoryUser:
            entry = self._user(connection, key)
            sids = self.token_sids(connection, entry.dn)
            manager_dn = entry.text("manager")
            manager = self.entry(connection, manager_dn, ["objectGUID"]) if manager_dn else None
            return DirectoryUser(
                id=entry.guid(),
                user_principal_name=entry.text("userPrincipalName") or "",
                display_name=entry.text("displayName") or entry.text("cn") or "",
                mail=entry.text("mail"),
                manager_id=manager.guid() if manager else None,
                admin=is_administrator(sids),
                synced=True,
                account_enabled=not entry.number("userAccountControl") & ACCOUNT_DISABLED,
                locked=_locked(entry),
            )

        return self._call(read, idempotent=True)

    def account_state(self, user_id: str) -> SignInState:
        """pwdLastSet, "must change password", lockout and enabled state; AD has no sessions."""
        return self._call(
            lambda connection: _sign_in_state(self._user(connection, user_id)), idempotent=True
        )

    def reset_password(self, user_id: str, password: str, force_change: bool) -> None:
        """Set unicodePwd and, with ``force_change``, pwdLastSet to 0 — in one modify, so the
        user never holds the new password without the flag. A lockout stays (unlock is its own
        call, as in AD)."""
        self.redactor.remember(password, "new password")  # an error may echo the request

        def write(connection: ldap3.Connection) -> None:
            entry = self._user(connection, user_id)
            changes = {
                "unicodePwd": [(ldap3.MODIFY_REPLACE, [_encoded_password(password)])],
                # 0 forces a change at next logon; -1 sets "now": no change forced.
                "pwdLastSet": [(ldap3.MODIFY_REPLACE, ["0" if force_change else "-1"])],
            }
            self._modify(
                connection,
                entry.dn,
                changes,
                doing="resetting the password of",
                change="reset_password",
            )

        self._call(write, idempotent=True)

    def unlock(self, user_id: str) -> None:
        """Set lockoutTime to 0; unlocking an account that is not locked is not an error."""

        def write(connection: ldap3.Connection) -> None:
            entry = self._user(connection, user_id)
            changes = {"lockoutTime": [(ldap3.MODIFY_REPLACE, ["0"])]}
            self._modify(connection, entry.dn, changes, doing="unlocking", change="unlock")

        self._call(write, idempotent=True)

    # --- more than the protocol: capabilities (ad.accounts, ad.groups) -------------------

    def disable(self, user_id: str) -> None:
        """Set the ACCOUNTDISABLE bit of userAccountControl."""
        self._account_control(user_id, enabled=False)

    def enable(self, user_id: str) -> None:
        """Clear the ACCOUNTDISABLE bit of userAccountControl."""
        self._account_control(user_id, enabled=True)

    def get_group(self, key: str) -> DirectoryGroup:
        """The group with this objectGUID, sAMAccountName, distinguished name or cn."""

        def read(connection: ldap3.Connection) -> DirectoryGroup:
            return _directory_group(self._group(connection, key))

        return self._call(read, idempotent=True)

    def groups_of(self, user_id: str) -> list[DirectoryGroup]:
        """The groups the user is a direct member of (memberOf), by name; not the primary group
        (Domain Users), which AD does not list there."""

        def read(connection: ldap3.Connection) -> list[DirectoryGroup]:
            entry = self._user(connection, user_id, extra=["memberOf"])
            groups = [
                _directory_group(self.entry(connection, dn, _GROUP_ATTRIBUTES))
                for dn in (value.decode() for value in entry.attributes.get("memberof", []))
            ]
            return sorted(groups, key=lambda group: group.display_name.lower())

        return self._call(read, idempotent=True)

    def add_group_member(self, group_id: str, user_id: str) -> None:
        """Add the user to the group's ``member``: ConflictError when already a member."""

        def write(connection: ldap3.Connection) -> None:
            group = self._group(connection, group_id)
            user = self._user(connection, user_id)
            changes = {"member": [(ldap3.MODIFY_ADD, [user.dn])]}
            self._modify(
                connection, group.dn, changes, doing="adding a member to", change="group_membership"
            )

        # Not repeated: if the first attempt landed, a second would answer "already a member".
        self._call(write, idempotent=False)

    def remove_group_member(self, group_id: str, user_id: str) -> None:
        """Remove the user from the group's ``member``: NotFoundError when not a member."""

        def write(connection: ldap3.Connection) -> None:
            group = self._group(connection, group_id)
            user = self._user(connection, user_id)
            changes = {"member": [(ldap3.MODIFY_DELETE, [user.dn])]}
            try:
                self._modify(
                    connection,
                    group.dn,
                    changes,
                    doing="removing a member from",
                    change="group_membership",
                )
            except ConnectorError as error:
                if error.status not in (16, 53):  # noSuchAttribute, unwillingToPerform
                    raise
                raise NotFoundError(
                    f"{user.text('userPrincipalName') or user.dn} is not a member of {group.dn} "
                    f"({error.message})",
                    system=SYSTEM,
                    status=error.status,
                ) from None

        self._call(write, idempotent=True)

    # --- more than the protocol: capabilities (ad.placement, ad.provisioning) ---------------

    def account(self, user_id: str) -> AdAccount:
        """The account with the OU that holds it and what it was created with."""

        def read(connection: ldap3.Connection) -> AdAccount:
            entry = self._user(connection, user_id, extra=_ACCOUNT_ATTRIBUTES)
            manager_dn = entry.text("manager")
            manager = self.entry(connection, manager_dn, ["objectGUID"]) if manager_dn else None
            return _ad_account(entry, manager.guid() if manager else None)

        return self._call(read, idempotent=True)

    def move_to_ou(self, user_id: str, ou: str) -> None:
        """Modify the account's DN to the same name under ``ou``: the OU is checked first
        (``checked_dn``, then that it is an organisationalUnit on the server); moving it where
        it already is is not an error. Group memberships follow: AD keeps them by object."""
        target = checked_dn(ou, self.settings.base_dn, system=SYSTEM)

        def write(connection: ldap3.Connection) -> None:
            entry = self._user(connection, user_id)
            self._organisational_unit(connection, target)
            if dn_key(parent_of(entry.dn)) == dn_key(target):
                return
            name, value, _ = parse_dn(entry.dn, escape=False)[0]
            moved = connection.modify_dn(
                entry.dn, f"{name}={value}", delete_old_dn=True, new_superior=target
            )
            if not moved:
                raise refusal(
                    connection.result,
                    doing=f"moving {entry.dn} to {target}",
                    target=entry.dn,
                    change="move",
                )

        # Safe to try again: a move that landed is found where it went, and not made twice.
        self._call(write, idempotent=True)

    def create_user(self, account: NewAdAccount, password: str) -> None:
        """Add the user in ``account.ou``, enabled (NORMAL_ACCOUNT), with ``password`` in
        unicodePwd and pwdLastSet 0 (change at next logon), in one add: the account never
        exists without its password. A taken logon name or sign-in name is a ConflictError
        that names the account holding it."""
        self.redactor.remember(password, "new password")  # an error may echo the request
        target = checked_dn(account.ou, self.settings.base_dn, system=SYSTEM)

        def write(connection: ldap3.Connection) -> None:
            self._organisational_unit(connection, target)
            self._refuse_taken(connection, account)
            manager = self._user(connection, account.manager).dn if account.manager else None
            dn = f"CN={escape_rdn(account.display_name)},{target}"
            attributes = {
                "sAMAccountName": account.sam_account_name,
                "userPrincipalName": account.user_principal_name,
                "displayName": account.display_name,
                "givenName": account.given_name,
                "sn": account.surname,
                "department": account.department,
                "title": account.job_title,
                "c": account.country,
                "manager": manager,
                "unicodePwd": _encoded_password(password),
                "userAccountControl": str(NORMAL_ACCOUNT),
                "pwdLastSet": "0",
            }
            added = connection.add(  # type: ignore[no-untyped-call]
                dn, ["user"], {k: v for k, v in attributes.items() if v}
            )
            if not added:
                raise refusal(
                    connection.result, doing=f"creating {dn}", target=dn, change="create_user"
                )

        # Not repeated: a second add after the first landed would find the name taken.
        self._call(write, idempotent=False)

    def doctor(self) -> list[Finding]:
        """Reachability, TLS, the bind, the rights deskhand needs and clock skew, per finding."""
        return self.redactor.findings(examine(self))

    # --- connections ---------------------------------------------------------------------------

    def server(self, address: str) -> ldap3.Server:
        """The ldap3 server for one of ``settings.servers``, with its TLS settings."""
        host, port, secure = self.settings.host_port(address)
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED if self.settings.verify_tls else ssl.CERT_NONE,
            ca_certs_file=str(self.settings.ca_file) if self.settings.ca_file else None,
            valid_names=[self.settings.tls_server_name] if self.settings.tls_server_name else None,
        )
        return ldap3.Server(
            host,
            port=port,
            use_ssl=secure,
            tls=tls,
            get_info=ldap3.NONE,
            connect_timeout=self.caller.policy.timeout_seconds,
        )

    def open(self, address: str, *, bind: bool = True) -> ldap3.Connection:
        """A connection to one server, encrypted and (with ``bind``) bound; ConnectorError if
        not."""
        connection = ldap3.Connection(
            self.server(address),
            user=self.settings.bind_user,
            password=self._bind_password,
            # ldap3 packs it into SO_RCVTIMEO as whole seconds.
            receive_timeout=math.ceil(self.caller.policy.timeout_seconds),
            raise_exceptions=False,
        )
        try:
            connection.open()
            if self.settings.start_tls and not connection.start_tls():
                raise broken_connection(
                    LDAPException(f"StartTLS refused: {connection.result}"), address
                )
            if bind and not connection.bind():
                raise bind_refusal(connection.result, self.settings.bind_user)
        except LDAPException as error:
            connection.unbind()
            raise broken_connection(error, address) from None
        except ConnectorError:
            connection.unbind()
            raise
        return connection

    @contextmanager
    def session(self) -> Iterator[ldap3.Connection]:
        """A bound connection to the first server that answers; the next is tried only when a
        server cannot be reached, never after a refusal."""
        unreachable: ConnectorError | None = None
        for address in self.settings.servers:
            try:
                connection = self.open(address)
            except ConnectorError as error:
                if not isinstance(error, UnavailableError):
                    raise
                unreachable = error
                continue
            try:
                yield connection
            except LDAPException as error:
                raise broken_connection(error, address) from None
            finally:
                connection.unbind()
            return
        assert unreachable is not None, "settings hold at least one server"
        raise unreachable

    def _call(self, work: Callable[[ldap3.Connection], T], *, idempotent: bool) -> T:
        def attempt() -> T:
            with self.session() as connection:
                return work(connection)

        return self.caller.call(attempt, idempotent=idempotent)

    # --- lookups and changes within one connection ---------------------------------------

    def search(
        self,
        connection: ldap3.Connection,
        base: str,
        query: str,
        attributes: list[str],
        *,
        scope: Literal["BASE", "LEVEL", "SUBTREE"] = "SUBTREE",
        doing: str,
        controls: list[Any] | None = None,
    ) -> list[Entry]:
        """The entries ``query`` finds under ``base`` on an open connection."""
        ok = connection.search(
            base, query, search_scope=scope, attributes=attributes, controls=controls
        )
        if not ok and connection.result.get("result") not in (0, 4):  # 4: size limit hit
            raise refusal(connection.result, doing=doing, target=base)
        return [
            Entry(
                dn=item["dn"],
                attributes={
                    name.lower(): list(values) for name, values in item["raw_attributes"].items()
                },
            )
            for item in connection.response or []
            if item.get("type") == "searchResEntry"
        ]

    def entry(self, connection: ldap3.Connection, dn: str, attributes: list[str]) -> Entry:
        """The object at ``dn`` on an open connection; NotFoundError when there is none."""
        found = self.search(
            connection, dn, "(objectClass=*)", attributes, scope="BASE", doing="reading"
        )
        if not found:
            raise NotFoundError(
                f"There is no such object on the server: {dn}", system=SYSTEM, status=32
            )
        return found[0]

    def _user(
        self, connection: ldap3.Connection, key: str, *, extra: list[str] | None = None
    ) -> Entry:
        query = f"(&(objectCategory=person)(objectClass=user){_key_filter(key, user=True)})"
        return self._one(connection, query, [*_USER_ATTRIBUTES, *(extra or [])], key, "user")

    def _group(self, connection: ldap3.Connection, key: str) -> Entry:
        query = f"(&(objectClass=group){_key_filter(key, user=False)})"
        return self._one(connection, query, _GROUP_ATTRIBUTES, key, "group")

    def _one(
        self, connection: ldap3.Connection, query: str, attributes: list[str], key: str, kind: str
    ) -> Entry:
        found = self.search(
            connection,
            self.settings.base_dn,
            query,
            attributes,
            doing=f"looking up {kind} {key!r} under",
        )
        if not found:
            raise NotFoundError(
                f"There is no such object on the server. (no {kind} '{key}' under "
                f"{self.settings.base_dn})",
                system=SYSTEM,
                status=32,
            )
        if len(found) > 1:
            # Acting on the wrong account is worse than not acting: fail closed.
            raise ConflictError(
                f"'{key}' matches {len(found)} {kind}s: " + "; ".join(e.dn for e in found),
                system=SYSTEM,
                fix=f"name the {kind} by its sAMAccountName, which is unique in the domain",
            )
        return found[0]

    def token_sids(self, connection: ldap3.Connection, dn: str) -> set[str]:
        """The SIDs of every group the account is in, nested and primary (tokenGroups)."""
        entry = self.entry(connection, dn, ["tokenGroups", "objectSid"])
        return {
            sid_text(raw)
            for name in ("tokengroups", "objectsid")
            for raw in entry.attributes.get(name, [])
        }

    def _modify(
        self,
        connection: ldap3.Connection,
        dn: str,
        changes: dict[str, Any],
        *,
        doing: str,
        change: str,
    ) -> None:
        # types-ldap3 leaves Connection.modify unannotated.
        if not connection.modify(dn, changes):  # type: ignore[no-untyped-call]
            raise refusal(connection.result, doing=f"{doing} {dn}", target=dn, change=change)

    def _organisational_unit(self, connection: ldap3.Connection, dn: str) -> None:
        """NotFoundError unless ``dn`` is an organisational unit on the server."""
        try:
            found = self.entry(connection, dn, ["objectClass"])
        except NotFoundError:
            found = None
        classes = (
            {v.decode().lower() for v in found.attributes.get("objectclass", [])}
            if found
            else set()
        )
        if "organizationalunit" not in classes:
            raise NotFoundError(
                f"There is no organisational unit {dn} in the domain"
                + (" (it is another kind of object)." if found else "."),
                system=SYSTEM,
                status=32,
                fix="check the OU's distinguishedName in Active Directory Users and Computers "
                "(View → Advanced Features → the OU → Properties → Attribute Editor)",
            )

    def _refuse_taken(self, connection: ldap3.Connection, account: NewAdAccount) -> None:
        """ConflictError when an account already has this logon name or sign-in name."""
        sam = escape_filter_chars(account.sam_account_name)
        upn = escape_filter_chars(account.user_principal_name)
        query = f"(&(objectClass=user)(|(sAMAccountName={sam})(userPrincipalName={upn})))"
        found = self.search(
            connection,
            self.settings.base_dn,
            query,
            ["sAMAccountName", "userPrincipalName"],
            doing="looking for an account with the same name under",
        )
        if found:
            raise ConflictError(
                f"An account with the logon name {account.sam_account_name} or the sign-in "
                f"name {account.user_principal_name} already exists: {found[0].dn}. deskhand "
                "did not create another.",
                system=SYSTEM,
                status=68,
                fix="choose a logon name and sign-in name no account has, or use the account "
                "that exists",
            )

    def _account_control(self, user_id: str, *, enabled: bool) -> None:
        def write(connection: ldap3.Connection) -> None:
            entry = self._user(connection, user_id)
            flags = entry.number("userAccountControl")
            wanted = flags & ~ACCOUNT_DISABLED if enabled else flags | ACCOUNT_DISABLED
            if wanted == flags:
                return
            changes = {"userAccountControl": [(ldap3.MODIFY_REPLACE, [str(wanted)])]}
            doing, change = ("enabling", "enable") if enabled else ("disabling", "disable")
            self._modify(connection, entry.dn, changes, doing=doing, change=change)

        self._call(write, idempotent=True)


def _key_filter(key: str, *, user: bool) -> str:
    """An LDAP filter for whatever the caller knows the object by."""
    wanted = key.strip()
    try:
        guid = uuid.UUID(wanted)
    except ValueError:
        pass
    else:
        return "(objectGUID=" + "".join(f"\\{byte:02x}" for byte in guid.bytes_le) + ")"
    value = escape_filter_chars(wanted)
    names = (
        ["sAMAccountName", "distinguishedName", "userPrincipalName", "mail"]
        if user
        else ["sAMAccountName", "distinguishedName", "cn"]
    )
    return "(|" + "".join(f"({name}={value})" for name in names) + ")"


def _locked(entry: Entry) -> bool:
    if "msds-user-account-control-computed" in entry.attributes:
        # The DC's own answer, which knows when a lockout has expired (lockoutDuration).
        return bool(entry.number("msDS-User-Account-Control-Computed") & LOCKED_OUT)
    return entry.number("lockoutTime") > 0


def _password_changed_at(entry: Entry) -> datetime | None:
    """When unicodePwd last changed, from the replication metadata; pwdLastSet when that is not
    readable. pwdLastSet alone cannot say: 0 ("must change") erases the time."""
    for blob in entry.attributes.get("replpropertymetadata", []):
        count = struct.unpack_from("<I", blob, 8)[0]
        for index in range(count):
            attid, _version, seconds = struct.unpack_from("<IIQ", blob, 16 + 48 * index)
            if attid == _UNICODE_PWD_ATTID:
                # Kept to the second: the last instant of that second, so that a reset in the
                # same second as the step started still counts as after it.
                return _FILETIME_EPOCH + timedelta(seconds=seconds + 1, microseconds=-1)
    return filetime(entry.number("pwdLastSet"))


def _sign_in_state(entry: Entry) -> SignInState:
    return SignInState(
        password_changed_at=_password_changed_at(entry),
        sessions_revoked_at=None,
        must_change_password=entry.text("pwdLastSet") == "0",
        locked=_locked(entry),
        account_enabled=not entry.number("userAccountControl") & ACCOUNT_DISABLED,
    )


def _ad_account(entry: Entry, manager_id: str | None) -> AdAccount:
    return AdAccount(
        id=entry.guid(),
        distinguished_name=entry.dn,
        ou=parent_of(entry.dn),
        sam_account_name=entry.text("sAMAccountName") or "",
        user_principal_name=entry.text("userPrincipalName") or "",
        display_name=entry.text("displayName") or entry.text("cn") or "",
        given_name=entry.text("givenName"),
        surname=entry.text("sn"),
        department=entry.text("department"),
        job_title=entry.text("title"),
        country=entry.text("c"),
        manager_id=manager_id,
        account_enabled=not entry.number("userAccountControl") & ACCOUNT_DISABLED,
        must_change_password=entry.text("pwdLastSet") == "0",
    )


def _directory_group(entry: Entry) -> DirectoryGroup:
    return DirectoryGroup(
        id=entry.guid(),
        display_name=entry.text("cn") or entry.dn,
        # adminCount=1: AD protects the group as privileged (AdminSDHolder).
        privileged=entry.number("adminCount") == 1,
        mail_enabled=entry.text("mail") is not None,
    )


if TYPE_CHECKING:
    # mypy proves here that LdapDirectory satisfies the connector protocol and capabilities.
    _ldap = LdapDirectory("", LdapSettings(servers=["ldaps://x"], base_dn="", bind_user=""), "")
    _ad: ActiveDirectory = _ldap
    _placement: AdPlacement = _ldap
    _provisioning: AdProvisioning = _ldap
