"""Finished at the edges (issue 18): lists and detail pages as a new user meets them —
labelled row actions, badges and readable MACs, a one-line top bar, no missing static files,
and entering further down from inside a sub-channel."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts import roles
from app.core.show import format_mac
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import AccountKind, Channel, Device, Enterprise

ADMIN = "admin@ymcs.example"
ACME = "acme@ymcs.example"


@pytest.fixture(scope="module")
def long_login(live_server):
    """A channel administrator whose login is as long as real ones get."""
    email = f"service.desk.administrator.{uuid.uuid4().hex[:6]}@acme-telecommunications.example"
    with live_server.app.app_context():
        sm = live_server.app.appbuilder.sm
        acme = db.session.execute(
            select(Channel).where(Channel.name == "Acme Telecom")).scalar_one()
        user = sm.add_user(username=email, first_name="Service", last_name="Desk", email=email,
                           role=sm.find_role(roles.CHANNEL_ADMIN), password=DEMO_PASSWORD)
        user.kind, user.channel = AccountKind.channel_master, acme
        db.session.commit()
    return email


def _navbar_height(page):
    return page.locator(".navbar").first.evaluate("e => e.getBoundingClientRect().height")


@pytest.mark.parametrize("width", [1280, 1400])
def test_the_top_bar_fits_one_line_for_the_admin_and_a_long_login(page_as, long_login, width):
    for who in (ADMIN, long_login):
        page = page_as(who)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/enterprisemodelview/list/")
        # one line of Bootstrap's navbar is 50 px; a wrapped one is twice that
        assert _navbar_height(page) < 60, f"{who} at {width} px: the top bar wraps"
        # the whole login is still there to read (hover, or the account menu)
        # (Bootstrap's tooltip moves the title to data-original-title)
        named = page.locator("#account-menu > a").evaluate(
            "e => e.getAttribute('data-original-title') || e.title")
        assert named == who


def test_row_actions_are_named_in_an_actions_menu(page_as):
    page = page_as(ACME)
    page.goto("/enterprisemodelview/list/?q=Acme Hotel Group")
    row = page.locator("table tbody tr").filter(has_text="Acme Hotel Group")
    expect(row.get_by_role("link", name="Edit", exact=True)).to_have_text(re.compile("Edit"))
    expect(row.get_by_role("button", name="Freeze")).to_be_hidden()
    row.locator(".ymcs-actions-toggle").click()
    for label in ("Freeze", "Reset password", "Go to the enterprise's platform", "Delete"):
        expect(row.get_by_role("button", name=label, exact=True)).to_be_visible()
        expect(row.get_by_role("button", name=label, exact=True)).to_contain_text(label)
    # only what applies: it is active, so no Unfreeze
    expect(row.get_by_role("button", name="Unfreeze", exact=True)).to_have_count(0)


def test_device_list_shows_badges_and_readable_macs_and_finds_a_part(page_as, live_server):
    with live_server.app.app_context():
        device = db.session.execute(
            select(Device).join(Enterprise, Enterprise.id == Device.enterprise_id)
            .where(Enterprise.name == "Acme Hotel Group", Device.ip.is_not(None))
            .order_by(Device.id)).scalars().first()
        mac, ip, online = device.mac, device.ip, device.online
    page = page_as(ACME)
    page.goto("/devicemodelview/list/")
    expect(page.locator(".ymcs-list tbody .ymcs-badge").first).to_have_text(
        re.compile("^(Online|Offline)$"))
    # a part from the middle of the MAC, typed with separators and capitals
    part = format_mac(mac)[6:14].upper()  # "65:D0:00"-like
    page.get_by_role("searchbox", name="Search").fill(part)
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url("**q=**")
    row = page.locator(".ymcs-list tbody tr").filter(has_text=format_mac(mac))
    expect(row).to_have_count(1)
    expect(row.locator(".ymcs-badge")).to_have_text("Online" if online else "Offline")
    # and a part of its IP address
    page.get_by_role("searchbox", name="Search").fill(ip.split(".", 1)[1])
    page.locator("form[role=search] button[type=submit]").click()
    expect(page.locator(".ymcs-list tbody tr").filter(has_text=format_mac(mac))).to_have_count(1)


def test_enterprise_details_read_like_the_list(page_as):
    page = page_as(ACME)
    page.goto("/enterprisemodelview/list/?q=Acme Hotel Group")
    page.get_by_role("link", name="Acme Hotel Group", exact=True).click()
    details = page.locator("table.table-bordered")
    for raw in ("True", "False", "None", "device_management", "Is Channel Own"):
        expect(details).not_to_contain_text(raw)
    expect(details).to_contain_text("Device Management")
    expect(details.locator(".ymcs-badge").first).to_be_visible()
    expect(page.get_by_text("Unfreeze", exact=True)).to_have_count(0)


TOUR = {
    ADMIN: ["/", "/channelmodelview/list/", "/enterprisemodelview/list/",
            "/devicemodelview/list/", "/packagemodelview/list/", "/orderlimitmodelview/list/",
            "/users/list/", "/roles/list/", "/ordermodelview/list/", "/alarmmodelview/list/",
            "/operationlogmodelview/list/", "/outboxmodelview/list/"],
    ACME: ["/", "/enterprisemodelview/list/", "/channelmodelview/list/",
           "/devicemodelview/list/", "/ordermodelview/list/", "/ordermodelview/add",
           "/statementmodelview/list/", "/subaccountmodelview/list/", "/rpsdevicemodelview/list/",
           "/alarmmodelview/list/", "/enterprisemodelview/add"],
}


def test_no_static_file_is_missing_over_a_tour_of_the_pages(anon_page, page_as):
    missing = []

    def watch(page):
        page.on("response", lambda r: missing.append((r.status, r.url))
                if "/static/" in r.url and r.status >= 400 else None)
        return page

    watch(anon_page).goto("/login/")
    for who, urls in TOUR.items():
        page = watch(page_as(who))
        for url in urls:
            page.goto(url)
            page.wait_for_load_state("load")
        # a show page and a form of each
        page.goto("/enterprisemodelview/list/")
        page.locator(".ymcs-list tbody a").first.click()
        page.wait_for_load_state("load")
    assert not missing, missing


def test_entering_further_down_from_inside_a_sub_channel(page_as):
    page = page_as(ACME)
    page.goto("/channelmodelview/list/?q=Beta Networks")
    row = page.locator("table tbody tr").filter(has=page.get_by_role("link", name="Beta Networks"))
    row.locator(".ymcs-actions-toggle").click()
    row.get_by_role("button", name="Go to the channel's platform").click()
    expect(page.locator("#acting-banner")).to_contain_text("Beta Networks")
    page.goto("/channelmodelview/list/")
    row = page.locator("table tbody tr").filter(has=page.get_by_role("link", name="Gamma Voice"))
    row.locator(".ymcs-actions-toggle").click()
    row.get_by_role("button", name="Go to the channel's platform").click()
    expect(page.locator("#acting-path")).to_have_text("Path: Beta Networks › Gamma Voice")
    page.goto("/enterprisemodelview/list/")
    row = page.locator("table tbody tr").filter(has=page.get_by_role("link", name="Kaixin Trading"))
    row.locator(".ymcs-actions-toggle").click()
    row.get_by_role("button", name="Go to the enterprise's platform").click()
    expect(page.locator("#acting-path")).to_have_text(
        "Path: Beta Networks › Gamma Voice › Kaixin Trading")
    expect(page.locator("#acting-banner")).to_contain_text(
        "You are working in the enterprise Kaixin Trading as acme@ymcs.example")
    page.locator("#acting-back").click()
    expect(page.locator("#acting-banner")).to_have_count(0)
    page.goto("/channelmodelview/list/")
    expect(page.get_by_role("link", name="Beta Networks", exact=True)).to_be_visible()
