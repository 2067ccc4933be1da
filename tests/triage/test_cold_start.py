"""Triage before any model is trained: the built-in taxonomy routes clear requests, reads other
categories as what they are, and leaves vague tickets to a person (the dispatcher on a fresh
install: tests/engine/test_cold_start.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.errors import InputError
from deskhand.history.taxonomy import load_taxonomy
from deskhand.specialists.registry import discover
from deskhand.triage.cold_start import Reading, TaxonomyTriage, builtin
from deskhand.triage.keywords import triage

INTENTS = discover().intents


def read(subject: str, body: str, cold_start: TaxonomyTriage | None = None) -> Reading:
    cold_start = cold_start or builtin(INTENTS)
    return cold_start.read(subject, body, triage(subject, body, cold_start.intents))


@pytest.mark.parametrize(
    ("subject", "body", "intent"),
    [
        ("Password", "please reset my password", "password_reset"),
        ("Access", "add Ana to the Finance group", "access_change"),
        ("Locked out", "I'm locked out of my account after too many attempts", "account_unlock"),
        ("Licence", "We need a Business Basic licence for David", "access_change"),
    ],
)
def test_a_clear_request_is_routed_by_the_taxonomy(subject: str, body: str, intent: str) -> None:
    reading = read(subject, body)
    assert (reading.found.intent, reading.category) == (intent, None)
    assert reading.found.method == "taxonomy"
    assert reading.found.confidence >= 0.5


@pytest.mark.parametrize(
    ("subject", "intent"),
    [
        ("MOT DE PASSE OUBLIÉ", "password_reset"),
        ("Konto gesperrt", "account_unlock"),
        ("Toegang tot de map Financiën", "access_change"),
    ],
)
def test_a_specialist_s_examples_route_in_any_language_and_case(subject: str, intent: str) -> None:
    reading = read(subject, "")
    assert (reading.found.intent, reading.category) == (intent, None)
    assert reading.found.confidence >= 0.5


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("New phone", "I got a new phone and need to set up the Authenticator app again"),
        ("Lost my phone", "I lost my phone and now I can't sign in because of the MFA"),
        ("Authenticator", "The Microsoft Authenticator app stopped working, please reset it"),
        ("Help", "My phone was stolen, can you reset my two factor"),
        ("Outlook asking for a code", "I'm not getting the verification code on my new phone"),
        ("Lisa", "Lisa Chen has a new phone, please re-register her MFA"),
        ("2FA", "2FA not working on new phone"),
        ("Handy verloren", "Ich habe mein Handy verloren, bitte MFA zurücksetzen"),
    ],
)
def test_mfa_wording_is_an_mfa_reset(subject: str, body: str) -> None:
    reading = read(subject, body)
    assert (reading.found.intent, reading.category) == ("mfa_reset", None)
    assert reading.found.confidence >= 0.5


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Forgot my password", "I forgot my password, please reset it"),
        ("Password", "I forgot my password. My authenticator still works fine."),
        ("Password expired", "My password has expired, MFA is fine"),
        ("Can't sign in", "I can't sign in, my password has expired"),
    ],
)
def test_a_password_reset_that_mentions_mfa_stays_a_password_reset(subject: str, body: str) -> None:
    reading = read(subject, body)
    assert (reading.found.intent, reading.category) == ("password_reset", None)
    assert reading.found.confidence >= 0.5


def test_a_vague_ticket_has_no_intent_and_no_confidence() -> None:
    reading = read("Help", "it's broken")
    assert (reading.found.intent, reading.category, reading.found.confidence) == (None, None, 0)


def test_a_category_without_an_intent_is_read_as_itself() -> None:
    reading = read("Printer", "The printer in reception is jammed again.")
    assert (reading.found.intent, reading.category) == (None, "Printer")
    assert "printer (Printer)" in reading.found.evidence


def test_the_phrases_are_the_taxonomy_files(tmp_path: Path) -> None:
    """An MSP's own phrase for an intent counts; without it, the same ticket is vague."""
    text = ("Kiosk", "the till login box says nope again")
    assert read(*text).found.intent is None
    edited = tmp_path / "taxonomy.yaml"
    edited.write_text(
        "categories:\n"
        "  - name: Password reset\n"
        "    intent: password_reset\n"
        "    phrases: [till login, says nope]\n"
        "  - name: Other\n",
        encoding="utf-8",
    )
    mine = TaxonomyTriage(load_taxonomy(edited), INTENTS, str(edited))
    reading = read(*text, mine)
    assert reading.found.intent == "password_reset"
    assert reading.found.confidence >= 0.5


def test_an_intent_that_is_not_a_name_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "taxonomy.yaml"
    bad.write_text(
        "categories:\n  - name: Printer\n    intent: Printer Stuff\n  - name: Other\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="intent 'Printer Stuff' must be a lowercase name"):
        load_taxonomy(bad)


def test_triage_models_says_the_built_in_taxonomy_is_in_use(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'deskhand.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "db", "upgrade"]).exit_code == 0
    listed = runner.invoke(app, ["--db", db, "triage", "models"])
    assert listed.exit_code == 0, listed.output
    said = " ".join(listed.output.split())
    assert "In use: the built-in taxonomy model" in said
    assert "password_reset" in said
    assert json.loads(runner.invoke(app, ["--db", db, "triage", "models", "--json"]).stdout) == []


def test_the_taxonomy_categories_an_intent_takes_count_for_it() -> None:
    """The phrases of "Account lockout" route to account_unlock because its specialist takes
    that category; without the declaration the same ticket is a category no one handles."""
    text = ("Lockout", "Her account keeps locking every morning")
    reading = read(*text)
    assert (reading.found.intent, reading.category) == ("account_unlock", None)
    assert "keeps locking (Account lockout)" in reading.found.evidence
    undeclared = {
        name: intent.model_copy(update={"categories": ()}) for name, intent in INTENTS.items()
    }
    mine = TaxonomyTriage(builtin(INTENTS).taxonomy, undeclared, "test")
    assert read(*text, mine).category == "Account lockout"
