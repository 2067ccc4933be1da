"""A plugin's intent is routed like deskhand's own, with and without an LLM: triage knows the
intents the installed specialists declare, and nothing else. The plugin here maps a printer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from deskhand.engine.runtime import Runtime
from deskhand.specialists.contract import (
    Intent,
    Plan,
    PlanContext,
    ProposedStep,
    Specialist,
    TicketView,
)
from deskhand.specialists.registry import Registry, discover
from tests.engine.test_flow import LISA, drafts, escalation, status, ticket, work
from tests.triage.llm_stub import StubLlm, running_stub
from tests.triage.test_llm import runtime, triaged

PRINTER_MAPPING = Intent(
    description="Connect a user's computer to a network printer.",
    examples=(
        "map a printer",
        "add the printer",
        "connect to the printer",
        "Drucker verbinden",
        "printer toevoegen",
        "ajouter une imprimante",
    ),
)
MAP = ("Map a printer", "Please add the printer on the second floor to my laptop.")


class PrinterRequest(BaseModel):
    """Nothing to resolve: the technician maps the printer the ticket names."""


class PrinterMapping(Specialist):
    """A third party's specialist, declared and planned exactly as a plugin would be."""

    name = "printer_mapping"
    description = "Maps a network printer on a user's computer, by a technician."
    intents: ClassVar[Mapping[str, Intent]] = {"printer_mapping": PRINTER_MAPPING}
    Parameters = PrinterRequest

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        note = ProposedStep(
            action="psa.add_internal_note",
            params={"psa_ticket_id": ticket.psa_ticket_id, "body": "Map the printer asked for."},
            reason="Record what is to be done.",
        )
        reply = ProposedStep(
            action="psa.send_reply",
            params={
                "psa_ticket_id": ticket.psa_ticket_id,
                "to": ticket.requester_email,
                "body": "A technician will map the printer for you today.",
            },
            reason="Tell the requester when it will be done.",
        )
        return Plan(summary="Map a printer", steps=(note, reply))


def with_plugin(rt: Runtime) -> None:
    rt.registry = Registry([*discover().by_name.values(), PrinterMapping()])


@pytest.fixture
def stub() -> Iterator[StubLlm]:
    with running_stub() as server:
        yield server


def answer(intent: str) -> dict[str, Any]:
    return {"intent": intent, "confidence": 0.9, "entities": {}, "reply_draft": None}


def test_without_an_llm_a_plugin_intent_is_routed_by_its_examples(tmp_path: Path) -> None:
    rt = runtime(tmp_path, None)
    try:
        without = ticket(rt, LISA, *MAP)
        work(rt)
        assert escalation(rt, without).reason == "no_specialist"  # read as "Printer" until…

        with_plugin(rt)
        ticket_id = ticket(rt, LISA, *MAP)
        assert work(rt) == 1
        assert status(rt, ticket_id) == "awaiting_approval"
        event = triaged(rt, ticket_id)
        assert (event["intent"], event["method"]) == ("printer_mapping", "taxonomy")
        assert "map a printer (example of printer_mapping)" in event["evidence"]
        assert [(d.specialist, d.action) for d in drafts(rt, ticket_id)] == [
            ("printer_mapping", "psa.send_reply")
        ]
    finally:
        rt.close()


def test_with_an_llm_a_plugin_intent_is_offered_with_its_description_and_routed(
    tmp_path: Path, stub: StubLlm
) -> None:
    rt = runtime(tmp_path, f"openai-compatible:{stub.url}:stub-model")
    try:
        with_plugin(rt)
        stub.answer = answer("printer_mapping")
        ticket_id = ticket(rt, LISA, *MAP)
        assert work(rt) == 1
        assert status(rt, ticket_id) == "awaiting_approval"
        event = triaged(rt, ticket_id)
        assert (event["intent"], event["llm_intent"], event["llm_error"]) == (
            "printer_mapping",
            "printer_mapping",
            None,
        )
        assert [d.specialist for d in drafts(rt, ticket_id)] == ["printer_mapping"]

        (request,) = stub.requests
        (system,) = stub.messages("system")
        assert f"- printer_mapping: {PRINTER_MAPPING.description}" in system
        assert '"Drucker verbinden"' in system
        assert "- password_reset: " in system
        schema = request["tools"][0]["function"]["parameters"]["properties"]["intent"]
        assert sorted(schema["enum"]) == [
            "access_change",
            "account_unlock",
            "mfa_reset",
            "offboarding",
            "onboarding",
            "other",
            "password_reset",
            "printer_mapping",
        ]
    finally:
        rt.close()


def test_an_llm_that_reads_another_intent_still_sends_the_plugin_ticket_to_a_person(
    tmp_path: Path, stub: StubLlm
) -> None:
    rt = runtime(tmp_path, f"openai-compatible:{stub.url}:stub-model")
    try:
        with_plugin(rt)
        stub.answer = answer("other")
        ticket_id = ticket(rt, LISA, *MAP)
        work(rt)
        found = escalation(rt, ticket_id)
        assert found.reason == "low_confidence"
        assert "says printer_mapping" in found.detail and "says other" in found.detail
    finally:
        rt.close()
