"""The TR-069 phone simulator, against its own data model and a tiny ACS stand-in over real HTTP
(the real ACS is tested with the simulator elsewhere)."""

import base64
import subprocess
import sys
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest
import requests
from requests.auth import HTTPDigestAuth

from app.device_ops.simulator.fleet import (
    DigestGuard,
    Fleet,
    SimulatedPhone,
    serve_connection_requests,
)
from app.device_ops.simulator.model import CwmpFault

from ..helpers import PATIENCE, wait_until

NS12 = "urn:dslforum-org:cwmp-1-2"
NS10 = "urn:dslforum-org:cwmp-1-0"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MAC = "001565000001"
ROOT = Path(__file__).resolve().parents[2]  # the checkout


def local(tag):
    return tag.rpartition("}")[2]


def find(el, *path):
    for name in path:
        el = next((c for c in el if local(c.tag) == name), None)
        if el is None:
            return None
    return el


def text(el, *path):
    found = find(el, *path)
    return None if found is None else (found.text or "")


# --- the ACS stand-in --------------------------------------------------------------------------


class StubAcs:
    """Answers Inform and TransferComplete, hands out queued RPCs one per CPE POST, ends the
    session with 204, records every request; also a file server (GET /files/, PUT /upload/)."""

    def __init__(self, ns=NS12, digest=None, upload_auth=None):
        self.ns, self.digest, self.upload_auth = ns, digest, upload_auth
        self.guard = DigestGuard(realm="acs")
        self.rpcs = deque()  # (method, inner XML)
        self.posts = []  # (cookie header, headers, parsed envelope or None, raw body)
        self.sessions = []  # {"events": [(code, key)], "params": {}, "inform": el, ...}
        self.puts, self.gets = [], []
        self.files = {"/files/T54W-96.86.0.99.rom": b"\x00" * 5000}
        self.sent_ids = []
        self.lock = threading.Lock()
        acs = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def body(self):
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def reply(self, status, data=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if data:
                    self.send_header("Content-Type", 'text/xml; charset="utf-8"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                acs.handle_post(self)

            def do_PUT(self):
                data = self.body()
                auth = self.headers.get("Authorization")
                if acs.upload_auth and auth != "Basic " + base64.b64encode(
                        acs.upload_auth.encode()).decode():
                    return self.reply(401, headers={"WWW-Authenticate": 'Basic realm="files"'})
                acs.puts.append((self.path, dict(self.headers), data))
                self.reply(201)

            def do_GET(self):
                acs.gets.append(self.path)
                data = acs.files.get(self.path)
                self.reply(404) if data is None else self.reply(200, data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/acs"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def envelope(self, cwmp_id, inner):
        return (f'<soap-env:Envelope xmlns:soap-env="{SOAP}" xmlns:cwmp="{self.ns}" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
                f'<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">{cwmp_id}</cwmp:ID>'
                f"</soap-env:Header><soap-env:Body>{inner}</soap-env:Body></soap-env:Envelope>"
                ).encode()

    def handle_post(self, h):
        raw = h.body()
        if self.digest and not self.guard.check(h.headers.get("Authorization"), "POST", h.path,
                                                *self.digest):
            return h.reply(401, headers={"WWW-Authenticate": self.guard.challenge()})
        env = SafeET.fromstring(raw) if raw.strip() else None
        with self.lock:
            self.posts.append((h.headers.get("Cookie"), dict(h.headers), env, raw))
        method = find(env, "Body")[0] if env is not None else None
        name = local(method.tag) if method is not None else None
        cwmp_id = text(env, "Header", "ID") if env is not None else None
        if name == "Inform":
            with self.lock:
                sid = len(self.sessions) + 1
                self.sessions.append({
                    "inform": method, "headers": dict(h.headers),
                    "events": [(text(e, "EventCode"), text(e, "CommandKey"))
                               for e in find(method, "Event")],
                    "params": {text(p, "Name"): text(p, "Value")
                               for p in find(method, "ParameterList")},
                    "messages": [], "cookies": []})
            reply = self.envelope(cwmp_id, "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes>"
                                  "</cwmp:InformResponse>")
            return h.reply(200, reply, {"Set-Cookie": f"sid={sid}; Path=/acs; HttpOnly"})
        session = self.sessions[-1]
        session["cookies"].append(h.headers.get("Cookie"))
        if name == "TransferComplete":
            session["messages"].append(method)
            return h.reply(200, self.envelope(cwmp_id, "<cwmp:TransferCompleteResponse/>"))
        if method is not None:
            session["messages"].append(method)
            session.setdefault("answer_ids", []).append(cwmp_id)
            session.setdefault("answer_ns", []).append(method.tag[1:].partition("}")[0])
        if not self.rpcs:
            return h.reply(204)
        rpc, inner = self.rpcs.popleft()
        rpc_id = f"acs-{len(self.sent_ids) + 1}"
        self.sent_ids.append(rpc_id)
        h.reply(200, self.envelope(rpc_id, f"<cwmp:{rpc}>{inner}</cwmp:{rpc}>"))


@pytest.fixture
def acs():
    stub = StubAcs()
    yield stub
    stub.close()


def make_phone(url, **kw):
    phone = SimulatedPhone(url, MAC, **kw)
    phone.followup_delay = (0.01, 0.03)
    return phone


def spv(*items, key="k"):
    structs = "".join(f'<ParameterValueStruct><Name>{n}</Name><Value xsi:type="{t}">{v}</Value>'
                      "</ParameterValueStruct>" for n, v, t in items)
    return ("SetParameterValues", f"<ParameterList>{structs}</ParameterList>"
            f"<ParameterKey>{key}</ParameterKey>")


# --- the data model ----------------------------------------------------------------------------


@pytest.mark.parametrize("root", ["Device", "InternetGatewayDevice"])
def test_partial_path_values_and_unknown_names(root):
    model = make_phone("http://127.0.0.1:9/acs", data_model=root).model
    info = dict((n, v) for n, _, v in model.get_values([f"{root}.DeviceInfo."]))
    assert info[f"{root}.DeviceInfo.Manufacturer"] == "Yealink"
    assert info[f"{root}.DeviceInfo.ManufacturerOUI"] == "001565"
    assert info[f"{root}.DeviceInfo.ProductClass"] == "SIP-T54W"
    assert 0 <= int(info[f"{root}.DeviceInfo.ProcessStatus.CPUUsage"]) <= 100
    assert int(info[f"{root}.DeviceInfo.MemoryStatus.Free"]) < 262144
    assert all(n.startswith(f"{root}.DeviceInfo.") for n in info)
    assert len(model.get_values([""])) == len(model.params)
    assert model.get(model.mac_param) == "00:15:65:00:00:01"
    assert model.get(model.ip_param) == "10.0.0.1"
    for bad in (f"{root}.Nope.", f"{root}.DeviceInfo.Nope", f"{root}.DeviceInfo"):
        with pytest.raises(CwmpFault) as err:
            model.get_values([bad])
        assert err.value.code == 9005
    # passwords read back empty
    model.set_values([(f"{root}.ManagementServer.ConnectionRequestPassword", "s3cret", None)], "")
    assert model.get_values([f"{root}.ManagementServer.ConnectionRequestPassword"])[0][2] == ""


def test_parameter_names_next_level():
    model = make_phone("http://127.0.0.1:9/acs").model
    assert model.get_names("", True) == [("Device.", False)]
    top = dict(model.get_names("Device.", True))
    assert "Device.DeviceInfo." in top and "Device.DeviceSummary" in top
    assert not any(n.count(".") > 1 and not n.endswith(".") for n in top)
    sub = dict(model.get_names("Device.ManagementServer.", False))
    assert sub["Device.ManagementServer."] is False
    assert sub["Device.ManagementServer.PeriodicInformInterval"] is True
    with pytest.raises(CwmpFault) as err:
        model.get_names("Device.DeviceInfo.UpTime", True)
    assert err.value.code == 9003


def test_set_values_checks_and_is_atomic():
    model = make_phone("http://127.0.0.1:9/acs").model
    with pytest.raises(CwmpFault) as err:
        model.set_values([
            ("Device.X_YEALINK_Syslog.Server", "10.1.1.1", "xsd:string"),
            ("Device.DeviceInfo.Manufacturer", "x", "xsd:string"),
            ("Device.Nope", "1", "xsd:string"),
            ("Device.ManagementServer.PeriodicInformInterval", "soon", "xsd:unsignedInt"),
            ("Device.X_YEALINK_Syslog.Level", "9", "xsd:unsignedInt"),
            ("Device.ManagementServer.PeriodicInformEnable", "1", "xsd:int"),
        ], "key1")
    assert err.value.code == 9003
    assert [(n.rpartition(".")[2], c) for n, c, _ in err.value.spv_faults] == [
        ("Manufacturer", 9008), ("Nope", 9005), ("PeriodicInformInterval", 9007),
        ("Level", 9007), ("PeriodicInformEnable", 9006)]
    assert model.get("X_YEALINK_Syslog.Server") == ""  # nothing applied
    model.set_values([("Device.X_YEALINK_Syslog.Server", "10.1.1.1", "xsd:string"),
                      ("Device.ManagementServer.PeriodicInformEnable", "false", "xsd:boolean")],
                     "key2")
    assert model.get("X_YEALINK_Syslog.Server") == "10.1.1.1"
    assert model.get("ManagementServer.PeriodicInformEnable") == "0"
    assert model.get("ManagementServer.ParameterKey") == "key2"


def test_notification_puts_changed_values_in_the_inform():
    model = make_phone("http://127.0.0.1:9/acs").model
    cpu, free = "Device.DeviceInfo.ProcessStatus.CPUUsage", "Device.DeviceInfo.MemoryStatus.Free"
    names = [n for n, _, _ in model.inform_params(False)[0]]
    assert names == ["Device.RootDataModelVersion", "Device.DeviceInfo.HardwareVersion",
                     "Device.DeviceInfo.SoftwareVersion", "Device.DeviceInfo.ProvisioningCode",
                     "Device.ManagementServer.ConnectionRequestURL",
                     "Device.ManagementServer.ParameterKey",
                     "Device.IP.Interface.1.IPv4Address.1.IPAddress",
                     "Device.Ethernet.Interface.1.MACAddress"]
    with pytest.raises(CwmpFault) as err:  # TR-181: active notification can be denied here
        model.set_attributes([{"name": cpu, "notification_change": True, "notification": 2}])
    assert err.value.code == 9009
    model.set_attributes([{"name": n, "notification_change": True, "notification": 1}
                          for n in (cpu, free)])
    assert model.get_attributes([cpu]) == [(cpu, 1, [])]
    for _ in range(3):  # every session: the values moved, so they ride along
        model.tick()
        plist, changed = model.inform_params(False)
        assert changed and {cpu, free} <= {n for n, _, _ in plist}
        model.mark_reported([n for n, _, _ in plist])
        assert model.inform_params(False) == (model.inform_params(False)[0], False)
    # changes made by the ACS itself are not notified back
    model.set_attributes([{"name": "Device.X_YEALINK_Syslog.", "notification_change": True,
                           "notification": 2}])
    model.set_values([("Device.X_YEALINK_Syslog.Level", "5", None)], "")
    assert not model.inform_params(False)[1]


@pytest.mark.parametrize("root, ping, trace, hop_host", [
    ("Device", "IP.Diagnostics.IPPing.", "IP.Diagnostics.TraceRoute.", "Host"),
    ("InternetGatewayDevice", "IPPingDiagnostics.", "TraceRouteDiagnostics.", "HopHost"),
])
def test_diagnostics_results(root, ping, trace, hop_host):
    model = make_phone("http://127.0.0.1:9/acs", data_model=root).model
    ping, trace = f"{root}.{ping}", f"{root}.{trace}"

    def run(prefix, kind, host):
        model.set_values([(prefix + "Host", host, "xsd:string"),
                          (prefix + "DiagnosticsState", "Requested", "xsd:string")], "")
        assert kind in model.pending_diagnostics
        model.run_diagnostics(kind)
        return dict((n[len(prefix):], v) for n, _, v in model.get_values([prefix]))

    r = run(ping, "ping", "127.0.0.1")
    assert r["DiagnosticsState"] == "Complete" and r["SuccessCount"] == "3"
    assert r["FailureCount"] == "0"
    assert int(r["MinimumResponseTime"]) <= int(r["AverageResponseTime"]) <= int(
        r["MaximumResponseTime"]) < 10
    assert run(ping, "ping", "no-such-host.invalid")["DiagnosticsState"] == (
        "Error_CannotResolveHostName")
    r = run(trace, "traceroute", "sip.example.com")
    assert r["DiagnosticsState"] == "Complete" and r["RouteHopsNumberOfEntries"] == "3"
    assert r[f"RouteHops.3.{hop_host}"] == "sip.example.com"
    assert len(r[f"RouteHops.1.{hop_host[:-4]}RTTimes"].split(",")) == 3
    r = run(trace, "traceroute", "localhost")
    assert r["RouteHopsNumberOfEntries"] == "1" and "RouteHops.2." + hop_host not in r
    # writing DiagnosticsState anything but Requested is refused; other writes reset the state
    with pytest.raises(CwmpFault):
        model.set_values([(trace + "DiagnosticsState", "Complete", None)], "")
    model.set_values([(trace + "Host", "10.0.0.9", None)], "")
    assert model.get(trace + "DiagnosticsState") == "None"


# --- sessions over HTTP ------------------------------------------------------------------------


def test_bootstrap_inform_envelope_and_cookies(acs):
    acs.rpcs.extend([("GetParameterValues", "<ParameterNames><string>Device.DeviceInfo."
                      "</string></ParameterNames>"), ("GetRPCMethods", "")])
    phone = make_phone(acs.url, serial="SN123")
    log = phone.run_session()
    assert log.ok and log.informed, log.error
    assert log.events == ["0 BOOTSTRAP", "1 BOOT"]
    assert log.rpcs == ["GetParameterValues", "GetRPCMethods"] and log.ended_with == 204
    cookie, headers, env, raw = acs.posts[0]
    assert headers["Content-Type"] == 'text/xml; charset="utf-8"'
    assert headers["SOAPAction"] == '""' and cookie is None
    assert raw.startswith(b"<?xml")
    inform = find(env, "Body", "Inform")
    assert inform.tag == f"{{{NS12}}}Inform" and find(env, "Header", "ID").tag == f"{{{NS12}}}ID"
    assert {c.tag: c.text for c in find(inform, "DeviceId")} == {
        "Manufacturer": "Yealink", "OUI": "001565", "ProductClass": "SIP-T54W",
        "SerialNumber": "SN123"}
    assert text(inform, "MaxEnvelopes") == "1" and text(inform, "RetryCount") == "0"
    session = acs.sessions[0]
    assert session["events"] == [("0 BOOTSTRAP", ""), ("1 BOOT", "")]
    assert session["params"]["Device.Ethernet.Interface.1.MACAddress"] == "00:15:65:00:00:01"
    assert session["params"]["Device.DeviceInfo.SoftwareVersion"] == "96.86.0.70"
    assert session["cookies"] == ["sid=1"] * 3  # every later POST of the session carries it
    assert session["answer_ids"] == acs.sent_ids  # responses echo the request's cwmp:ID
    gpv = session["messages"][0]
    assert local(gpv.tag) == "GetParameterValuesResponse"
    values = {text(p, "Name"): text(p, "Value") for p in find(gpv, "ParameterList")}
    assert values["Device.DeviceInfo.Manufacturer"] == "Yealink"
    methods = [c.text for c in find(session["messages"][1], "MethodList")]
    assert "Download" in methods and "Reboot" in methods
    # the next session without events is periodic, in a fresh cookie session
    assert phone.run_session().events == ["2 PERIODIC"]
    assert acs.posts[-2][0] is None and acs.sessions[1]["cookies"] == ["sid=2"]


def test_answers_in_the_acs_namespace_and_faults_unknown_methods():
    acs = StubAcs(ns=NS10)
    try:
        acs.rpcs.extend([("ScheduleInform", "<DelaySeconds>5</DelaySeconds>"),
                         ("GetParameterValues", "<ParameterNames><string>Device.Bogus"
                          "</string></ParameterNames>"),
                         spv(("Device.DeviceInfo.UpTime", "3", "xsd:unsignedInt"))])
        log = make_phone(acs.url).run_session()
        assert log.ok and log.rpcs == ["ScheduleInform", "GetParameterValues",
                                       "SetParameterValues"]
        faults = acs.sessions[0]["messages"]
        assert set(acs.sessions[0]["answer_ns"]) == {SOAP}  # all three are SOAP faults
        codes = [text(f, "detail", "Fault", "FaultCode") for f in faults]
        assert codes == ["9000", "9005", "9003"]
        assert text(faults[0], "faultstring") == "CWMP fault"
        assert text(faults[0], "detail", "Fault", "FaultString") == "Method not supported"
        assert find(faults[0], "detail", "Fault").tag == f"{{{NS10}}}Fault"
        assert text(faults[2], "detail", "Fault", "SetParameterValuesFault", "FaultCode") == "9008"
        assert acs.sessions[0]["answer_ids"] == acs.sent_ids
    finally:
        acs.close()


def test_set_values_over_http_and_diagnostics_complete(acs):
    phone = make_phone(acs.url)
    acs.rpcs.append(spv(("Device.IP.Diagnostics.IPPing.Host", "127.0.0.1", "xsd:string"),
                        ("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Requested",
                         "xsd:string"), key="diag-1"))
    assert phone.run_session().ok
    response = acs.sessions[0]["messages"][0]
    assert local(response.tag) == "SetParameterValuesResponse" and text(response, "Status") == "0"
    assert phone.wait_idle(PATIENCE)
    assert [s["events"] for s in acs.sessions[1:]] == [[("8 DIAGNOSTICS COMPLETE", "")]]
    assert acs.sessions[1]["params"]["Device.ManagementServer.ParameterKey"] == "diag-1"
    assert phone.value("Device.IP.Diagnostics.IPPing.DiagnosticsState") == "Complete"


def test_reboot_then_boot_session_with_command_key(acs):
    phone = make_phone(acs.url)
    phone.run_session()
    uptime_before = phone.model.boot_time
    acs.rpcs.append(("Reboot", "<CommandKey>reboot-42</CommandKey>"))
    log = phone.run_session(["6 CONNECTION REQUEST"])  # plain codes are fine
    assert log.rpcs == ["Reboot"]
    assert local(acs.sessions[1]["messages"][0].tag) == "RebootResponse"
    assert phone.wait_idle(PATIENCE)
    assert acs.sessions[2]["events"] == [("1 BOOT", ""), ("M Reboot", "reboot-42")]
    assert phone.model.boot_time > uptime_before
    assert phone.sessions[-1].events == ["1 BOOT", "M Reboot"]


def test_active_notification_and_factory_reset(acs):
    phone = make_phone(acs.url)
    syslog = "Device.X_YEALINK_Syslog.Server"
    acs.rpcs.append(("SetParameterAttributes", "<ParameterList><SetParameterAttributesStruct>"
                     f"<Name>{syslog}</Name><NotificationChange>1</NotificationChange>"
                     "<Notification>2</Notification><AccessListChange>0</AccessListChange>"
                     "<AccessList></AccessList></SetParameterAttributesStruct></ParameterList>"))
    phone.run_session()
    phone.set_local_value(syslog, "10.9.9.9")  # changed on the phone's own web UI
    wait_until(lambda: len(acs.sessions) == 2)
    assert phone.wait_idle(PATIENCE)
    assert acs.sessions[1]["events"] == [("4 VALUE CHANGE", "")]
    assert acs.sessions[1]["params"][syslog] == "10.9.9.9"
    acs.rpcs.append(("FactoryReset", ""))
    phone.run_session()
    assert phone.wait_idle(PATIENCE)
    assert acs.sessions[3]["events"] == [("0 BOOTSTRAP", ""), ("1 BOOT", "")]
    assert phone.value(syslog) == "" and phone.params[syslog].notification == 0


def test_upload_puts_a_file_then_transfer_complete():
    acs = StubAcs(upload_auth="up:pw")
    try:
        phone = make_phone(acs.url)
        base = acs.url.rsplit("/", 1)[0]
        acs.rpcs.append(("Upload", "<CommandKey>up-1</CommandKey><FileType>1 Vendor "
                         f"Configuration File</FileType><URL>{base}/upload/cfg</URL>"
                         "<Username>up</Username><Password>pw</Password>"
                         "<DelaySeconds>0</DelaySeconds>"))
        assert phone.run_session().ok
        assert text(acs.sessions[0]["messages"][0], "Status") == "1"
        assert phone.wait_idle(PATIENCE)
        path, headers, data = acs.puts[0]
        assert path == "/upload/cfg" and data.startswith(b"#!version:1.0.0.1\n")
        assert 1000 < len(data) < 20000
        assert phone.uploads == [(f"{base}/upload/cfg", 201, len(data))]
        session = acs.sessions[1]
        assert session["events"] == [("7 TRANSFER COMPLETE", ""), ("M Upload", "up-1")]
        tc = session["messages"][0]
        assert local(tc.tag) == "TransferComplete" and text(tc, "CommandKey") == "up-1"
        assert text(tc, "FaultStruct", "FaultCode") == "0"
        assert text(tc, "StartTime") <= text(tc, "CompleteTime")
        assert session["cookies"][0] == "sid=2"
        assert not phone._transfer_completes  # acknowledged, not sent again
    finally:
        acs.close()


def test_download_firmware_and_failed_download(acs):
    phone = make_phone(acs.url)
    base = acs.url.rsplit("/", 1)[0]
    acs.rpcs.extend([
        ("Download", "<CommandKey>fw</CommandKey><FileType>1 Firmware Upgrade Image</FileType>"
         f"<URL>{base}/files/T54W-96.86.0.99.rom</URL><Username></Username><Password></Password>"
         "<FileSize>5000</FileSize><TargetFileName></TargetFileName>"
         "<DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL>"),
        ("Download", "<CommandKey>cfg</CommandKey><FileType>3 Vendor Configuration File"
         f"</FileType><URL>{base}/files/missing.cfg</URL><DelaySeconds>0</DelaySeconds>"),
        ("Download", "<CommandKey>x</CommandKey><FileType>3 Vendor Configuration File"
         "</FileType><URL>ftp://example.com/a.cfg</URL>"),
    ])
    phone.run_session()
    assert phone.wait_idle(PATIENCE)
    assert text(acs.sessions[0]["messages"][2], "detail", "Fault", "FaultCode") == "9013"
    assert phone.downloads == [(f"{base}/files/T54W-96.86.0.99.rom", 200, 5000),
                               (f"{base}/files/missing.cfg", 404, 0)]
    session = acs.sessions[1]
    codes = [c for c, _ in session["events"]]
    assert codes[:2] == ["1 BOOT", "4 VALUE CHANGE"]  # new firmware, active notification
    assert ("M Download", "fw") in session["events"] and ("M Download", "cfg") in session["events"]
    tcs = {text(m, "CommandKey"): text(m, "FaultStruct", "FaultCode") for m in session["messages"]}
    assert tcs == {"fw": "0", "cfg": "9010"}
    assert session["params"]["Device.DeviceInfo.SoftwareVersion"] == "96.86.0.99"


def test_acs_digest_auth_and_unauthorized():
    acs = StubAcs(digest=("cpe", "pw"))
    try:
        good = make_phone(acs.url, username="cpe", password="pw", auth="digest")
        assert good.run_session().ok
        assert acs.sessions and all(c == "sid=1" for c in acs.sessions[0]["cookies"])
        basic_first = make_phone(acs.url, username="cpe", password="pw", auth="basic")
        assert basic_first.run_session().ok  # switched to the challenged scheme
        bad = make_phone(acs.url, username="cpe", password="nope", auth="digest")
        log = bad.run_session()
        assert log.error == "unauthorized" and not log.informed and log.ended_with == 401
        assert bad.retry_count == 1
        assert bad.run_session([]).events == ["0 BOOTSTRAP", "1 BOOT"]  # retried, not lost
    finally:
        acs.close()


def test_broken_acs_is_recorded_not_raised():
    class Broken(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = (500, b"oops") if "500" in self.path else (200, b"<not-xml")
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        port = server.server_address[1]
        assert make_phone(f"http://127.0.0.1:{port}/500").run_session().error == (
            "HTTP 500 from the ACS")
        error = make_phone(f"http://127.0.0.1:{port}/xml").run_session().error
        assert error.startswith("malformed ACS message")
        closed = make_phone("http://127.0.0.1:9/acs", timeout=2).run_session()
        assert closed.error.startswith("network error")
    finally:
        server.shutdown()
        server.server_close()


def test_connection_request_digest(acs):
    phone = make_phone(acs.url)
    server = serve_connection_requests([phone])
    try:
        url = f"http://127.0.0.1:{server.port}/cr/{MAC}"
        assert phone.value("ManagementServer.ConnectionRequestURL") == url
        phone.run_session()
        acs.rpcs.append(spv(("Device.ManagementServer.ConnectionRequestUsername", "cr",
                             "xsd:string"),
                            ("Device.ManagementServer.ConnectionRequestPassword", "s3cret",
                             "xsd:string")))
        phone.run_session()
        assert acs.sessions[0]["params"]["Device.ManagementServer.ConnectionRequestURL"] == url
        wrong = requests.get(url, auth=HTTPDigestAuth("cr", "wrong"), timeout=5)
        assert wrong.status_code == 401
        assert wrong.headers["WWW-Authenticate"].startswith('Digest realm="Yealink"')
        assert 'qop="auth"' in wrong.headers["WWW-Authenticate"]
        assert requests.get(url, timeout=5).status_code == 401
        assert requests.get(url.replace(MAC, "001565999999"), timeout=5).status_code == 404
        # refused requests open nothing: the phone has nothing to do, and the next session
        # the ACS sees is the one the good request opens
        assert phone.wait_idle(PATIENCE) and len(acs.sessions) == 2
        ok = requests.get(url, auth=HTTPDigestAuth("cr", "s3cret"), timeout=5)
        assert ok.status_code == 200
        wait_until(lambda: len(acs.sessions) == 3)
        assert phone.wait_idle(PATIENCE)
        assert [s["events"] for s in acs.sessions[2:]] == [[("6 CONNECTION REQUEST", "")]]
    finally:
        server.shutdown()
        server.shutdown()  # idempotent


def test_fleet_boots_then_informs_periodically(acs):
    with Fleet(acs.url, 2, periodic_interval=1, jitter=False, mac_prefix="00156A",
               start_index=16) as fleet:
        assert [p.mac for p in fleet.phones] == ["00156a000010", "00156a000011"]
        assert fleet.cr_port > 0
        # a boot, then (interval 1 s) a periodic Inform: counted, however long they take
        wait_until(lambda: all(len(p.sessions) >= 2 for p in fleet.phones))
        for phone in fleet.phones:
            assert phone.sessions[0].events == ["0 BOOTSTRAP", "1 BOOT"]
            assert phone.sessions[1].events == ["2 PERIODIC"]
            assert all(log.ok for log in phone.sessions)
        cr = requests.get(f"http://127.0.0.1:{fleet.cr_port}/cr/00156a000011", timeout=5)
        assert cr.status_code == 200
        wait_until(lambda: any("6 CONNECTION REQUEST" in s.events
                               for s in fleet.phones[1].sessions))
    fleet.stop()  # idempotent
    assert all(phone.wait_idle(PATIENCE) for phone in fleet.phones)
    count = len(acs.sessions)
    # stopped for good: no periodic tick is left, and a wake-up opens no session
    assert not fleet._thread.is_alive()
    fleet.phones[1].connection_request()
    assert fleet.phones[1].wait_idle(PATIENCE) and len(acs.sessions) == count


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "app.device_ops.simulator", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_once(acs):
    done = run_cli("--acs-url", acs.url, "--count", "3", "--once", "--data-model",
                   "InternetGatewayDevice", "--namespace", "cwmp-1-0")
    assert done.returncode == 0, done.stderr
    assert len(acs.sessions) == 3
    assert all(s["events"] == [("0 BOOTSTRAP", ""), ("1 BOOT", "")] for s in acs.sessions)
    assert {s["inform"].tag for s in acs.sessions} == {f"{{{NS10}}}Inform"}
    assert {s["params"]["InternetGatewayDevice.LANDevice.1.LANEthernetInterfaceConfig.1."
                        "MACAddress"] for s in acs.sessions} == {
        "00:15:65:00:00:01", "00:15:65:00:00:02", "00:15:65:00:00:03"}
    failed = run_cli("--acs-url", "http://127.0.0.1:9/acs", "--count", "2", "--once",
                     "--timeout", "2")
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in failed.stderr
    assert lines[0].endswith("failed: network error: ConnectionError")
