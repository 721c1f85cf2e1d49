"""The device diagnostic page over HTTP (issue 16): each tool driven from the page's forms, a
simulated phone answering over real HTTP (connection request, CWMP session, upload), its
progress read from the status endpoint the page polls, its files downloaded; a device fault,
a device that never answers, offline devices, and other trees' devices, commands and files
answering 404.

No test here holds the ``db_session`` fixture: its app context would be the signed-in
requests' own (one ``g`` for all of them) and, on MariaDB, its transaction would hold the
sign-in up. The database is read in short app contexts (``db_read``)."""

import datetime
import io
import json
import os
import secrets
import zipfile

import pytest
from sqlalchemy import select

from app.core.mail import send_due_mail
from app.core.show import format_mac
from app.device_ops import commands, diagnostics_files, vendor_map
from app.device_ops.diagnostics_models import DeviceDiagnostics, DiagnosisRequest
from app.device_ops.simulator import vendor as sim_vendor
from app.device_ops.simulator.fleet import Fleet
from app.device_ops.simulator.quirks import Quirks
from app.extensions import db
from app.models import Device, DeviceCommand, OperationLog, OutboxMessage, utcnow

from ..acs_support import credentials, give_quota
from ..helpers import PATIENCE, wait_until
from ..tree import PASSWORD

VC = {"model": "VC800", "firmware": "63.32.0.40"}  # takes log settings (XX.32.0.35 or later)


def db_read(app, read):
    """``read(session)`` in an app context of its own, closed at once."""
    with app.app_context():
        try:
            return read(db.session)
        finally:
            db.session.remove()


def page_of(client, device_id):
    r = client.get(f"/diagnostics/{device_id}")
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def status_of(client, device_id):
    r = client.get(f"/diagnostics/{device_id}/status")
    assert r.status_code == 200
    return r.get_json()


def run_tool(client, device_id, tool, data=None, phone=None):
    """Post a tool's form as the page does, then poll the status endpoint as the page's script
    does until nothing runs; the tool's state (HTML)."""
    r = client.post(f"/diagnostics/{device_id}/run/{tool}", data=data or {})
    assert r.status_code == 302 and f"/diagnostics/{device_id}" in r.headers["Location"]
    wait_until(lambda: not status_of(client, device_id)["busy"], what=f"{tool} to finish")
    if phone is not None:
        assert phone.wait_idle(PATIENCE)
    return status_of(client, device_id)["tools"][tool]["html"]


def latest(app, device_id, kind=None):
    def read(session):
        query = select(DeviceCommand).where(DeviceCommand.device_id == device_id)
        if kind:
            query = query.where(DeviceCommand.kind == kind)
        return session.execute(query.order_by(DeviceCommand.id.desc()).limit(1)).scalar_one()
    return db_read(app, read)


def file_url(html):
    start = html.index("/diagnostics/")
    return html[start:html.index('"', start)]


@pytest.fixture
def sim(app, acs_url, fresh_tree):
    """(tree, phones(count, **options)): simulated phones of the tree's enterprise E, each
    through its bootstrap session; ``phone.device_id`` is its row."""
    t = fresh_tree

    def prepare(session):
        give_quota(session, t.E, 20)
        return credentials(session, t.E)

    user, password = db_read(app, prepare)
    fleets = []

    def phones(count=1, **options):
        f = Fleet(acs_url, count, mac_prefix="02" + secrets.token_hex(2), username=user,
                  password=password, auth="digest", jitter=False, **options)
        fleets.append(f)
        assert f.run_once(timeout=PATIENCE), [s.error for p in f.phones for s in p.sessions]
        for phone in f.phones:
            phone.device_id = db_read(app, lambda s, mac=phone.mac: s.execute(
                select(Device.id).where(Device.mac == mac)).scalar_one())
        return f.phones

    yield t, phones
    for f in fleets:
        f.stop()


@pytest.fixture
def vc(sim, login):
    """A video conferencing system and the channel C's master signed in (C manages E, which
    authorizes it)."""
    t, phones = sim
    return phones(1, **VC)[0], login(t.c_email, PASSWORD)


# --- the page ---------------------------------------------------------------------------------

