"""A scheduled plan as an approver sees it: the demo's leaver whose last day is Friday — when it
runs, that approving now approves it ahead, and what each step waits for — on a laptop and on a
phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Shoot


def test_the_leaver_s_card_says_when_it_runs_and_what_waits_for_what_at_two_widths(
    approver: Page, shoot: Shoot
) -> None:
    page = approver
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/plans?tenant=contoso-dental")
        card = page.locator("article.plan", has_text="Tom Becker").filter(has_text="Scheduled")
        expect(card).to_have_count(1)
        expect(card.locator("p.scheduled")).to_contain_text("approving now approves it ahead")
        expect(card.locator(".after").first).to_have_text("after step 1")
        assert card.evaluate("c => c.scrollWidth <= c.clientWidth"), width
        path = shoot(f"{width}")
        card.screenshot(path=path.with_name(f"{path.stem}-card.png"))
