"""The roles of the people who use deskhand, least to most trusted: a viewer reads, a tech
works tickets, an approver approves drafts (where the tenant's policy says so), an admin also
manages users and tenants."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["viewer", "tech", "approver", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
