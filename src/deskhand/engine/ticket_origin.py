"""Where a ticket came from when it is not a ticket of the tenant's PSA: an export of another
PSA, or a message in the support mailbox. deskhand cannot write a note or a reply on those."""

from __future__ import annotations

from dataclasses import dataclass

from deskhand.engine.intake_files import exported_from
from deskhand.engine.mailbox import KEY_PREFIX as MAILBOX_PREFIX


@dataclass(frozen=True)
class Outside:
    """Why the tenant's PSA does not have the ticket, and where a technician answers instead."""

    why: str
    answer_in: str


def outside_psa(psa_ticket_id: str) -> Outside | None:
    """None for a ticket of the tenant's own PSA."""
    if psa_ticket_id.startswith(MAILBOX_PREFIX):
        return Outside("arrived by e-mail in the tenant's support mailbox", "your mail client")
    if (source := exported_from(psa_ticket_id)) is not None:
        return Outside(f"was imported from a {source} export", source)
    return None
