"""What a tenant's policy decides for every action deskhand knows, and why: the table the
Tenants page shows beside the policy file.

Pure: it asks ``TenantPolicy.decide`` — the same call the dispatcher makes for every step — for
each action at each blast radius the action can have, so the table cannot drift from what runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deskhand.domain.decisions import Decision
from deskhand.domain.risks import APPROVAL_FLOOR, BlastRadius
from deskhand.policy.tenant_policy import ActionTerms, TenantPolicy

PRIVILEGED = "when the group is privileged"


@dataclass(frozen=True)
class ActionDecision:
    """How one action is decided at one of its blast radii under one tenant's policy."""

    action: str
    radius: BlastRadius
    # When this radius applies ("when the group is privileged"); None: usually.
    condition: str | None
    # Which rule of the policy speaks for it: "action rule", "blast radius rule", "no rule".
    rule: str
    setting: Decision | None  # what that rule says; None when no rule does
    line: int | None  # the policy file's line of that rule, if it was read from a file
    floor: bool  # the radius is in the approval floor: never auto, whatever the policy says
    decision: Decision  # what deskhand does with a step of this action: the effective decision
    why: str  # the reason ``TenantPolicy.decide`` gives, as the step's trace will show it
    raised_by_floor: bool  # the policy said auto and the floor made it approve

    @property
    def explanation(self) -> str:
        """The reason in words for the table: the policy's rule, or the floor overriding it."""
        if self.raised_by_floor:
            return f"raised to approve by the safety floor: {self.radius} is never auto"
        return self.why


def action_decisions(
    policy: TenantPolicy, actions: Mapping[str, ActionTerms]
) -> list[ActionDecision]:
    """Every one of ``actions`` (the installed ones, in the registry's order) with its effective
    decision; an action whose blast radius grows with a privileged group gets a second row for
    that case."""
    rows = []
    for name, terms in actions.items():
        rows.append(_decided(policy, name, terms, terms.radius, None))
        if terms.privileged_radius is not None and terms.privileged_radius != terms.radius:
            rows.append(_decided(policy, name, terms, terms.privileged_radius, PRIVILEGED))
    return rows


def _decided(
    policy: TenantPolicy,
    name: str,
    terms: ActionTerms,
    radius: BlastRadius,
    condition: str | None,
) -> ActionDecision:
    if (rule := policy.actions.get(name)) is not None:
        kind = "action rule"
    elif (rule := policy.blast_radius.get(radius)) is not None:
        kind = "blast radius rule"
    else:
        kind = "no rule"
    decision, why = policy.decide(name, radius, manual=terms.manual)
    setting = rule.decision if rule is not None else None
    return ActionDecision(
        action=name,
        radius=radius,
        condition=condition,
        rule=kind,
        setting=setting,
        line=rule.line if rule is not None else None,
        floor=radius in APPROVAL_FLOOR,
        decision=decision,
        why=why,
        raised_by_floor=setting is Decision.AUTO and decision is not Decision.AUTO,
    )
