"""The draft cards of manual steps: the exact instructions, that approving is the tick, and
that no other card says so."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket


def manual_card(
    client: TestClient, rt: Runtime, subject: str, body: str, marker: str
) -> tuple[str, list[str]]:
    """Karen's ticket planned, then the queue's card containing ``marker`` (unescaped) and the
    other cards."""
    add_ticket(rt, "contoso-dental", "karen.whitfield@contosodental.example", subject, body)
    Worker(rt, "w").run_once()
    cards = re.findall(r"<article .*?</article>", client.get("/queue").text, re.S)
    manual = next(card for card in cards if marker in html.unescape(card))
    return html.unescape(manual), [card for card in cards if card is not manual]


def test_a_manual_step_card_shows_the_instructions_and_says_approval_is_the_tick(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    manual, others = manual_card(
        client,
        web_rt,
        "Distribution list",
        "Please add Tom Becker to the All Staff group.",
        "Distribution list → All Staff",
    )
    assert (
        "Exchange admin center → Recipients → Groups → Distribution list → All Staff → Members "
        "→ Add member → tom.becker@contosodental.example → Save"
    ) in manual
    assert "Your approval is the tick that says it is done" in manual
    assert "Done, tick off <kbd>a</kbd>" in manual
    assert others and not any("Done, tick off" in card for card in others)


def test_a_conversion_card_shows_the_instructions_the_tick_and_the_undo(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    manual, _ = manual_card(
        client,
        web_rt,
        "Leaver: Tom Becker",
        "Tom Becker has left us. Please convert Tom Becker's mailbox to a shared mailbox.",
        "Convert to shared mailbox",
    )
    assert (
        "Exchange admin center → Recipients → Mailboxes → tom.becker@contosodental.example → "
        "Others → Convert to shared mailbox → Confirm"
    ) in manual
    assert "Your approval is the tick that says it is done" in manual
    assert "reads the result back through Microsoft Graph" in manual
    assert "Convert to regular mailbox" in manual
    assert "Done, tick off <kbd>a</kbd>" in manual
