"""The conformance suite every registered specialist must pass — deskhand's own and any an MSP
installs under the ``deskhand.specialists`` entry-point group.

A specialist declares its contract, plans without any I/O, plans the same way twice, and
proposes only known actions with valid parameters that stay on its ticket, its tenant and the
people, groups and licences the dispatcher resolved for it.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import socket
from typing import Any

import pytest
from pydantic import BaseModel

from deskhand.domain.actions import ACTIONS, action
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.specialists.contract import (
    Plan,
    PlanContext,
    Specialist,
    TenantView,
    TicketView,
    TriageView,
)
from deskhand.specialists.registry import discover

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
    assert issubclass(specialist.Parameters, BaseModel)
    assert isinstance(specialist.needs_identity, bool)
    assert specialist.resolves <= {"group", "licence"}  # the kinds resolution can insist on


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
    users = {u.id for u in context.targets}
    groups = {g.id for g in context.groups}
    skus = {s.id for s in context.skus}
    for step in plan.steps:
        assert step.action in ACTIONS
        params = action(step.action).validate(step.params).model_dump()
        assert step.reason.strip()
        if "psa_ticket_id" in params:
            assert params["psa_ticket_id"] == TICKET.psa_ticket_id
        if "to" in params:
            assert params["to"] == TICKET.requester_email
        if "user_id" in params:
            assert params["user_id"] in users
        if "group_id" in params:
            assert params["group_id"] in groups
            # Graph cannot change a distribution list: only a manual step may name one.
            group = next(g for g in context.groups if g.id == params["group_id"])
            assert not group.mail_enabled or action(step.action).manual
        if "sku_id" in params:
            assert params["sku_id"] in skus


def test_a_context_with_no_or_two_users_is_handed_off() -> None:
    for specialist, context in CASES:
        if len(context.targets) != 1:
            assert specialist.plan(TICKET, context).handoff is not None