def test_the_page_opens_from_the_device_page_and_lists_every_tool(vc):
    phone, client = vc
    show = client.get(f"/devicemodelview/show/{phone.device_id}").get_data(as_text=True)
    assert f'href="/diagnostics/{phone.device_id}"' in show and "Diagnose" in show
    page = page_of(client, phone.device_id)
    assert f"Device diagnostics: {format_mac(phone.mac)}" in page  # separated, as listed
    for title in ("Diagnosing the Network", "Export System Log", "Export Config File",
                  "CPU and Memory Status", "Log Settings", "Backup Logs", "Packet Capture",
                  "Screenshot", "Recordings", "Diagnosis Assistance", "End diagnosis"):
        assert title in page, title
    assert 'id="network-host" name="host" maxlength="253" value="localhost"' in page
    # no alarm list in this build: End diagnosis goes back to the device page
    assert 'id="end-diagnosis" href="/alarms/list/"' in page  # back to the alarm list
    # online, a VC800 on 63.32.0.40: every tool is on but assistance (no support address set)
    assert page.count("ymcs-refusal") == 1 and "No support address is set" in page


def test_the_page_is_in_chinese_too(vc):
    phone, client = vc
    client.get("/lang/zh")
    page = page_of(client, phone.device_id)
    for text in ("网络诊断", "导出系统日志", "抓包", "截屏", "结束诊断"):
        assert text in page, text
    client.get("/lang/en")


# --- the tools, against a simulated phone -----------------------------------------------------

def test_network_ping_and_trace_route_show_their_figures(vc, app):
    phone, client = vc
    html = run_tool(client, phone.device_id, "network",
                    {"method": "ping", "host": "sip.example.com", "count": "4"}, phone)
    assert "Ping sip.example.com" in html and "Done" in html
    assert "Replies 4, lost 0" in html and "Round trip min/avg/max" in html
    html = run_tool(client, phone.device_id, "network",
                    {"method": "traceroute", "host": "sip.example.com"}, phone)
    assert "Trace route to sip.example.com" in html and "100.64.0.1" in html
    # the default target is this platform's host
    run_tool(client, phone.device_id, "network", {"method": "ping", "host": ""}, phone)
    assert json.loads(latest(app, phone.device_id, "ping").arguments)["host"] == "localhost"


def test_exports_screenshot_capture_and_recordings_come_back_as_checked_files(vc, app):
    phone, client = vc
    did = phone.device_id
    html = run_tool(client, did, "syslog", phone=phone)
    r = client.get(file_url(html))
    assert r.status_code == 200 and r.mimetype == "text/plain" and b"<134>" in r.data
    assert f"{phone.mac}-syslog-" in r.headers["Content-Disposition"]

    for export, expected in (("config_static", b"static.syslog.level"),
                             ("config_non_static", b"account.1.enable"),
                             ("config_all", b"#!version"), ("config_bin", b"YLBK")):
        html = run_tool(client, did, "config", {"export": export}, phone)
        body = client.get(file_url(html)).data
        assert expected in body, export
    assert latest(app, did).file_name.endswith(".bin")

    html = run_tool(client, did, "screenshot", phone=phone)
    assert 'class="img-responsive img-thumbnail ymcs-screenshot"' in html
    image = client.get(file_url(html) + "?inline=1")
    assert image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    assert "attachment" not in image.headers["Content-Disposition"]

    html = run_tool(client, did, "capture", {"action": "start", "interface": "LAN",
                                             "type": "SIP"}, phone)
    assert 'data-state="capturing"' in html  # what the device answered, read after Start
    assert phone.value(vendor_map.PARAMETERS["capture.state"].path) == "Start"
    assert phone.value(vendor_map.PARAMETERS["capture.type"].path) == "SIP"
    html = run_tool(client, did, "capture", {"action": "stop"}, phone)
    assert 'data-state="stopped"' in html and "Not capturing" in html
    capture = client.get(file_url(html))
    assert capture.data[:4] == b"\xd4\xc3\xb2\xa1"
    assert ".pcap" in capture.headers["Content-Disposition"]
    # started on the device itself: the page shows the device's state once asked
    phone.model.set_local(vendor_map.PARAMETERS["capture.status"].path, "Capturing")
    html = run_tool(client, did, "capture", {"action": "read"}, phone)
    assert 'data-state="capturing"' in html and "Capture state read" in html

    run_tool(client, did, "recordings", {"action": "switch", "auto_upload": "1"}, phone)
    assert phone.value(vendor_map.PARAMETERS["recording.auto_upload"].path) == "1"
    # a recording ends: the phone says so (vendor event), the ACS asks for it at once
    assert sim_vendor.finish_recording(phone) and phone.wait_idle(PATIENCE)
    wait_until(lambda: not status_of(client, did)["busy"])
    html = status_of(client, did)["tools"]["recordings"]["html"]
    assert html.count('<audio controls preload="none"') == 1
    html = run_tool(client, did, "recordings", {"action": "fetch"}, phone)  # or ask now
    assert html.count('<audio controls preload="none"') == 2
    audio = client.get(file_url(html) + "?inline=1")
    assert audio.mimetype == "audio/wav" and audio.data[8:12] == b"WAVE"

    # every download is in the operation log
    logged = db_read(app, lambda s: s.execute(select(OperationLog.path).where(
        OperationLog.path.like(f"/diagnostics/{did}/file/%"))).scalars().all())
    assert len(logged) == 8
    # switched off, a finished recording stays on the phone
    run_tool(client, did, "recordings", {"action": "switch"}, phone)
    assert not sim_vendor.finish_recording(phone)


