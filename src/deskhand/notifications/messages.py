"""What a message says: short, with a link into the web app, and nothing a technician's chat
or mailbox should not keep — no secret, never a ticket's body (its subject, tenant, requester
and counts only).

Links are the web app's public address (``DESKHAND_PUBLIC_URL``) and the page's path; without
that setting a message carries the path alone (``/tickets/12``), which a technician opens on
the deskhand they know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from deskhand.domain.dates import readable
from deskhand.domain.escalations import sentence
from deskhand.domain.notifications import NoticeKind

SUBJECT_LENGTH = 80  # characters of a ticket's subject a message shows


@dataclass(frozen=True)
class About:
    """One thing a message tells of, recorded so that it is told once: ``ref`` is
    ``run:12``, ``approval:40`` or ``escalation:7``."""

    ref: str
    ticket_id: int
    run_id: int | None = None
    step_id: int | None = None


@dataclass(frozen=True)
class Notice:
    """One message to the technicians of one tenant (and the MSP's)."""

    kind: NoticeKind
    tenant_id: str
    title: str
    body: str
    link: str
    about: tuple[About, ...]


@dataclass(frozen=True)
class Links:
    """Addresses of the web app's pages, absolute when the public address is known."""

    base: str | None

    def _at(self, path: str) -> str:
        return f"{self.base.rstrip('/')}{path}" if self.base else path

    def ticket(self, ticket_id: int) -> str:
        return self._at(f"/tickets/{ticket_id}")

    def plans(self, tenant_id: str) -> str:
        """The tenant's plans waiting for approval, one card each."""
        return self._at(f"/plans?tenant={quote(tenant_id)}")

    def plan(self, tenant_id: str, run_id: int) -> str:
        """One plan's card, on a page of its own (however long the tenant's queue is)."""
        return self._at(f"/plans/{run_id}")

    def trust(self, tenant_id: str) -> str:
        """The Trust page for one tenant, with its open regressions."""
        return self._at(f"/trust?tenant={quote(tenant_id)}#regressions")


@dataclass(frozen=True)
class WaitingPlan:
    """A run whose drafts wait for a human, as a message lists it."""

    run_id: int
    ticket_id: int
    subject: str
    requester: str
    drafts: int
    waiting_since: datetime
    expires_at: datetime


@dataclass(frozen=True)
class EscalatedTicket:
    escalation_id: int
    ticket_id: int
    run_id: int | None
    subject: str
    requester: str
    reason: str
    failed_step: str | None  # the description of the step that failed, for a failed execution


def short(subject: str) -> str:
    """A subject on one line, cut to ``SUBJECT_LENGTH`` characters."""
    line = " ".join(subject.split())
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1] + "…"


def _when(moment: datetime) -> str:
    return readable(moment)


def plans_waiting(
    tenant_id: str, tenant: str, new: list[WaitingPlan], every: list[WaitingPlan], links: Links
) -> Notice:
    """New plans of one tenant wait for approval: how many wait in all, the oldest, and a
    line per new plan."""
    drafts = sum(plan.drafts for plan in every)
    oldest = min(every, key=lambda plan: plan.waiting_since)
    lines = [
        f"{len(new)} new plan(s) wait for approval at {tenant}; "
        f"{len(every)} plan(s) with {drafts} draft(s) wait in all.",
        f"Oldest: ticket {oldest.ticket_id} “{short(oldest.subject)}”, waiting since "
        f"{_when(oldest.waiting_since)}.",
        "",
        *(
            f"- “{short(plan.subject)}” from {plan.requester}: {plan.drafts} draft(s), "
            f"{links.plan(tenant_id, plan.run_id)}"
            for plan in new
        ),
        "",
        f"Approve them at {links.plans(tenant_id)}",
    ]
    return Notice(
        NoticeKind.PLANS_WAITING,
        tenant_id,
        f"[{tenant}] {len(new)} new plan(s) wait for approval",
        "\n".join(lines),
        links.plans(tenant_id),
        tuple(About(f"run:{plan.run_id}", plan.ticket_id, plan.run_id) for plan in new),
    )


