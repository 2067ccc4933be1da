"""The draft card of the technician time a tenant's policy logs: a billing draft like any other,
with how to undo it."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Tenant


def test_the_time_entry_card_is_a_billing_draft_with_its_undo(
    signed_in: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, _ = signed_in
    policy = tmp_path / "contoso.yaml"
    policy.write_text(
        "approvers: [approver]\napproval_expiry_hours: 24\n"
        "time_entries:\n  minutes:\n    password_reset: 10\n",
        encoding="utf-8",
    )
    with web_rt.db.session() as session:
        session.execute(
            update(Tenant).where(Tenant.id == "contoso-dental").values(policy_path=str(policy))
        )
    received = add_ticket(
        web_rt,
        "contoso-dental",
        "lisa.chen@contosodental.example",
        "Forgot my password",
        "I forgot my password, please reset it",
    )
    Worker(web_rt, "w").run_once()

    cards = re.findall(r"<article .*?</article>", client.get("/queue").text, re.S)
    [card] = [
        html.unescape(card)
        for card in cards
        if f"Log 10 minutes (billable: no) on PSA ticket {received.psa_ticket_id}"
        in html.unescape(card)
    ]
    assert "radius-billing" in card
    assert (
        "Undo: delete the timer entry in Syncro → ticket → Timers (before it is invoiced)" in card
    )
