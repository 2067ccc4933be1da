"""The registry: specialists by name, and the catalogue of intents they declare, which triage is
built from. A declaration triage could not use is refused when the specialists are loaded,
saying how to write it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from deskhand.specialists.access_change import AccessChange
from deskhand.specialists.contract import Intent
from deskhand.specialists.password_reset import PasswordReset
from deskhand.specialists.registry import Registry, RegistryError, discover

PRINTER = Intent(
    description="Connect a user's computer to a network printer.",
    examples=("map a printer", "Drucker verbinden", "printer toevoegen"),
)


def plugin(intents: Any, name: str = "printer_mapping") -> Any:
    """A specialist class declaring ``intents``, as a plugin would."""
    return type(name, (PasswordReset,), {"name": name, "intents": intents})()


def test_the_catalogue_is_every_intent_each_specialist_declares() -> None:
    registry = Registry([PasswordReset(), AccessChange(), plugin({"printer_mapping": PRINTER})])
    assert list(registry.intents) == [
        "access_change",
        "account_unlock",
        "password_reset",
        "printer_mapping",
    ]
    assert registry.intents["printer_mapping"] is PRINTER
    assert registry.for_intent("printer_mapping") is registry.by_name["printer_mapping"]
    assert registry.intents["password_reset"].categories == ("Password reset",)
    assert set(discover().intents) == {
        "access_change",
        "account_unlock",
        "mfa_reset",
        "offboarding",
        "onboarding",
        "password_reset",
    }


def test_intents_given_as_bare_names_are_refused_saying_how_to_declare_them() -> None:
    with pytest.raises(RegistryError) as error:
        Registry([plugin(frozenset({"printer_mapping"}))])
    said = str(error.value)
    assert "declares no intents as a mapping of names to Intent (it has frozenset)" in said
    assert "Intent(description=..., examples=(...))" in (error.value.hint or "")


@pytest.mark.parametrize("name", ["other", "Printer Mapping", ""])
def test_an_intent_name_must_be_a_lowercase_name_and_not_other(name: str) -> None:
    with pytest.raises(RegistryError, match="an intent is a lowercase name"):
        Registry([plugin({name: PRINTER})])


def test_an_intent_declared_as_something_else_than_an_intent_is_refused() -> None:
    with pytest.raises(RegistryError, match="declares the intent 'printer_mapping' as dict"):
        Registry([plugin({"printer_mapping": {"description": "x", "examples": ["y"]}})])


def test_two_specialists_may_not_share_an_intent_or_a_taxonomy_category() -> None:
    with pytest.raises(RegistryError, match="both handle the intent 'password_reset'"):
        Registry([PasswordReset(), plugin({"password_reset": PRINTER})])
    takes_passwords = PRINTER.model_copy(update={"categories": ("Password reset",)})
    with pytest.raises(RegistryError, match="both take the taxonomy category 'Password reset'"):
        Registry([PasswordReset(), plugin({"printer_mapping": takes_passwords})])


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"examples": ()}, "at least 1 item"),
        ({"examples": ("map a printer", "...")}, "has no letters or digits"),
        ({"examples": ("print*",)}, "without '*'"),
        ({"description": "  "}, "the description is empty"),
        ({"patterns": {r"\bmap (": 1.0}}, "is not a regular expression"),
        ({"patterns": {r"\bmap\b": 5}}, "has weight 5"),
    ],
)
def test_an_intent_triage_could_not_use_is_refused(changes: dict[str, Any], problem: str) -> None:
    fields = {"description": PRINTER.description, "examples": PRINTER.examples} | changes
    with pytest.raises(ValidationError, match=problem):
        Intent(**fields)
