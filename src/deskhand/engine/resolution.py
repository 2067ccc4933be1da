"""Looking up what a ticket names in the tenant's own directory — users, groups, licences.

Nothing is guessed: an address or a full name must match exactly one directory object. Two
candidates for one slot, or a name that is not there, is recorded and makes the run escalate
(``low_confidence``) rather than act on the likeliest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deskhand.connectors.m365 import M365
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.domain.events import EntityResolved
from deskhand.triage.keywords import Triage

_TITLE = re.compile(r"^(?:dr|mr|mrs|ms|mx|prof)\.?\s+", re.IGNORECASE)
# Vendor prefixes people leave out: "Business Premium" means "Microsoft 365 Business Premium".
_SKU_PREFIXES = ("microsoft 365 ", "office 365 ", "microsoft ")


@dataclass
class Resolution:
    requester: DirectoryUser | None = None
    targets: list[DirectoryUser] = field(default_factory=list)
    groups: list[DirectoryGroup] = field(default_factory=list)
    skus: list[Sku] = field(default_factory=list)
    events: list[EntityResolved] = field(default_factory=list)
    problem: str | None = None


def resolve(subject: str, body: str, requester_email: str, found: Triage, m365: M365) -> Resolution:
    """Match the ticket's addresses and names against the directory."""
    text = f"{subject}\n{body}"
    users = m365.list_users()
    result = Resolution(requester=_by_address(users, requester_email))
    _resolve_targets(text, requester_email, found, users, result)
    _resolve_named(text, m365.list_groups(), result, kind="group")
    _resolve_skus(text, m365.subscribed_skus(), result)
    return result


def _by_address(users: list[DirectoryUser], address: str) -> DirectoryUser | None:
    address = address.strip().lower()
    for user in users:
        if address in {user.user_principal_name.lower(), (user.mail or "").lower()}:
            return user
    return None


def _names(user: DirectoryUser) -> set[str]:
    """A user's full name as people write it: with or without the title ("Dr. Priya Raman")."""
    name = user.display_name.strip()
    return {name, _TITLE.sub("", name)} - {""}


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def _resolve_targets(
    text: str, requester_email: str, found: Triage, users: list[DirectoryUser], out: Resolution
) -> None:
    named: dict[str, DirectoryUser] = {}
    for address in found.emails:
        user = _by_address(users, address)
        out.events.append(
            EntityResolved(
                kind="user", query=address, resolved=user.user_principal_name if user else None
            )
        )
        if user is not None:
            named[user.id] = user
        elif address != requester_email.lower():
            out.problem = f"{address} is not a user in this tenant's directory."
    for user in users:
        if any(_mentions(text, name) for name in _names(user)) and user.id not in named:
            named[user.id] = user
            out.events.append(
                EntityResolved(
                    kind="user", query=user.display_name, resolved=user.user_principal_name
                )
            )
    # The requester's own name in a signature is not a second target.
    if out.requester is not None and len(named) > 1:
        named.pop(out.requester.id, None)
    if not named and found.first_person and out.requester is not None:
        named[out.requester.id] = out.requester
        out.events.append(
            EntityResolved(
                kind="user", query="the requester", resolved=out.requester.user_principal_name
            )
        )
    out.targets = list(named.values())
    if len(out.targets) > 1 and out.problem is None:
        names = ", ".join(u.user_principal_name for u in out.targets)
        out.problem = f"The ticket names more than one user ({names}); deskhand will not pick one."
    if not out.targets and out.problem is None:
        out.problem = "The ticket names no user that is in this tenant's directory."


def _resolve_named(text: str, groups: list[DirectoryGroup], out: Resolution, *, kind: str) -> None:
    for group in groups:
        if _mentions(text, group.display_name):
            out.groups.append(group)
            out.events.append(
                EntityResolved(kind=kind, query=group.display_name, resolved=group.id)
            )


def _resolve_skus(text: str, skus: list[Sku], out: Resolution) -> None:
    for sku in skus:
        names = {sku.display_name, sku.part_number}
        lowered = sku.display_name.lower()
        names.update(lowered[len(p) :] for p in _SKU_PREFIXES if lowered.startswith(p))
        if any(_mentions(text, name) for name in names if len(name) > 2):
            out.skus.append(sku)
            out.events.append(
                EntityResolved(kind="licence", query=sku.display_name, resolved=sku.id)
            )
