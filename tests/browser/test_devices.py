"""Device Management in the browser: Platform Device (the sub-channel column, the model and
enterprise filters), a device's page with its CPU and memory chart, queueing a ping and a
reboot (whose confirmation can be dismissed), and Device Access.

Each test adds its own device to a demo enterprise (Acme Hotel Group, right under Acme
Telecom) and finds it by its MAC; the demo devices are only read.
"""

import datetime
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.show import format_mac
from app.extensions import db
from app.models import Device, DeviceCommand, DeviceSample, Enterprise, utcnow

from .conftest import confirm_modal, expect_message

ACME = "acme@ymcs.example"
ACME_HOTEL = "Acme Hotel Group"
MODEL = "CP965"  # a demo model: the model filter offers it


@pytest.fixture
def device(live_server):
    """A device of Acme Hotel Group with an hour of CPU and memory samples; its MAC and id."""
    with live_server.app.app_context():
        session = db.session
        enterprise_id = session.execute(
            select(Enterprise.id).where(Enterprise.name == ACME_HOTEL)).scalar_one()
        now = utcnow()
        row = Device(mac="0015" + uuid.uuid4().hex[:8], model=MODEL, firmware="96.86.0.70",
                     ip="10.9.9.9", enterprise_id=enterprise_id, online=True, last_seen=now)
        session.add(row)
        session.flush()
        for minutes, cpu, free in ((60, 12, 500), (45, 30, 450), (30, 25, 400), (15, 60, 300)):
            session.add(DeviceSample(device_id=row.id, cpu_usage=cpu, memory_total=1000,
                                     memory_free=free,
                                     taken_on=now - datetime.timedelta(minutes=minutes)))
        session.commit()
        out = (row.mac, row.id)
        session.remove()
    return out


def _commands(live_server, device_id):
    with live_server.app.app_context():
        rows = db.session.execute(select(DeviceCommand.kind, DeviceCommand.status).where(
            DeviceCommand.device_id == device_id).order_by(DeviceCommand.id)).all()
        db.session.remove()
    return [(kind, status.value) for kind, status in rows]


def _open_list(page):
    menu = page.locator(".navbar").first
    menu.get_by_role("link", name="Device Management").click()
    menu.get_by_role("link", name="Platform Device").click()
    page.wait_for_url("**/devicemodelview/list/**")


def _column(page, heading):
    headings = [t.strip() for t in page.locator(".ymcs-list thead th").all_inner_texts()]
    index = headings.index(heading) + 1
    return [t.strip() for t in page.locator(
        f".ymcs-list tbody tr td:nth-child({index})").all_inner_texts()]


def _open_device(page, mac, device_id):
    page.goto(f"/devicemodelview/show/{device_id}")
    expect(page.locator("#device-details h4")).to_contain_text(f"Device {format_mac(mac)}")


def test_filter_by_model_and_open_a_device_with_its_chart(live_server, page_as, device):
    mac, _device_id = device
    with live_server.app.app_context():
        kaixin_mac = db.session.execute(
            select(Device.mac).join(Enterprise, Enterprise.id == Device.enterprise_id)
            .where(Enterprise.name == "Kaixin Trading").limit(1)).scalar_one()
        db.session.remove()
    page = page_as(ACME)
    _open_list(page)
    rows = page.locator(".ymcs-list tbody tr")
    # Kaixin Trading is under Gamma Voice under Beta Networks: Acme sees Beta Networks
    page.get_by_role("searchbox", name="Search").fill(kaixin_mac)
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url(f"**q={kaixin_mac}**")
    expect(rows).to_have_count(1)
    assert _column(page, "Sub-channel / Enterprise") == ["Beta Networks"]
    page.get_by_role("link", name="Clear").click()

    page.locator("#model-filter").select_option(MODEL)
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url(f"**model={MODEL}**")
    shown = format_mac(mac)  # the list writes MACs with separators
    expect(rows.filter(has_text=shown)).to_have_count(1)
    assert set(_column(page, "Model")) == {MODEL}

    rows.filter(has_text=shown).get_by_role("link", name=shown).click()
    expect(page.locator("#device-details h4")).to_contain_text(shown)  # as the list wrote it
    chart = page.locator("#usage-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline.ymcs-cpu")).to_have_count(1)
    expect(chart.locator("polyline.ymcs-memory")).to_have_count(1)
    page.locator("#range-7d").click()
    page.wait_for_url("**range=7d**")
    expect(page.locator("#usage-chart svg polyline.ymcs-cpu")).to_have_count(1)


