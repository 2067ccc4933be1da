"""`deskhand tenants doctor` for Microsoft Graph: does Entra give deskhand an app-only token,
does the token carry each application permission deskhand needs (and, as a warning, those only
a leaver's steps need), and do the clocks agree."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.graph.errors import (
    COVERED_BY,
    LIFECYCLE,
    NEEDED,
    ORGANIZATION,
    SYSTEM,
    permission_fix,
)

if TYPE_CHECKING:
    from deskhand.connectors.graph.client import GraphM365

SKEW_WARN_SECONDS = 300  # Entra accepts a client assertion up to five minutes off


def examine(m365: GraphM365) -> list[Finding]:
    """One finding per check; no token stops the checks after it."""
    app = m365.settings.app_name
    try:
        roles = m365.token.roles()
    except ConnectorError as error:
        return [Finding(SYSTEM, "token", "fail", error.message, error.fix)]
    findings = [Finding(SYSTEM, "token", "ok", f"app-only token for {m365.settings.ms_tenant_id}")]
    for permission in NEEDED:
        granted = {permission, *COVERED_BY.get(permission, ())} & roles
        findings.append(
            Finding(
                SYSTEM,
                f"permission {permission}",
                "ok" if granted else "fail",
                f"granted: {', '.join(sorted(granted))}"
                if granted
                else f"not among the app's roles ({', '.join(sorted(roles)) or 'none'})",
                None if granted else permission_fix(permission, app),
            )
        )
    for permission, steps in LIFECYCLE.items():
        granted = {permission, *COVERED_BY.get(permission, ())} & roles
        findings.append(
            Finding(
                SYSTEM,
                f"permission {permission}",
                "ok" if granted else "warn",
                f"granted: {', '.join(sorted(granted))}"
                if granted
                else f"not granted: deskhand cannot {steps} for this tenant",
                None if granted else permission_fix(permission, app),
            )
        )
    findings.append(_clock(m365))
    return findings


def _clock(m365: GraphM365) -> Finding:
    try:
        response = m365.read("organization", ORGANIZATION, {"$select": "id"})
        served = parsedate_to_datetime(response.headers["Date"])
    except ConnectorError as error:
        return Finding(SYSTEM, "reachable", "fail", error.message, error.fix)
    except (KeyError, TypeError, ValueError):
        return Finding(SYSTEM, "clock skew", "warn", "Graph's answer had no Date header")
    if served.tzinfo is None:  # "-0000": UTC, as HTTP dates always are
        served = served.replace(tzinfo=UTC)
    skew = (datetime.now(UTC) - served).total_seconds()
    detail = f"this machine's clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'}"
    if abs(skew) <= SKEW_WARN_SECONDS:
        return Finding(SYSTEM, "clock skew", "ok", f"{detail} Graph's")
    return Finding(
        SYSTEM,
        "clock skew",
        "warn",
        f"{detail} Graph's; tokens may be refused",
        "synchronise this machine's clock (NTP: timedatectl set-ntp true)",
    )
