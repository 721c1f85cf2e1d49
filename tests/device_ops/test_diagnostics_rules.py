"""The diagnostic page's rules without HTTP (issue 16): the exported log level, which devices
take log settings, what each tool sends, sealed passwords, which command is which tool, the
file checks by magic bytes (and the ACS refusing a file that is not what it asked for), the
streamed zip, and the vendor mapping being the one place that spells vendor names."""

import io
import os
import re
import zipfile
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.device_ops import (
    commands,
    device_files,
    diagnostics,
    diagnostics_files,
    rpc,
    sealed,
    vendor_map,
)
from app.device_ops.simulator import vendor as sim_vendor
from app.models import CommandStatus, Device, DeviceCommand

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_exported_level_is_the_smaller_of_module_and_channel_level():
    # the spec's example: hardware driver 6, local log 3 -> 3
    assert diagnostics.exported_level("6", "3") == 3
    assert diagnostics.exported_level(2, 5) == 2
    assert diagnostics.exported_level(None, "3") is None
    assert diagnostics.exported_level("x", "3") is None


def _names(values):
    return {vendor_map.key_of(n): v for n, v, _t in values}


def test_each_log_section_sends_its_vendor_parameters():
    assert _names(diagnostics.log_settings_values({"section": "level", "level": "4"}, "Device",
                                                  "k")) == {"log.level": "4"}
    modules = _names(diagnostics.log_settings_values(
        {"section": "module", "module": "All", "module_level": "6"}, "Device", "k"))
    assert modules == {f"module.{m}": "6" for m in vendor_map.MODULES}
    one = _names(diagnostics.log_settings_values(
        {"section": "module", "module": "Talk", "module_level": "1"}, "Device", "k"))
    assert one == {"module.Talk": "1"}
    local = _names(diagnostics.log_settings_values(
        {"section": "local", "local_enable": "1", "local_level": "2", "max_size": "512"},
        "InternetGatewayDevice", "k"))
    assert local == {"local.enable": "1", "local.usb_export": "0", "local.level": "2",
                     "local.max_size": "512"}
    syslog = _names(diagnostics.log_settings_values(
        {"section": "syslog", "server": "10.0.0.9", "port": "", "transport": "TCP",
         "syslog_level": "3", "facility": "0"}, "Device", "k"))
    assert syslog["syslog.port"] == "514" and syslog["syslog.enable"] == "0"


@pytest.mark.parametrize("form", [
    {"section": "level", "level": "7"},
    {"section": "module", "module": "Kernel", "module_level": "3"},
    {"section": "local", "local_level": "3", "max_size": "999"},
    {"section": "syslog", "server": "bad host!", "transport": "UDP", "syslog_level": "3",
     "facility": "16"},
    {"section": "syslog", "server": "", "port": "70000", "transport": "UDP",
     "syslog_level": "3", "facility": "16"},
    {"section": "syslog", "transport": "QUIC", "syslog_level": "3", "facility": "16"},
    {"section": "backup", "url": "ftp://x", "method": "POST", "post_mode": "binary"},
    {"section": "backup", "method": "GET", "post_mode": "binary"},
    {"section": "nope"},
])
def test_bad_log_settings_are_refused_with_a_message(form):
    with pytest.raises((diagnostics.DiagnosticsError, commands.CommandError)):
        diagnostics.log_settings_values(form, "Device", "k")


def test_the_backup_password_is_sealed_until_the_rpc_is_written():
    values = diagnostics.log_settings_values(
        {"section": "backup", "backup_enable": "1", "url": "https://x.example/up",
         "username": "u", "password": "s3cret", "method": "POST", "post_mode": "binary"},
        "Device", "the-secret-key")
    stored = dict((vendor_map.key_of(n), v) for n, v, _t in values)["backup.password"]
    assert sealed.is_sealed(stored) and "s3cret" not in stored
    assert sealed.unseal("the-secret-key", stored) == "s3cret"
    assert sealed.unseal("another-key", stored) == ""  # never the ciphertext as a password
    assert sealed.unseal("k", "plain") == "plain"
    # an empty password is not sent: the device keeps its own
    values = diagnostics.log_settings_values(
        {"section": "backup", "method": "POST", "post_mode": "binary"}, "Device", "k")
    assert "backup.password" not in _names(values)


