"""Graph's and Entra's answers that are not a success, as ``deskhand.connectors.errors`` that
keep Microsoft's own words (``{"error": {"code", "message", "innerError"}}``) and say, in the
words of the Entra admin center, what an admin does about them."""

from __future__ import annotations

from typing import Any

import httpx

from deskhand.connectors.errors import (
    AuthenticationError,
    ConflictError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    UnavailableError,
)
from deskhand.connectors.http_answers import retry_after

SYSTEM = "graph"

# The application permissions deskhand needs, and what for.
USERS = "User.ReadWrite.All"  # read users, enable/disable sign-in, licences, revoke sessions
GROUPS = "Group.ReadWrite.All"  # group members ($ref); GroupMember.ReadWrite.All also does
PASSWORDS = "User-PasswordProfile.ReadWrite.All"  # reset a cloud-only user's password
DIRECTORY = "Directory.Read.All"  # managers, memberships, directory roles
ORGANIZATION = "Organization.Read.All"  # subscribedSkus: licences and their seats
MAILBOX_SETTINGS = "MailboxSettings.Read"  # userPurpose: a manual conversion to shared, read back
NEEDED = (USERS, GROUPS, PASSWORDS, DIRECTORY, ORGANIZATION, MAILBOX_SETTINGS)
# What a leaver's and a starter's steps need besides: automatic replies and forwarding rules,
# OneDrive sharing, removing sign-in methods.
MAILBOX_WRITE = "MailboxSettings.ReadWrite"
FILES = "Files.ReadWrite.All"
AUTH_METHODS = "UserAuthenticationMethod.ReadWrite.All"
# Each with the steps that need it: without it, only those steps are refused.
LIFECYCLE = {
    MAILBOX_WRITE: "set automatic replies or forward mail",
    FILES: "share a leaver's OneDrive files",
    AUTH_METHODS: "remove MFA methods",
}
# A granted permission that covers a needed one as well.
COVERED_BY = {
    GROUPS: ("GroupMember.ReadWrite.All",),
    FILES: ("Sites.ReadWrite.All",),
    DIRECTORY: ("Directory.ReadWrite.All",),
    MAILBOX_SETTINGS: ("MailboxSettings.ReadWrite",),
}


def permission_fix(permission: str, app_name: str) -> str:
    return (
        f"Entra admin center → App registrations → {app_name} → API permissions → Add a "
        f"permission → Microsoft Graph → Application permissions → {permission}, then Grant "
        "admin consent"
    )


def secret_fix(app_name: str) -> str:
    return (
        f"the client secret is wrong or expired: Entra admin center → App registrations → "
        f"{app_name} → Certificates & secrets → New client secret, and put it in the tenant's "
        "connection file"
    )


def code_and_message(response: httpx.Response) -> tuple[str, str]:
    """Graph's error code and message, or the raw text when the body is not Graph's shape."""
    try:
        body: Any = response.json()
    except ValueError:
        return "", response.text.strip()[:300] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code", "")), str(error.get("message", ""))
    return "", str(body)[:300]


