"""The conformance suite every installed specialist and action must pass — deskhand's own and
any an MSP installs under the ``deskhand.specialists`` and ``deskhand.actions`` entry-point
groups. Run it where the plugins are installed::

    pytest --pyargs deskhand.testing.conformance

A specialist declares its contract and its intents (each with examples that, as tickets, reach
the intent before any triage model is trained), imports nothing that does I/O, plans without
any I/O and the same way twice, and proposes only installed actions with valid parameters that
stay on its ticket and on the people, groups and licences the dispatcher resolved for it, with
the directory's names. An action declares its blast radius (never lower for a privileged
group), its wording over its own parameters, its undo (or None: it cannot be undone), whether it
is safe to repeat, the capabilities it needs, and every parameter that names a directory object.
"""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from deskhand.actions import catalogue
from deskhand.actions.contract import Action
from deskhand.domain.intents import Intent
from deskhand.specialists.contract import Plan, PlanContext, Specialist
from deskhand.specialists.registry import discover
from deskhand.testing.checks import action_problems, io_imports, reference_problems
from deskhand.testing.samples import TICKET, contexts
from deskhand.triage.cold_start import builtin
from deskhand.triage.keywords import ROUTE_THRESHOLD, triage

SPECIALISTS = sorted(discover().by_name.values(), key=lambda s: s.name)
ACTIONS = sorted(catalogue().values(), key=lambda a: a.name)
CASES = [(s, c) for s in SPECIALISTS for i in sorted(s.intents) for c in contexts(i)]
EXAMPLES = [
    (intent, example)
    for specialist in SPECIALISTS
    for intent, declared in sorted(specialist.intents.items())
    for example in declared.examples
]


def test_each_intent_is_handled_by_exactly_one_specialist() -> None:
    registry = discover()
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
    assert io_imports(specialist) == []


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
        assert plan.question is None, "a plan hands the ticket over or asks, not both"
        return
    if plan.question is not None:
        assert plan.steps == (), "a plan that asks the requester has no steps"
        assert plan.question.strip()
        return
    assert plan.steps, "a plan without a handoff or a question has steps"
    known = catalogue()
    for step in plan.steps:
        assert step.action in known, f"{step.action} is not an installed action"
        spec = known[step.action]
        params = spec.validate(step.params).model_dump()
        assert step.reason.strip()
        assert reference_problems(spec, params, context, TICKET) == []
        if "group_id" in params:
            # Graph cannot change a distribution list: only a manual step may name one.
            group = next(g for g in context.groups if g.id == params["group_id"])
            assert not group.mail_enabled or spec.manual


@pytest.mark.parametrize("spec", ACTIONS, ids=lambda a: a.name)
def test_each_action_declares_its_contract(spec: Action) -> None:
    assert action_problems(spec) == []
