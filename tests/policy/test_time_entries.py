"""The policy's ``time_entries``: the MSP's standard technician minutes per intent, checked
when the file is loaded, and the step the dispatcher plans from them."""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources

import pytest

from deskhand.actions import action
from deskhand.domain.decisions import Decision
from deskhand.domain.directory import DirectoryUser
from deskhand.domain.origin import TicketOrigin, outside_psa
from deskhand.domain.risks import BlastRadius
from deskhand.engine.binding import TicketRef
from deskhand.engine.time_entries import with_time_entry
from deskhand.errors import InputError
from deskhand.policy.tenant_policy import TimeEntries
from deskhand.specialists.contract import Plan, ProposedStep
from tests.policy.installed import decide, load_policy, parse_policy

TAIL = "approvers: [approver, admin]\napproval_expiry_hours: 24\n"
TIME = (
    "time_entries:\n"
    "  billable: true\n"
    "  minutes:\n"
    "    password_reset: 10\n"
    "    account_unlock: 5\n"
    "    access_change: 15\n"
)


def refusal(text: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_policy(text, "contoso.yaml")
    return str(caught.value)


def test_time_entries_give_the_minutes_per_intent_and_the_billable_flag() -> None:
    policy = parse_policy(TAIL + TIME, "contoso.yaml")

    assert policy.time_entries == TimeEntries(
        billable=True,
        minutes={"password_reset": 10, "account_unlock": 5, "access_change": 15},
    )


def test_billable_defaults_to_false() -> None:
    text = TAIL + "time_entries:\n  minutes:\n    password_reset: 10\n"

    assert parse_policy(text, "contoso.yaml").time_entries == TimeEntries(
        billable=False, minutes={"password_reset": 10}
    )


def test_without_time_entries_no_time_is_ever_planned() -> None:
    assert parse_policy(TAIL, "contoso.yaml").time_entries is None
    assert load_policy().time_entries is None  # the built-in policy bills nobody


def test_the_built_in_policy_documents_time_entries_with_an_example_that_loads() -> None:
    text = resources.files("deskhand.policy").joinpath("default_policy.yaml").read_text("utf-8")
    start = text.index("# time_entries:")
    example = "\n".join(line.removeprefix("# ") for line in text[start:].splitlines())

    assert parse_policy(TAIL + example + "\n", "contoso.yaml").time_entries == TimeEntries(
        billable=False,
        minutes={"password_reset": 10, "account_unlock": 5, "access_change": 15},
    )


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        pytest.param(
            "time_entries:\n  minutes:\n    pasword_reset: 10\n",
            "contoso.yaml, line 5: `pasword_reset` is not an intent a specialist handles. "
            "Did you mean `password_reset`?",
            id="unknown intent",
        ),
        pytest.param(
            "time_entries:\n  minutes:\n    password_reset: 0\n",
            "contoso.yaml, line 5: `password_reset` is `0`; minutes must be a whole number from "
            "1 to 480 (a working day).",
            id="zero minutes",
        ),
        pytest.param(
            "time_entries:\n  minutes:\n    password_reset: 481\n",
            "contoso.yaml, line 5: `password_reset` is `481`",
            id="more than a working day",
        ),
        pytest.param(
            "time_entries:\n  minutes:\n    password_reset: 7.5\n",
            "contoso.yaml, line 5: `password_reset` is `7.5`",
            id="fraction of a minute",
        ),
        pytest.param(
            "time_entries:\n  minutes:\n    password_reset: '10'\n",
            "contoso.yaml, line 5: `password_reset` is `10`",
            id="quoted minutes",
        ),
        pytest.param(
            "time_entries:\n  minutes:\n    password_reset: true\n",
            "contoso.yaml, line 5: `password_reset` is `true`",
            id="minutes a flag",
        ),
        pytest.param(
            "time_entries:\n  billabel: true\n  minutes:\n    password_reset: 10\n",
            "contoso.yaml, line 4: `billabel` is not a time_entries setting. "
            "Did you mean `billable`?",
            id="unknown key",
        ),
        pytest.param(
            "time_entries:\n  billable: yes please\n  minutes:\n    password_reset: 10\n",
            "contoso.yaml, line 4: `billable` is `yes please`; it must be true or false.",
            id="billable not a flag",
        ),
        pytest.param(
            "time_entries:\n  billable: true\n",
            "contoso.yaml, line 3: `time_entries` has no `minutes`",
            id="no minutes",
        ),
        pytest.param(
            "time_entries:\n  minutes: [password_reset]\n",
            "contoso.yaml, line 4: minutes must be `name: value` lines, not a list.",
            id="minutes a list",
        ),
    ],
)
def test_bad_time_entries_are_refused_naming_file_and_line(time: str, expected: str) -> None:
    assert refusal(TAIL + time).startswith(expected)