def refusal(response: httpx.Response, permission: str, app_name: str) -> ConnectorError:
    """The error for a response that is not a 2xx; ``permission`` is what this request needs."""
    status = response.status_code
    code, message = code_and_message(response)
    words = message.lower()
    if status == 401:
        return AuthenticationError(
            message,
            system=SYSTEM,
            status=status,
            fix="Graph refused deskhand's token: check the tenant id and the app's client id, "
            f"and that {app_name} still exists in Entra admin center → App registrations",
        )
    if status == 403 or code == "Authorization_RequestDenied":
        return ForbiddenError(
            message, system=SYSTEM, status=status, fix=permission_fix(permission, app_name)
        )
    if status == 404:
        return NotFoundError(message, system=SYSTEM, status=status)
    if status == 429:
        return RateLimitedError(
            message,
            system=SYSTEM,
            retry_after=retry_after(response),
            fix="Graph throttles this tenant's app; deskhand waits as it asks",
        )
    if status >= 500:
        return UnavailableError(message, system=SYSTEM, status=status)
    if "does not have any available licenses" in words:
        return QuotaExceededError(
            message,
            system=SYSTEM,
            status=status,
            fix="buy more seats in Partner Center (or the CSP portal) → Customers → (client) "
            "→ Subscriptions, or free a seat",
        )
    if "does not correspond to a valid company license" in words:
        return NotFoundError(message, system=SYSTEM, status=status)
    if "mail-enabled" in words:
        return ForbiddenError(
            message,
            system=SYSTEM,
            status=status,
            fix="change its members in Exchange admin center → Recipients → Groups (deskhand "
            "plans this as a manual step)",
        )
    if "dynamic membership" in words:
        return ForbiddenError(
            message,
            system=SYSTEM,
            status=status,
            fix="the group's rule decides its members: change the user's attributes the rule "
            "reads, or the rule in Entra admin center → Groups → (the group) → Dynamic "
            "membership rules",
        )
    if "on-premises mastered" in words:
        return ForbiddenError(
            message,
            system=SYSTEM,
            status=status,
            fix="change it in on-premises Active Directory; Entra Connect syncs it",
        )
    # Any other 400 or 409 refuses the request as it stands: "already a member", "does not
    # have a corresponding license", a password that breaks the complexity rule.
    return ConflictError(message, system=SYSTEM, status=status)


def unreachable(url: str, error: httpx.TransportError) -> UnavailableError:
    what = "did not answer in time" if isinstance(error, httpx.TimeoutException) else "unreachable"
    return UnavailableError(
        f"{url} {what}: {error}",
        system=SYSTEM,
        fix="check that this machine can reach Microsoft Graph and the Microsoft login host "
        "(proxy, firewall)",
    )


def sign_in_failed(
    authority: str, error: Exception, answer: httpx.Response | None
) -> ConnectorError:
    """The error for an answer to the token request that msal could not take: a 5xx, or what
    is not Entra's JSON (a proxy's or a gateway's page). The page's text is kept, as the
    connector's ``Redactor`` takes any secret it echoes out of it; without ``answer`` (msal
    answered from its throttling cache), msal's own words."""
    status = answer.status_code if answer is not None else None
    said = " ".join(answer.text.split())[:300] if answer is not None else str(error)
    message = f"the sign-in at {authority} answered HTTP {status}: {said}"
    fix = (
        "if this is not Microsoft's answer, a proxy or firewall between deskhand and the "
        "Microsoft login host answered instead: check it, and authority_base in the tenant's "
        "connection file"
    )
    if status is None or status >= 500 or status == 429:
        return UnavailableError(message, system=SYSTEM, status=status, fix=fix)
    return AuthenticationError(message, system=SYSTEM, status=status, fix=fix)


def token_refusal(result: dict[str, Any], app_name: str) -> ConnectorError:
    """The error for msal's answer without a token: ``{"error", "error_description", ...}``."""
    description = str(result.get("error_description") or result.get("error") or "no token")
    message = description.splitlines()[0]
    if "AADSTS7000215" in description or "AADSTS7000222" in description:
        return AuthenticationError(message, system=SYSTEM, status=401, fix=secret_fix(app_name))
    if "AADSTS700027" in description:
        return AuthenticationError(
            message,
            system=SYSTEM,
            status=401,
            fix="Entra does not know this certificate: upload it in Entra admin center → App "
            f"registrations → {app_name} → Certificates & secrets → Certificates, and put its "
            "thumbprint in the tenant's connection file",
        )
    if "AADSTS700016" in description:
        return AuthenticationError(
            message,
            system=SYSTEM,
            status=400,
            fix="the client id is not an app of this tenant: copy the Application (client) ID "
            f"from Entra admin center → App registrations → {app_name} → Overview, and grant "
            "admin consent in the client's tenant",
        )
    if "AADSTS90002" in description or "AADSTS900023" in description:
        return AuthenticationError(
            message,
            system=SYSTEM,
            status=400,
            fix="the tenant id is wrong: copy the Tenant ID from Entra admin center → Overview",
        )
    if str(result.get("error")) in ("temporarily_unavailable", "server_error"):
        return UnavailableError(message, system=SYSTEM)
    return AuthenticationError(message, system=SYSTEM, status=400, fix=secret_fix(app_name))