def drafts_expiring(tenant_id: str, tenant: str, plans: list[WaitingPlan], links: Links) -> Notice:
    """Plans of one tenant whose drafts expire soon: once expired they escalate, unrun."""
    soonest = min(plans, key=lambda plan: plan.expires_at)
    lines = [
        f"{len(plans)} plan(s) at {tenant} expire unapproved soon, the first at "
        f"{_when(soonest.expires_at)}; then they are not run and go to the escalation queue.",
        "",
        *(
            f"- “{short(plan.subject)}” from {plan.requester}: expires "
            f"{_when(plan.expires_at)}, {links.plan(tenant_id, plan.run_id)}"
            for plan in plans
        ),
    ]
    return Notice(
        NoticeKind.DRAFTS_EXPIRING,
        tenant_id,
        f"[{tenant}] {len(plans)} plan(s) expire soon",
        "\n".join(lines),
        links.plan(tenant_id, soonest.run_id) if len(plans) == 1 else links.plans(tenant_id),
        tuple(About(f"expiring:{plan.run_id}", plan.ticket_id, plan.run_id) for plan in plans),
    )


FAILURES = frozenset({"execution_failed", "verification_failed", "uncertain_execution"})


@dataclass(frozen=True)
class ManualStep:
    """A manual step of a scheduled plan, due now: deskhand reads its result back until the
    technician has done it."""

    step_id: int
    run_id: int
    ticket_id: int
    subject: str
    description: str  # the exact instructions


def manual_due(tenant_id: str, tenant: str, steps: list[ManualStep], links: Links) -> Notice:
    """A scheduled plan reached its manual steps: do them now; deskhand sees them done."""
    first = steps[0]
    lines = [
        f"Manual steps are due now at {tenant}: ticket {first.ticket_id} "
        f"“{short(first.subject)}” ran as scheduled, and deskhand waits for these to show:",
        *(f"- {step.description}" for step in steps),
        "",
        f"Open the plan at {links.plan(tenant_id, first.run_id)}",
    ]
    return Notice(
        NoticeKind.MANUAL_STEPS_DUE,
        tenant_id,
        f"[{tenant}] Manual steps due: {short(first.subject)}",
        "\n".join(lines),
        links.plan(tenant_id, first.run_id),
        tuple(About(f"manual:{s.step_id}", s.ticket_id, s.run_id, s.step_id) for s in steps),
    )


def escalated(tenant_id: str, tenant: str, ticket: EscalatedTicket, links: Links) -> Notice:
    """A ticket reached the human queue; a failed or uncertain execution is its own kind."""
    failed = ticket.reason in FAILURES
    what = "A step failed or could not be confirmed" if failed else "A ticket needs a person"
    lines = [
        f"{what} at {tenant}: ticket {ticket.ticket_id} “{short(ticket.subject)}” from "
        f"{ticket.requester}.",
        f"Why: {sentence(ticket.reason)}.",
        *([f"Step: {ticket.failed_step}"] if ticket.failed_step else []),
        "",
        f"Open it at {links.ticket(ticket.ticket_id)}",
    ]
    return Notice(
        NoticeKind.EXECUTION_FAILED if failed else NoticeKind.ESCALATION,
        tenant_id,
        f"[{tenant}] {'Execution failed' if failed else 'Escalated'}: {short(ticket.subject)}",
        "\n".join(lines),
        links.ticket(ticket.ticket_id),
        (About(f"escalation:{ticket.escalation_id}", ticket.ticket_id, ticket.run_id),),
    )


@dataclass(frozen=True)
class FlaggedRegression:
    """A trust.regression_flagged event, as a message tells of it."""

    event_id: int
    specialist: str
    words: str
    recent_hits: int
    recent_total: int
    baseline_hits: int
    baseline_total: int
    tickets: tuple[int, ...]


def regression(tenant_id: str, tenant: str, flagged: FlaggedRegression, links: Links) -> Notice:
    """A specialist's record at a tenant got significantly worse: the figures and the link to
    the Trust page, which lists the tickets behind it (no ticket's text here)."""
    name = flagged.specialist.replace("_", " ")
    lines = [
        f"The {name} specialist got worse at {tenant}: {flagged.words}.",
        f"Last 7 days: {flagged.recent_hits} of {flagged.recent_total}; the 8 weeks before: "
        f"{flagged.baseline_hits} of {flagged.baseline_total}.",
        f"Tickets behind it: {', '.join(str(t) for t in flagged.tickets)}.",
        "",
        f"Look at it on the Trust page: {links.trust(tenant_id)}",
    ]
    return Notice(
        NoticeKind.REGRESSION,
        tenant_id,
        f"[{tenant}] Regression: {name} — {flagged.words}",
        "\n".join(lines),
        links.trust(tenant_id),
        (About(f"regression:{flagged.event_id}", flagged.tickets[0]),),
    )