def test_capture_custom_needs_its_filter(vc, app):
    phone, client = vc
    before = latest(app, phone.device_id).id
    r = client.post(f"/diagnostics/{phone.device_id}/run/capture",
                    data={"action": "start", "interface": "WAN", "type": "Custom"})
    assert r.status_code == 302
    assert "Enter the capture filter for the Custom type." in page_of(client, phone.device_id)
    assert latest(app, phone.device_id).id == before  # nothing queued
    run_tool(client, phone.device_id, "capture", {"action": "start", "interface": "WAN",
                                                  "type": "Custom",
                                                  "filter": "port 5060"}, phone)
    assert phone.value(vendor_map.PARAMETERS["capture.filter"].path) == "port 5060"


def test_cpu_refresh_reads_the_device_now_with_its_memory_text(vc):
    phone, client = vc
    html = run_tool(client, phone.device_id, "cpu", phone=phone)
    assert "Done" in html and "MemTotal:" in html and 'id="copy-memory"' in html
    assert 'id="cpu-tab"' in html and ('class="ymcs-cpu"' in html)
    assert 'class="ymcs-memory"' in html


def test_log_settings_reach_the_device_and_the_password_is_never_kept(vc, app):
    phone, client = vc
    did = phone.device_id
    p = vendor_map.PARAMETERS
    run_tool(client, did, "log_settings", {"section": "level", "level": "5"}, phone)
    assert phone.value(p["log.level"].path) == "5"
    run_tool(client, did, "log_settings", {"section": "module", "module": "All",
                                           "module_level": "6"}, phone)
    assert phone.value(p["module.Driver"].path) == "6"
    run_tool(client, did, "log_settings", {"section": "local", "local_enable": "1",
                                           "usb_export": "1", "local_level": "3",
                                           "max_size": "2048"}, phone)
    assert phone.value(p["local.max_size"].path) == "2048"
    run_tool(client, did, "log_settings", {
        "section": "syslog", "syslog_enable": "1", "server": "logs.example.com", "port": "6514",
        "transport": "TLS", "syslog_level": "4", "facility": "17", "prepend_mac": "1"}, phone)
    assert phone.value(p["syslog.transport"].path) == "TLS"
    assert phone.value(p["syslog.facility"].path) == "17"
    html = run_tool(client, did, "log_settings", {
        "section": "backup", "backup_enable": "1", "url": "https://logs.example.com/up",
        "username": "ops", "password": "Pa55-word!", "method": "PUT",
        "post_mode": "binary"}, phone)
    assert "Done" in html
    assert phone.value(p["backup.password"].path) == "Pa55-word!"
    command = latest(app, did, "set_parameters")
    assert "Pa55-word!" not in command.arguments and "sealed:" in command.arguments
    page = page_of(client, did)
    assert "Pa55-word!" not in page
    # the exported level: min(module 6, local 3) = 3, min(6, syslog 4) = 4
    table = page[page.index('id="exported-levels"'):]
    assert "<td>Driver</td><td>6</td><td>3</td><td>4</td>" in table
    stored = db_read(app, lambda s: s.get(Device, did).parameters)
    assert "Pa55-word!" not in stored and "sealed:" not in stored


