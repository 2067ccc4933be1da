"""What the installed plugins offer, in the shape the policy reads: every action (deskhand's own
and an MSP's, from the ``deskhand.actions`` entry points) and every intent a specialist handles
(``deskhand.specialists``). The policy is handed this instead of importing the registries."""

from __future__ import annotations

from deskhand.actions import catalogue
from deskhand.policy.tenant_policy import Installed
from deskhand.specialists.registry import discover


def installed() -> Installed:
    """The installed actions and intents."""
    return Installed(actions=catalogue(), intents=frozenset(discover().by_intent))
