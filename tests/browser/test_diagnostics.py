"""The device diagnostic page in a real browser (issue 16), against a simulated video
conferencing system connected to the live portal: each tool run from its form, its progress
replaced in the page by the polling script (no reload), its file downloaded or shown.
Two tests cover all the tools to keep the suite quick."""

import re
import secrets

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.device_ops import auth
from app.device_ops.simulator.fleet import SimulatedPhone, serve_connection_requests
from app.extensions import db
from app.models import Device, Enterprise

from ..helpers import PATIENCE
from .conftest import expect_message

ACME = "acme@ymcs.example"  # the channel Acme Telecom, which Acme Hotel Group authorizes


@pytest.fixture
def vc(live_server):
    with live_server.app.app_context():
        enterprise = db.session.execute(
            select(Enterprise).where(Enterprise.name == "Acme Hotel Group")).scalar_one()
        user, password = enterprise.acs_username, auth.ensure_acs_password(db.session,
                                                                            enterprise)
        db.session.commit()
        db.session.remove()
    phone = SimulatedPhone(f"{live_server.url}/acs", "0015" + secrets.token_hex(4),
                           username=user, password=password, auth="digest", model="VC800",
                           firmware="63.32.0.40")
    listener = serve_connection_requests([phone])
    try:
        log = phone.run_session()
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


def _state(page, tool):
    return page.locator(f"#state-{tool}")


def _done(page, tool, text=None):
    state = _state(page, tool)
    expect(state.locator(".ymcs-tool-status")).to_have_attribute("data-status", "done")
    if text:
        expect(state).to_contain_text(text)
    return state


def test_device_tools_run_from_the_page_and_their_results_appear_without_reloading(
        live_server, page_as, vc):
    page = page_as(ACME)
    page.goto(f"/devicemodelview/show/{vc.device_id}")
    page.locator("#device-diagnose").click()
    expect(page.locator("#diagnostics-header h4")).to_contain_text(vc.mac)

    # Network: ping this platform's host (the default), then a trace route
    expect(page.locator("#network-host")).to_have_value("127.0.0.1")
    page.locator("#run-network").click()
    expect_message(page, "success", "Sent to the device's queue.")
    _done(page, "network", "Replies 4, lost 0")
    page.locator("#network-traceroute").check()
    page.locator("#network-host").fill("sip.example.com")
    page.locator("#run-network").click()
    _done(page, "network", "100.64.0.1")

    # Export system log, export config (static settings): downloads
    page.locator("#nav-syslog").click()  # one tool at a time, chosen on the left
    page.locator("#run-syslog").click()
    with page.expect_download() as download:
        _done(page, "syslog").locator(".ymcs-download").click()
    assert download.value.suggested_filename.startswith(f"{vc.mac}-syslog-")
    page.locator("#nav-config").click()
    page.locator("#config-export").select_option("config_static")
    page.locator("#run-config").click()
    with page.expect_download() as download:
        _done(page, "config", "cfg: static settings").locator(".ymcs-download").click()
    assert download.value.suggested_filename.endswith(".cfg")

    # Screenshot: the image is shown
    page.locator("#nav-screenshot").click()
    page.locator("#run-screenshot").click()
    image = _done(page, "screenshot").locator("img.ymcs-screenshot")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 64",
                           arg=image.element_handle())

    # Packet capture: the filter only for Custom; start, finish, download the pcap
    page.locator("#nav-capture").click()
    expect(page.locator("#capture-filter")).to_be_hidden()
    page.locator("#capture-type").select_option("Custom")
    expect(page.locator("#capture-filter")).to_be_visible()
    page.locator("#capture-filter").fill("udp port 5060")
    page.locator("#capture-start").click()
    expect(_state(page, "capture").locator(".ymcs-capture-state")).to_contain_text("Capturing")
    page.locator("#capture-stop").click()
    expect(_state(page, "capture").locator(".ymcs-capture-state")).to_contain_text(
        "Not capturing")
    with page.expect_download() as download:
        _state(page, "capture").locator(".ymcs-download").last.click()
    assert download.value.suggested_filename.endswith(".pcap")

    # Recordings: the switch, then a recording to play in the page
    page.locator("#nav-recordings").click()
    page.locator("#recording-auto-upload").check()
    page.locator("#save-recording-switch").click()
    _done(page, "recordings")
    page.locator("#run-recordings").click()
    audio = _state(page, "recordings").locator("audio.ymcs-audio")
    expect(audio).to_have_count(1)

    # CPU and memory: refresh, the Memory tab with the detailed text and its copy button
    page.locator("#nav-cpu").click()
    page.locator("#run-cpu").click()
    _done(page, "cpu", "CPU")
    page.locator("#memory-tab-link").click()
    expect(page.locator("#memory-detail")).to_contain_text("MemTotal:")
    page.locator("#copy-memory").click()
    expect(page.locator("#copy-memory")).to_have_text("Copied")
    page.reload()  # the tool shown stays shown
    expect(page.locator("#tool-cpu")).to_be_visible()
    expect(page.locator("#tool-network")).to_be_hidden()


