"""What `deskhand tenants doctor` reports: one finding per thing checked on a connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    """One check on one system of one tenant, and what to do when it did not pass."""

    system: str  # syncro, graph, ldap, smtp
    check: str  # "reachable", "authenticates", "permission User.ReadWrite.All", "clock skew"
    outcome: Outcome
    detail: str  # what was seen: "HTTP 401 from https://acme.syncromsp.com/api/v1/me"
    fix: str | None = None  # in the words of the portal where the fix is made