def test_capture_filter_only_for_custom_and_only_a_filter_alphabet():
    start = _names(diagnostics.capture_start_values(
        {"interface": "WAN", "type": "SIP", "filter": "ignored"}, "Device"))
    assert start == {"capture.interface": "WAN", "capture.type": "SIP", "capture.filter": "",
                     "capture.state": "Start"}
    custom = _names(diagnostics.capture_start_values(
        {"interface": "LAN", "type": "Custom", "filter": "udp port 5060"}, "Device"))
    assert custom["capture.filter"] == "udp port 5060"
    for bad in ("", "port 5060; rm -rf /", "x" * 201):
        with pytest.raises(diagnostics.DiagnosticsError):
            diagnostics.capture_start_values({"interface": "LAN", "type": "Custom",
                                              "filter": bad}, "Device")


def test_every_command_a_tool_queues_is_found_back_as_that_tool():
    def tool(kind, arguments):
        return diagnostics.tool_of(kind, commands.clean_arguments(kind, arguments), "Device")

    assert tool("ping", {"host": "a.example"}) == "network"
    assert tool("traceroute", {"host": "a.example"}) == "network"
    for kind, expected in (("syslog", "syslog"), ("config_static", "config"),
                           ("config_bin", "config"), ("capture", "capture"),
                           ("screenshot", "screenshot"), ("recording", "recordings"),
                           ("backup_log", "backups")):
        assert tool("upload", {"file_type": vendor_map.file_type(kind)}) == expected
    device = SimpleNamespace(data_model="Device", missing_parameters=None)
    assert tool("get_parameters", {"names": diagnostics.cpu_read_names(device)}) == "cpu"
    assert tool("get_parameters", {"names": ["Device.DeviceInfo.SerialNumber"]}) is None
    assert tool("set_parameters", {"values": diagnostics.capture_stop_values("Device")}) == (
        "capture")
    assert tool("set_parameters", {"values": diagnostics.recording_switch_values(
        {"auto_upload": "1"}, "Device")}) == "recordings"
    assert tool("set_parameters", {"values": diagnostics.log_settings_values(
        {"section": "level", "level": "3"}, "Device", "k")}) == "log_settings"
    assert tool("set_parameters", {"values": "Device.ManagementServer.URL = x"}) is None
    assert tool("reboot", {}) is None


@pytest.mark.parametrize("kind, good", [
    ("capture", sim_vendor.pcap()), ("screenshot", sim_vendor.png()),
    ("recording", sim_vendor.wav()), ("syslog", b"<134>Dec 7 log\n"),
    ("backup_log", b"PK\x03\x04rest"), ("config_static", b"#!version:1.0.0.1\n"),
])
def test_files_are_recognised_by_their_magic_bytes_only(kind, good):
    file_type = vendor_map.file_type(kind)
    suffix, mime = device_files.recognise(file_type, good[:device_files.HEAD_BYTES])
    assert suffix.startswith(".") and mime
    for bad in (b"", b"\x00\x01\x02 not it", b"GIF89a" + b"\x00" * 10):
        if kind in ("syslog", "config_static") and bad.startswith(b"GIF") and b"\x00" not in bad:
            continue
        assert device_files.recognise(file_type, bad) is None, (kind, bad)
    assert device_files.limit_of(file_type, 10**12) == device_files.KINDS[
        vendor_map.file_kind(file_type)][0]
    assert device_files.limit_of(file_type, 10) == 10


def test_the_zip_of_several_files_is_streamed_and_whole(tmp_path):
    entries = []
    for i in range(3):
        path = tmp_path / f"f{i}"
        path.write_bytes(os.urandom(100_000) if i else b"")
        entries.append((str(path), f"name-{i}.log"))
    chunks = list(diagnostics_files.stream_zip(entries, chunk=8192))
    assert len(chunks) > 3  # not one blob at the end
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert [archive.read(f"name-{i}.log") for i in range(3)] == [
        open(p, "rb").read() for p, _n in entries]


