"""Nothing a ticket asks for is dropped without a word. What the ticket asks that no step of
its plan does (``deskhand.domain.asks``) is named on the plan (``Plan.left``), added to the
internal note and told to the client in the reply — before the plan is framed and approved,
so the approver sees exactly what will be said — and, once the plan has run, the ticket goes
to the human queue for it instead of being resolved (``deskhand.engine.executor``). What a step
found only as it ran (the groups ``m365.remove_all_groups`` cannot change, read back as
``LEFT_FOR_TECHNICIAN`` lines) is left the same way, named once the step is done."""

from __future__ import annotations

from collections.abc import Iterable

from deskhand.actions.contract import LEFT_FOR_TECHNICIAN
from deskhand.domain.asks import left_over, listing
from deskhand.specialists.contract import Plan, ProposedStep, TicketView
from deskhand.store.models import Run, Step

REPLY = "psa.send_reply"
NOTE = "psa.add_internal_note"


def left_for(ticket: TicketView, actions: list[str]) -> list[str]:
    """What ``ticket`` asks that none of ``actions`` does, in words."""
    return [ask.words for ask in left_over(f"{ticket.subject}\n{ticket.body}", actions)]


def with_left_named(plan: Plan, ticket: TicketView) -> Plan:
    """``plan`` with what it leaves for a technician — what its specialist said it leaves
    (``Plan.left``) and what the ticket asks that no step does — named in its note, its reply
    and ``Plan.left``; the plan as it is when it does everything the ticket asks."""
    left = _merged(plan.left, left_for(ticket, [step.action for step in plan.steps]))
    if not left:
        return plan
    said = listing(left)
    steps = tuple(_told(step, said, left) for step in plan.steps)
    return plan.model_copy(update={"steps": steps, "left": tuple(left)})


def _told(step: ProposedStep, said: str, left: list[str]) -> ProposedStep:
    body = str(step.params.get("body", ""))
    if step.action == REPLY:
        body = (
            f"{body.rstrip()}\n\nA technician will also {said} for you; we will let you know "
            "when that is done."
        )
    elif step.action == NOTE:
        lines = "\n".join(f"- {words}" for words in left)
        body = f"{body.rstrip()}\n\nLeft for a technician (deskhand does not do these):\n{lines}"
    else:
        return step
    return step.model_copy(update={"params": {**step.params, "body": body}})


def left_of_run(run: Run) -> list[str]:
    """What the run's plan leaves for a technician: what was named when it was planned (kept
    with the run), what the ticket asks that its steps — edited since, maybe — do not do, and
    what its done steps found they could not do; for a plan not made from the ticket's words
    (an undo), not what the ticket asks; nothing for a question."""
    inputs = run.plan_inputs or {}
    kept = [str(words) for words in inputs.get("left", [])]  # as planned, the specialist's too
    found = [words for step in run.steps for words in left_by_step(step)]
    if "ticket" not in inputs:
        return _merged(kept, found)
    ticket = TicketView.model_validate(inputs["ticket"])
    return _merged(kept, left_for(ticket, [step.action for step in run.steps]), found)


def left_by_step(step: Step) -> list[str]:
    """What a done step read back that it leaves for a technician (a group it cannot change)."""
    if step.status != "verified":
        return []
    return [str(words) for words in (step.result or {}).get(LEFT_FOR_TECHNICIAN, [])]


def _merged(*lists: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(words for found in lists for words in found))
