"""What Active Directory's LDAP answers mean, as ``deskhand.connectors.errors`` that say what an
admin does about them, in the words of Active Directory Users and Computers (ADUC)."""

from __future__ import annotations

import re
from typing import Any

from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import parse_dn

from deskhand.connectors.errors import (
    AuthenticationError,
    ConflictError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
    UnavailableError,
)

SYSTEM = "ldap"

# What each change needs, as ADUC → Delegate Control… words it.
RIGHTS = {
    "reset_password": "the 'Reset user passwords and force password change at next logon' task",
    "unlock": "the custom task 'User objects' → 'Read and write lockoutTime'",
    "disable": "the custom task 'User objects' → 'Read and write userAccountControl'",
    "enable": "the custom task 'User objects' → 'Read and write userAccountControl'",
    "group_membership": "the 'Modify the membership of a group' task",
    "move": "the 'Create, delete, and manage user accounts' task (on both the OU the account "
    "is in and the one it moves to)",
    "create_user": "the 'Create, delete, and manage user accounts' task and the 'Reset user "
    "passwords and force password change at next logon' task",
}

# Windows error codes in the "data" part of a refused bind ([MS-ADTS] bind errors).
_BIND_REASONS = {
    "525": "the account does not exist",
    "52e": "the password is wrong",
    "530": "the account may not sign in at this time (logon hours)",
    "531": "the account may not sign in from this computer (log on to…)",
    "532": "the account's password has expired",
    "533": "the account is disabled",
    "701": "the account has expired",
    "773": "the account must change its password before it can sign in",
    "775": "the account is locked out",
}

_BIND_FIXES = {
    "533": "in Active Directory Users and Computers right-click the account → Enable Account",
    "775": "in Active Directory Users and Computers open the account → Account → tick "
    "'Unlock account'; then find what keeps trying the old password",
    "532": "set a new password for the account in Active Directory Users and Computers, tick "
    "'Password never expires' for this service account, and update the tenant's secret",
    "773": "set a new password for the account in Active Directory Users and Computers, untick "
    "'User must change password at next logon', and update the tenant's secret",
}

_UNAVAILABLE = {3, 11, 51, 52, 80}  # timeLimitExceeded, adminLimit, busy, unavailable, other


def parent_of(dn: str) -> str:
    """The container (OU) that holds the object ``dn``."""
    try:
        parts = parse_dn(dn, escape=False)
    except LDAPException:
        return dn
    return ",".join(f"{attribute}={value}" for attribute, value, _ in parts[1:]) or dn


def refusal(
    result: dict[str, Any], *, doing: str, target: str, change: str | None = None
) -> ConnectorError:
    """The error for an LDAP operation the DC refused: ``doing`` what, on ``target`` (a DN or
    the key asked for); ``change`` names the right needed (a key of ``RIGHTS``)."""
    code = int(result.get("result", -1))
    said = str(result.get("message") or result.get("description") or "").strip()
    message = f"{doing} refused: {result.get('description', code)}" + (f" ({said})" if said else "")
    if code == 32:
        return NotFoundError(
            f"There is no such object on the server: {target}. ({said})",
            system=SYSTEM,
            status=code,
        )
    if code == 50:
        needed = RIGHTS.get(change or "", "the right to make this change")
        return ForbiddenError(
            message,
            system=SYSTEM,
            status=code,
            fix=f"the bind account lacks {needed} on {parent_of(target)}: grant it in Active "
            "Directory Users and Computers → that OU → Delegate Control…",
        )
    if code == 19 and change in ("reset_password", "create_user"):
        return ConflictError(
            "the password does not meet the domain's complexity, length or history policy "
            f"({said})",
            system=SYSTEM,
            status=code,
            fix="choose a longer password with upper case, lower case and digits; the policy "
            "is in Group Policy Management → Default Domain Policy → Computer Configuration → "
            "Policies → Windows Settings → Security Settings → Account Policies",
        )
    if code in (8, 13):
        return ForbiddenError(
            message,
            system=SYSTEM,
            status=code,
            fix="the domain controller requires an encrypted connection: use ldaps://…:636 or "
            "start_tls: true in the tenant's AD settings",
        )
    if code == 68:
        return ConflictError(message, system=SYSTEM, status=code)
    if code in _UNAVAILABLE:
        return UnavailableError(message, system=SYSTEM, status=code)
    return ConnectorError(message, system=SYSTEM, status=code)


def bind_refusal(result: dict[str, Any], bind_user: str) -> ConnectorError:
    """The error for a refused bind of the service account."""
    code = int(result.get("result", -1))
    said = str(result.get("message") or "")
    if code != 49:
        return refusal(result, doing=f"signing in as {bind_user}", target=bind_user)
    found = re.search(r"data ([0-9a-f]+)", said, re.IGNORECASE)
    reason_code = found.group(1).lower() if found else ""
    reason = _BIND_REASONS.get(reason_code, "the credentials were refused")
    return AuthenticationError(
        f"the domain controller refused the bind account {bind_user}: {reason} ({said})",
        system=SYSTEM,
        status=code,
        fix=_BIND_FIXES.get(
            reason_code,
            "check bind_user and the bind password in the tenant's AD settings; to set a new "
            "one, Active Directory Users and Computers → the account → Reset Password…",
        ),
    )


def broken_connection(error: LDAPException, server: str) -> ConnectorError:
    """The error for a connection that could not be made or broke off."""
    text = str(error)
    if "certificate" in text.lower() or "ssl" in text.lower() or "tls" in text.lower():
        # Retrying cannot fix a certificate the client does not trust.
        return AuthenticationError(
            f"the TLS connection to {server} failed: {text}",
            system=SYSTEM,
            fix="give the CA that signed the domain controller's certificate as ca_file in the "
            "tenant's AD settings (on the DC: certlm.msc → Personal → Certificates → the DC's "
            "certificate → Certification Path), and address the DC by the name on it",
        )
    return UnavailableError(
        f"could not reach {server}: {text}",
        system=SYSTEM,
        fix=f"check that {server} is the right address and that this machine may reach that "
        "port (firewall); on the DC, Services → Active Directory Domain Services must be running",
    )