def test_log_settings_are_off_for_a_phone_and_for_old_firmware(sim, login, app):
    t, phones = sim
    phone = phones(1)[0]
    old = phones(1, model="VC800", firmware="63.31.0.90")[0]
    client = login(t.c_email, PASSWORD)
    phone_page = page_of(client, phone.device_id)
    assert "Log settings are only for video conferencing systems" in phone_page
    assert "this device is a SIP-T54W" in phone_page
    assert "Log settings need firmware XX.32.0.35 or later; this device runs 63.31.0.90" in (
        page_of(client, old.device_id))
    r = client.post(f"/diagnostics/{phone.device_id}/run/log_settings",
                    data={"section": "level", "level": "3"})
    assert r.status_code == 302
    assert latest(app, phone.device_id).kind == "setup"  # nothing queued


def test_backup_logs_daily_job_keeps_seven_days_and_downloads_as_one_zip(vc, app):
    phone, client = vc
    did = phone.device_id
    html = run_tool(client, did, "log_settings", {"section": "data_backup", "log_backup": "1"},
                    phone)
    assert db_read(app, lambda s: s.get(DeviceDiagnostics, did).log_backup)
    assert 'data-status="done"' in html  # the device has the switch too (vendor_map)
    assert phone.value(vendor_map.PARAMETERS["log.data_backup"].path) == "1"
    # the daily job asks the device (once a day however often it runs)
    assert db_read(app, diagnostics_files.queue_daily_backups) >= 1
    assert db_read(app, diagnostics_files.queue_daily_backups) == 0
    run_tool(client, did, "backups", phone=phone)  # the device comes: both upload

    def uploaded(session):
        return [c.id for c in session.execute(select(DeviceCommand).where(
            DeviceCommand.device_id == did, DeviceCommand.kind == "upload")).scalars()
            if c.file_name]
    wait_until(lambda: len(db_read(app, uploaded)) == 2)
    html = status_of(client, did)["tools"]["backups"]["html"]
    ids = [int(part.split('"')[0]) for part in html.split('name="ids" value="')[1:]]
    assert sorted(ids) == sorted(db_read(app, uploaded))
    r = client.get(f"/diagnostics/{did}/backups.zip?ids={ids[0]}&ids={ids[1]}")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    assert len(names) == 2 and all(n.startswith(phone.mac + "-backup_log-") for n in names)
    assert client.get(f"/diagnostics/{did}/backups.zip").status_code == 302  # none chosen

    # older than 7 days: removed by the job, with its file
    def age(session):
        old = session.get(DeviceCommand, ids[1])
        old.created_on = utcnow() - datetime.timedelta(days=8)
        session.commit()
        from app.exports.jobs import file_store_dir

        return os.path.join(file_store_dir(), old.file_name)
    path = db_read(app, age)
    assert os.path.exists(path)
    db_read(app, lambda _s: diagnostics_files.backup_logs_job())
    assert db_read(app, lambda s: s.get(DeviceCommand, ids[1])) is None
    assert not os.path.exists(path)
    assert db_read(app, lambda s: s.get(DeviceCommand, ids[0])) is not None


def test_diagnosis_assistance_goes_through_the_outbox(vc, app, monkeypatch, smtp_server):
    phone, client = vc
    client.post(f"/diagnostics/{phone.device_id}/run/assist", data={"description": "x"})
    assert "No support address is set" in page_of(client, phone.device_id)
    monkeypatch.setitem(app.config, "DIAGNOSIS_SUPPORT_ADDRESS", "support@vendor.example")
    run_tool(client, phone.device_id, "syslog", phone=phone)
    r = client.post(f"/diagnostics/{phone.device_id}/run/assist", data={"description": " "})
    assert "Describe the problem." in page_of(client, phone.device_id)
    r = client.post(f"/diagnostics/{phone.device_id}/run/assist",
                    data={"description": "One-way audio since Monday"})
    assert r.status_code == 302
    page = page_of(client, phone.device_id)
    assert "put in the mail outbox for support@vendor.example" in page
    assert "In the outbox" in page

    def mail(session):
        request = session.execute(select(DiagnosisRequest).where(
            DiagnosisRequest.device_id == phone.device_id)).scalar_one()
        message = session.get(OutboxMessage, request.outbox_id)
        return message.recipient, message.body_text
    recipient, body = db_read(app, mail)
    assert recipient == "support@vendor.example"
    assert "One-way audio since Monday" in body and phone.mac in body
    assert "-syslog-" in body and "<134>" in body
    assert status_of(client, phone.device_id)["mail_pending"]
    # the outbox job sends it; the sender sees it went
    db_read(app, lambda s: send_due_mail(s, app))
    assert "support@vendor.example" in smtp_server.handler.recipients()
    [(_rcpt, sent)] = [m for m in smtp_server.received if "support@vendor.example" in m[0]]
    [log] = [part for part in sent.iter_attachments() if "-syslog-" in part.get_filename()]
    content = log.get_content()  # the system log itself, attached
    assert b"<134>" in (content.encode() if isinstance(content, str) else content)
    state = status_of(client, phone.device_id)
    assert not state["mail_pending"] and ">Sent</span>" in state["tools"]["assist"]["html"]