def test_an_unknown_intent_lists_the_intents_there_are() -> None:
    with pytest.raises(InputError) as caught:
        parse_policy(TAIL + "time_entries:\n  minutes:\n    printer: 10\n", "contoso.yaml")

    assert caught.value.hint == (
        "The intents are access_change, account_unlock, mfa_reset, offboarding, onboarding, "
        "password_reset."
    )


def test_a_plugin_specialist_s_intent_may_have_minutes() -> None:
    text = TAIL + "time_entries:\n  minutes:\n    user_offboarding: 60\n"

    policy = parse_policy(text, "contoso.yaml", intents={"user_offboarding"})

    assert policy.time_entries == TimeEntries(minutes={"user_offboarding": 60})


def test_the_time_step_is_billing_and_a_policy_cannot_make_it_auto() -> None:
    assert action("psa.log_time").radius is BlastRadius.BILLING
    with pytest.raises(InputError, match=r"^contoso\.yaml, line 2: `psa\.log_time: auto` is not"):
        parse_policy("actions:\n  psa.log_time: auto\n" + TAIL + TIME, "contoso.yaml")
    loose = parse_policy("blast_radius:\n  internal: auto\n" + TAIL + TIME, "contoso.yaml")
    assert decide(loose, "psa.log_time", BlastRadius.BILLING)[0] is Decision.APPROVE


# --- the step the dispatcher adds -------------------------------------------------------------

TICKET = TicketRef("4711", "karen@contoso.example", outside=None)
JO = DirectoryUser(id="u-jo", user_principal_name="jo@contoso.example", display_name="Jo")
RESET = Plan(
    summary="Reset Jo's password",
    steps=(
        ProposedStep(action="m365.reset_password", params={}, reason="asked"),
        ProposedStep(action="psa.send_reply", params={}, reason="tell them"),
    ),
)
STANDARD = TimeEntries(billable=False, minutes={"password_reset": 10})


def test_the_time_step_is_appended_last_with_the_tenant_s_minutes() -> None:
    plan = with_time_entry(RESET, STANDARD, "password_reset", TICKET, (JO,))

    assert [step.action for step in plan.steps] == [
        "m365.reset_password",
        "psa.send_reply",
        "psa.log_time",
    ]
    last = plan.steps[-1]
    assert last.params == {
        "psa_ticket_id": "4711",
        "minutes": 10,
        "billable": False,
        "notes": "deskhand: password reset for jo@contoso.example — standard time for this "
        "request (tenant policy)",
    }
    spec = action("psa.log_time")
    assert spec.describe(spec.validate(last.params)) == (
        "Log 10 minutes (billable: no) on PSA ticket 4711"
    )


@pytest.mark.parametrize(
    ("standard", "intent", "plan", "origin"),
    [
        pytest.param(None, "password_reset", RESET, TicketOrigin.PSA, id="no time_entries"),
        pytest.param(STANDARD, "access_change", RESET, TicketOrigin.PSA, id="intent not listed"),
        pytest.param(
            STANDARD, "password_reset", Plan(summary="nothing"), TicketOrigin.PSA, id="no steps"
        ),
        pytest.param(STANDARD, "password_reset", RESET, TicketOrigin.MAILBOX, id="mailed in"),
        pytest.param(STANDARD, "password_reset", RESET, TicketOrigin.EXPORT, id="imported"),
    ],
)
def test_no_time_step_unless_configured_for_work_on_a_psa_ticket(
    standard: TimeEntries | None, intent: str, plan: Plan, origin: TicketOrigin
) -> None:
    ticket = replace(TICKET, outside=outside_psa(origin, "Autotask"))

    assert with_time_entry(plan, standard, intent, ticket, (JO,)) == plan


def test_without_a_target_the_notes_name_the_requester() -> None:
    plan = with_time_entry(RESET, STANDARD, "password_reset", TICKET)

    assert re.search(r"for karen@contoso\.example —", plan.steps[-1].params["notes"])
