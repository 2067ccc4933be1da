"""Steps a specialist names by key while it builds a plan whose length depends on the ticket
and the tenant's template: each says, by key, which steps it waits for, and the positions
(``ProposedStep.after``) are given once the plan is whole. Shared by the lifecycle
specialists (offboarding, onboarding); a plugin may use it too."""

from __future__ import annotations

from dataclasses import dataclass

from deskhand.specialists.contract import ProposedStep


@dataclass(frozen=True)
class KeyedStep:
    """A step with the keys of the steps it waits for."""

    key: str
    proposed: ProposedStep
    waits: tuple[str, ...] | None = None  # None: every step before it


def in_order(steps: list[KeyedStep]) -> tuple[ProposedStep, ...]:
    """The steps with ``after`` as positions: only the waited-for steps that are in the plan."""
    position = {step.key: number for number, step in enumerate(steps, start=1)}
    return tuple(
        step.proposed.model_copy(
            update={
                "after": None
                if step.waits is None
                else tuple(position[k] for k in step.waits if k in position)
            }
        )
        for step in steps
    )
