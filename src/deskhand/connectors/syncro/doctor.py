"""`deskhand tenants doctor` for Syncro: can deskhand reach it, is the key accepted, which of
the permissions deskhand needs does the key actually have, and do the clocks agree."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import (
    AuthenticationError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
)
from deskhand.connectors.syncro.errors import (
    LIST_TICKETS,
    SYSTEM,
    TIMERS,
    TOKEN_FIX,
    VIEW_CUSTOMER,
    VIEW_TICKET,
)

if TYPE_CHECKING:
    from deskhand.connectors.syncro.client import SyncroPsa

MAX_SKEW_SECONDS = 60.0  # polling cursors compare Syncro's timestamps with ours


def examine(psa: SyncroPsa) -> list[Finding]:
    """One finding per check; a failed connection or key stops the checks after it."""
    url = psa.settings.base_url
    try:
        me = psa.read("/me", "none")
    except AuthenticationError as error:
        return [
            Finding(SYSTEM, "reachable", "ok", f"{url} answered"),
            Finding(SYSTEM, "authenticates", "fail", str(error.message), fix=TOKEN_FIX),
        ]
    except ConnectorError as error:
        return [Finding(SYSTEM, "reachable", "fail", f"{url}/me: {error.message}", fix=error.fix)]
    who = me.json() if me.headers.get("content-type", "").startswith("application/json") else {}
    findings = [
        Finding(SYSTEM, "reachable", "ok", f"{url} answered"),
        Finding(
            SYSTEM,
            "authenticates",
            "ok",
            f"the key belongs to {who.get('user_name', '?')} <{who.get('user_email', '?')}>",
        ),
        _skew(me),
    ]
    customer = psa.settings.customer_id
    reads: list[tuple[str, str, dict[str, Any] | None]] = [
        (LIST_TICKETS, "/tickets", {"customer_id": customer}),
        (VIEW_CUSTOMER, f"/customers/{customer}", None),
        (VIEW_CUSTOMER, "/contacts", {"customer_id": customer}),
        (TIMERS, "/ticket_timers", None),
    ]
    first_ticket: int | None = None
    for permission, path, params in reads:
        finding, response = _permission(psa, permission, path, params)
        findings.append(finding)
        if path == "/tickets" and response is not None:
            tickets = response.json().get("tickets") or []
            first_ticket = tickets[0]["id"] if tickets else None
    # Viewing one ticket is a permission of its own; it can only be tried on a ticket.
    if first_ticket is not None:
        findings.append(_permission(psa, VIEW_TICKET, f"/tickets/{first_ticket}", None)[0])
    return findings


def _permission(
    psa: SyncroPsa, permission: str, path: str, params: dict[str, Any] | None
) -> tuple[Finding, httpx.Response | None]:
    check = f"permission {permission}"
    try:
        response = psa.read(path, permission, params)
    except ForbiddenError as error:
        return Finding(SYSTEM, check, "fail", f"GET {path}: {error.message}", fix=error.fix), None
    except NotFoundError:
        return Finding(
            SYSTEM,
            check,
            "fail",
            f"GET {path}: customer {psa.settings.customer_id} does not exist in Syncro",
            fix="set customer_id in the tenant's connection file to the number at the end of "
            "the customer's address in Syncro (…/customers/NUMBER)",
        ), None
    except ConnectorError as error:
        return Finding(SYSTEM, check, "fail", f"GET {path}: {error}", fix=error.fix), None
    return Finding(SYSTEM, check, "ok", f"GET {path} answered"), response


def _skew(response: httpx.Response) -> Finding:
    try:
        served = parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError):
        return Finding(SYSTEM, "clock skew", "warn", "Syncro's answer had no Date header")
    if served.tzinfo is None:  # "-0000": UTC, origin unknown
        served = served.replace(tzinfo=UTC)
    skew = (datetime.now(UTC) - served).total_seconds()
    if abs(skew) > MAX_SKEW_SECONDS:
        return Finding(
            SYSTEM,
            "clock skew",
            "warn",
            f"this machine's clock is {skew:+.0f} s off Syncro's",
            fix="synchronise this machine's clock (NTP: timedatectl set-ntp true)",
        )
    return Finding(SYSTEM, "clock skew", "ok", f"{skew:+.0f} s")
