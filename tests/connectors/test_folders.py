"""Every connector folder has the same shape — settings, client, error mapping, doctor — and
says in its ``__init__`` which capabilities its clients provide; what it says is what the
clients do (and the sandbox says it the same way)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from deskhand.connectors import capabilities
from deskhand.connectors.capabilities import Capability

CONNECTORS = Path(capabilities.__file__).parent
SHAPE = ("__init__.py", "settings.py", "errors.py", "doctor.py")
# Each real connector's folder and its client modules: mail has two clients, so two modules.
FOLDERS = {
    "graph": ("client",),
    "ldap": ("client",),
    "syncro": ("client",),
    "mail": ("smtp", "imap"),
}
ALL = [value for value in vars(capabilities).values() if isinstance(value, Capability)]


def stated(package: str) -> dict[str, set[str]]:
    """What the package's docstring says each of its classes provides: the bullets under
    "Capabilities", a capability name being dotted words ("none" names none)."""
    doc = importlib.import_module(package).__doc__ or ""
    _, heading, listing = doc.partition("Capabilities (``deskhand.connectors.capabilities``):")
    assert heading, f"{package}'s docstring does not list its capabilities"
    claims: dict[str, set[str]] = {}
    for item in re.split(r"\n- ", "\n" + listing.strip())[1:]:
        name, _, provided = item.partition(":")
        words = re.sub(r"\([^)]*\)", "", provided)  # a note in brackets names no capability
        claims[name.strip("` ")] = set(re.findall(r"\b[a-z0-9_]+(?:\.[a-z0-9_]+)+\b", words))
    return claims


def provided(cls: type) -> set[str]:
    return {capability.name for capability in ALL if issubclass(cls, capability.protocol)}


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_every_connector_folder_has_settings_clients_errors_and_a_doctor(folder: str) -> None:
    files = {path.name for path in (CONNECTORS / folder).glob("*.py")}
    expected = {*SHAPE, *(f"{client}.py" for client in FOLDERS[folder])}
    assert expected <= files, f"connectors/{folder} lacks {sorted(expected - files)}"


@pytest.mark.parametrize("package", [*sorted(FOLDERS), "sandbox"])
def test_each_folder_states_the_capabilities_its_clients_provide(package: str) -> None:
    claims = stated(f"deskhand.connectors.{package}")

    modules = [f"deskhand.connectors.{package}.{name}" for name in FOLDERS.get(package, ())]
    modules = modules or ["deskhand.connectors.sandbox.systems"]
    classes = {
        name: getattr(module, name)
        for module in map(importlib.import_module, modules)
        for name in claims
        if hasattr(module, name)
    }
    assert set(classes) == set(claims), f"{package} names classes it does not have"
    assert {name: provided(cls) for name, cls in classes.items()} == claims
