"""The conformance kit (``deskhand.testing.conformance``) over deskhand's own specialists and
actions — exactly as an MSP runs it over theirs — and the tests of the kit's checks themselves:
each check finds what it is there to find."""

from __future__ import annotations

from typing import Annotated, Any

from deskhand.actions import catalogue
from deskhand.actions.contract import Action
from deskhand.connectors.capabilities import M365_GROUPS
from deskhand.domain.actions import USER, Params
from deskhand.domain.risks import BlastRadius
from deskhand.specialists.registry import discover
from deskhand.testing.checks import action_problems, reference_problems
from deskhand.testing.conformance import *  # noqa: F403 - the kit's tests, collected here
from deskhand.testing.conformance import CASES
from deskhand.testing.samples import CLOUD, SYNCED, TICKET, contexts


def test_deskhand_s_own_specialists_and_actions_are_installed() -> None:
    assert {"password_reset", "access_change"} <= set(discover().by_name)
    assert {"m365.reset_password", "psa.send_reply", "exchange.convert_to_shared_mailbox"} <= set(
        catalogue()
    )


def test_a_context_with_no_or_two_users_is_handed_off() -> None:
    for specialist, context in CASES:
        if specialist.name in ("password_reset", "access_change") and len(context.targets) != 1:
            assert specialist.plan(TICKET, context).handoff is not None


class _ManagerParams(Params):
    user_id: Annotated[str, USER]
    user_principal_name: str
    manager_id: str  # a user's id, not declared as a reference


class _SetManager(Action):
    """An action whose manager_id holds a user's id but is not declared a reference."""

    name = "m365.set_manager"
    Params = _ManagerParams
    radius = BlastRadius.INTERNAL
    summary = "Set the manager of {user_principal_name}"
    undo = None
    safe_to_repeat = True
    needs = (M365_GROUPS,)

    def snapshot(self, params: Any, c: Any) -> dict[str, Any]:
        raise NotImplementedError

    def act(self, params: Any, c: Any, key: str, secret: str | None) -> Any:
        raise NotImplementedError

    def check(self, params: Any, c: Any, key: str, baseline: Any) -> Any:
        raise NotImplementedError


def test_an_undeclared_reference_parameter_fails_conformance() -> None:
    undeclared = _SetManager()
    context = contexts("access_change")[5].model_copy(update={"targets": (CLOUD, SYNCED)})
    params = {"user_id": CLOUD.id, "user_principal_name": CLOUD.user_principal_name,
              "manager_id": SYNCED.id}  # fmt: skip
    assert reference_problems(undeclared, params, context, TICKET) == [
        "manager_id names a directory object or the ticket but is not declared"
    ]
    wrong_name = {**params, "user_principal_name": "it.admin@contosodental.example"}
    found = reference_problems(undeclared, wrong_name, context, TICKET)
    assert "is not the directory's" in found[0]
    assert action_problems(undeclared) == [
        "manager_id looks like a directory reference but is not declared one"
    ]


class _Careless(Action):
    """An action that leaves its undo and repeat-safety to the defaults, words its draft with
    a parameter it does not have, and is less risky for a privileged group than for any."""

    name = "Set manager"
    Params = _ManagerParams
    radius = BlastRadius.INTERNAL
    privileged_radius = BlastRadius.READ
    summary = "Set {manager} for {user_principal_name}"
    needs = (M365_GROUPS,)

    def snapshot(self, params: Any, c: Any) -> dict[str, Any]:
        raise NotImplementedError

    def act(self, params: Any, c: Any, key: str, secret: str | None) -> Any:
        raise NotImplementedError

    def check(self, params: Any, c: Any, key: str, baseline: Any) -> Any:
        raise NotImplementedError


def test_an_action_that_declares_too_little_fails_conformance() -> None:
    assert action_problems(_Careless()) == [
        "name 'Set manager' is not '<system>.<verb>_<object>'",
        "undo is not declared on the action (say None when it cannot be undone)",
        "safe_to_repeat is not declared on the action",
        "privileged_radius read is less risky than radius internal",
        "summary names 'manager' that is not a parameter",
        "manager_id looks like a directory reference but is not declared one",
    ]
