"""The conformance checks as plain functions: each returns what is wrong, in words (empty when
nothing is), so a plugin's own tests can call them and a failure says what to change."""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

from deskhand.actions.contract import Action
from deskhand.connectors.capabilities import Capability
from deskhand.domain.actions import Params
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.domain.risks import BlastRadius, risk_rank
from deskhand.specialists.contract import PlanContext, Specialist, TicketView

# What a specialist's module must not import: it only plans (DESIGN.md, invariant 8).
IO_MODULES = ("deskhand.connectors", "deskhand.store", "deskhand.engine", "sqlalchemy", "httpx",
              "requests", "socket", "subprocess", "urllib")  # fmt: skip
ACTION_NAME = re.compile(r"[a-z][a-z0-9]*\.[a-z][a-z0-9_]*")
# Parameters named like these hold an object's id or an address: they must be declared.
REFERENCE_LIKE = re.compile(r".*_id|to|requester|user|group|upn")


def io_imports(specialist: Specialist) -> list[str]:
    """The modules a specialist's module imports that do I/O."""
    module = inspect.getmodule(type(specialist))
    assert module is not None
    tree = ast.parse(inspect.getsource(module))
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    return [name for name in imported if name.startswith(IO_MODULES)]


def reference_problems(
    spec: Action, params: dict[str, Any], context: PlanContext, ticket: TicketView
) -> list[str]:
    """What is wrong with how a step names the tenant's objects: a declared reference that is
    not one the dispatcher resolved (or not this ticket, not its requester), a name that is not
    the directory's for it, or a parameter that holds such an object's id, address or ticket
    but is not declared a reference — the engine would never look it up, so an edit of it
    would go unchecked."""
    requester = {ticket.requester_email: None}
    if context.requester is not None:
        requester[context.requester.user_principal_name] = None
    known: dict[str, dict[str, DirectoryUser | DirectoryGroup | Sku | None]] = {
        "user": {u.id: u for u in (*context.targets, *filter(None, [context.requester]))},
        "group": {g.id: g for g in context.groups},
        # A group synced from AD, named as the plan context shows it: binding finds it in AD.
        "ad_group": {key: g for g in context.groups if g.synced for key in (g.id, g.display_name)},
        # A user synced from AD (a new user's manager), named by id or sign-in name: found in AD.
        "ad_user": {
            key: u
            for u in (*context.targets, *filter(None, [context.requester]))
            if u.synced
            for key in (u.id, u.user_principal_name)
        },
        "licence": {s.id: s for s in context.skus},
        "ticket": {ticket.psa_ticket_id: None},
        "requester": dict(requester),
    }
    problems = []
    for name, reference in spec.references.items():
        objects = known[reference.kind]
        if params[name] is None and spec.Params.model_fields[name].default is None:
            continue  # an optional reference left out
        if params[name] not in objects:
            problems.append(f"{name}={params[name]!r} is not a {reference.kind} of the ticket")
            continue
        obj = objects[params[name]]
        for shown in reference.shows:
            assert obj is not None, f"a {reference.kind} reference shows nothing"
            expected = getattr(obj, "user_principal_name", None) or obj.display_name
            if params[shown] != expected:
                problems.append(f"{shown}={params[shown]!r} is not the directory's {expected!r}")
    referenced = {value for objects in known.values() for value in objects} | {
        value
        for objects in known.values()
        for obj in objects.values()
        if obj is not None
        for value in (getattr(obj, "user_principal_name", None),)
        if value
    }
    for name, value in params.items():
        if name in spec.references or name in spec.shown:
            continue
        if isinstance(value, str) and value in referenced:
            problems.append(f"{name} names a directory object or the ticket but is not declared")
    return problems


def action_problems(spec: Action) -> list[str]:
    """What an action's class does not declare, or declares against deskhand's rules."""
    cls = type(spec)
    problems = []
    if not ACTION_NAME.fullmatch(getattr(cls, "name", "")):
        problems.append(f"name {getattr(cls, 'name', None)!r} is not '<system>.<verb>_<object>'")
    model: Any = getattr(cls, "Params", None)  # what the plugin set, whatever it is
    if not (isinstance(model, type) and issubclass(model, Params)):
        return [*problems, "Params is not a deskhand.domain.actions.Params model"]
    for attribute in ("radius", "summary", "undo", "safe_to_repeat", "needs"):
        if not _declared(cls, attribute):
            problems.append(
                f"{attribute} is not declared on the action"
                + (" (say None when it cannot be undone)" if attribute == "undo" else "")
            )
    radius: Any = getattr(cls, "radius", None)
    if not isinstance(radius, BlastRadius):
        return [*problems, "radius is not a BlastRadius"]
    raised = spec.privileged_radius
    if raised is not None and risk_rank(raised.value) > risk_rank(spec.radius.value):
        problems.append(f"privileged_radius {raised} is less risky than radius {spec.radius}")
    fields = spec.Params.model_fields
    try:
        spec.summary.format(**dict.fromkeys(fields, "x"))
    except (KeyError, IndexError, ValueError) as error:
        problems.append(f"summary names {error} that is not a parameter")
    # A manual step in a system deskhand cannot reach (a vendor portal) needs nothing of the
    # tenant's connectors; every other action says what it needs.
    if not all(isinstance(n, Capability) for n in spec.needs) or not (spec.needs or spec.manual):
        problems.append("needs names no Capability: say what the tenant's systems must offer")
    for name, reference in spec.references.items():
        missing = [shown for shown in reference.shows if shown not in fields]
        if missing:
            problems.append(f"{name} shows {missing}, which are not parameters")
    for name in fields:
        if REFERENCE_LIKE.fullmatch(name) and name not in spec.references:
            problems.append(f"{name} looks like a directory reference but is not declared one")
    return problems


def _declared(cls: type, attribute: str) -> bool:
    """Whether the action (or a base class of its own, not Action) sets ``attribute``."""
    return any(attribute in vars(k) for k in cls.__mro__ if k is not Action and k is not object)
