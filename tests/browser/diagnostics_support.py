"""Shared by the diagnostic page's browser tests (test_diagnostics_tools*.py): a simulated video
conferencing system connected to the live portal over real HTTP (one per test module), a
browser context signed in as Acme Telecom (one per module), and the steps every tool's test
takes - open a tool, submit its form, wait for the device's answer to show.

A module's tests share the phone, so each sets what it asserts and waits for the command its
own click queued (the page that the click's form answers with shows it), never for "a" done
command of the tool."""

import secrets
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.device_ops import auth, vendor_map
from app.device_ops.simulator.fleet import SimulatedPhone, serve_connection_requests
from app.extensions import db
from app.models import Device, Enterprise

from ..helpers import PATIENCE
from .conftest import TIMEOUT_MS, login_through_form

ACME = "acme@ymcs.example"  # the channel Acme Telecom, which Acme Hotel Group authorizes
ACME_HOTELS = "Acme Hotel Group"
VC = {"model": "VC800", "firmware": "63.32.0.40"}  # takes log settings (XX.32.0.35 or later)


def connect_phone(live_server, enterprise_name=ACME_HOTELS, **options):
    """A simulated phone of ``enterprise_name`` that has had its first session with the
    portal, listening for connection requests. Returns (phone, listener); close both."""
    with live_server.app.app_context():
        enterprise = db.session.execute(
            select(Enterprise).where(Enterprise.name == enterprise_name)).scalar_one()
        user, password = enterprise.acs_username, auth.ensure_acs_password(db.session,
                                                                            enterprise)
        db.session.commit()
        db.session.remove()
    phone = SimulatedPhone(f"{live_server.url}/acs", "0015" + secrets.token_hex(4),
                           username=user, password=password, auth="digest",
                           **{**VC, **options})
    listener = serve_connection_requests([phone])
    log = phone.run_session()
    assert log.error is None, log.error
    assert phone.wait_idle(PATIENCE)
    with live_server.app.app_context():
        phone.device_id = db.session.execute(
            select(Device.id).where(Device.mac == phone.mac)).scalar_one()
        db.session.remove()
    phone.listener = listener
    return phone


def disconnect_phone(phone):
    phone.close()
    phone.listener.shutdown()


@pytest.fixture(scope="module")
def vc(live_server):
    """One simulated VC800 for the module's tests."""
    phone = connect_phone(live_server)
    try:
        yield phone
    finally:
        disconnect_phone(phone)


@pytest.fixture(scope="module")
def acme_context(browser, live_server):
    """A browser context signed in once as Acme Telecom's master account, for the module."""
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    from app.demo import DEMO_PASSWORD

    login_through_form(context.new_page(), ACME, DEMO_PASSWORD).close()
    yield context
    context.close()


@pytest.fixture
def acme(acme_context, request, tmp_path):
    """A new page of the signed-in context; kept as a screenshot if the test fails."""
    page = acme_context.new_page()
    yield page
    if getattr(request.node, "browser_test_failed", False):
        path = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of {page.url} at failure: {path}")
        except Exception as exc:  # noqa: BLE001 - best effort, the test already failed
            print(f"no failure screenshot: {exc}")
    page.close()


def value_on(phone, key):
    """What the simulated device holds for vendor parameter ``key``."""
    return phone.value(vendor_map.PARAMETERS[key].path)


def open_tool(page, device_id, tool):
    """The diagnostic page, the tool chosen on the left as a user does."""
    page.goto(f"/diagnostics/{device_id}")
    page.locator(f"#nav-{tool}").click()
    expect(page.locator(f"#tool-{tool}")).to_be_visible()
    return page


def submit(page, button):
    """Click a tool's button and wait for the page its form answers with (the old page is
    marked, so no wait can be satisfied by what it still shows)."""
    page.evaluate("document.body.dataset.beforeSubmit = '1'")
    page.locator(button).click()
    expect(page.locator("body[data-before-submit]")).to_have_count(0, timeout=TIMEOUT_MS)


def run(page, button, message="Sent to the device's queue."):
    """Submit, and see the portal say it went to the device's queue (or ``message``)."""
    submit(page, button)
    if message:
        expect(page.locator(".alert-success").filter(has_text=message)).to_be_visible()


def state(page, tool):
    return page.locator(f"#state-{tool}")


def done(page, tool, text=None):
    """Wait for the tool's latest command to show as done (the polling script swaps it in)."""
    box = state(page, tool)
    expect(box.locator(".ymcs-tool-status").first).to_have_attribute("data-status", "done",
                                                                     timeout=TIMEOUT_MS)
    if text:
        expect(box).to_contain_text(text)
    return box


def downloaded(page, locator):
    """Click a download link; (suggested file name, bytes)."""
    with page.expect_download() as info:
        locator.click()
    download = info.value
    with open(download.path(), "rb") as source:
        return download.suggested_filename, source.read()


def device_row(live_server, **fields):
    """A device of Acme Hotel Group added straight to the database (no phone behind it)."""
    with live_server.app.app_context():
        enterprise = db.session.execute(
            select(Enterprise).where(Enterprise.name == ACME_HOTELS)).scalar_one()
        device = Device(mac="02bb" + secrets.token_hex(4), enterprise=enterprise, **fields)
        db.session.add(device)
        db.session.commit()
        out = SimpleNamespace(id=device.id, mac=device.mac)
        db.session.remove()
    return out