def test_the_acs_refuses_a_file_that_is_not_what_it_asked_for(app, db_session, fresh_tree):
    device = db_session.execute(select(Device).where(
        Device.enterprise_id == fresh_tree.E)).scalars().first()
    command = commands.queue_command(db_session, device, "upload",
                                     {"file_type": vendor_map.file_type("screenshot")}, by="t")
    db_session.commit()
    state = {"d": device.id, "n": "urn:dslforum-org:cwmp-1-0", "r": "Device"}
    body = rpc.next_rpc(db_session, state, "http://localhost/", secret="k").decode()
    path = "/" + body.split("<URL>")[1].split("</URL>")[0].split("://", 1)[1].split("/", 1)[1]
    client = app.test_client()
    assert client.put(path, data=b"<html>not a png</html>").status_code == 415
    db_session.commit()
    assert db_session.get(DeviceCommand, command.id).file_name is None
    assert client.put(path, data=sim_vendor.png()).status_code == 204  # the URL still good
    db_session.commit()
    stored = db_session.get(DeviceCommand, command.id)
    assert stored.file_name.endswith(".png") and stored.status == CommandStatus.sent


def test_the_simulator_implements_every_vendor_parameter_and_file_type():
    made = sim_vendor.parameters(lambda value, xsd, writable, **kw: (value, xsd, writable))
    for key, parameter in vendor_map.PARAMETERS.items():
        value, xsd, _writable = made[parameter.path]
        assert xsd == parameter.xsd, key
    for key, (file_type, source) in vendor_map.FILE_TYPES.items():
        assert source
        if file_type.startswith("X "):
            assert file_type.startswith(f"X {vendor_map.OUI} ")
            assert sim_vendor.upload_data(SimpleNamespace(get=lambda _n: "3"), file_type), key
    assert all(p.source for p in vendor_map.PARAMETERS.values())


def test_only_the_vendor_map_spells_vendor_names():
    """Parameter names of the diagnostic page and vendor file types appear in vendor_map.py
    only (the simulator's older objects in simulator/model.py aside)."""
    spelled = re.compile(r"X_YEALINK_|X 001565 ")
    offenders = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "app")):
        for name in files:
            path = os.path.join(folder, name)
            if not name.endswith((".py", ".html")) or path.endswith(
                    ("vendor_map.py", os.path.join("simulator", "model.py"))):
                continue
            with open(path, encoding="utf-8") as source:
                if spelled.search(source.read()):
                    offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []


def test_the_daily_backup_job_is_registered_and_a_removed_device_leaves_no_rows(
        app, db_session, fresh_tree):
    from app.core.jobs import job_registry
    from app.device_ops import inventory
    from app.device_ops.diagnostics_models import DeviceDiagnostics

    assert "backup_device_logs" in job_registry(app)
    device = db_session.execute(select(Device).where(
        Device.enterprise_id == fresh_tree.E)).scalars().first()
    diagnostics.set_log_backup(db_session, device, True, by="t")
    db_session.commit()
    inventory.remove_device(db_session, device.id)
    db_session.commit()
    assert db_session.get(DeviceDiagnostics, device.id) is None


def test_the_capture_state_is_the_device_s_answer():
    name = vendor_map.name("Device", "capture.status")
    assert diagnostics.capture_status({name: "Capturing"}, "Device") == diagnostics.CAPTURING
    assert diagnostics.capture_status({name: "Stopped"}, "Device") == diagnostics.NOT_CAPTURING
    assert diagnostics.capture_status({name: "None"}, "Device") == diagnostics.NOT_CAPTURING
    assert diagnostics.capture_status({}, "Device") is None  # not read: unknown, not guessed
    assert diagnostics.capture_status({name: "Error"}, "Device") is None
    # what was asked (State) says nothing of what is
    assert diagnostics.capture_status({vendor_map.name("Device", "capture.state"): "Start"},
                                      "Device") is None
    assert diagnostics.tool_of("get_parameters", {"names": [name]}) == "capture"


def test_the_simulated_phone_captures_when_asked_and_says_so():
    from app.device_ops.simulator.model import CwmpFault
    from app.device_ops.simulator.phone import SimulatedPhone

    phone = SimulatedPhone("http://127.0.0.1:9/acs", "001565000abc", model="VC800")
    state, status = (phone.model.name(vendor_map.PARAMETERS[k].path)
                     for k in ("capture.state", "capture.status"))
    assert phone.value(status) == "None"  # never started
    phone.model.set_values([(state, "Start", "xsd:string")], "k1")
    assert phone.value(status) == "Capturing"
    phone.model.set_values([(state, "Stop", "xsd:string")], "k2")
    assert phone.value(status) == "Stopped"
    with pytest.raises(CwmpFault):  # read-only: the ACS asks through State
        phone.model.set_values([(status, "Capturing", "xsd:string")], "k3")
