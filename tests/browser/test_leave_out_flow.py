"""Leaving a group out of a plan in a real browser: the demo starter's plan (same access as a
colleague), "Leave out" opened on one group's step and clicked — the card says the ticket is
being planned again without it, and the new plan of the ticket comes to the queue. Its own
installation, so that the other browser tests keep the demo's queue. Screenshots at a laptop's
width and a phone's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    APPROVER,
    SCREENSHOTS,
    Console,
    Desk,
    _wait_until,
    demo_desk,
    serving,
    sign_in,
)

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
APP_USERS = "Practice Management App Users"


@pytest.fixture(scope="module")
def trim_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with serving(demo_desk(tmp_path_factory.mktemp("leave_out"))) as desk:
        yield desk


@pytest.fixture
def trim_page(browser: Browser, trim_desk: Desk, console: Console) -> Iterator[Page]:
    context = browser.new_context(base_url=trim_desk.url, viewport=LAPTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    sign_in(page, APPROVER, trim_desk.approver_password)
    yield page
    context.close()
    assert not console.problems, "the browser console reported:\n" + "\n".join(console.problems)


def shot(page: Page, step: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"leave_out_flow-{step}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _starter_plans(desk: Desk) -> list[dict[str, object]]:
    return [p for p in desk.json("approvals", "plans") if p["specialist"] == "onboarding"]


def test_a_group_left_out_on_the_card_has_the_ticket_planned_again(
    trim_desk: Desk, trim_page: Page
) -> None:
    desk, page = trim_desk, trim_page
    [starter] = _starter_plans(desk)
    run_id = int(str(starter["run_id"]))

    page.goto(f"/plans/{run_id}")
    card = page.locator(f"#plan-{run_id}")
    step = card.locator("li.step", has_text=APP_USERS)
    step.locator("summary", has_text="Leave out").click()
    step.get_by_label(f"Why leave {APP_USERS} out of plan {run_id}").fill(
        "reception does not use the app"
    )
    shot(page, "open-1366")
    step.get_by_role("button", name=f"Leave out {APP_USERS}").click()

    expect(card).to_have_attribute("data-verb", "left out")
    expect(card).to_contain_text(f"Plan {run_id} closed")
    expect(card).to_contain_text("the ticket is being planned again without it")
    shot(page, "closed-1366")
    _wait_until(lambda: any(int(str(p["run_id"])) > run_id for p in _starter_plans(desk)))
    [again] = _starter_plans(desk)

    page.set_viewport_size(PHONE)
    page.goto(f"/plans/{again['run_id']}")
    new_card = page.locator(f"#plan-{again['run_id']}")
    expect(new_card).to_be_visible()
    new_card.locator("li.step", has_text="Front Desk").locator("summary").click()
    shot(page, "new-plan-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width} px)"