def test_log_settings_backups_assistance_and_end_of_diagnosis(live_server, page_as, vc):
    app = live_server.app
    app.config["DIAGNOSIS_SUPPORT_ADDRESS"] = "support@vendor.example"
    try:
        page = page_as(ACME)
        page.goto(f"/diagnostics/{vc.device_id}")
        page.locator("#nav-log_settings").click()
        expect(page.locator("#log-support")).to_contain_text("XX.32.0.35")
        page.locator("#read-log-settings").click()  # the device's current values
        _done(page, "log_settings", "Current values read")
        page.reload()
        expect(page.locator("#syslog-port")).to_have_value("514")

        page.locator("#log-level").select_option("5")
        page.locator("#save-log-level").click()
        _done(page, "log_settings")
        page.locator("#module-type").select_option("Driver")
        page.locator("#module-level").select_option("6")
        page.locator("#save-module-log").click()
        _done(page, "log_settings")
        page.locator("#local-level").select_option("3")
        page.locator("#save-local-log").click()
        _done(page, "log_settings")
        page.reload()
        driver = page.locator("#exported-levels tbody tr").filter(has_text="Driver").locator("td")
        expect(driver).to_have_text(["Driver", "6", "3", "3"])  # min(6, 3); syslog level 3
        page.locator("#backup-url").fill("https://logs.example.com/up")
        page.locator("#backup-password").fill("Pa55-word!")
        page.locator("#save-log-backup-server").click()
        _done(page, "log_settings")
        expect(page.locator("#backup-password")).to_have_value("")

        # Log data backup on; a backup now, then two downloaded as one zip
        page.locator("#log-data-backup").check()
        page.locator("#save-log-data-backup").click()
        expect_message(page, "success", "Log data backup is on")
        page.locator("#nav-backups").click()
        for _ in range(2):
            page.locator("#run-backups").click()
            _done(page, "backups")
        rows = _state(page, "backups").locator(".ymcs-file-row")
        expect(rows).to_have_count(2)
        rows.nth(0).locator("input[name=ids]").check()
        rows.nth(1).locator("input[name=ids]").check()
        with page.expect_download() as download:
            page.locator("#backups-download-selected").click()
        assert download.value.suggested_filename.endswith(".zip")

        # Diagnosis assistance: the sender sees it went into the outbox
        page.locator("#nav-assist").click()
        page.locator("#assist-description").fill("One-way audio since Monday")
        page.locator("#run-assist").click()
        expect_message(page, "success", "support@vendor.example")
        expect(page.locator("#assist-history")).to_contain_text("One-way audio")

        page.locator("#end-diagnosis").click()  # back to the alarm list
        expect(page).to_have_url(re.compile(re.escape(f"{live_server.url}/alarms/list/")))
    finally:
        app.config["DIAGNOSIS_SUPPORT_ADDRESS"] = ""
