"""The policy functions as the tests call them: with the installed actions and intents, as the
runtime hands them in (``deskhand.plugins.installed``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from deskhand.actions import catalogue
from deskhand.domain.decisions import Decision
from deskhand.domain.risks import BlastRadius
from deskhand.plugins import installed
from deskhand.policy import effective, tenant_policy
from deskhand.policy.tenant_policy import Installed, TenantPolicy


def parse_policy(text: str, source: str, intents: Iterable[str] | None = None) -> TenantPolicy:
    """``text`` as the policy of ``source``; ``intents`` instead of the installed ones."""
    known = installed()
    if intents is not None:
        known = Installed(actions=known.actions, intents=frozenset(intents))
    return tenant_policy.parse_policy(text, source, known)


def load_policy(path: Path | None = None) -> TenantPolicy:
    return tenant_policy.load_policy(path, installed())


def decide(policy: TenantPolicy, action: str, radius: BlastRadius) -> tuple[Decision, str]:
    """The policy's decision for a step of the installed ``action``."""
    terms = catalogue().get(action)
    return policy.decide(action, radius, manual=terms is not None and terms.manual)


def action_decisions(policy: TenantPolicy) -> list[effective.ActionDecision]:
    return effective.action_decisions(policy, catalogue())
