"""Edits an approver made to one step of a plan that another step of the same plan does not follow.

A plan often names the same thing twice: step 1 adds the user to "Finance Share", step 3 tells
the client "you now have access to Finance Share". When the approver edits step 1 to
"Front Desk", step 3 still says "Finance Share" — a confidently wrong message to the client.
Such *stale mentions* are found here, so that the queue can warn about them, the edit form can
offer the text with the edit carried over, and approving the draft as written needs the approver
to say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.store.models import Approval, Step

# A changed value shorter than this ("IT", "1") would be found everywhere by chance.
MIN_LENGTH = 3


class StaleMention(BaseModel):
    """``field`` of a draft still says ``old``, which an approver changed to ``new`` when they
    approved draft ``edited_draft`` (its ``edited_field``) of the same plan."""

    field: str
    old: str
    new: str
    edited_draft: int
    edited_field: str

    def describe(self) -> str:
        return (
            f"{self.field.replace('_', ' ')} still says “{self.old}”, but draft "
            f"#{self.edited_draft} was approved with {self.edited_field.replace('_', ' ')} "
            f"“{self.new}”"
        )


@dataclass(frozen=True)
class ApprovedEdit:
    """An approved draft whose approver changed some of the specialist's parameters."""

    draft_id: int
    run_id: int
    step_id: int
    changes: dict[str, tuple[str, str]]  # field -> (proposed, approved), text values only


def approved_edits(session: Session, run_ids: Iterable[int]) -> dict[int, list[ApprovedEdit]]:
    """The approved, edited drafts of each of ``run_ids``, oldest first, in one query."""
    wanted = sorted(set(run_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Approval.id, Step.run_id, Step.id, Step.params, Approval.approved_params)
        .join(Step, Step.id == Approval.step_id)
        .where(
            Step.run_id.in_(wanted),
            Approval.status.in_(("approved", "used")),
            Approval.approved_params.is_not(None),
        )
        .order_by(Approval.id)
    )
    found: dict[int, list[ApprovedEdit]] = {}
    for draft_id, run_id, step_id, proposed, approved in rows:
        changes = {
            name: (str(old), str(new))
            for name, new in (approved or {}).items()
            if isinstance(new, str)
            and isinstance(old := (proposed or {}).get(name), str)
            and old != new
            and len(old.strip()) >= MIN_LENGTH
        }
        if changes:
            found.setdefault(run_id, []).append(ApprovedEdit(draft_id, run_id, step_id, changes))
    return found


def _pattern(old: str) -> re.Pattern[str]:
    """``old`` as a whole word or phrase, in any letter case."""
    return re.compile(rf"(?<!\w){re.escape(old.strip())}(?!\w)", re.IGNORECASE)


def stale_mentions(
    params: dict[str, Any], step_id: int, edits: Iterable[ApprovedEdit]
) -> list[StaleMention]:
    """The text parameters of a draft (its step ``step_id``) that still mention a value an
    approver edited away in another draft of the same plan."""
    mentions = []
    for edit in edits:
        if edit.step_id == step_id:
            continue
        for edited_field, (old, new) in edit.changes.items():
            pattern = _pattern(old)
            for name, value in params.items():
                if not isinstance(value, str) or not pattern.search(value):
                    continue
                if new.strip().lower() in value.lower() and old.lower() in new.lower():
                    continue  # "Finance" -> "Finance Share": the new value is already there
                mentions.append(StaleMention(field=name, old=old, new=new,
                                             edited_draft=edit.draft_id,
                                             edited_field=edited_field))  # fmt: skip
    return mentions


def carry_over(params: dict[str, Any], mentions: Iterable[StaleMention]) -> dict[str, Any]:
    """``params`` with every stale mention replaced by the approved value."""
    carried = dict(params)
    for mention in mentions:
        value = carried.get(mention.field)
        if isinstance(value, str):
            literal = mention.new.strip().replace("\\", "\\\\")  # no group references
            carried[mention.field] = _pattern(mention.old).sub(literal, value)
    return carried
