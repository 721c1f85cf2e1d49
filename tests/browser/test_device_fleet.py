"""A simulated phone really connects: it enrolls with the demo enterprise's ACS credentials,
shows up online in Platform Device with its CPU/memory chart, and a command queued in the
browser with "Connect now" reaches it through a real connection request and comes back with
the phone's answer."""

import secrets

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.show import format_mac
from app.device_ops import auth
from app.device_ops.simulator.fleet import SimulatedPhone, serve_connection_requests
from app.extensions import db
from app.models import Device, DeviceCommand, Enterprise

from ..helpers import PATIENCE, wait_until
from .conftest import expect_message

ACME = "acme@ymcs.example"


@pytest.fixture
def phone(live_server):
    with live_server.app.app_context():
        enterprise = db.session.execute(
            select(Enterprise).where(Enterprise.name == "Acme Hotel Group")).scalar_one()
        user, password = enterprise.acs_username, auth.ensure_acs_password(db.session,
                                                                            enterprise)
        db.session.commit()
        db.session.remove()
    phone = SimulatedPhone(f"{live_server.url}/acs", "0015" + secrets.token_hex(4),
                           username=user, password=password, auth="digest")
    listener = serve_connection_requests([phone])
    try:
        for events in (None, ["2 PERIODIC"]):  # bootstrap, then a periodic Inform
            log = phone.run_session(events)
            assert log.error is None, log.error
        assert phone.wait_idle(PATIENCE)
        with live_server.app.app_context():
            phone.device_id = db.session.execute(
                select(Device.id).where(Device.mac == phone.mac)).scalar_one()
            db.session.remove()
        yield phone
    finally:
        phone.close()
        listener.shutdown()


def _last_command_status(live_server, device_id):
    with live_server.app.app_context():
        status = db.session.execute(
            select(DeviceCommand.status).where(DeviceCommand.device_id == device_id)
            .order_by(DeviceCommand.id.desc()).limit(1)).scalar()
        db.session.remove()
    return status and status.value


def test_a_connected_phone_is_online_and_answers_a_command_from_the_browser(live_server,
                                                                           page_as, phone):
    page = page_as(ACME)
    page.goto(f"/devicemodelview/list/?q={phone.mac}")
    row = page.locator(".ymcs-list tbody tr").filter(has_text=format_mac(phone.mac))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Online")
    expect(row).to_contain_text("SIP-T54W")
    row.get_by_role("link", name=format_mac(phone.mac)).click()
    expect(page.locator("#device-details h4")).to_contain_text(format_mac(phone.mac))
    expect(page.locator("#usage-chart svg polyline.ymcs-cpu")).to_have_count(1)

    page.locator("#tab-link-get_parameters").click()
    form = page.locator("#command-get_parameters")
    form.locator("textarea[name=names]").fill("Device.DeviceInfo.SerialNumber")
    expect(form.get_by_label("Connect now")).to_be_checked()
    form.locator("button[type=submit]").click()
    expect_message(page, "success", "The device was asked to connect now.")
    # The phone's session runs beside the page (the page does not poll): once the phone has
    # answered and is idle, the page as reloaded shows the answer.
    wait_until(lambda: _last_command_status(live_server, phone.device_id) == "done",
               what="the phone's answer")
    assert phone.wait_idle(PATIENCE)
    page.reload()
    serial = phone.value("Device.DeviceInfo.SerialNumber")
    first = page.locator("#command-history tbody tr").first
    expect(first.locator(".ymcs-command-status")).to_have_text("Done")
    expect(first).to_contain_text(f"Device.DeviceInfo.SerialNumber = {serial}")
