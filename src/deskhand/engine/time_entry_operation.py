"""How ``psa.log_time`` is snapshotted, performed and verified: a timer entry on the PSA ticket.

A PSA has no idempotency key for timer entries, so the step's key rides in the entry's notes
as ``[deskhand {key}]``: reading the ticket's time back finds the entry by it. That is the
verification, and, after a crash, how the entry already logged is recognised instead of
being logged twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import TimeParams
from deskhand.domain.directory import PsaTimeEntry

if TYPE_CHECKING:
    from deskhand.engine.operations import Acted, Baseline, Check


def marker(key: str) -> str:
    """The text in a timer entry's notes that says which step logged it."""
    return f"[deskhand {key}]"


class LogTime:
    """A timer entry of the step's minutes, with its billable flag, on the PSA ticket."""

    def secret(self) -> str | None:
        return None

    def snapshot(self, params: TimeParams, c: Connectors) -> dict[str, Any]:
        return {"time_entries": len(c.psa.time_entries(params.psa_ticket_id))}

    def act(self, params: TimeParams, c: Connectors, key: str, secret: str | None) -> Acted:
        from deskhand.engine.operations import Acted  # operations imports this module

        logged = self._found(params, c, key)
        if logged is not None:
            # Logged before a crash but not verified (its billable flag differed): not again.
            return Acted({"already": logged.id})
        notes = f"{params.notes}\n\n{marker(key)}"
        entry = c.psa.log_time(params.psa_ticket_id, params.minutes, notes, params.billable)
        return Acted({"time_entry_id": entry.id})

    def check(self, params: TimeParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        from deskhand.engine.operations import Check  # operations imports this module

        entry = self._found(params, c, key)
        if entry is None:
            return Check(False, {"time_entry_id": None})
        observed = {
            "time_entry_id": entry.id,
            "minutes": entry.minutes,
            "billable": entry.billable,
        }
        return Check(
            entry.minutes == params.minutes and entry.billable == params.billable, observed
        )

    def _found(self, params: TimeParams, c: Connectors, key: str) -> PsaTimeEntry | None:
        for entry in c.psa.time_entries(params.psa_ticket_id):
            if marker(key) in entry.notes:
                return entry
        return None
