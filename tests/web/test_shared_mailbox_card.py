"""The draft card of a mailbox conversion: the exact Exchange admin center instructions, that
approving is the tick, and how it is undone."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from deskhand.engine.intake import add_ticket
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker


def test_a_conversion_card_shows_the_instructions_the_tick_and_the_undo(
    signed_in: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, _ = signed_in
    add_ticket(
        web_rt,
        "contoso-dental",
        "karen.whitfield@contosodental.example",
        "Leaver: Tom Becker",
        "Tom Becker has left us. Please convert Tom Becker's mailbox to a shared mailbox.",
    )
    Worker(web_rt, "w").run_once()

    page = client.get("/queue").text

    cards = re.findall(r"<article .*?</article>", page, re.S)
    manual = next(card for card in cards if "Convert to shared mailbox" in card)
    text = html.unescape(manual)
    assert (
        "Exchange admin center → Recipients → Mailboxes → tom.becker@contosodental.example → "
        "Others → Convert to shared mailbox → Confirm"
    ) in text
    assert "Your approval is the tick that says it is done" in text
    assert "reads the result back through Microsoft Graph" in text
    assert "Convert to regular mailbox" in text
    assert "Done, tick off <kbd>a</kbd>" in manual
