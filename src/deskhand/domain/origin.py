"""Where a ticket came from, stored with it (``tickets.origin``), and what that means for answering
it: a ticket of the tenant's own PSA takes its notes, replies and time there; one that came by
e-mail to the support mailbox, or from another PSA's export, is in no PSA deskhand can write to
(its notes are kept in deskhand: ``engine.kept_notes``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TicketOrigin(StrEnum):
    """How a ticket reached deskhand: each intake path sets its own."""

    PSA = "psa"  # the tenant's PSA: read by its poller, or opened there by ``tickets add``
    MAILBOX = "mailbox"  # a message in the tenant's support mailbox
    EXPORT = "export"  # a row of an export file (``tickets.exported_from`` names its PSA)


@dataclass(frozen=True)
class Outside:
    """Why the tenant's PSA does not have the ticket, and where a technician answers instead."""

    why: str
    answer_in: str


def outside_psa(origin: TicketOrigin | str, exported_from: str | None = None) -> Outside | None:
    """Why no PSA deskhand writes to holds a ticket of this origin; None for the tenant's own
    PSA's. ``exported_from`` is the PSA an exported ticket came from ("ConnectWise Manage")."""
    match TicketOrigin(origin):
        case TicketOrigin.PSA:
            return None
        case TicketOrigin.MAILBOX:
            return Outside("arrived by e-mail in the tenant's support mailbox", "your mail client")
        case TicketOrigin.EXPORT:
            if exported_from is None:
                return Outside("was imported from an export", "the PSA it was exported from")
            return Outside(f"was imported from a {exported_from} export", exported_from)
