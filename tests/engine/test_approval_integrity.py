"""An approval means exactly what the approver saw — tried as a hostile approver would.

Every reference parameter of every action deskhand drafts is edited to another user, an
admin, another tenant's object, a privileged group, another ticket and someone other than the
requester: each edit is refused, or re-planned and re-classified with the blast radius the
directory's facts give it — never approved silently at the old one. Against the sandbox tenant,
on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.engine.test_flow import (
    CONTOSO,
    KAREN,
    LISA,
    approve_all,
    drafts,
    escalation,
    status,
    ticket,
    work,
)

from deskhand.actions import action
from deskhand.connectors.sandbox.seed import BUSINESS_STANDARD, object_id
from deskhand.engine import approvals
from deskhand.engine.approvals import DraftView
from deskhand.engine.runtime import Runtime
from deskhand.intake.arrival import add_ticket
from deskhand.specialists.access_change import AccessChange
from deskhand.specialists.contract import Plan, PlanContext, TicketView
from deskhand.specialists.password_reset import PasswordReset
from deskhand.specialists.registry import Registry
from deskhand.store.models import Approval, EventRecord, Step, Tenant

APPROVER = "dana@msp.example"
VERIFIED = "called back 555-0100 on file, she confirmed it"
# Notes are drafts too here, so that their ticket reference is tried like every other.
POLICY = (
    "blast_radius: {read: auto, internal: approve}\n"
    "actions: {psa.add_internal_note: approve}\n"
    "approvers: [approver, admin]\napproval_expiry_hours: 24\n"
    "time_entries: {billable: false, minutes: {password_reset: 10, account_unlock: 5, "
    "access_change: 15}}\n"
)
TICKETS = {
    "reset, requester is the target": (LISA, "Forgot my password", "I forgot my password."),
    "reset of a synced user": (KAREN, "Reset", "Please reset the password for Tom Becker."),
    "unlock": (KAREN, "Locked out", "Emily Nguyen is locked out, please unlock her account."),
    "add to a group": (KAREN, "Access", "Please add Tom Becker to the Finance Share group."),
    "remove from a group": (KAREN, "Access", "Remove Tom Becker from the Clinical Staff group."),
    "distribution list": (KAREN, "Access", "Please add Tom Becker to the All Staff group."),
    "licence with a seat": (KAREN, "Licence", "We need a Business Premium license for Tom Becker."),
    "remove a licence": (KAREN, "Licence", "Remove the Business Basic license from Marcus Lee."),
    "shared mailbox": (KAREN, "Mailbox", "Please convert Marcus Lee's mailbox to a shared one."),
}


def contoso(kind: str, name: str) -> str:
    return object_id(CONTOSO, kind, name)


# What a hostile approver puts in each kind of reference; and whether an edit to it may ever
# be approved (after re-planning, at the radius the directory gives it).
HOSTILE: dict[str, dict[str, tuple[Any, bool]]] = {
    "user": {
        "another user": (contoso("user", "rachel.kim@contosodental.example"), True),
        "an admin": (contoso("user", "it.admin@contosodental.example"), True),
        "another tenant's user": (
            object_id("northwind-law", "user", "grace.liu@northwindlaw.example"),
            False,
        ),
        "a sign-in name of another tenant": ("it.admin@northwindlaw.example", False),
    },
    "group": {
        "a privileged group": (contoso("group", "domain admins"), True),
        "another tenant's group": (object_id("northwind-law", "group", "case files"), False),
    },
    "licence": {"another tenant's licence": (BUSINESS_STANDARD, False)},
    "ticket": {"another ticket": ("999999", False)},
    "requester": {"someone else": ("mallory@evil.example", False)},
}


@dataclass(frozen=True)
class Attempt:
    ticket: str
    action: str
    field: str
    target: str
    value: Any
    may_be_approved: bool


def attempts() -> list[Attempt]:
    """Every hostile edit of every reference of every action the tickets above draft."""
    found = []
    expected = {
        "reset, requester is the target": ["m365.reset_password", "m365.revoke_sessions"],
        "reset of a synced user": ["ad.reset_password"],
        "unlock": ["ad.unlock_account"],
        "add to a group": ["m365.add_group_member", "psa.add_internal_note", "psa.send_reply"],
        "remove from a group": ["m365.remove_group_member", "psa.log_time"],
        "distribution list": ["exchange.add_distribution_list_member"],
        "licence with a seat": ["m365.add_license_seats", "m365.assign_license"],
        "remove a licence": ["m365.remove_license"],
        "shared mailbox": ["exchange.convert_to_shared_mailbox"],
    }
    for name, actions in expected.items():
        for action_name in actions:
            for field, reference in action(action_name).references.items():
                for target, (value, allowed) in HOSTILE[reference.kind].items():
                    found.append(Attempt(name, action_name, field, target, value, allowed))
    return found


def use_policy(rt: Runtime, folder: Path) -> None:
    policy = folder / "contoso.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with rt.db.session() as session:
        session.execute(update(Tenant).where(Tenant.id == CONTOSO).values(policy_path=str(policy)))


@pytest.fixture
def planned(rt: Runtime, tmp_path: Path) -> dict[Attempt, int]:
    """A dispatched ticket for each attempt, its drafts waiting for approval: an edit that may
    be approved gets a ticket of its own; the ones that must be refused share one per kind."""
    use_policy(rt, tmp_path)
    shared = {name: ticket(rt, *sent) for name, sent in TICKETS.items()}
    ids = {
        a: ticket(rt, *TICKETS[a.ticket]) if a.may_be_approved else shared[a.ticket]
        for a in attempts()
    }
    work(rt)
    return ids


def test_every_action_deskhand_plans_is_tried(rt: Runtime, tmp_path: Path) -> None:
    use_policy(rt, tmp_path)
    ids = [ticket(rt, *sent) for sent in TICKETS.values()]
    work(rt)
    tried = {a.action for a in attempts()}
    drafted = {d.action for ticket_id in ids for d in drafts(rt, ticket_id)}
    assert drafted == tried | {"psa.add_internal_note", "psa.send_reply", "psa.log_time"}
    kinds = {r.kind for a in tried for r in action(a).references.values()}
    assert kinds == set(HOSTILE)


def test_a_hostile_approver_cannot_retarget_or_raise_any_step_unnoticed(
    planned: dict[Attempt, int], rt: Runtime
) -> None:
    outcomes = {}
    for attempt in attempts():
        draft = next(d for d in drafts(rt, planned[attempt]) if d.action == attempt.action)
        outcomes[attempt] = _try(rt, draft, attempt)
    wrong = {a: o for a, o in outcomes.items() if o.startswith("WRONG")}
    assert wrong == {}
    assert {outcomes[a] for a in outcomes if a.target == "a privileged group"} == {
        "reclassified as security",
        "refused",  # a distribution list's step cannot become a privileged group's
    }
    assert {o for a, o in outcomes.items() if not a.may_be_approved} == {"refused"}


def _try(rt: Runtime, draft: DraftView, attempt: Attempt) -> str:
    """Edit ``draft`` as ``attempt`` says; the outcome in words, "WRONG …" when an edit got
    through that should not have, or got through at a radius the directory does not give."""
    edit = {attempt.field: attempt.value}
    before = _run_params(rt, draft.run_id)
    try:
        approvals.approve(rt, draft.id, APPROVER, edit)
    except approvals.ReclassifiedError as error:
        assert _run_params(rt, draft.run_id) == before, "a refused edit changed the run"
        if not attempt.may_be_approved:
            return f"WRONG: reclassified, not refused ({error.message})"
        view = approvals.approve(
            rt, draft.id, APPROVER, edit, approve_as=error.needed, verification=VERIFIED
        )
        return _approved(rt, view, attempt, reclassified=error.needed)
    except approvals.ApprovalError:
        assert _run_params(rt, draft.run_id) == before, "a refused edit changed the run"
        return "refused"
    view = approvals.show(rt, draft.id)
    if not attempt.may_be_approved:
        return f"WRONG: approved ({view.description})"
    return _approved(rt, view, attempt, reclassified=None)


def _approved(rt: Runtime, view: DraftView, attempt: Attempt, reclassified: str | None) -> str:
    radius = view.blast_radius
    if attempt.target == "a privileged group" and radius != "security":
        return f"WRONG: approved at {radius}"
    if attempt.target == "an admin" and reclassified is None:
        return "WRONG: an admin as the target did not change the requester check"
    if radius != draft_radius_before(rt, view.id) and reclassified is None:
        return f"WRONG: the radius changed from {draft_radius_before(rt, view.id)} unasked"
    old = _first_target_names(rt, view)
    mentions = [
        (s.action, k)
        for s in _steps(rt, view.run_id)
        for k, v in _effective(s).items()
        if isinstance(v, str) and any(name in v for name in old)
    ]
    if mentions:
        return f"WRONG: steps still name {old}: {mentions}"
    return f"reclassified as {reclassified}" if reclassified else "re-planned"


def draft_radius_before(rt: Runtime, approval_id: int) -> str:
    with rt.db.reading() as session:
        decided = session.scalars(
            select(EventRecord.data)
            .join(Approval, Approval.step_id == EventRecord.step_id)
            .where(Approval.id == approval_id, EventRecord.type == "step.decided")
        ).one()
    return str(decided["blast_radius"])


def _first_target_names(rt: Runtime, view: DraftView) -> set[str]:
    """The names the edit replaced: what the specialist first proposed for the edited step."""
    with rt.db.reading() as session:
        step = session.get(Step, session.get(Approval, view.id).step_id)  # type: ignore[union-attr]
        assert step is not None
        spec = action(step.action)
        return {
            step.params[shown]
            for name, ref in spec.references.items()
            for shown in ref.shows
            if view.changes.get(name)
        }


def _steps(rt: Runtime, run_id: int) -> list[Step]:
    with rt.db.reading() as session:
        steps = list(session.scalars(select(Step).where(Step.run_id == run_id)))
        for step in steps:
            _ = step.approval  # loaded while the session is open
        return steps


def _effective(step: Step) -> dict[str, Any]:
    if step.approval is not None and step.approval.approved_params is not None:
        return step.approval.approved_params
    return step.replanned_params if step.replanned_params is not None else step.params


def _run_params(rt: Runtime, run_id: int) -> list[tuple[str, dict[str, Any], str | None]]:
    return [
        (s.status, _effective(s), s.approval.status if s.approval else None)
        for s in _steps(rt, run_id)
    ]


# --- the holes the hostile review found, one by one --------------------------------------------

TOM = "tom.becker@contosodental.example"
EMILY = "emily.nguyen@contosodental.example"
IT_ADMIN = contoso("user", "it.admin@contosodental.example")
DOMAIN_ADMINS = contoso("group", "domain admins")


def first(rt: Runtime, ticket_id: int, action_name: str) -> DraftView:
    return next(d for d in drafts(rt, ticket_id) if d.action == action_name)


def test_a_reset_retargeted_to_an_admin_is_refused_and_nothing_changes(rt: Runtime) -> None:
    ticket_id = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)
    reset = first(rt, ticket_id, "m365.reset_password")
    with pytest.raises(approvals.EditRefusedError, match=r"not verified for it\.admin"):
        approvals.approve(rt, reset.id, APPROVER, {"user_id": IT_ADMIN})
    with pytest.raises(approvals.EditRefusedError, match=r"not verified for it\.admin"):
        approvals.approve(  # a sign-in name typed into user_id is looked up the same way
            rt, reset.id, APPROVER, {"user_id": "it.admin@contosodental.example"}
        )
    assert approvals.show(rt, reset.id).status == "pending"


def test_a_name_shown_from_the_directory_cannot_be_edited(rt: Runtime) -> None:
    reset_tom = ticket(rt, KAREN, "Reset", "Please reset the password for Tom Becker.")
    add_tom = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Finance Share group.")
    work(rt)
    ad_reset = first(rt, reset_tom, "ad.reset_password")
    with pytest.raises(approvals.EditRefusedError, match="user_principal_name is filled in from"):
        approvals.approve(rt, ad_reset.id, APPROVER, {"user_principal_name": EMILY})
    group = first(rt, add_tom, "m365.add_group_member")
    with pytest.raises(approvals.EditRefusedError, match="edit group_id"):
        approvals.approve(rt, group.id, APPROVER, {"group_name": "x"})


def test_an_edit_to_a_privileged_group_is_approved_only_as_security_and_runs_as_shown(
    rt: Runtime,
) -> None:
    ticket_id = ticket(rt, KAREN, "Access", "Please add Tom Becker to the Finance Share group.")
    work(rt)
    group = first(rt, ticket_id, "m365.add_group_member")
    assert group.blast_radius == "internal"
    with pytest.raises(approvals.ReclassifiedError) as refused:
        approvals.approve(rt, group.id, APPROVER, {"group_id": DOMAIN_ADMINS})
    assert "makes step 1 SECURITY: Domain Admins is a privileged group" in refused.value.message
    assert "approve it as a security change, with the requester verified" in refused.value.message
    with pytest.raises(approvals.ReclassifiedError):  # accepting the class is not enough
        approvals.approve(
            rt, group.id, APPROVER, {"group_id": DOMAIN_ADMINS}, approve_as="security"
        )
    view = approvals.approve(
        rt,
        group.id,
        APPROVER,
        {"group_id": DOMAIN_ADMINS},
        approve_as="security",
        verification=VERIFIED,
    )
    assert view.blast_radius == "security"
    assert view.description == f"Add {TOM} to the group Domain Admins"
    reply = first(rt, ticket_id, "psa.send_reply")
    assert "Domain Admins" in reply.proposed_params["body"]
    assert reply.requester_check["verdict"] == "needs_verification"  # checked again
    approve_all(rt, ticket_id)
    work(rt)
    assert status(rt, ticket_id) == "resolved"
    with rt.db.reading() as session:
        approved = session.scalars(
            select(EventRecord.data).where(
                EventRecord.type == "draft.approved", EventRecord.step_id == _step_of(rt, group.id)
            )
        ).one()
        verified = session.scalars(
            select(EventRecord.data).where(
                EventRecord.type == "step.verified", EventRecord.step_id == _step_of(rt, group.id)
            )
        ).one()
        note = session.scalars(
            select(Step).where(Step.run_id == group.run_id, Step.action == "psa.add_internal_note")
        ).one()
    assert approved["blast_radius"] == "security" and approved["proposed_radius"] == "internal"
    assert approved["approved_as"] == "security" and approved["verification"] == VERIFIED
    assert verified["blast_radius"] == "security"  # what the trust figures count
    assert verified["payload_hash"] == approved["payload_hash"]
    assert "Domain Admins" in (note.replanned_params or {})["body"]


def _step_of(rt: Runtime, approval_id: int) -> int:
    with rt.db.reading() as session:
        approval = session.get(Approval, approval_id)
        assert approval is not None
        return approval.step_id


class ReplyFirst(PasswordReset):
    """A plugin that tells the client it is done before it has done anything."""

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        plan = super().plan(ticket, context)
        replies = [s for s in plan.steps if s.action == "psa.send_reply"]
        rest = [s for s in plan.steps if s.action != "psa.send_reply"]
        return plan.model_copy(update={"steps": (*replies, *rest)})


def test_a_plan_that_replies_before_its_changes_is_refused(rt: Runtime) -> None:
    rt.registry = Registry([ReplyFirst(), AccessChange()])
    ticket_id = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)
    assert status(rt, ticket_id) == "escalated"
    found = escalation(rt, ticket_id)
    assert found.reason == "plan_invalid"
    assert "step 1 replies to the client before step 2 (m365.reset_password)" in found.detail
    assert drafts(rt, ticket_id) == []


def test_a_reply_greets_the_requester_by_the_directory_s_name_not_the_ticket_s(
    rt: Runtime,
) -> None:
    ticket_id = add_ticket(
        rt,
        CONTOSO,
        LISA,
        "Forgot my password",
        "I forgot my password, please reset it",
        name="<script>alert(1)</script> Lisa",
    ).ticket_id
    work(rt)
    reply = first(rt, ticket_id, "psa.send_reply")
    assert reply.proposed_params["body"].startswith("Hi Lisa,")
    assert "<script>" not in reply.proposed_params["body"]
