"""What the MFA reset specialist plans, case by case (through the runtime:
tests/engine/test_mfa_reset.py)."""

from __future__ import annotations

import pytest

from deskhand.specialists.contract import TicketView
from deskhand.specialists.mfa_reset import MfaReset
from deskhand.testing.samples import CLOUD, DISABLED, SYNCED, TICKET
from tests.specialists.test_builtin import actions, context

PLAN = [
    "m365.remove_mfa_methods",
    "m365.revoke_sessions",
    "psa.add_internal_note",
    "psa.send_reply",
]


def asking(body: str) -> TicketView:
    return TICKET.model_copy(update={"subject": "MFA", "body": body})


def test_every_method_goes_then_every_session_and_the_reply_says_how_to_set_it_up() -> None:
    plan = MfaReset().plan(asking("New phone, please reset my MFA"), context("mfa_reset"))
    assert actions(plan.steps) == PLAN
    assert all(step.after is None for step in plan.steps)  # each waits for the one before
    assert plan.steps[0].params == {
        "user_id": CLOUD.id,
        "user_principal_name": CLOUD.user_principal_name,
    }
    reply = plan.steps[-1].params["body"]
    assert "password has not changed" in reply
    assert "install the Microsoft Authenticator app" in reply
    assert "Requester check: target." in plan.steps[2].params["body"]


def test_a_synced_user_s_mfa_is_reset_in_microsoft_365_all_the_same() -> None:
    plan = MfaReset().plan(asking("reset my MFA"), context("mfa_reset", targets=(SYNCED,)))
    assert actions(plan.steps) == PLAN  # MFA lives in Entra, not in on-premises AD
    assert "synced from on-premises AD too" in plan.steps[0].reason


def test_an_administrator_or_a_vip_is_planned_and_left_to_the_requester_check() -> None:
    """As for a password reset: the identity check asks for a call-back, the plan is the same."""
    admin = CLOUD.model_copy(update={"admin": True, "vip": True})
    plan = MfaReset().plan(asking("reset my MFA"), context("mfa_reset", targets=(admin,)))
    assert actions(plan.steps) == PLAN


@pytest.mark.parametrize(
    ("body", "targets", "handoff"),
    [
        ("reset my MFA", (), "exactly one user"),
        ("reset my MFA", (CLOUD, SYNCED), "exactly one user"),
        ("reset my MFA", (DISABLED,), "is disabled"),
        ("Duo push stopped working on my new phone", (CLOUD,), "Duo Admin Panel"),
        ("I keep getting MFA prompts I didn't request", (CLOUD,), "security incident"),
        ("My account was hacked, reset my MFA", (CLOUD,), "security incident"),
        ("Authenticator says sign in approved but it was not me", (CLOUD,), "security incident"),
    ],
)
def test_what_an_mfa_reset_must_not_do_goes_to_a_technician(
    body: str, targets: tuple[object, ...], handoff: str
) -> None:
    plan = MfaReset().plan(asking(body), context("mfa_reset", targets=targets))
    assert plan.steps == ()
    assert plan.handoff is not None and handoff in plan.handoff


@pytest.mark.parametrize(
    "body",
    [
        "The Authenticator app does not start on my new phone",
        "I did not get a code, please reset my MFA",
        "Lost my phone, it will not let me sign in",
    ],
)
def test_an_ordinary_lost_phone_is_not_taken_for_an_attack(body: str) -> None:
    plan = MfaReset().plan(asking(body), context("mfa_reset"))
    assert plan.handoff is None
