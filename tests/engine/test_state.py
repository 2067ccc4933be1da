"""The state machine's guards, and the rule that nothing else writes state."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from deskhand.engine import state

SRC = Path(__file__).resolve().parents[2] / "src" / "deskhand"


@pytest.mark.parametrize(
    ("table", "old", "new"),
    [
        (state.RUN_MOVES, "completed", "executing"),
        (state.RUN_MOVES, "escalated", "ready"),
        (state.RUN_MOVES, "awaiting_approval", "executing"),
        (state.STEP_MOVES, "awaiting_approval", "executing"),
        (state.STEP_MOVES, "verified", "executing"),
        (state.STEP_MOVES, "rejected", "approved"),
        (state.APPROVAL_MOVES, "used", "approved"),
        (state.APPROVAL_MOVES, "expired", "approved"),
        (state.TICKET_MOVES, "resolved", "awaiting_approval"),
    ],
)
def test_forbidden_transitions_raise_and_change_nothing(
    table: dict[str, set[str]], old: str, new: str
) -> None:
    row = SimpleNamespace(id=1, status=old)
    with pytest.raises(state.StateError, match=f"cannot go from {old} to {new}"):
        state._move("thing", table, row, new)
    assert row.status == old


def test_a_step_needing_approval_can_only_execute_after_approval() -> None:
    reachable = {"awaiting_approval"}
    frontier = ["awaiting_approval"]
    while frontier:
        for nxt in state.STEP_MOVES[frontier.pop()] - reachable:
            reachable.add(nxt)
            frontier.append(nxt)
    path_to_executing = [s for s in ("approved",) if "executing" in state.STEP_MOVES[s]]
    assert "executing" in reachable and path_to_executing == ["approved"]
    assert "executing" not in state.STEP_MOVES["awaiting_approval"]


def test_the_payload_hash_is_canonical() -> None:
    one = state.payload_hash("t", "m365.add_group_member", {"a": 1, "b": "x"})
    assert one == state.payload_hash("t", "m365.add_group_member", {"b": "x", "a": 1})
    assert one != state.payload_hash("u", "m365.add_group_member", {"a": 1, "b": "x"})
    assert one != state.payload_hash("t", "m365.add_group_member", {"a": 2, "b": "x"})


def test_only_the_state_module_assigns_a_status() -> None:
    """Invariant 3: tickets, runs, steps and approvals change through engine/state.py only."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "state.py" and path.parent.name == "engine":
            continue
        if "sandbox" in path.parts:  # the simulated PSA's own ticket status, not deskhand's
            continue
        tree = ast.parse(path.read_text())
        exempt = _status_lines(tree, OWN_STATUS[path]) if path in OWN_STATUS else set()
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            # `a.status, a.stage = ...` assigns a status too.
            targets = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            for target in targets:
                if node.lineno in exempt:
                    continue
                # An object setting its own status (an error's HTTP status) is not state.
                owner = target.value if isinstance(target, ast.Attribute) else None
                is_self = isinstance(owner, ast.Name) and owner.id == "self"
                if isinstance(target, ast.Attribute) and target.attr == "status" and not is_self:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


# An analysis (a report being made in the web app) and a quarantined intake item are not tickets,
# runs, steps or approvals: each one's status changes in one function of its own, and nowhere else.
ANALYSIS_RUN = SRC / "web" / "analysis_run.py"
OWN_STATUS = {ANALYSIS_RUN: "set_status", SRC / "intake" / "quarantine.py": "_resolve"}


def _status_lines(tree: ast.Module, function: str) -> set[int]:
    return {
        line
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == function
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
