"""Blast radius: how much harm an action can do if it is wrong, and the floor no policy lowers."""

from __future__ import annotations

from enum import StrEnum


class BlastRadius(StrEnum):
    """What an action touches. Decides, with the tenant's policy, whether a human approves it."""

    READ = "read"  # looks, changes nothing
    INTERNAL = "internal"  # changes something only the MSP sees, or that is easily undone
    SECURITY = "security"  # credentials, sign-in, privileged access
    BILLING = "billing"  # costs the client money (a new licence seat, a purchase)
    EXTERNAL_COMMUNICATION = "external_communication"  # anything the client will read
    DESTRUCTIVE = "destructive"  # deletes or disables; may not be undoable


# Never `auto`, whatever a policy file says: a human approves every one of these.
APPROVAL_FLOOR = frozenset(
    {
        BlastRadius.SECURITY,
        BlastRadius.BILLING,
        BlastRadius.EXTERNAL_COMMUNICATION,
        BlastRadius.DESTRUCTIVE,
    }
)


# The approval queue shows what could do most harm first, while attention is fresh.
QUEUE_ORDER = (
    BlastRadius.DESTRUCTIVE,
    BlastRadius.SECURITY,
    BlastRadius.BILLING,
    BlastRadius.EXTERNAL_COMMUNICATION,
    BlastRadius.INTERNAL,
    BlastRadius.READ,
)


def risk_rank(radius: str) -> int:
    """A draft's place in the queue's first sort key: 0 for the riskiest blast radius."""
    ranks = [r.value for r in QUEUE_ORDER]
    return ranks.index(radius) if radius in ranks else len(ranks)