# --- faults, silence, offline -----------------------------------------------------------------

def test_a_device_fault_is_shown_on_the_tool(sim, login):
    t, phones = sim
    phone = phones(1, quirks=Quirks(no_vendor_extensions=True))[0]
    client = login(t.c_email, PASSWORD)
    html = run_tool(client, phone.device_id, "screenshot", phone=phone)
    assert "Failed" in html and "Fault 9003" in html and "Unsupported FileType" in html


def _device(app, t, **fields):
    def add(session):
        device = Device(mac="02dd" + secrets.token_hex(4), model="VC800",
                        firmware="63.32.0.40", enterprise_id=t.E, data_model="Device",
                        **fields)
        session.add(device)
        session.commit()
        return device.id
    return db_read(app, add)


def test_a_device_that_never_answers_says_so_after_the_timeout(app, fresh_tree, login):
    t = fresh_tree
    # online, but nothing answers its connection requests
    did = _device(app, t, online=True, last_seen=utcnow(), cr_url="http://127.0.0.1:9/cr")
    client = login(t.c_email, PASSWORD)
    r = client.post(f"/diagnostics/{did}/run/screenshot")
    assert r.status_code == 302  # the connection request failed; the page does not hang
    state = status_of(client, did)
    assert state["busy"] and "Queued" in state["tools"]["screenshot"]["html"]
    db_read(app, lambda s: commands.expire_commands(
        s, 3600, now=utcnow() + datetime.timedelta(seconds=3601)))
    state = status_of(client, did)
    assert not state["busy"]
    assert "The device did not connect in time" in state["tools"]["screenshot"]["html"]


def test_an_offline_device_has_its_tools_off_with_the_reason(app, fresh_tree, login):
    t = fresh_tree
    did = _device(app, t, online=False)
    client = login(t.c_email, PASSWORD)
    page = page_of(client, did)
    # eight tools say why they are off, in the tool and beside its name
    assert page.count('ymcs-refusal" role="status"><i class="fa fa-ban"></i> The device is '
                      "offline: this tool needs it connected") == 8
    assert page.count('title="The device is offline: this tool needs it connected') == 8
    assert 'id="offline-note"' in page
    r = client.post(f"/diagnostics/{did}/run/syslog")
    assert r.status_code == 302
    assert db_read(app, lambda s: s.execute(select(DeviceCommand).where(
        DeviceCommand.device_id == did)).first()) is None


# --- scope --------------------------------------------------------------------------------------

def test_other_trees_devices_commands_and_files_answer_404(vc, sim, login, app):
    phone, client = vc
    t = sim[0]
    did = phone.device_id
    url = file_url(run_tool(client, did, "syslog", phone=phone))
    command_id = latest(app, did).id
    stranger = login(t.s_email, PASSWORD)  # the sibling tree's channel
    for path in (f"/diagnostics/{did}", f"/diagnostics/{did}/status", url,
                 f"/diagnostics/{did}/backups.zip?ids={command_id}"):
        assert stranger.get(path).status_code == 404, path
    for tool in ("network", "syslog", "screenshot", "assist", "nope"):
        assert stranger.post(f"/diagnostics/{did}/run/{tool}").status_code == 404
    # ... and its devices, to C; another device's command under C's device
    def first_device(enterprise_id):
        return db_read(app, lambda s: s.execute(select(Device.id).where(
            Device.enterprise_id == enterprise_id)).scalars().first())
    assert client.get(f"/diagnostics/{first_device(t.SE)}").status_code == 404
    other = _device(app, t, online=True)
    assert client.get(f"/diagnostics/{other}/file/{command_id}").status_code == 404
    assert client.get(f"/diagnostics/{did}/file/{command_id + 10**6}").status_code == 404
    # an enterprise that rejected the channel, an RPS enterprise: not diagnosable by C
    for enterprise in (t.ER, t.R):
        assert client.get(f"/diagnostics/{first_device(enterprise)}").status_code == 404
    assert client.get("/diagnostics/garbage").status_code == 404
    assert client.get(f"/diagnostics/{did}/file/x").status_code == 404
