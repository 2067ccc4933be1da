"""Keyword triage: what a ticket asks for, how sure, and the words that said so."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskhand.domain.intents import Intent
from deskhand.specialists.registry import discover
from deskhand.triage.keywords import Triage
from deskhand.triage.keywords import triage as triage_with

INTENTS = discover().intents  # the installed specialists' patterns: triage has none of its own
PASSWORD_RESET, ACCOUNT_UNLOCK, ACCESS_CHANGE = "password_reset", "account_unlock", "access_change"


def triage(subject: str, body: str) -> Triage:
    return triage_with(subject, body, INTENTS)


@pytest.mark.parametrize(
    ("subject", "body", "intent"),
    [
        ("Forgot my password", "Hi, I forgot my password, can you reset it?", PASSWORD_RESET),
        ("Password expired", "My password has expired and I can't log in", PASSWORD_RESET),
        ("Locked out", "My account is locked after too many attempts", ACCOUNT_UNLOCK),
        ("Access", "Please add anna@contoso.example to the Finance Share group.", ACCESS_CHANGE),
        ("Licence", "We need a Business Premium license for Tom", ACCESS_CHANGE),
        ("Leaver", "Please remove John Smith from the Front Desk group.", ACCESS_CHANGE),
        ("Share", "Can you give Maria access to the finance share?", ACCESS_CHANGE),
    ],
)
def test_common_requests_are_recognised_with_their_evidence(
    subject: str, body: str, intent: str
) -> None:
    found = triage(subject, body)
    assert found.intent == intent
    assert found.confidence >= 0.5
    assert found.evidence and all(e in f"{subject}\n{body}".lower() for e in found.evidence)


def test_an_unrelated_ticket_has_no_intent() -> None:
    found = triage("Printer", "The printer in reception is jammed again.")
    assert (found.intent, found.confidence) == (None, 0.0)


def test_addresses_first_person_and_removal_are_extracted() -> None:
    found = triage("x", "Please remove Bob.Smith@Contoso.example from the Sales group, I asked")
    assert found.emails == ("bob.smith@contoso.example",)
    assert found.first_person and found.removal


def test_a_ticket_asking_two_things_is_less_sure() -> None:
    one = triage("Reset", "Please reset my password")
    two = triage("Reset", "Please reset my password and add me to the Sales group")
    assert two.confidence < one.confidence


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=2000))
def test_any_text_gives_a_bounded_answer(subject: str, body: str) -> None:
    found = triage(subject, body)
    assert 0.0 <= found.confidence <= 1.0
    assert found.intent in (None, PASSWORD_RESET, ACCOUNT_UNLOCK, ACCESS_CHANGE)


def test_the_patterns_are_the_ones_the_intents_declare() -> None:
    """Without an intent's declaration its request goes unrecognised; a plugin's own patterns
    are scored like deskhand's."""
    text = ("Printer", "Please map the accounting printer on my laptop")
    assert triage(*text).intent is None
    printer = Intent(
        description="Connect a user's computer to a network printer.",
        examples=("map a printer",),
        patterns={r"\bmap\b.{0,40}\bprinter\b": 1.0},
    )
    found = triage_with(*text, {**INTENTS, "printer_mapping": printer})
    assert (found.intent, found.evidence) == ("printer_mapping", ("map the accounting printer",))
    assert triage_with("Reset", "Please reset my password", {}).intent is None
