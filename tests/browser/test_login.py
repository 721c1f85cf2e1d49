"""A channel admin logs in through the form and sees its own subtree's enterprises only."""

import os

from playwright.sync_api import expect


def test_channel_admin_sees_only_its_subtree_enterprises(page_as, tmp_path):
    page = page_as("acme@ymcs.example")

    menu = page.locator(".navbar").first  # the top menu, not links elsewhere on the page
    menu.get_by_role("link", name="User Management").click()
    menu.get_by_role("link", name="Enterprise Management").click()
    page.wait_for_url("**/enterprisemodelview/list/**")

    table = page.locator("table").first
    for own in ("Acme Hotel Group", "Beta Clinics", "Kaixin Trading", "Redirect Logistics"):
        expect(table).to_contain_text(own)
    # The sibling tree (Zenith ITSP) is invisible, on the table and anywhere on the page.
    expect(page.locator("body")).not_to_contain_text("Zenith Bank")
    expect(page.locator("body")).not_to_contain_text("Zenith ITSP")

    shot = os.path.join(os.environ.get("YMCS_SCREENSHOT_DIR", str(tmp_path)),
                        "enterprise-list-acme.png")
    page.screenshot(path=shot, full_page=True)
    print(f"screenshot: {shot}")
