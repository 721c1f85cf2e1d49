"""Device Management > RPS Device in the browser: the demo RPS enterprise adds a device, its
channel sees it without authorization, the sibling tree does not."""

import uuid

from playwright.sync_api import expect

from .conftest import add_button, expect_message


def _open_rps_devices(page):
    menu = page.locator(".navbar").first
    menu.get_by_role("link", name="Device Management").click()
    menu.get_by_role("link", name="RPS Device").click()
    page.wait_for_url("**/rpsdevicemodelview/list/**")


def test_rps_enterprise_adds_a_device_and_its_channel_sees_it(page_as):
    raw = f"02fd{uuid.uuid4().hex[:8]}"
    typed = ":".join(raw[i:i + 2] for i in range(0, 12, 2)).upper()

    page = page_as("ops@redirect.example")
    _open_rps_devices(page)
    table = page.locator("table").first
    expect(table).to_contain_text("00:15:65:fe:00:01")  # the demo's own, MACs separated
    expect(table).to_contain_text("Redirect Logistics")

    add_button(page).click()
    expect(page.locator("#enterprise")).to_have_count(0)  # always its own enterprise
    page.locator("#mac").fill(typed)
    page.locator("#server_url").fill("https://dm.redirect.example/")
    page.locator("#unique_url").fill(f"https://dm.redirect.example/p/{raw}")
    page.locator("#ip").fill("203.0.113.99")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url("**/rpsdevicemodelview/list/**")
    shown = typed.lower()  # listed as people write a MAC, whatever was typed
    expect_message(page, "success", f"RPS device {shown} added.")
    row = page.locator("tr", has_text=shown)
    expect(row).to_contain_text("https://dm.redirect.example/")
    expect(row).to_contain_text("203.0.113.99")
    expect(row).to_contain_text("Redirect Logistics")

    # Gamma Voice, Redirect Logistics' channel, sees it although the authorization is pending.
    channel = page_as("gamma@ymcs.example")
    _open_rps_devices(channel)
    expect(channel.locator("table").first).to_contain_text(shown)
    expect(add_button(channel)).to_have_count(0)

    sibling = page_as("zenith@ymcs.example")
    _open_rps_devices(sibling)
    expect(sibling.locator("body")).not_to_contain_text(raw)
    expect(sibling.locator("body")).not_to_contain_text(shown)
    expect(sibling.locator("body")).not_to_contain_text("Redirect Logistics")
