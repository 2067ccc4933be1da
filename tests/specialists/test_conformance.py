"""The conformance suite every registered specialist must pass — deskhand's own and any an MSP
installs under the ``deskhand.specialists`` entry-point group.

A specialist declares its contract, plans without any I/O, plans the same way twice, and
proposes only known actions with valid parameters that stay on its ticket, its tenant and the
people, groups and licences the dispatcher resolved for it. Each intent it declares has a
description and examples, and each example, as a ticket, reaches that intent before any triage
model is trained.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import socket
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from deskhand.actions import action, catalogue
from deskhand.actions.contract import Action
from deskhand.domain.actions import USER, Params
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.domain.intents import Intent
from deskhand.domain.risks import BlastRadius
from deskhand.specialists.contract import (
    Plan,
    PlanContext,
    Specialist,
    TenantView,
    TicketView,
    TriageView,
)
from deskhand.specialists.registry import discover
from deskhand.triage.cold_start import builtin
from deskhand.triage.keywords import ROUTE_THRESHOLD, triage

SPECIALISTS = sorted(discover().by_name.values(), key=lambda s: s.name)
IO_MODULES = ("deskhand.connectors", "deskhand.store", "deskhand.engine", "sqlalchemy", "httpx",
              "requests", "socket", "subprocess", "urllib")  # fmt: skip

TICKET = TicketView(
    id=7,
    tenant_id="contoso-dental",
    psa_ticket_id="1042",
    subject="Please help",
    body="See subject.",
    requester_email="karen.whitfield@contosodental.example",
    requester_name="Karen Whitfield",
)
CLOUD = DirectoryUser(
    id="u-lisa",
    user_principal_name="lisa.chen@contosodental.example",
    display_name="Lisa Chen",
    licenses=("sku-basic",),
)
SYNCED = DirectoryUser(
    id="u-emily",
    user_principal_name="emily.nguyen@contosodental.example",
    display_name="Emily Nguyen",
    synced=True,
    locked=True,
)
DISABLED = DirectoryUser(
    id="u-old",
    user_principal_name="old@contosodental.example",
    display_name="Old",
    account_enabled=False,
)
GROUP = DirectoryGroup(id="g-finance", display_name="Finance Share")
ADMINS = DirectoryGroup(id="g-admins", display_name="Domain Admins", privileged=True)
LIST = DirectoryGroup(id="g-all", display_name="All Staff", mail_enabled=True)
FULL = Sku(
    id="sku-premium", part_number="SPB", display_name="Business Premium", total=5, consumed=5
)
FREE = Sku(id="sku-basic", part_number="BASIC", display_name="Business Basic", total=12, consumed=9)


def contexts(intent: str) -> list[PlanContext]:
    """Every combination of the situations a plan must cope with, for one intent."""
    variants = []
    for targets, groups, skus, removal in itertools.product(
        [(), (CLOUD,), (SYNCED,), (DISABLED,), (CLOUD, SYNCED)],
        [(), (GROUP,), (ADMINS,), (LIST,), (GROUP, ADMINS)],
        [(), (FULL,), (FREE,)],
        [False, True],
    ):
        variants.append(
            PlanContext(
                tenant=TenantView(id="contoso-dental", name="Contoso Dental"),
                triage=TriageView(intent=intent, confidence=0.9, removal=removal),
                requester=None,
                targets=targets,
                groups=groups,
                skus=skus,
                identity="authorised_contact",
            )
        )
    return variants


CASES = [(s, c) for s in SPECIALISTS for i in sorted(s.intents) for c in contexts(i)]


def test_there_are_specialists_and_each_intent_has_exactly_one() -> None:
    registry = discover()
    assert {"password_reset", "access_change"} <= set(registry.by_name)
    for specialist in SPECIALISTS:
        for intent in specialist.intents:
            found = registry.for_intent(intent)
            assert found is not None and found.name == specialist.name


@pytest.mark.parametrize("specialist", SPECIALISTS, ids=lambda s: s.name)
def test_declares_the_contract(specialist: Specialist) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", specialist.name)
    assert specialist.description.endswith(".") and len(specialist.description) > 20
    assert specialist.intents and all(isinstance(i, str) for i in specialist.intents)
    for declared in specialist.intents.values():
        assert isinstance(declared, Intent)
        assert declared.description.endswith(".") and len(declared.description) > 20
        assert len(declared.examples) >= 3, "several examples, as tickets word the request"
    assert issubclass(specialist.Parameters, BaseModel)
    assert isinstance(specialist.needs_identity, bool)
    assert specialist.resolves <= {"group", "licence"}  # the kinds resolution can insist on


EXAMPLES = [
    (intent, example)
    for specialist in SPECIALISTS
    for intent, declared in sorted(specialist.intents.items())
    for example in declared.examples
]


@pytest.mark.parametrize(("intent", "example"), EXAMPLES, ids=lambda v: v)
def test_each_example_reaches_its_intent_before_a_model_is_trained(
    intent: str, example: str
) -> None:
    """A ticket whose subject is the example routes to the intent, among every installed one."""
    intents = discover().intents
    reading = builtin(intents).read(example, "", triage(example, "", intents))
    assert reading.found.intent == intent, reading.found.evidence
    assert reading.found.confidence >= ROUTE_THRESHOLD


def test_the_taxonomy_categories_an_intent_takes_exist() -> None:
    taxonomy = builtin(discover().intents).taxonomy
    for specialist in SPECIALISTS:
        for declared in specialist.intents.values():
            assert set(declared.categories) <= set(taxonomy.names)


@pytest.mark.parametrize("specialist", SPECIALISTS, ids=lambda s: s.name)
def test_its_module_imports_nothing_that_does_io(specialist: Specialist) -> None:
    tree = ast.parse(inspect.getsource(inspect.getmodule(type(specialist))))  # type: ignore[arg-type]
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name.startswith(IO_MODULES)]


@pytest.fixture
def no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket or a database during planning fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a specialist tried to do I/O while planning")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr("sqlalchemy.create_engine", refuse)


@pytest.mark.usefixtures("no_io")
@pytest.mark.parametrize(("specialist", "context"), CASES, ids=lambda v: getattr(v, "name", ""))
def test_plans_are_pure_valid_and_stay_on_the_ticket(
    specialist: Specialist, context: PlanContext
) -> None:
    plan = specialist.plan(TICKET, context)
    assert isinstance(plan, Plan)
    assert plan == specialist.plan(TICKET, context), "the same input must give the same plan"
    if plan.handoff is not None:
        assert plan.steps == () and plan.handoff.strip()
        return
    assert plan.steps, "a plan without a handoff has steps"
    for step in plan.steps:
        assert step.action in catalogue()
        spec = action(step.action)
        params = spec.validate(step.params).model_dump()
        assert step.reason.strip()
        assert reference_problems(spec, params, context) == []
        if "group_id" in params:
            # Graph cannot change a distribution list: only a manual step may name one.
            group = next(g for g in context.groups if g.id == params["group_id"])
            assert not group.mail_enabled or spec.manual


def reference_problems(spec: Action, params: dict[str, Any], context: PlanContext) -> list[str]:
    """What is wrong with how a step names the tenant's objects: a declared reference that is
    not one the dispatcher resolved (or not this ticket, not its requester), a name that is not
    the directory's for it, or a parameter that holds such an object's id, address or ticket
    but is not declared a reference — the engine would never look it up, so an edit of it
    would go unchecked."""
    known: dict[str, dict[str, DirectoryUser | DirectoryGroup | Sku | None]] = {
        "user": {u.id: u for u in context.targets},
        "group": {g.id: g for g in context.groups},
        "licence": {s.id: s for s in context.skus},
        "ticket": {TICKET.psa_ticket_id: None},
        "requester": {TICKET.requester_email: None},
    }
    problems = []
    for name, reference in spec.references.items():
        objects = known[reference.kind]
        if params[name] not in objects:
            problems.append(f"{name}={params[name]!r} is not a {reference.kind} of the ticket")
            continue
        obj = objects[params[name]]
        for shown in reference.shows:
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

    def snapshot(self, params: Any, c: Any) -> dict[str, Any]:
        raise NotImplementedError

    def act(self, params: Any, c: Any, key: str, secret: str | None) -> Any:
        raise NotImplementedError

    def check(self, params: Any, c: Any, key: str, baseline: Any) -> Any:
        raise NotImplementedError


def test_an_undeclared_reference_parameter_fails_conformance() -> None:
    undeclared = _SetManager()
    context = contexts("access_change")[5]
    lisa, emily = CLOUD, SYNCED
    context = context.model_copy(update={"targets": (lisa, emily)})
    params = {"user_id": lisa.id, "user_principal_name": lisa.user_principal_name,
              "manager_id": emily.id}  # fmt: skip
    assert reference_problems(undeclared, params, context) == [
        "manager_id names a directory object or the ticket but is not declared"
    ]
    wrong_name = {**params, "user_principal_name": "it.admin@contosodental.example"}
    assert "is not the directory's" in reference_problems(undeclared, wrong_name, context)[0]


def test_every_action_declares_its_references_and_what_they_show() -> None:
    for spec in catalogue().values():
        fields = spec.Params.model_fields
        for name, reference in spec.references.items():
            assert name in fields and all(shown in fields for shown in reference.shows)
        for name in fields:  # the names deskhand's actions use for objects are all declared
            if name.endswith("_id") or name in ("to",):
                assert name in spec.references, f"{spec.name}.{name} is not declared"


def test_a_context_with_no_or_two_users_is_handed_off() -> None:
    for specialist, context in CASES:
        if len(context.targets) != 1:
            assert specialist.plan(TICKET, context).handoff is not None
