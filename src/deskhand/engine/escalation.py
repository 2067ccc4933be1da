"""The one way anything reaches a human: stop the run, put the ticket in the queue with a
reason code, write an internal note on the PSA ticket saying what was done so far and how to
trace it, and announce it (the log, and a webhook when one is configured)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.connectors.errors import ConnectorError
from deskhand.domain import events as ev
from deskhand.domain.escalations import Reason
from deskhand.engine import psa_status, state
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Run, Tenant

log = logging.getLogger("deskhand.escalation")


def escalate(
    rt: Runtime,
    run_id: int,
    reason: Reason,
    detail: str,
    *,
    worker: str | None = None,
    prepare: Callable[[Session, Run], None] | None = None,
) -> int:
    """Escalate the run (held by ``worker``, or no worker for a human's action). The ``prepare``
    change (events learnt on the way, a draft's decision) is written first, in the same
    transaction, so that no one sees the run between them. Returns the escalation id."""
    with rt.db.session() as session:
        run = _lock(session, run_id, worker)
        if prepare is not None:
            prepare(session, run)
        escalation = state.escalate(session, run, reason, detail, rt.clock())
        escalation_id = escalation.id
        summary = psa_status.steps_in_words(run)
        tenant = session.get(Tenant, run.tenant_id)
        psa_ticket_id = run.ticket.psa_ticket_id
        ticket_id = run.ticket_id
    assert tenant is not None
    body = (
        f"deskhand escalated this ticket: {reason.sentence} ({reason}).\n"
        f"{detail}\n\nDone so far:\n{summary}\n\n"
        f"Trace: deskhand trace {ticket_id} (run {run_id}, escalation {escalation_id})"
    )
    _note(rt, tenant, run_id, psa_ticket_id, body)
    psa_status.follow(rt, tenant, run_id, "escalated")
    _announce(rt, run_id, escalation_id, reason, detail, tenant.id, ticket_id)
    return escalation_id


def _lock(session: Session, run_id: int, worker: str | None) -> Run:
    if worker is not None:
        return state.hold(session, run_id, worker)
    run = session.execute(select(Run).where(Run.id == run_id).with_for_update()).scalar_one()
    if run.status not in state.OPEN_RUN:
        raise state.StateError(f"Run {run_id} is already {run.status}.")
    return run


def _note(rt: Runtime, tenant: Tenant, run_id: int, psa_ticket_id: str, body: str) -> None:
    try:
        comment = rt.ticket_connectors(tenant).psa.add_comment(
            psa_ticket_id, "deskhand escalation", body, hidden=True
        )
        event: ev.Event = ev.NoteWritten(
            psa_ticket_id=psa_ticket_id, comment_id=comment.id, hidden=True
        )
    except ConnectorError as error:
        log.warning(
            "could not write the escalation note on PSA ticket %s: %s", psa_ticket_id, error
        )
        event = ev.Notified(channel="psa", ok=False, detail=str(error))
    with rt.db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        state.record(session, run, event)


def _announce(
    rt: Runtime,
    run_id: int,
    escalation_id: int,
    reason: Reason,
    detail: str,
    tenant_id: str,
    ticket_id: int,
) -> None:
    log.warning(
        "escalated ticket %s (tenant %s, run %s): %s — %s",
        ticket_id,
        tenant_id,
        run_id,
        reason,
        detail,
    )
    url = rt.settings.escalation_webhook
    if not url:
        return
    document = {
        "escalation_id": escalation_id,
        "tenant_id": tenant_id,
        "ticket_id": ticket_id,
        "run_id": run_id,
        "reason": reason,
        "reason_text": reason.sentence,
        "detail": detail,
    }
    try:
        response = httpx.post(url, json=document, timeout=5.0)
        ok, outcome = response.is_success, f"HTTP {response.status_code}"
    except httpx.HTTPError as error:
        ok, outcome = False, str(error)
    with rt.db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        state.record(session, run, ev.Notified(channel="webhook", ok=ok, detail=outcome))
