"""Technician time on the PSA ticket: the dispatcher adds the tenant's standard minutes for
the intent as the plan's last step, always a billing draft; once approved it is logged once in
the PSA and verified by reading it back. On SQLite and PostgreSQL, against the sandbox."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from tests.engine.test_flow import (
    CONTOSO,
    KAREN,
    LISA,
    _connectors,
    _psa_id,
    applied,
    approve_all,
    drafts,
    status,
    ticket,
    work,
)

from deskhand.actions import action
from deskhand.actions import action as action_named
from deskhand.actions.contract import Baseline
from deskhand.audit.trace import trace
from deskhand.engine.runtime import Runtime
from deskhand.store.models import Step, Tenant, now

# The loosest policy deskhand accepts: everything it may run alone runs alone.
LOOSE = (
    "blast_radius: {read: auto, internal: auto}\n"
    "approvers: [approver]\napproval_expiry_hours: 24\n"
    "time_entries:\n  billable: false\n  minutes:\n    password_reset: 10\n"
)


def use_policy(rt: Runtime, tmp_path: Path, text: str) -> None:
    policy = tmp_path / "contoso.yaml"
    policy.write_text(text, encoding="utf-8")
    with rt.db.session() as session:
        session.execute(update(Tenant).where(Tenant.id == CONTOSO).values(policy_path=str(policy)))


def test_the_standard_time_is_a_billing_draft_last_and_is_logged_once_after_approval(
    rt: Runtime, tmp_path: Path
) -> None:
    use_policy(rt, tmp_path, LOOSE)
    ticket_id = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)

    pending = drafts(rt, ticket_id)
    assert [d.action for d in pending] == [
        "m365.reset_password",
        "m365.revoke_sessions",
        "psa.send_reply",
        "psa.log_time",
    ]
    time = pending[-1]
    psa_id = _psa_id(rt, ticket_id)
    assert (time.status, time.blast_radius) == ("pending", "billing")
    assert time.decision_rule == (
        "no rule for psa.log_time or blast radius billing in contoso.yaml: approve"
    )
    assert time.description == f"Log 10 minutes (billable: no) on PSA ticket {psa_id}"
    assert time.proposed_params["notes"] == (
        f"deskhand: password reset for {LISA} — standard time for this request (tenant policy)"
    )

    approve_all(rt, ticket_id)
    work(rt)

    assert status(rt, ticket_id) == "resolved"
    assert applied(rt, "log_time") == ["log_time"]
    [entry] = _connectors(rt).psa.time_entries(psa_id)
    with rt.db.reading() as session:
        step = session.scalars(select(Step).where(Step.action == "psa.log_time")).one()
        assert step.status == "verified"
        assert step.snapshot == {"time_entries": 0}
        key = step.idempotency_key
    assert (entry.minutes, entry.billable) == (10, False)
    assert entry.notes.endswith(f"(tenant policy)\n\n[deskhand {key}]")
    with rt.db.reading() as session:
        summaries = "\n".join(line.summary for line in trace(session, ticket_id).lines)
    assert "policy: psa.log_time (billing) → approve" in summaries
    assert "step 5 done: psa.log_time, read back and verified" in summaries


def test_an_intent_the_policy_lists_no_minutes_for_logs_no_time(
    rt: Runtime, tmp_path: Path
) -> None:
    use_policy(rt, tmp_path, LOOSE)
    ticket_id = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Finance Share group.")
    work(rt)

    actions = [d.action for d in drafts(rt, ticket_id)]
    assert actions and "psa.log_time" not in actions


def test_without_time_entries_in_the_policy_no_time_is_planned(rt: Runtime) -> None:
    ticket_id = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)

    actions = [d.action for d in drafts(rt, ticket_id)]
    assert actions and "psa.log_time" not in actions


def test_an_entry_already_logged_by_the_step_is_never_logged_again(rt: Runtime) -> None:
    psa = _connectors(rt).psa
    psa_id = psa.create_ticket(LISA, "Forgot my password", "Please reset it").id
    params = action("psa.log_time").validate(
        {"psa_ticket_id": psa_id, "minutes": 10, "billable": False, "notes": "deskhand: reset"}
    )
    operation = action_named("psa.log_time")
    baseline = Baseline(now(), operation.snapshot(params, _connectors(rt)))
    # Logged before a crash, and then someone made it billable in the PSA.
    psa.log_time(psa_id, 10, "deskhand: reset\n\n[deskhand dh-1]", billable=True)

    acted = operation.act(params, _connectors(rt), "dh-1", None)
    check = operation.check(params, _connectors(rt), "dh-1", baseline)

    assert len(psa.time_entries(psa_id)) == 1
    assert acted.result == {"already": psa.time_entries(psa_id)[0].id}
    assert check.done is False  # not what was approved: the run escalates, nothing is re-logged
    assert check.observed["billable"] is True
