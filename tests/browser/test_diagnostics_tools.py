"""The diagnostic page's device tools in a real browser (issue 16), one test per tool: a
simulated VC800 answers over real HTTP (woken by connection requests), the user clicks
through the page, sees the progress then the result swapped in without a reload, and
downloads or sees the device's file. The log settings, backups, assistance, an offline device
and the page in Chinese are in test_diagnostics_tools_logs.py."""

import re

from playwright.sync_api import expect

from app.core.show import format_mac
from app.device_ops import vendor_map
from app.device_ops.simulator import vendor as sim_vendor
from app.extensions import db
from app.models import CommandStatus, DeviceCommand

from ..helpers import PATIENCE, wait_until
from . import diagnostics_support as support
from .diagnostics_support import done, downloaded, open_tool, run, state, value_on

vc, acme_context, acme = support.vc, support.acme_context, support.acme  # the module's fixtures


def test_ping_shows_progress_then_the_result(acme, vc):
    page = acme
    page.goto(f"/devicemodelview/show/{vc.device_id}")
    page.locator("#device-diagnose").click()  # from the device's page
    expect(page.locator("#diagnostics-header h4")).to_contain_text(
        f"Device diagnostics: {format_mac(vc.mac)}")  # separated, as the device list
    expect(page.locator("#tool-network")).to_be_visible()  # the first tool
    expect(page.locator("#network-host")).to_have_value("127.0.0.1")  # this platform's host

    # The device does not answer the connection request this time: the ping waits in its
    # queue, and the page says so while it waits.
    vc.listener.phones.pop(vc.mac)
    try:
        page.locator("#network-count").select_option("10")
        run(page, "#run-network", message=None)
        expect(page.locator(".alert-warning").filter(
            has_text="Sent to the device's queue.")).to_be_visible()
        expect(state(page, "network").locator(".ymcs-tool-status")).to_have_attribute(
            "data-status", "queued")
        expect(state(page, "network").locator(".fa-spinner")).to_be_visible()
    finally:
        vc.listener.phones[vc.mac] = vc
    assert vc.run_session().error is None  # its next periodic contact takes the ping
    box = done(page, "network", "Replies 10, lost 0")
    expect(box).to_contain_text(re.compile(r"Round trip min/avg/max: \d+/\d+/\d+ ms"))
    expect(box.locator(".fa-spinner")).to_have_count(0)
    assert "Ping 127.0.0.1" in box.inner_text()


def test_trace_route_lists_the_hops(acme, vc):
    page = open_tool(acme, vc.device_id, "network")
    page.locator("#network-traceroute").check()
    page.locator("#network-host").fill("sip.example.com")
    run(page, "#run-network")
    box = done(page, "network", "Trace route to sip.example.com")
    hops = box.locator(".ymcs-traceroute li")
    expect(hops).to_have_count(3)
    expect(hops.nth(1)).to_contain_text("100.64.0.1")
    expect(hops.nth(2)).to_contain_text(re.compile(r"sip\.example\.com \(198\.51\.100\.\d+\)"))


def test_export_system_log_then_download_it(acme, vc):
    page = open_tool(acme, vc.device_id, "syslog")
    run(page, "#run-syslog")
    name, data = downloaded(page, done(page, "syslog", "Uploaded").locator(".ymcs-download"))
    assert re.fullmatch(rf"{vc.mac}-syslog-\d{{8}}-\d{{6}}-\d+\.log", name), name
    assert data.count(b"\n") > 10 and b"\x00" not in data


def test_export_config_file_as_cfg_and_bin(acme, vc):
    page = open_tool(acme, vc.device_id, "config")
    page.locator("#config-export").select_option("config_non_static")
    run(page, "#run-config")
    name, data = downloaded(page, done(page, "config", "cfg: non-static settings")
                            .locator(".ymcs-download"))
    assert name.endswith(".cfg") and b"non-static settings" in data
    assert b"static.syslog.level" not in data  # only the non-static ones

    page.locator("#config-export").select_option("config_bin")
    run(page, "#run-config")
    name, data = downloaded(page, done(page, "config", "bin").locator(".ymcs-download"))
    assert name.endswith(".bin") and data.startswith(b"YLBK")


