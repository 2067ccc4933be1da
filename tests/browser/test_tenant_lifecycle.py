"""The tenant page's leavers and starters, as a technician reads them before approving an
offboarding: the demo's Contoso Dental, on a laptop and on a phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Shoot


def test_the_demo_tenant_s_offboarding_steps_roles_and_vendor_checklist_read_at_two_widths(
    approver: Page, shoot: Shoot
) -> None:
    page = approver
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/tenants/contoso-dental")
        section = page.locator("#lifecycle")
        expect(section).to_contain_text("Time zone Europe/London")
        expect(section.locator("ol.leaver-steps li")).to_have_count(17)
        expect(section.locator(".roles")).to_contain_text("Front Desk")
        expect(section.locator(".usage-location")).to_contain_text("Usage location: none")
        expect(section.locator(".vendors dt")).to_have_text(
            ["Dentrix", "Distributor portal (Microsoft 365 seats)"]
        )
        # nothing in the section runs off the side: long OUs and instructions wrap
        assert section.evaluate("s => s.scrollWidth <= s.clientWidth"), width
        page_shot = shoot(f"{width}")
        section.screenshot(path=page_shot.with_name(f"{page_shot.stem}-section.png"))
