"""Which installed specialist takes each category's tickets, and how much of the history's
minutes that is: whether deskhand handles the categories that cost most, or only quick ones.

A category's tickets are an intent by the taxonomy category it means (the one named beside a
PSA category, ``CategoryRow.taxonomy_category``, else its own name), by the taxonomy
(``Taxonomy.intents_by_category``: the category's own ``intent:``, else the intent whose
specialist declares the category), or, for a
PSA label the taxonomy does not know, by being an intent's name written otherwise ("Printer
mapping" is ``printer_mapping``). They are covered when an installed specialist handles that
intent; everything else, the MSP's own themes and "Other" among them, a technician does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from deskhand.domain.intents import Intent
from deskhand.history.report import NO_CATEGORY, CategoryRow, Coverage, UncoveredCategory
from deskhand.history.taxonomy import Taxonomy, label_key


class Installed(Protocol):
    """What coverage reads of a specialist (``deskhand.specialists.contract.Specialist``)."""

    @property
    def name(self) -> str: ...

    @property
    def intents(self) -> Mapping[str, Intent]: ...


def cover(
    rows: list[CategoryRow], taxonomy: Taxonomy, specialists: Iterable[Installed]
) -> tuple[list[CategoryRow], Coverage]:
    """``rows`` with the specialist that takes each category's tickets, and what they cover."""
    installed = list(specialists)
    handler = {intent: s.name for s in installed for intent in s.intents}
    routes = taxonomy.intents_by_category({i: d for s in installed for i, d in s.intents.items()})
    by_key = {label_key(intent): intent for intent in handler}

    def specialist(row: CategoryRow) -> str | None:
        intent = (
            routes.get(row.taxonomy_category or row.category)
            or routes.get(row.category)
            or by_key.get(label_key(row.category))
        )
        return handler.get(intent) if intent else None

    covered = [row.model_copy(update={"specialist": specialist(row)}) for row in rows]
    total = sum(row.minutes for row in covered)
    minutes = sum(row.minutes for row in covered if row.specialist)
    # "Other" (and the PSA's words for it, and no category at all) is what fits no kind of
    # work, so no specialist could be written for it.
    uncovered = [
        row
        for row in covered
        if not row.specialist
        and taxonomy.other not in (row.category, row.taxonomy_category)
        and row.category != NO_CATEGORY
    ]
    largest = max(uncovered, key=lambda row: row.minutes, default=None)
    return covered, Coverage(
        specialists=sorted(s.name for s in installed),
        share=round(minutes / total, 6) if total else 0.0,
        covered_minutes=round(minutes, 2),
        total_minutes=round(total, 2),
        largest_uncovered=UncoveredCategory(
            category=largest.category, share=largest.share_of_minutes
        )
        if largest is not None and largest.minutes > 0
        else None,
    )
