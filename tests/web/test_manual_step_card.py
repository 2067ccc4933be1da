"""The draft card of a manual step: the exact instructions, and that approving is the tick."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from deskhand.engine.intake import add_ticket
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker


def test_a_manual_step_card_shows_the_instructions_and_says_approval_is_the_tick(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    add_ticket(
        web_rt,
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        "Distribution list",
        "Please add Tom Becker to the All Staff group.",
    )
    Worker(web_rt, "w").run_once()

    page = client.get("/queue").text

    cards = re.findall(r"<article .*?</article>", page, re.S)
    manual = next(card for card in cards if "Distribution list → All Staff" in card)
    assert (
        "Exchange admin center → Recipients → Groups → Distribution list → All Staff → Members "
        "→ Add member → tom.becker@contosodental.example → Save"
    ) in manual
    assert "Your approval is the tick that says it is done" in manual
    assert "Done, tick off <kbd>a</kbd>" in manual
    others = [card for card in cards if card is not manual]
    assert others and not any("Done, tick off" in card for card in others)
