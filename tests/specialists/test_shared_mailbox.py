"""What access_change plans when a ticket asks for a user's mailbox to become a shared mailbox:
a manual step in Exchange admin center for the resolved user, before anything else, that a
technician approves; never for a user the ticket does not name exactly."""

from __future__ import annotations

import pytest

from deskhand.actions import action
from deskhand.domain.decisions import Decision
from deskhand.domain.risks import BlastRadius
from deskhand.errors import InputError
from deskhand.specialists.access_change import ACCESS_CHANGE, AccessChange, asks_for_shared_mailbox
from deskhand.specialists.contract import TicketView
from deskhand.specialists.registry import discover
from deskhand.testing.samples import CLOUD, FREE, SYNCED, TICKET
from deskhand.triage.keywords import triage
from tests.policy.installed import decide, load_policy, parse_policy
from tests.specialists.test_builtin import actions, context

LEAVER = TICKET.model_copy(
    update={
        "subject": "Lisa Chen has left",
        "body": "Lisa Chen left on Friday. Please convert her mailbox to a shared mailbox so "
        "the front desk can keep answering her patients.",
    }
)


def test_a_conversion_is_a_manual_step_for_the_resolved_user_with_exact_instructions() -> None:
    plan = AccessChange().plan(LEAVER, context(ACCESS_CHANGE, removal=True))

    assert plan.handoff is None
    assert actions(plan.steps) == [
        "exchange.convert_to_shared_mailbox",
        "psa.add_internal_note",
        "psa.send_reply",
    ]
    manual = plan.steps[0]
    assert manual.params == {"user_id": CLOUD.id, "user_principal_name": CLOUD.user_principal_name}
    assert "then approve to tick it off" in manual.reason
    spec = action(manual.action)
    assert spec.manual
    assert spec.describe(spec.validate(manual.params)) == (
        "Exchange admin center → Recipients → Mailboxes → lisa.chen@contosodental.example → "
        "Others → Convert to shared mailbox → Confirm"
    )
    assert spec.undo is not None and "Convert to regular mailbox" in spec.undo
    assert "needs a licence with Exchange Online first" in spec.undo
    assert "shared mailbox" in plan.steps[1].params["body"]
    assert "Lisa Chen's mailbox is now a shared mailbox" in plan.steps[2].params["body"]
    assert plan.summary == "Convert the mailbox of lisa.chen@contosodental.example to shared"


def test_the_conversion_needs_approval_and_no_policy_file_can_make_it_auto() -> None:
    spec = action("exchange.convert_to_shared_mailbox")
    decision, _ = decide(load_policy(), spec.name, spec.radius)
    auto = (
        "actions:\n  exchange.convert_to_shared_mailbox: auto\n"
        "approvers: [approver]\napproval_expiry_hours: 24\n"
    )

    with pytest.raises(InputError) as refused:
        parse_policy(auto, "contoso.yaml")

    assert (spec.radius, decision) == (BlastRadius.SECURITY, Decision.APPROVE)
    assert "blast radius is security" in refused.value.message


def test_the_conversion_comes_before_the_licence_it_frees_is_removed() -> None:
    ticket = LEAVER.model_copy(
        update={"body": LEAVER.body + " Then remove her Business Basic licence."}
    )

    plan = AccessChange().plan(ticket, context(ACCESS_CHANGE, removal=True, skus=(FREE,)))

    assert actions(plan.steps)[:2] == ["exchange.convert_to_shared_mailbox", "m365.remove_license"]
    reply = plan.steps[-1].params["body"]
    assert "now a shared mailbox" in reply
    assert "licence for Business Basic has been removed" in reply


def test_without_exactly_one_resolved_user_nothing_is_converted() -> None:
    nobody = AccessChange().plan(LEAVER, context(ACCESS_CHANGE, targets=()))
    two = AccessChange().plan(LEAVER, context(ACCESS_CHANGE, targets=(CLOUD, SYNCED)))

    assert nobody.handoff is not None and nobody.steps == ()
    assert two.handoff is not None and two.steps == ()


def test_a_ticket_that_only_mentions_a_shared_mailbox_converts_nothing() -> None:
    ticket = TicketView.model_validate(
        {
            **TICKET.model_dump(),
            "body": "Please give Lisa Chen access to the Reception shared mailbox.",
        }
    )

    plan = AccessChange().plan(ticket, context(ACCESS_CHANGE))

    assert plan.handoff is not None
    assert "exchange.convert_to_shared_mailbox" not in actions(plan.steps)


def test_triage_reads_a_conversion_as_an_access_change() -> None:
    asked = [
        "Please convert Tom Becker's mailbox to a shared mailbox.",
        "Can you turn his mailbox into a shared one",
        "Convert to shared mailbox: tom.becker@contosodental.example",
    ]
    not_asked = [
        "I converted the invoice to PDF. The shared mailbox is full.",
        "Make sure Karen can open the shared mailbox",
    ]

    assert [asks_for_shared_mailbox(text) for text in asked] == [True, True, True]
    assert [asks_for_shared_mailbox(text) for text in not_asked] == [False, False]
    assert triage("Leaver", asked[0], discover().intents).intent == ACCESS_CHANGE
