"""A Monday morning in a real browser: sixty plans waiting, decided one keystroke each — the
focus moves on to the next plan after each decision, the count goes down, and every plan's
drafts end up approved and run. Its own installation (synthetic tickets), so that the other
browser tests keep the demo's queue."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    APPROVER,
    SCREENSHOTS,
    Console,
    Desk,
    Shoot,
    _wait_until,
    demo_desk,
    serving,
    sign_in,
)

PLANS = 60
ADD_TICKETS = """
import sys
from deskhand.config import Settings
from deskhand.engine.runtime import Runtime
from deskhand.intake.arrival import add_ticket

USERS = ["lisa.chen", "tom.becker", "jake.morrison", "priya.raman", "marcus.lee", "anna.kowalski"]
ASKS = [
    ("Forgot my password", "I forgot my password, please reset it"),
    ("Password expired", "My password expired and I can't sign in, please reset it"),
]
rt = Runtime.from_settings(Settings())
try:
    for i in range(int(sys.argv[1])):
        subject, body = ASKS[i % len(ASKS)]
        sender = f"{USERS[i % len(USERS)]}@contosodental.example"
        add_ticket(rt, "contoso-dental", sender, f"{subject} (Monday {i + 1})", body)
finally:
    rt.close()
"""


@pytest.fixture(scope="module")
def monday(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """`deskhand demo` plus enough synthetic tickets for sixty plans, `deskhand serve` running."""
    desk = demo_desk(tmp_path_factory.mktemp("monday"), DESKHAND_POLL_SECONDS="0.1")
    subprocess.run(
        [sys.executable, "-c", ADD_TICKETS, str(PLANS)], env=desk.env, check=True, timeout=300
    )
    with serving(desk, settle=240):
        yield desk


@pytest.fixture
def monday_page(browser: Browser, monday: Desk, console: Console) -> Iterator[Page]:
    context = browser.new_context(base_url=monday.url, viewport={"width": 1366, "height": 768})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    sign_in(page, APPROVER, monday.approver_password)
    yield page
    context.close()
    assert not console.problems, "the browser console reported:\n" + "\n".join(console.problems)


@pytest.fixture
def shoot(monday_page: Page, request: pytest.FixtureRequest) -> Shoot:
    """As the suite's ``shoot``, of this installation's page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = request.node.name.removeprefix("test_")

    def take(step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        monday_page.screenshot(path=str(path), full_page=False)
        return path

    return take


def test_a_monday_queue_of_sixty_plans_is_decided_with_the_keyboard(
    monday: Desk, monday_page: Page, shoot: Shoot
) -> None:
    page = monday_page
    waiting = monday.json("approvals", "plans", "--limit", "500", "--json")
    assert len(waiting) >= PLANS
    assert not any(p["verify_first"] for p in waiting)  # each is decided with one key
    page.goto("/plans")
    expect(page.locator("#waiting-count")).to_have_text(f"{len(waiting)} plans waiting")
    expect(page.locator("article.plan:not(.decided)")).to_have_count(min(len(waiting), 50))
    shoot("monday")

    page.keyboard.press("j")  # the first plan; from then on the focus moves by itself
    decided: list[str] = []
    while len(decided) < PLANS:
        if not page.locator("article.plan:not(.decided)").count():
            page.goto("/plans")  # the next fifty
            page.keyboard.press("j")
        active = page.evaluate("document.activeElement.id")
        assert active.startswith("plan-") and active not in decided
        page.keyboard.press("a")
        expect(page.locator(f"#{active}.decided.approved")).to_be_visible()
        decided.append(active)
        if page.locator("article.plan:not(.decided)").count():
            page.wait_for_function("id => document.activeElement.id !== id", arg=active)

    order = [f"plan-{p['run_id']}" for p in waiting]
    assert decided == order[:PLANS]  # riskiest and oldest first, as listed
    left = monday.json("approvals", "plans", "--limit", "500", "--json")
    assert [p["run_id"] for p in left] == [p["run_id"] for p in waiting[PLANS:]]
    # a plan scheduled for a later day (the demo's leaver and starter) runs then, not now
    later = sum(p["not_before"] is not None for p in waiting[:PLANS])
    _wait_until(
        lambda: (
            sum(t["status"] == "resolved" for t in monday.json("tickets", "list")) >= PLANS - later
        ),
        240,
    )
    page.goto("/plans")
    expect(page.locator("#waiting-count")).to_have_text(
        f"{len(left)} plan{'s' if len(left) != 1 else ''} waiting"
    )
    shoot("after")