def test_cpu_and_memory_refresh_tabs_and_copy(acme, vc, acme_context):
    acme_context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = open_tool(acme, vc.device_id, "cpu")
    run(page, "#run-cpu")
    box = done(page, "cpu", "Current values read")
    expect(box.locator(".ymcs-cpu-latest")).to_contain_text(re.compile(r"CPU \d+%"))
    expect(box.locator(".ymcs-cpu-latest")).to_contain_text(re.compile(r"memory used \d+%"))
    expect(page.locator("#cpu-tab")).to_be_visible()  # the CPU tab first, with its chart
    expect(page.locator("#cpu-tab svg")).to_have_count(1)
    expect(page.locator("#memory-tab")).to_be_hidden()
    page.locator("#memory-tab-link").click()
    expect(page.locator("#memory-tab")).to_be_visible()
    expect(page.locator("#cpu-tab")).to_be_hidden()
    expect(page.locator("#memory-tab svg")).to_have_count(1)
    expect(page.locator("#memory-detail")).to_contain_text("MemTotal:")
    page.locator("#copy-memory").click()
    expect(page.locator("#copy-memory")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("MemTotal:") and "MemFree:" in copied
    page.reload()  # the tool shown stays shown
    expect(page.locator("#tool-cpu")).to_be_visible()
    expect(page.locator("#tool-network")).to_be_hidden()


def test_packet_capture_start_finish_download(acme, vc):
    page = open_tool(acme, vc.device_id, "capture")
    expect(page.locator("#capture-filter")).to_be_hidden()  # only for Custom
    page.locator("#capture-interface").select_option("LAN")
    page.locator("#capture-type").select_option("Custom")
    expect(page.locator("#capture-filter")).to_be_visible()
    page.locator("#capture-filter").fill("udp port 5060")
    run(page, "#capture-start")
    done(page, "capture", "Capture state read")  # the device's own state, read after Start
    expect(state(page, "capture").locator(".ymcs-capture-state")).to_contain_text("Capturing")
    assert (value_on(vc, "capture.interface"), value_on(vc, "capture.type"),
            value_on(vc, "capture.filter")) == ("LAN", "Custom", "udp port 5060")

    run(page, "#capture-stop")
    done(page, "capture", "Capture state read")
    expect(state(page, "capture").locator(".ymcs-capture-state")).to_contain_text(
        "Not capturing")
    link = state(page, "capture").locator(".ymcs-download").last
    name, data = downloaded(page, link)
    assert name.endswith(".pcap") and data[:4] == b"\xd4\xc3\xb2\xa1"  # libpcap, little-endian

    # a capture started on the device itself: asked, the device says it is capturing
    vc.model.set_local(vendor_map.PARAMETERS["capture.status"].path, "Capturing")
    run(page, "#capture-read")
    done(page, "capture")
    expect(state(page, "capture").locator(".ymcs-capture-state")).to_contain_text("Capturing")
    expect(state(page, "capture").locator(".ymcs-capture-state")).not_to_contain_text("Not")


def test_recordings_switch_play_and_download(live_server, acme, vc):
    page = open_tool(acme, vc.device_id, "recordings")
    page.locator("#recording-auto-upload").check()
    run(page, "#save-recording-switch")
    done(page, "recordings", "Applied")
    assert value_on(vc, "recording.auto_upload") == "1"

    # A call recording ends on the device: with automatic upload on it sends it up.
    with live_server.app.app_context():
        before = db.session.query(DeviceCommand).filter_by(device_id=vc.device_id).count()
        db.session.remove()
    assert sim_vendor.finish_recording(vc)
    assert vc.wait_idle(PATIENCE)

    def uploaded():
        with live_server.app.app_context():
            try:
                return db.session.query(DeviceCommand).filter(
                    DeviceCommand.device_id == vc.device_id, DeviceCommand.kind == "upload",
                    DeviceCommand.status == CommandStatus.done,
                    DeviceCommand.arguments.contains(vendor_map.file_type("recording")),
                    DeviceCommand.id > before).count()
            finally:
                db.session.remove()

    wait_until(uploaded, what="the recording uploaded")
    page.reload()
    row = state(page, "recordings").locator(".ymcs-file-row").first
    audio = row.locator("audio.ymcs-audio")
    expect(audio).to_have_count(1)
    page.wait_for_function("a => { a.load(); return true; }", arg=audio.element_handle())
    page.wait_for_function("a => a.readyState >= 1 && a.duration > 0.9",
                           arg=audio.element_handle())  # the browser reads a 1 s WAV
    name, data = downloaded(page, row.locator(".ymcs-download"))
    assert name.endswith(".wav") and data[:4] == b"RIFF" and data[8:12] == b"WAVE"

    # ... and one fetched now, on request
    rows = state(page, "recordings").locator(".ymcs-file-row").count()
    run(page, "#run-recordings")
    done(page, "recordings")
    expect(state(page, "recordings").locator(".ymcs-file-row")).to_have_count(rows + 1)


def test_screenshot_capture_and_reacquire(acme, vc):
    page = open_tool(acme, vc.device_id, "screenshot")
    run(page, "#run-screenshot")
    image = done(page, "screenshot", "Uploaded").locator("img.ymcs-screenshot")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 64",
                           arg=image.element_handle())
    first = image.get_attribute("src")

    run(page, "#run-screenshot")  # re-acquire: a new image
    image = done(page, "screenshot").locator("img.ymcs-screenshot")
    expect(image).not_to_have_attribute("src", first)
    page.wait_for_function("img => img.complete && img.naturalHeight === 40",
                           arg=image.element_handle())
    name, data = downloaded(page, state(page, "screenshot").locator(".ymcs-download"))
    assert name.endswith(".png") and data.startswith(b"\x89PNG")
