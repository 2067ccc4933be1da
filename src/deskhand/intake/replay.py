"""``deskhand replay``: the resolved tickets of a PSA export through triage, the specialists and
policy, against the tenant's directory as it is now — in shadow, with no side effect of any
kind: nothing is stored (no ticket, run, draft or event), nothing is written to any system.

It reads exports as the import and ``deskhand analyze`` do (``intake.exports`` for the text and
the requester, ``history.importer`` for the category, the status and the technician minutes),
and asks the dispatcher only what it would decide (``engine.dispatcher.plan_only``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from deskhand.domain.escalations import Reason
from deskhand.domain.events import TicketTriaged
from deskhand.engine import state
from deskhand.engine.binding import TicketRef
from deskhand.engine.dispatcher import Stop, plan_only
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.history.importer import CLOSED_STATUS, import_history
from deskhand.history.quality import Ledger
from deskhand.intake.exports import ExportTicket, read_export
from deskhand.specialists.contract import TicketView
from deskhand.store.models import Tenant

PLANNED, ASKED, ESCALATED, ABSTAINED = "planned", "asked", "escalated", "abstained"
OUTCOMES = (PLANNED, ASKED, ESCALATED, ABSTAINED)
# Triage did not route the ticket: no specialist for it, or not sure enough.
_ABSTAINS = {Reason.NO_SPECIALIST, Reason.LOW_CONFIDENCE}
UNCATEGORISED = "(no category)"


@dataclass(frozen=True)
class Replayed:
    """One resolved ticket of the export, and what deskhand would have done with it."""

    number: str
    category: str
    subject: str
    minutes: float  # what it cost the technicians
    outcome: str  # planned, asked, escalated or abstained
    specialist: str  # "" when triage routed it to none
    steps: list[str]  # the plan in words, each with policy's decision
    why: str  # the question asked, or why it would have escalated or abstained


@dataclass
class Group:
    """Tickets of one category and specialist."""

    category: str
    specialist: str
    tickets: int = 0
    minutes: float = 0.0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))


@dataclass
class ReplayReport:
    tenant_id: str
    tickets: list[Replayed] = field(default_factory=list)
    skipped: int = 0  # rows of the export that are not a resolved ticket deskhand can read

    def groups(self) -> list[Group]:
        """Per category and specialist, the most technician minutes first."""
        found: dict[tuple[str, str], Group] = {}
        for t in self.tickets:
            group = found.setdefault((t.category, t.specialist), Group(t.category, t.specialist))
            group.tickets += 1
            group.minutes += t.minutes
            group.outcomes[t.outcome] += 1
        return sorted(found.values(), key=lambda g: (-g.minutes, g.category, g.specialist))

    def json_document(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "skipped": self.skipped,
            "groups": [
                {
                    "category": g.category,
                    "specialist": g.specialist or None,
                    "tickets": g.tickets,
                    "minutes": round(g.minutes, 1),
                    "outcomes": g.outcomes,
                }
                for g in self.groups()
            ],
            "tickets": [
                {
                    "number": t.number,
                    "category": t.category,
                    "subject": t.subject,
                    "minutes": round(t.minutes, 1),
                    "outcome": t.outcome,
                    "specialist": t.specialist or None,
                    "steps": t.steps,
                    "why": t.why,
                }
                for t in self.tickets
            ],
        }


def replay(
    rt: Runtime,
    tenant_id: str,
    paths: Sequence[Path],
    *,
    mapping: Mapping[str, str] | None = None,
    forced_format: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """What deskhand would have done with each resolved ticket of the export; stores nothing."""
    with rt.db.reading() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise InputError(f"No tenant {tenant_id}.", hint="`deskhand tenants list`.")
        session.expunge(tenant)
    history = import_history(paths, ledger=Ledger(), mapping=mapping, forced_format=forced_format)
    resolved = _resolved(history.tickets)
    minutes = _minutes(history.tickets, history.time, history.has_time)
    reading = read_export(paths, mapping=mapping, forced_format=forced_format, open_only=False)
    report = ReplayReport(tenant_id, skipped=len(reading.skipped))
    tickets = [t for t in reading.tickets if t.number in resolved]
    report.skipped += len(reading.tickets) - len(tickets)
    for done, ticket in enumerate(tickets, start=1):
        report.tickets.append(
            _replay_one(rt, tenant, ticket, resolved[ticket.number], minutes.get(ticket.number))
        )
        if progress is not None:
            progress(done, len(tickets))
    return report


def _replay_one(
    rt: Runtime, tenant: Tenant, ticket: ExportTicket, category: str, minutes: float | None
) -> Replayed:
    view = TicketView(
        id=0,  # never stored
        tenant_id=tenant.id,
        psa_ticket_id=ticket.number,
        subject=ticket.subject,
        body=ticket.body,
        requester_email=ticket.requester_email,
        requester_name=ticket.requester_name,
        received_at=None,
    )
    # As it came then: through the tenant's own PSA, whose ticket a plan may answer on.
    ref = TicketRef(ticket.number, ticket.requester_email, None)
    base = Replayed(ticket.number, category, ticket.subject, minutes or 0.0, "", "", [], "")
    try:
        outcome = plan_only(rt, tenant, view, ref)
    except Stop as stop:
        return replace(
            base,
            outcome=ABSTAINED if stop.reason in _ABSTAINS else ESCALATED,
            specialist=_routed_to(rt, stop),
            steps=[],
            why=f"{stop.reason.value}: {stop.detail}",
        )
    steps = [f"{s.description} ({s.decision})" for s in outcome.steps]
    forbidden = [f"{s.action}: {s.rule}" for s in outcome.steps if s.decision == "forbid"]
    if outcome.specialist == state.ASK_REQUESTER:
        return replace(
            base,
            outcome=ASKED,
            specialist=_routed_to(rt, Stop(Reason.NEEDS_HUMAN, "", outcome.events)),
            steps=steps,
            why=outcome.plan.question or outcome.plan.summary,
        )
    return replace(
        base,
        outcome=ESCALATED if forbidden else PLANNED,
        specialist=outcome.specialist,
        steps=steps,
        why=f"policy forbids {'; '.join(forbidden)}" if forbidden else "",
    )


def _routed_to(rt: Runtime, stop: Stop) -> str:
    """The specialist triage chose, if it got that far."""
    for event in stop.events:
        if isinstance(event, TicketTriaged) and event.intent:
            specialist = rt.registry.for_intent(event.intent)
            return specialist.name if specialist is not None else ""
    return ""


def _resolved(tickets: pl.DataFrame) -> dict[str, str]:
    """The resolved tickets' numbers, with their PSA category."""
    done = tickets.filter(
        pl.col("resolved_at").is_not_null()
        | pl.col("status").str.contains(CLOSED_STATUS).fill_null(False)
    )
    return {
        str(number): category or UNCATEGORISED
        for number, category in zip(
            done.get_column("ticket_id").to_list(),
            done.get_column("category_raw").to_list(),
            strict=True,
        )
    }


def _minutes(tickets: pl.DataFrame, time: pl.DataFrame, has_time: bool) -> dict[str, float]:
    """Technician minutes per ticket: logged time when the export has it, else opened to
    resolved (a proxy, as ``deskhand analyze`` says of it)."""
    if has_time:
        summed = time.group_by("ticket_id").agg(pl.col("minutes").sum())
        return {
            str(k): float(v or 0)
            for k, v in zip(
                summed.get_column("ticket_id").to_list(),
                summed.get_column("minutes").to_list(),
                strict=True,
            )
        }
    elapsed = tickets.with_columns(
        ((pl.col("resolved_at") - pl.col("opened_at")).dt.total_seconds() / 60).alias("m")
    )
    return {
        str(k): float(v)
        for k, v in zip(
            elapsed.get_column("ticket_id").to_list(),
            elapsed.get_column("m").to_list(),
            strict=True,
        )
        if v is not None and v >= 0
    }
