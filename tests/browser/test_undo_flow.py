"""Undo as a plan in a real browser: the demo's group change approved and run, then 'Propose
undo' clicked on its page — the undo plan's card comes next, says what it undoes, is approved
with one click and runs; the user is out of the group again. Its own installation, so that the
other browser tests keep the demo's queue. Screenshots at a laptop's width and a phone's."""

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


@pytest.fixture(scope="module")
def undo_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with serving(demo_desk(tmp_path_factory.mktemp("undo"))) as desk:
        yield desk


@pytest.fixture
def undo_page(browser: Browser, undo_desk: Desk, console: Console) -> Iterator[Page]:
    context = browser.new_context(base_url=undo_desk.url, viewport=LAPTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    sign_in(page, APPROVER, undo_desk.approver_password)
    yield page
    context.close()
    assert not console.problems, "the browser console reported:\n" + "\n".join(console.problems)


def shot(page: Page, step: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"undo_flow-{step}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def _steps(desk: Desk, run_id: int) -> list[str]:
    return [s["status"] for s in desk.json("approvals", "plan", str(run_id))["steps"]]


def test_a_finished_plan_is_undone_by_proposing_and_approving_its_undo(
    undo_desk: Desk, undo_page: Page
) -> None:
    desk, page = undo_desk, undo_page
    [added] = [
        p
        for p in desk.json("approvals", "plans")
        if p["steps"][0]["action"] == "m365.add_group_member" and len(p["steps"]) == 3
    ]
    finished = int(added["run_id"])
    desk.run("approvals", "approve-plan", str(finished), "--as", APPROVER)
    _wait_until(lambda: set(_steps(desk, finished)) == {"verified"})

    page.goto(f"/plans/{finished}")
    expect(page.get_by_role("heading", name=f"What plan {finished} did")).to_be_visible()
    shot(page, "finished-1366")
    page.get_by_role("button", name="Propose undo").click()

    page.wait_for_url("**/plans/*")
    undo = int(page.url.rsplit("/", 1)[1])
    assert undo != finished
    card = page.locator(f"#plan-{undo}")
    expect(card).to_contain_text(f"Undoes plan {finished}")
    expect(card).to_contain_text("Remove tom.becker@contosodental.example from the group")
    shot(page, "proposed-1366")
    page.set_viewport_size(PHONE)
    shot(page, "proposed-390")
    page.set_viewport_size(LAPTOP)

    card.get_by_role("button", name="Approve plan").click()
    expect(page.locator(f"#plan-{undo}.decided.approved")).to_be_visible()
    _wait_until(lambda: set(_steps(desk, undo)) == {"verified"})
    page.goto(f"/tickets/{added['ticket_id']}")
    expect(page.locator("#ticket-status")).to_have_text("resolved")
    undone = page.get_by_text(f"Undoes plan {finished}")
    expect(undone).to_be_visible()
    expect(page.get_by_text(f"Plan {finished} was undone already, by plan {undo}")).to_be_visible()
    shot(page, "ticket-1366", full_page=False)
    page.set_viewport_size(PHONE)
    undone.scroll_into_view_if_needed()
    shot(page, "ticket-390", full_page=False)
