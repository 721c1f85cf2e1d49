"""Alarm Management in the browser: a simulated phone raises a Critical and a Minor alarm over
real HTTP; the bell shows them (and stops calling them new once opened); the list filters
them; the details download the uploaded log; the chart shows them; and the list in Chinese."""

import re
import secrets
import uuid

import pytest
from playwright.sync_api import expect

from app.device_ops.simulator import alarms as sim_alarms
from app.device_ops.simulator.phone import SimulatedPhone
from app.extensions import db

from ..acs_support import credentials, give_quota
from ..helpers import PATIENCE
from ..tree import build_tree
from .conftest import login_through_form


@pytest.fixture(scope="module")
def raised(live_server):
    """A tree of its own whose phone raised a kernel panic and a failed call."""
    prefix = f"al{uuid.uuid4().hex[:6]}"
    with live_server.app.app_context():
        t = build_tree(db.session, prefix)
        give_quota(db.session, t.E.id, 5)
        user, password = credentials(db.session, t.E.id)
        out = {"c": t.c.username, "password": t.password}
        db.session.remove()
    phone = SimulatedPhone(live_server.url + "/acs", "02" + secrets.token_hex(5),
                           username=user, password=password, auth="digest")
    sim_alarms.install(phone)
    assert phone.run_session().ok
    assert sim_alarms.raise_now(phone, "kernel_panic", "panic in the scheduler").ok
    assert sim_alarms.raise_now(phone, "call_failed", "486 Busy Here").ok
    assert phone.wait_idle(PATIENCE)  # the log upload
    phone.close()
    out["mac"] = phone.mac
    return out


def test_bell_list_filters_details_log_and_chart(page_as, raised):
    page = page_as(raised["c"], raised["password"])
    # the Chinese test of this module saves Chinese as this account's language (a choice made
    # on purpose at the login page wins over the page's default): read this one in English
    page.goto("/lang/en")
    bell = page.locator("#alarm-bell")
    expect(bell.locator("#alarm-bell-new")).to_have_text("2")
    bell.locator("#alarm-bell-toggle").click()
    expect(bell.locator(".alarm-bell-row")).to_have_count(2)
    expect(bell.locator(".alarm-bell-row").first).to_contain_text("Call failed")
    expect(bell.locator("#alarm-bell-new")).to_have_count(0)  # opened: nothing new now
    bell.locator("#alarm-bell-all").click()
    page.wait_for_url("**/alarms/list/**")
    rows = page.locator(".ymcs-list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#alarms-per-day rect[data-severity='critical']")).to_have_count(1)
    expect(page.locator("#alarm-top-types")).to_contain_text("Kernel panic")
    page.locator("select[name='severity']").select_option("minor")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("486 Busy Here")
    page.locator("input[name='q']").fill(raised["mac"][:6].upper())
    page.locator("select[name='severity']").select_option("critical")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Kernel panic")
    rows.first.locator("a").first.click()
    expect(page.locator("#alarm-type")).to_have_text("Kernel panic")
    with page.expect_download() as download:
        page.locator("#alarm-log").click()
    assert download.value.suggested_filename.endswith(".log")
    page.locator("#alarm-acknowledge").click()
    expect(page.locator("#alarm-status")).to_have_text("Acknowledged")
    expect(page.locator("#alarm-diagnose")).to_have_attribute(
        "href", re.compile(r"/diagnostics/\d+$"))  # the device's diagnostic page


def test_alarm_list_in_chinese(anon_page, raised):
    page = anon_page
    page.goto("/login/")
    page.locator("#language").select_option("zh")  # the login page switches to Chinese
    expect(page.locator(".panel-title").first).to_have_text("登录 YMCS 渠道平台")
    expect(page.locator('#language[data-saved="zh"]')).to_have_count(1)  # and remembers it
    login_through_form(page, raised["c"], raised["password"])
    page.goto("/alarms/list/")
    expect(page.locator(".ymcs-list h4")).to_have_text("告警")
    expect(page.locator(".ymcs-list thead")).to_contain_text("严重程度")
    expect(page.locator(".ymcs-list tbody")).to_contain_text("内核崩溃")
    expect(page.locator(".ymcs-list tbody")).to_contain_text("呼叫失败")
    expect(page.locator("#alarm-charts-loaded")).to_contain_text("每日告警")