def test_enterprise_filter_searches_as_you_type(page_as, device):
    mac, _device_id = device
    page = page_as(ACME)
    _open_list(page)
    page.locator(".ymcs-enterprise-filter .select2-selection").click()
    page.locator(".select2-search__field").fill("Acme H")
    page.locator(".select2-results").get_by_role("option", name=ACME_HOTEL, exact=True).click()
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url("**enterprise=**")
    expect(page.locator(".ymcs-list tbody tr").filter(has_text=format_mac(mac))).to_have_count(1)
    assert set(_column(page, "Enterprise")) == {ACME_HOTEL}


def test_queue_a_ping_without_connecting_and_see_it_queued(live_server, page_as, device):
    mac, device_id = device
    page = page_as(ACME)
    _open_device(page, mac, device_id)
    page.locator("#tab-link-ping").click()
    form = page.locator("#command-ping")
    form.get_by_label("Host").fill("sip.example.com")
    form.get_by_label("Connect now").uncheck()
    form.get_by_role("button", name="Ping").click()
    expect_message(page, "success", "Ping was queued; it runs at the device's next contact.")
    first = page.locator("#command-history tbody tr").first
    expect(first).to_contain_text("Ping")
    expect(first).to_contain_text("sip.example.com, 4 packets")
    expect(first.locator(".ymcs-command-status")).to_have_text("Queued")
    assert _commands(live_server, device_id) == [("ping", "queued")]


def test_reboot_asks_first(live_server, page_as, device):
    mac, device_id = device
    page = page_as(ACME)
    _open_device(page, mac, device_id)
    page.locator("#tab-link-reboot").click()
    button = page.locator("#submit-reboot")
    page.locator("#reboot-connect-now").uncheck()

    messages = []
    button.click()
    messages.append(confirm_modal(page, accept=False)[0])
    expect(page.locator("#no-commands")).to_be_visible()
    assert messages and "Reboot this device?" in messages[0]
    assert _commands(live_server, device_id) == []

    button.click()
    messages.append(confirm_modal(page)[0])
    expect(page.locator("#command-history tbody tr").first).to_contain_text("Reboot")
    assert len(messages) == 2
    assert _commands(live_server, device_id) == [("reboot", "queued")]


def test_device_access_generates_the_password_once_asked(live_server, page_as):
    page = page_as(ACME)
    menu = page.locator(".navbar").first
    menu.get_by_role("link", name="Device Management").click()
    menu.get_by_role("link", name="Device Access").click()
    page.wait_for_url("**/deviceaccess/**")
    page.locator("#access-enterprise + .select2 .select2-selection").click()
    page.locator(".select2-results").get_by_role("option", name="Kaixin Trading").click()
    page.wait_for_url("**enterprise=**")
    expect(page.locator("#acs-url")).to_have_text(f"{live_server.url}/acs")
    expect(page.locator("#acs-username")).to_contain_text("ent")
    with live_server.app.app_context():
        had = db.session.execute(select(Enterprise.acs_password).where(
            Enterprise.name == "Kaixin Trading")).scalar()
        db.session.remove()
    if not had:
        page.locator("#acs-generate").click()
        expect_message(page, "success", "A device password was made")
    field = page.locator("#acs-password")
    expect(field).to_have_attribute("type", "password")
    page.locator("#acs-password-toggle").click()
    expect(field).to_have_attribute("type", "text")
    assert len(field.input_value()) >= 20


def test_add_a_device_by_mac_then_remove_it_after_confirming(live_server, page_as):
    mac = "0015" + uuid.uuid4().hex[:8]
    page = page_as(ACME)
    _open_list(page)
    page.locator("#device-add").click()
    page.wait_for_url("**/devicemodelview/register**")
    page.locator("#register-enterprise + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill("Acme H")
    page.locator(".select2-results").get_by_role("option", name=ACME_HOTEL, exact=True).click()
    page.locator("#register-mac").fill(":".join(mac[i:i + 2] for i in range(0, 12, 2)).upper())
    page.locator("#register-save").click()
    shown = format_mac(mac)  # as people write it, whatever was typed
    expect_message(page, "success", f"{shown} is registered to {ACME_HOTEL}")
    expect(page.locator("#device-details h4")).to_contain_text(f"Device {shown}")
    expect(page.locator("#device-status")).to_have_text("Offline")

    page.locator("#device-remove button").click()
    confirm_modal(page, accept=False)
    expect(page.locator("#device-details h4")).to_contain_text(shown)
    with live_server.app.app_context():  # dismissed: still registered
        assert db.session.execute(select(Device).where(Device.mac == mac)).first() is not None
        db.session.remove()

    page.locator("#device-remove button").click()
    confirm_modal(page)
    page.wait_for_url("**/devicemodelview/list/**")
    expect_message(page, "success", f"{shown} was removed.")
    with live_server.app.app_context():
        assert db.session.execute(select(Device).where(Device.mac == mac)).first() is None
        db.session.remove()
