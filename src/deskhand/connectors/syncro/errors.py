"""Syncro's answers that are not a success, as ``deskhand.connectors.errors`` that keep
Syncro's own words (``{"success": false, "message": [...]}``, ``{"error": "..."}``) and say
what an admin does about them."""

from __future__ import annotations

import json
from typing import Any

import httpx

from deskhand.connectors.errors import (
    AuthenticationError,
    ConflictError,
    ConnectorError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)
from deskhand.connectors.http_answers import retry_after

SYSTEM = "syncro"

# The API token permissions deskhand asks for, as Syncro names them.
LIST_TICKETS = "Tickets - List/Search"
VIEW_TICKET = "Tickets - View Details"
EDIT_TICKET = "Tickets - Edit"
CREATE_TICKET = "Tickets - Create"
TIMERS = "Ticket Timers - Overview"
EDIT_TIMER = "Ticket Timers - Edit"
VIEW_CUSTOMER = "Customers - View Detail"

TOKEN_FIX = (
    "create an API token in Syncro → Admin → API Tokens with the permissions Tickets - "
    "List/Search, Tickets - View Details, Tickets - Edit, Tickets - Create, Ticket Timers - "
    "Overview, Customers - List/Search and Customers - View Detail (and Ticket Timers - Edit "
    "if the tenant's policy logs time), and put it in the tenant's connection file"
)


def permission_fix(permission: str) -> str:
    return (
        f"grant the permission {permission!r} to deskhand's token in Syncro → Admin → API "
        "Tokens → (the token) → Permissions"
    )


def message_of(response: httpx.Response) -> str:
    """Syncro's own words from an error body, whichever of its shapes it used."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "error", "errors"):
            words = body.get(key)
            if isinstance(words, list) and words:
                return "; ".join(str(word) for word in words)
            if isinstance(words, str) and words:
                return words
    return json.dumps(body)[:300]


def refusal(response: httpx.Response, permission: str) -> ConnectorError:
    """The error for a response that is not a 2xx; ``permission`` is the one this request needs."""
    status = response.status_code
    message = message_of(response)
    if status == 401:
        # Syncro answers 401 both for a key it does not know and for a missing permission;
        # only the second one speaks of group permissions.
        if "permission" in message.lower():
            return ForbiddenError(
                message, system=SYSTEM, status=status, fix=permission_fix(permission)
            )
        return AuthenticationError(message, system=SYSTEM, status=status, fix=TOKEN_FIX)
    if status == 403:
        return ForbiddenError(message, system=SYSTEM, status=status, fix=permission_fix(permission))
    if status == 404:
        return NotFoundError(message, system=SYSTEM, status=status)
    if status in (409, 422):
        return ConflictError(message, system=SYSTEM, status=status)
    if status == 429:
        return RateLimitedError(
            message,
            system=SYSTEM,
            retry_after=retry_after(response),
            fix="another program shares deskhand's Syncro limit of 180 requests a minute; "
            "give it its own token or slow it down",
        )
    if status >= 500:
        return UnavailableError(message, system=SYSTEM, status=status)
    return ConnectorError(message, system=SYSTEM, status=status)


def unreachable(base_url: str, error: httpx.TransportError) -> UnavailableError:
    what = "did not answer in time" if isinstance(error, httpx.TimeoutException) else "unreachable"
    return UnavailableError(
        f"{base_url} {what}: {error}",
        system=SYSTEM,
        fix="check the Syncro address in the tenant's connection file and that this machine "
        "can reach it (proxy, firewall)",
    )
