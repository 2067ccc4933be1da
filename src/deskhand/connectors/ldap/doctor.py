"""What `deskhand tenants doctor` checks on a tenant's Active Directory: each domain controller
reachable over TLS with a trusted certificate, the bind account signing in, the rights deskhand
needs on the users it will change, and the clock."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.protocol.microsoft import security_descriptor_control
from ldap3.utils.conv import escape_filter_chars

from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.ldap.errors import RIGHTS, SYSTEM, broken_connection, parent_of
from deskhand.connectors.ldap.security import (
    AUTHENTICATED_USERS,
    EVERYONE,
    may_reset_password,
)

if TYPE_CHECKING:
    from deskhand.connectors.ldap.client import Entry, LdapDirectory

SKEW_WARN_SECONDS = 60
SKEW_FAIL_SECONDS = 300  # Kerberos refuses more, and so does anything that signs with time
_USER_WRITES = ("pwdLastSet", "lockoutTime", "userAccountControl")
_DACL_ONLY = 0x4  # the SD flags control asks for the DACL alone, readable without SACL rights


def examine(directory: LdapDirectory) -> list[Finding]:
    """Every finding, in the order an admin would fix them; later checks are skipped while an
    earlier one fails."""
    findings: list[Finding] = []
    usable: list[str] = []
    for address in directory.settings.servers:
        reached = _reachable(directory, address)
        findings.append(reached)
        if reached.outcome == "ok":
            secured = _tls(directory, address)
            findings.append(secured)
            if secured.outcome == "ok":
                usable.append(address)
    if not usable:
        return findings
    try:
        connection = directory.open(usable[0])
    except ConnectorError as error:
        return [*findings, Finding(SYSTEM, "authenticates", "fail", error.message, error.fix)]
    try:
        findings.append(
            Finding(
                SYSTEM,
                "authenticates",
                "ok",
                f"bound as {directory.settings.bind_user} on {usable[0]}",
            )
        )
        findings.append(_clock_skew(directory, connection))
        findings.extend(_rights(directory, connection))
    except ConnectorError as error:
        findings.append(Finding(SYSTEM, "reads the directory", "fail", str(error), error.fix))
    except LDAPException as error:
        broken = broken_connection(error, usable[0])
        findings.append(Finding(SYSTEM, "reads the directory", "fail", broken.message, broken.fix))
    finally:
        connection.unbind()
    return findings


def _reachable(directory: LdapDirectory, address: str) -> Finding:
    host, port, _ = directory.settings.host_port(address)
    check = f"reachable {address}"
    try:
        with socket.create_connection((host, port), timeout=directory.settings.timeout_seconds):
            pass
    except OSError as error:
        return Finding(
            SYSTEM,
            check,
            "fail",
            f"no connection to {host}:{port}: {error}",
            f"check the address and port in the tenant's AD settings (LDAPS is 636) and that "
            f"a firewall lets this machine reach {host}:{port}",
        )
    return Finding(SYSTEM, check, "ok", f"{host}:{port} accepts connections")


def _tls(directory: LdapDirectory, address: str) -> Finding:
    check = f"TLS {address}"
    try:
        directory.open(address, bind=False).unbind()
    except ConnectorError as error:
        return Finding(SYSTEM, check, "fail", error.message, error.fix)
    trust = "not verified (verify_tls is off)" if not directory.settings.verify_tls else "trusted"
    how = "StartTLS" if directory.settings.start_tls else "LDAPS"
    return Finding(SYSTEM, check, "ok", f"{how}; the certificate is {trust}")


def _clock_skew(directory: LdapDirectory, connection: ldap3.Connection) -> Finding:
    root = directory.entry(connection, "", ["currentTime"])
    stamp = root.text("currentTime") or ""
    dc_time = datetime.strptime(stamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    skew = (directory.clock() - dc_time).total_seconds()
    detail = f"this machine is {abs(skew):.0f} s {'ahead of' if skew >= 0 else 'behind'} the DC"
    if abs(skew) <= SKEW_WARN_SECONDS:
        return Finding(SYSTEM, "clock skew", "ok", detail)
    return Finding(
        SYSTEM,
        "clock skew",
        "fail" if abs(skew) > SKEW_FAIL_SECONDS else "warn",
        detail,
        "synchronise this machine's clock with the domain (NTP: timedatectl / chrony pointed at "
        "the DC); on the DC, w32tm /query /status shows its own source",
    )


def _rights(directory: LdapDirectory, connection: ldap3.Connection) -> list[Finding]:
    account = _bind_account(directory, connection)
    sample = _sample(directory, connection, "(&(objectCategory=person)(objectClass=user))", account)
    if sample is None:
        return [
            Finding(
                SYSTEM,
                "rights on users",
                "warn",
                f"no user under {directory.settings.base_dn} to check the rights on",
                "check base_dn in the tenant's AD settings: it should hold the client's users",
            )
        ]
    findings = [_reset_right(directory, connection, account, sample)]
    findings.append(
        _writes(
            sample, "user attributes", _USER_WRITES, RIGHTS["unlock"] + " and …userAccountControl"
        )
    )
    findings.append(_creates_users(directory, connection, parent_of(sample.dn)))
    group = _sample(directory, connection, "(objectClass=group)", account, group=True)
    if group is not None:
        findings.append(_writes(group, "group membership", ("member",), RIGHTS["group_membership"]))
    return findings


def _bind_account(directory: LdapDirectory, connection: ldap3.Connection) -> Entry | None:
    root = directory.entry(connection, "", ["defaultNamingContext"])
    name = directory.settings.bind_user
    # AD accepts a DN, a UPN, DOMAIN\\sam, and sam@dns.domain even where no UPN is set.
    value = escape_filter_chars(name)
    sam = escape_filter_chars(name.split("\\")[-1].split("@")[0])
    query = f"(|(distinguishedName={value})(userPrincipalName={value})(sAMAccountName={sam}))"
    found = directory.search(
        connection,
        root.text("defaultNamingContext") or directory.settings.base_dn,
        query,
        ["objectSid", "userPrincipalName"],
        doing="looking up the bind account under",
    )
    exact = [
        e
        for e in found
        if name.lower() in (e.dn.lower(), (e.text("userPrincipalName") or "").lower())
    ]
    chosen = exact or found
    return chosen[0] if chosen else None


def _sample(
    directory: LdapDirectory,
    connection: ldap3.Connection,
    query: str,
    account: Entry | None,
    *,
    group: bool = False,
) -> Entry | None:
    """An ordinary (not system-critical, not the bind account) user or group to check on."""
    attributes = ["allowedAttributesEffective", "nTSecurityDescriptor"]
    found = directory.search(
        connection,
        directory.settings.base_dn,
        f"(&{query}(!(isCriticalSystemObject=TRUE)))",
        attributes,
        doing="reading rights under",
        controls=security_descriptor_control(sdflags=_DACL_ONLY),
    )
    for entry in found:
        if account is None or entry.dn.lower() != account.dn.lower():
            return entry
    return None


def _reset_right(
    directory: LdapDirectory, connection: ldap3.Connection, account: Entry | None, user: Entry
) -> Finding:
    check = "right Reset password"
    descriptor = user.attributes.get("ntsecuritydescriptor")
    if account is None or not descriptor:
        return Finding(
            SYSTEM,
            check,
            "warn",
            f"could not read who may reset passwords on {user.dn}",
            "let the bind account read permissions on the users' OU (Active Directory Users "
            "and Computers → the OU → Properties → Security → Advanced)",
        )
    sids = directory.token_sids(connection, account.dn) | {EVERYONE, AUTHENTICATED_USERS}
    if may_reset_password(descriptor[0], sids):
        return Finding(SYSTEM, check, "ok", f"granted on {user.dn}")
    return Finding(
        SYSTEM,
        check,
        "fail",
        f"{directory.settings.bind_user} may not reset the password of {user.dn}",
        f"the bind account lacks {RIGHTS['reset_password']} on {parent_of(user.dn)}: grant it "
        "in Active Directory Users and Computers → that OU → Delegate Control…",
    )


def _creates_users(directory: LdapDirectory, connection: ldap3.Connection, ou: str) -> Finding:
    """Whether the bind account may create user objects in the users' OU: what creating a
    starter's account and moving a leaver's (in and out of an OU) take. A warning, not a
    failure: only those steps need it."""
    check = "may create and move accounts"
    entry = directory.entry(connection, ou, ["allowedChildClassesEffective"])
    allowed = {
        value.decode().lower() for value in entry.attributes.get("allowedchildclasseseffective", [])
    }
    if "user" in allowed:
        return Finding(SYSTEM, check, "ok", f"user accounts may be created in {ou}")
    return Finding(
        SYSTEM,
        check,
        "warn",
        f"{directory.settings.bind_user} may not create user accounts in {ou}: a starter's "
        "account (ad.create_user) and a leaver's move to another OU (ad.move_to_ou) are refused",
        f"grant the bind account {RIGHTS['move']} in Active Directory Users and Computers → "
        "that OU → Delegate Control…",
    )


def _writes(entry: Entry, what: str, names: tuple[str, ...], task: str) -> Finding:
    allowed = {
        value.decode().lower() for value in entry.attributes.get("allowedattributeseffective", [])
    }
    missing = [name for name in names if name.lower() not in allowed]
    check = f"may change {what}"
    if not missing:
        return Finding(SYSTEM, check, "ok", f"{', '.join(names)} writable on {entry.dn}")
    return Finding(
        SYSTEM,
        check,
        "fail",
        f"{', '.join(missing)} not writable on {entry.dn}",
        f"grant the bind account {task} on {parent_of(entry.dn)} in Active Directory Users and "
        "Computers → that OU → Delegate Control…",
    )
