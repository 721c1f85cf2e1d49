"""A TR-069 (CWMP 1.0-1.4, SOAP 1.1) phone simulator: SimulatedPhone speaks CWMP over real HTTP
to an ACS, Fleet runs many of them with connection requests and periodic Informs.

Deliberately lean (stdlib, requests, defusedxml; no Flask, no database) so it starts fast in
tests, benchmarks and the demo. Threads, not asyncio: one scheduler thread and a small worker
pool per Fleet, short-lived threads for follow-up sessions.

    python -m app.device_ops.simulator --acs-url http://127.0.0.1:8080/acs --count 20
"""

import argparse
import hashlib
import heapq
import itertools
import random
import re
import secrets
import signal
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urljoin, urlsplit

import defusedxml.ElementTree as SafeET
import requests
from defusedxml import DefusedXmlException
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from .sim_model import (
    SERVER_FAULTS,
    UNKNOWN_TIME,
    CwmpFault,
    DataModel,
    Param,
    config_file,
    log_file,
    now_iso,
)

__all__ = ["Fleet", "Param", "SessionLog", "SimulatedPhone", "serve_connection_requests"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DEFAULT_NS = "urn:dslforum-org:cwmp-1-2"
SOAP_CONTENT_TYPE = 'text/xml; charset="utf-8"'
MAX_MESSAGES = 500  # per session: an ACS that never ends the session is cut off
MAX_TRANSFERS = 16  # queued Download/Upload per session; more -> 9004
REDIRECTS = (301, 302, 303, 307, 308)
# Events dropped when a session fails (TR-069 Table 7 "discard"); the others are retried.
DISCARD_ON_FAILURE = {"6 CONNECTION REQUEST", "4 VALUE CHANGE"}
DROPPED_BY_REBOOT = {"2 PERIODIC", "6 CONNECTION REQUEST", "4 VALUE CHANGE"}
RPC_METHODS = ("GetRPCMethods", "SetParameterValues", "GetParameterValues", "GetParameterNames",
               "SetParameterAttributes", "GetParameterAttributes", "AddObject", "DeleteObject",
               "Reboot", "Download", "Upload", "FactoryReset")


@dataclass
class SessionLog:
    events: list  # event codes sent in the Inform, e.g. ["1 BOOT", "M Reboot"]
    event_keys: list = field(default_factory=list)  # [(code, command key)]
    rpcs: list = field(default_factory=list)  # ACS method names received
    http_statuses: list = field(default_factory=list)
    acs_faults: list = field(default_factory=list)  # [(fault code, fault string)] from the ACS
    error: str | None = None
    ended_with: int | None = None  # status of the final HTTP response
    informed: bool = False  # InformResponse received: the events were delivered
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def ok(self):
        return self.error is None


class SessionError(Exception):
    pass


# --- XML ------------------------------------------------------------------------------------------
# Tags carry literal prefixes instead of {uri} names: ElementTree's prefix registry is global and
# each phone may use another cwmp namespace, so every envelope declares its own.


def _sub(parent, tag, text=None, **attrs):
    el = ET.SubElement(parent, tag, {k.replace("__", ":"): v for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def _envelope(ns, cwmp_id, method):
    root = ET.Element("soap-env:Envelope", {
        "xmlns:soap-env": SOAP_ENV, "xmlns:soap-enc": SOAP_ENC, "xmlns:xsd": XSD,
        "xmlns:xsi": XSI, "xmlns:cwmp": ns})
    if cwmp_id is not None:
        header = _sub(root, "soap-env:Header")
        _sub(header, "cwmp:ID", cwmp_id, **{"soap-env__mustUnderstand": "1"})
    return root, _sub(_sub(root, "soap-env:Body"), method)


def _bytes(root):
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    return head + ET.tostring(root, encoding="unicode").encode()


def _array(parent, tag, item_type, count):
    return _sub(parent, tag, **{"soap-enc__arrayType": f"{item_type}[{count}]"})


def _fault_envelope(ns, cwmp_id, fault):
    root, el = _envelope(ns, cwmp_id, "soap-env:Fault")
    _sub(el, "faultcode", "Server" if fault.code in SERVER_FAULTS else "Client")
    _sub(el, "faultstring", "CWMP fault")
    detail = _sub(_sub(el, "detail"), "cwmp:Fault")
    _sub(detail, "FaultCode", fault.code)
    _sub(detail, "FaultString", fault.message)
    for name, code, message in fault.spv_faults:
        item = _sub(detail, "SetParameterValuesFault")
        _sub(item, "ParameterName", name)
        _sub(item, "FaultCode", code)
        _sub(item, "FaultString", message)
    return _bytes(root)


def _local(tag):
    return tag.rpartition("}")[2]


def _ns(tag):
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _child(el, name):
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el, name, default=""):
    c = _child(el, name)
    return default if c is None else (c.text or "").strip()


def _flag(el, name):
    return _text(el, name, "0").lower() in ("1", "true")


@dataclass
class _Message:
    name: str  # local name of the body element, "Fault" for a SOAP fault
    ns: str
    cwmp_id: str | None
    el: ET.Element
    hold_requests: bool = False
    fault: tuple | None = None


def _parse(data):
    """The ACS's envelope -> _Message; SessionError if it is not one."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise SessionError(f"malformed ACS message: {exc}") from None
    header, body = _child(root, "Header"), _child(root, "Body")
    if _local(root.tag) != "Envelope" or body is None or len(body) == 0:
        raise SessionError("malformed ACS message: not a SOAP envelope with a body")
    el = body[0]
    msg = _Message(_local(el.tag), _ns(el.tag), None, el)
    if header is not None:
        for h in header:
            if _local(h.tag) == "ID":
                msg.cwmp_id = (h.text or "").strip()
                msg.ns = msg.ns if msg.ns and msg.ns != SOAP_ENV else _ns(h.tag)
            elif _local(h.tag) == "HoldRequests":
                msg.hold_requests = (h.text or "").strip().lower() in ("1", "true")
    if msg.name == "Fault":
        detail = _child(el, "detail")
        cwmp = _child(detail, "Fault") if detail is not None else None
        code = _text(cwmp, "FaultCode") if cwmp is not None else _text(el, "faultcode")
        message = _text(cwmp, "FaultString") if cwmp is not None else _text(el, "faultstring")
        msg.fault = (int(code) if code.isdigit() else code, message)
    return msg


def _strings(el):
    return [(c.text or "").strip() for c in (el if el is not None else [])]


def _xsi_type(value_el):
    for key, val in value_el.attrib.items():
        if _local(key) == "type":
            return "xsd:" + val.rpartition(":")[2]  # whatever prefix the ACS bound to XSD
    return None


# --- digest auth (connection requests) ------------------------------------------------------------


class DigestGuard:
    """Server side of HTTP Digest (RFC 2617, MD5, qop=auth): fresh nonce per challenge."""

    def __init__(self, realm="Yealink", lifetime=300):
        self.realm, self.lifetime = realm, lifetime
        self._nonces, self._lock = {}, threading.Lock()

    def challenge(self):
        nonce = secrets.token_hex(16)
        with self._lock:
            now = time.monotonic()
            self._nonces = {n: t for n, t in self._nonces.items() if now - t < self.lifetime}
            self._nonces[nonce] = now
        return (f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", '
                f'opaque="{secrets.token_hex(8)}", algorithm=MD5')

    def check(self, header, method, path, username, password):
        if not header or not header.lower().startswith("digest "):
            return False
        f = {k.lower(): a if a else b for k, a, b in
             re.findall(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', header[7:])}
        with self._lock:
            issued = self._nonces.get(f.get("nonce", ""))
        if issued is None or time.monotonic() - issued > self.lifetime:
            return False
        if f.get("username") != username or f.get("realm") != self.realm:
            return False
        if f.get("algorithm", "MD5").upper() != "MD5":
            return False
        if urlsplit(f.get("uri", "")).path != urlsplit(path).path:
            return False

        def md5(s):
            return hashlib.md5(s.encode()).hexdigest()

        ha1, ha2 = md5(f"{username}:{self.realm}:{password}"), md5(f"{method}:{f.get('uri')}")
        if f.get("qop"):
            expected = md5(f"{ha1}:{f['nonce']}:{f.get('nc')}:{f.get('cnonce')}:{f['qop']}:{ha2}")
        else:  # RFC 2069 clients
            expected = md5(f"{ha1}:{f['nonce']}:{ha2}")
        return secrets.compare_digest(expected, f.get("response", ""))


def _transfer_auth(http, resp, username, password):
    """Answer a 401 with whatever scheme the server challenged; True if worth retrying."""
    scheme = resp.headers.get("WWW-Authenticate", "").split(" ", 1)[0].lower()
    if scheme == "digest" and not isinstance(http.auth, HTTPDigestAuth):
        http.auth = HTTPDigestAuth(username, password)
        return True
    if scheme == "basic" and not isinstance(http.auth, HTTPBasicAuth):
        http.auth = HTTPBasicAuth(username, password)
        return True
    return False


def _http_session():
    http = requests.Session()
    http.trust_env = False  # a phone knows nothing of this host's proxy variables or .netrc
    return http


def _short(exc):
    return f"network error: {type(exc).__name__}"


# --- the phone ------------------------------------------------------------------------------------


class SimulatedPhone:
    followup_delay = (0.2, 0.6)  # seconds after a session before diagnostics finish / reboot

    def __init__(self, acs_url, mac, *, username=None, password=None, auth="basic",
                 namespace=DEFAULT_NS, data_model="Device", model="SIP-T54W",
                 firmware="96.86.0.70", periodic_interval=900, cr_base_url=None, ip=None,
                 serial=None, timeout=10, seed=None):
        mac = re.sub(r"[^0-9a-fA-F]", "", mac).lower()
        if len(mac) != 12:
            raise ValueError(f"bad MAC {mac!r}")
        if auth not in ("basic", "digest", None):
            raise ValueError(f"auth must be basic, digest or None, not {auth!r}")
        self.mac, self.auth, self.timeout = mac, auth, timeout
        self.namespace = _full_ns(namespace)
        index = int(mac[6:], 16)
        ip = ip or f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"
        self.model = DataModel(
            data_model, mac=mac, ip=ip, serial=serial or mac.upper(), model=model,
            firmware=firmware, acs_url=acs_url, username=username, password=password,
            periodic_interval=periodic_interval,
            rng=random.Random(mac if seed is None else seed))  # reproducible per phone
        self.params: dict[str, Param] = self.model.params
        self.sessions: list[SessionLog] = []
        self.uploads, self.downloads = [], []
        self.on_session_end = None  # callable(phone, SessionLog), e.g. the CLI's failure printer
        self.retry_count = 0  # consecutive failed sessions (the Inform's RetryCount)
        self._session_lock = threading.Lock()  # one CWMP session at a time
        self._state = threading.Condition()  # guards the fields below
        self._pending = []  # undelivered events [(code, key)]
        self._transfer_completes = []  # TransferComplete records awaiting the ACS's response
        self._busy = 0  # running sessions + scheduled follow-ups + active kickers
        self._want, self._kicker = False, False
        self._started_once = False
        self._acked_url = None
        self._stop = threading.Event()
        self._on_schedule_change = None  # Fleet hook: PeriodicInform* changed
        self._cr_url = f"{cr_base_url.rstrip('/')}/cr/{mac}" if cr_base_url else ""
        self.set_connection_request_url(self._cr_url)

    def __repr__(self):
        return f"<SimulatedPhone {self.mac}>"

    # --- small public helpers -----------------------------------------------------------------

    def value(self, name):
        return self.model.get(name)

    def set_connection_request_url(self, url):
        self.model.params[self.model.name("ManagementServer.ConnectionRequestURL")].value = url

    def set_local_value(self, name, value):
        """A change made on the phone (keypad, web UI): notified as TR-069 says; an active
        notification opens a "4 VALUE CHANGE" session at once."""
        if self.model.set_local(name, value) == 2:
            self._trigger([("4 VALUE CHANGE", "")])

    def connection_request(self):
        """What a valid connection request does: a "6 CONNECTION REQUEST" session soon."""
        self._trigger([("6 CONNECTION REQUEST", "")])

    def wait_idle(self, timeout=10):
        with self._state:
            return self._state.wait_for(lambda: self._busy == 0, timeout)

    def close(self):
        """Stop follow-ups and queued sessions (a session in flight finishes its message)."""
        self._stop.set()

    # --- session scheduling -------------------------------------------------------------------

    def _default_events(self):
        if not self._started_once:
            return [("0 BOOTSTRAP", ""), ("1 BOOT", "")]
        return [("2 PERIODIC", "")]

    def _merge(self, events):
        for ev in events:
            if ev not in self._pending:
                self._pending.append(ev)

    def _trigger(self, events, inline=False):
        """Queue events and make sure a session delivers them; never waits for a running one.
        inline: run the session(s) in this thread (pool workers, follow-up threads)."""
        with self._state:
            if self._stop.is_set():
                return
            self._merge(self._default_events() if events is None else _events(events))
            self._want = True
            if self._kicker:
                return  # the active kicker loops once more and takes these events
            self._kicker = True
            self._busy += 1
        if inline:
            self._kick()
        else:
            threading.Thread(target=self._kick, name=f"cwmp-{self.mac}", daemon=True).start()

    def _kick(self):
        try:
            while True:
                with self._state:
                    if not self._want or self._stop.is_set():
                        self._kicker = False
                        self._busy -= 1
                        self._state.notify_all()
                        return
                    self._want = False
                    if not self._pending:
                        continue  # a direct run_session() already delivered them
                self.run_session([])
        except BaseException:
            with self._state:
                self._kicker = False
                self._busy -= 1
                self._state.notify_all()
            raise

    def _periodic(self):
        """One periodic tick (Fleet worker): a retry re-sends the undelivered events."""
        with self._state:
            retry = self.retry_count and self._pending
        self._trigger([] if retry else None, inline=True)

    def next_inform_delay(self):
        """Seconds to the next periodic session: the interval, or TR-069's retry back-off."""
        interval = max(1, int(self.value("ManagementServer.PeriodicInformInterval")))
        if self.retry_count:
            n = min(self.retry_count, 10)
            return min(interval, random.uniform(5 * 2 ** (n - 1), 5 * 2**n))
        return interval

    # --- the session --------------------------------------------------------------------------

    def run_session(self, events=None):
        """Open one CWMP session now and block until it ends; returns its SessionLog.
        events None: BOOTSTRAP+BOOT the first time, PERIODIC later. Queued events join."""
        with self._session_lock:
            with self._state:
                self._busy += 1
                base = self._default_events() if events is None else _events(events)
                evs = list(base)
                for ev in self._pending:
                    if ev not in evs:
                        evs.append(ev)
                self._pending = []
                self._started_once = True
                url = self.value("ManagementServer.URL")
                new_acs = self._acked_url is not None and url != self._acked_url
                if new_acs and ("0 BOOTSTRAP", "") not in evs:
                    evs.insert(0, ("0 BOOTSTRAP", ""))  # a new ACS URL means bootstrap again
            actions = {"transfers": [], "reboot": None, "factory": False, "changed": set()}
            log = self._session(evs, actions)
            log.finished = time.time()
            with self._state:
                self.sessions.append(log)
                self.retry_count = 0 if log.ok else self.retry_count + 1
                if not log.informed:
                    self._merge([e for e in evs if e[0] not in DISCARD_ON_FAILURE])
                follow = (actions["transfers"] or actions["reboot"] is not None
                          or actions["factory"] or self.model.pending_diagnostics)
                if follow and not self._stop.is_set():
                    self._busy += 1  # before this session's count drops: wait_idle sees no gap
                    threading.Thread(target=self._followups, args=(actions,), daemon=True,
                                     name=f"cwmp-{self.mac}-after").start()
                self._busy -= 1
                self._state.notify_all()
        schedule = {self.model.name("ManagementServer.PeriodicInformInterval"),
                    self.model.name("ManagementServer.PeriodicInformEnable")}
        if actions["changed"] & schedule and self._on_schedule_change:
            self._on_schedule_change()
        if self.on_session_end:
            self.on_session_end(self, log)
        return log

    def _session(self, events, actions):
        events = sorted(events, key=_event_order)
        log = SessionLog(events=[c for c, _ in events], event_keys=list(events))
        url = start_url = self.value("ManagementServer.URL")
        http = _http_session()
        http.headers["User-Agent"] = (f"Yealink {self.value('DeviceInfo.ModelName')} "
                                      f"{self.value('DeviceInfo.SoftwareVersion')}")
        username = self.value("ManagementServer.Username")
        password = self.model.params[self.model.name("ManagementServer.Password")].value
        if username and self.auth == "basic":
            http.auth = HTTPBasicAuth(username, password)  # pre-emptive, saves a round trip
        elif username and self.auth == "digest":
            http.auth = HTTPDigestAuth(username, password)
        try:
            self.model.tick()
            bootstrap = any(c == "0 BOOTSTRAP" for c, _ in events)
            plist, changed = self.model.inform_params(bootstrap)
            with self._state:
                tcs = list(self._transfer_completes)
            extra = [("4 VALUE CHANGE", "")] * changed + [("7 TRANSFER COMPLETE", "")] * bool(tcs)
            events = sorted(events + [e for e in extra if e not in events], key=_event_order)
            log.events, log.event_keys = [c for c, _ in events], list(events)
            ns = self.namespace
            resp, url = self._post(http, url, self._inform(events, plist), log, username, password,
                                   request=True)
            msg = self._read(resp, log)
            if msg is None or msg.name != "InformResponse":
                what = f"fault {msg.fault[0]}" if msg and msg.fault else (msg and msg.name)
                raise SessionError(f"Inform not accepted ({what or 'empty response'})")
            log.informed = True
            self.model.mark_reported(None if bootstrap else [n for n, _, _ in plist])
            if bootstrap:
                self._acked_url = start_url
            ns = msg.ns or ns
            for tc in ([] if msg.hold_requests else tcs):
                resp, url = self._post(http, url, self._transfer_complete(ns, tc), log, username,
                                       password, request=True)
                msg = self._read(resp, log)
                if msg is None or msg.name != "TransferCompleteResponse":
                    break  # kept for the next session
                with self._state:
                    self._transfer_completes.remove(tc)
            body = b""
            for _ in range(MAX_MESSAGES):
                if self._stop.is_set():
                    raise SessionError("simulator stopped")
                resp, url = self._post(http, url, body, log, username, password)
                msg = self._read(resp, log)
                if msg is None:
                    log.ended_with = resp.status_code
                    return log
                body = b"" if msg.name == "Fault" or msg.name.endswith("Response") else (
                    self._answer(msg, actions, log))
            raise SessionError("the ACS did not end the session")
        except SessionError as exc:
            log.error = str(exc)
        except requests.RequestException as exc:
            log.error = _short(exc)
        except Exception as exc:  # a simulator bug must not kill a worker thread
            log.error = f"internal error: {exc!r}"
        finally:
            http.close()
        if log.http_statuses:
            log.ended_with = log.http_statuses[-1]
        return log

    def _post(self, http, url, body, log, username, password, request=False):
        headers = {"Content-Type": SOAP_CONTENT_TYPE} if body else {}
        if request:
            headers["SOAPAction"] = '""'  # only on POSTs carrying a CPE request
        for _ in range(5):
            resp = http.post(url, data=body, headers=headers, timeout=self.timeout,
                             allow_redirects=False)
            if resp.status_code == 401 and username and _transfer_auth(http, resp, username,
                                                                       password):
                resp = http.post(url, data=body, headers=headers, timeout=self.timeout,
                                 allow_redirects=False)
            log.http_statuses.append(resp.status_code)
            if resp.status_code in REDIRECTS and resp.headers.get("Location"):
                url = urljoin(url, resp.headers["Location"])  # TR-069: follow, re-send the same
                continue
            if resp.status_code == 401:
                raise SessionError("unauthorized")
            return resp, url
        raise SessionError("too many redirects")

    def _read(self, resp, log):
        """The ACS's message, None when it ended the session (204 / empty 200)."""
        data = resp.content
        if resp.status_code in (200, 204) and not data.strip():
            return None
        if resp.status_code not in (200, 500):  # SOAP 1.1 sends faults with 500
            raise SessionError(f"HTTP {resp.status_code} from the ACS")
        try:
            msg = _parse(data)
        except SessionError:
            if resp.status_code != 200:
                raise SessionError(f"HTTP {resp.status_code} from the ACS") from None
            raise
        if msg.fault:
            log.acs_faults.append(msg.fault)
        elif resp.status_code != 200:
            raise SessionError(f"HTTP {resp.status_code} from the ACS")
        return msg

    def _inform(self, events, plist):
        g = self.value
        root, el = _envelope(self.namespace, secrets.token_hex(8), "cwmp:Inform")
        dev = _sub(el, "DeviceId")
        _sub(dev, "Manufacturer", g("DeviceInfo.Manufacturer"))
        _sub(dev, "OUI", g("DeviceInfo.ManufacturerOUI"))
        _sub(dev, "ProductClass", g("DeviceInfo.ProductClass"))
        _sub(dev, "SerialNumber", g("DeviceInfo.SerialNumber"))
        evl = _array(el, "Event", "cwmp:EventStruct", len(events))
        for code, key in events:
            item = _sub(evl, "EventStruct")
            _sub(item, "EventCode", code)
            _sub(item, "CommandKey", key)
        _sub(el, "MaxEnvelopes", 1)
        _sub(el, "CurrentTime", now_iso())
        _sub(el, "RetryCount", self.retry_count)
        _values(el, plist)
        return _bytes(root)

    def _transfer_complete(self, ns, tc):
        root, el = _envelope(ns, secrets.token_hex(8), "cwmp:TransferComplete")
        _sub(el, "CommandKey", tc["key"])
        fault = _sub(el, "FaultStruct")
        _sub(fault, "FaultCode", tc["code"])
        _sub(fault, "FaultString", tc["message"])
        _sub(el, "StartTime", tc["start"])
        _sub(el, "CompleteTime", tc["complete"])
        return _bytes(root)

    # --- RPCs -----------------------------------------------------------------------------------

    def _answer(self, msg, actions, log):
        log.rpcs.append(msg.name)
        handler = getattr(self, f"_rpc_{msg.name}", None) if msg.name in RPC_METHODS else None
        try:
            if handler is None:
                raise CwmpFault(9000)
            root, out = _envelope(msg.ns, msg.cwmp_id, f"cwmp:{msg.name}Response")
            handler(msg.el, out, actions)
            return _bytes(root)
        except CwmpFault as fault:
            return _fault_envelope(msg.ns, msg.cwmp_id, fault)
        except (ValueError, TypeError, KeyError, AttributeError):
            return _fault_envelope(msg.ns, msg.cwmp_id, CwmpFault(9003))

    def _rpc_GetRPCMethods(self, req, out, actions):
        methods = _array(out, "MethodList", "xsd:string", len(RPC_METHODS))
        for name in RPC_METHODS:
            _sub(methods, "string", name)

    def _rpc_GetParameterValues(self, req, out, actions):
        _values(out, self.model.get_values(_strings(_child(req, "ParameterNames"))))

    def _rpc_SetParameterValues(self, req, out, actions):
        items = []
        for struct in _child(req, "ParameterList"):
            value = _child(struct, "Value")
            items.append((_text(struct, "Name"), "" if value is None else value.text or "",
                          None if value is None else _xsi_type(value)))
        actions["changed"].update(self.model.set_values(items, _text(req, "ParameterKey")))
        _sub(out, "Status", 0)

    def _rpc_GetParameterNames(self, req, out, actions):
        names = self.model.get_names(_text(req, "ParameterPath"), _flag(req, "NextLevel"))
        plist = _array(out, "ParameterList", "cwmp:ParameterInfoStruct", len(names))
        for name, writable in names:
            item = _sub(plist, "ParameterInfoStruct")
            _sub(item, "Name", name)
            _sub(item, "Writable", int(writable))

    def _rpc_GetParameterAttributes(self, req, out, actions):
        attrs = self.model.get_attributes(_strings(_child(req, "ParameterNames")))
        plist = _array(out, "ParameterList", "cwmp:ParameterAttributeStruct", len(attrs))
        for name, note, access in attrs:
            item = _sub(plist, "ParameterAttributeStruct")
            _sub(item, "Name", name)
            _sub(item, "Notification", note)
            acl = _array(item, "AccessList", "xsd:string", len(access))
            for entry in access:
                _sub(acl, "string", entry)

    def _rpc_SetParameterAttributes(self, req, out, actions):
        self.model.set_attributes([{
            "name": _text(s, "Name"), "notification_change": _flag(s, "NotificationChange"),
            "notification": int(_text(s, "Notification", "0") or 0),
            "access_change": _flag(s, "AccessListChange"),
            "access_list": _strings(_child(s, "AccessList")),
        } for s in _child(req, "ParameterList")])

    def _rpc_AddObject(self, req, out, actions):
        raise CwmpFault(9005, "No object here can be added or deleted")

    _rpc_DeleteObject = _rpc_AddObject

    def _rpc_Reboot(self, req, out, actions):
        actions["reboot"] = _text(req, "CommandKey")

    def _rpc_FactoryReset(self, req, out, actions):
        actions["factory"] = True

    def _rpc_Download(self, req, out, actions):
        file_type = _text(req, "FileType")
        if not re.match(r"^([1345] |X )", file_type):
            raise CwmpFault(9003, f"Unsupported FileType {file_type}")
        self._queue_transfer(req, out, actions, "download", file_type)

    def _rpc_Upload(self, req, out, actions):
        file_type = _text(req, "FileType")
        if not re.match(r"^([1-4] |X )", file_type):
            raise CwmpFault(9003, f"Unsupported FileType {file_type}")
        self._queue_transfer(req, out, actions, "upload", file_type)

    def _queue_transfer(self, req, out, actions, kind, file_type):
        url = _text(req, "URL")
        if urlsplit(url).scheme not in ("http", "https"):
            raise CwmpFault(9013)
        if len(actions["transfers"]) >= MAX_TRANSFERS:
            raise CwmpFault(9004)
        actions["transfers"].append({
            "kind": kind, "type": file_type, "url": url, "key": _text(req, "CommandKey"),
            "username": _text(req, "Username"), "password": _text(req, "Password"),
            "delay": int(_text(req, "DelaySeconds", "0") or 0)})
        _sub(out, "Status", 1)  # "not yet done": a TransferComplete follows
        _sub(out, "StartTime", UNKNOWN_TIME)
        _sub(out, "CompleteTime", UNKNOWN_TIME)

    # --- after the session ------------------------------------------------------------------------

    def _followups(self, actions):
        """What the ACS asked for, done after its session; then a session to report it."""
        try:
            events, reboot = [], actions["reboot"] is not None
            started = time.monotonic()
            for t in sorted(actions["transfers"], key=lambda t: t["delay"]):
                if self._stop.wait(max(0.0, started + t["delay"] - time.monotonic())):
                    return
                ok = self._transfer(t)
                events += [("7 TRANSFER COMPLETE", ""),
                           ("M Download" if t["kind"] == "download" else "M Upload", t["key"])]
                reboot |= ok and t["type"].startswith("1 ") and t["kind"] == "download"
            if self.model.pending_diagnostics:
                if self._stop.wait(random.uniform(*self.followup_delay)):
                    return
                for kind in sorted(self.model.pending_diagnostics):
                    self.model.run_diagnostics(kind)
                events.append(("8 DIAGNOSTICS COMPLETE", ""))
            if reboot or actions["factory"]:
                if self._stop.wait(random.uniform(*self.followup_delay)):
                    return
                events = self._reboot(actions, events)
            self._trigger(events, inline=True)
        except Exception as exc:  # keep the thread from dying loudly; the next tick goes on
            sys.stderr.write(f"{self.mac}: follow-up failed: {exc!r}\n")
        finally:
            with self._state:
                self._busy -= 1
                self._state.notify_all()

    def _reboot(self, actions, events):
        with self._state:
            self._pending = [e for e in self._pending if e[0] not in DROPPED_BY_REBOOT]
            if actions["factory"]:
                self._pending, self._transfer_completes = [], []
                self._started_once, self._acked_url = False, None
        if actions["factory"]:
            self.model.reset()
            self.set_connection_request_url(self._cr_url)  # the listener survives the reset
            return [("0 BOOTSTRAP", ""), ("1 BOOT", "")]
        self.model.reboot()
        events = [("1 BOOT", "")] + events
        if actions["reboot"] is not None:
            events.append(("M Reboot", actions["reboot"]))
        return events

    def _transfer(self, t):
        """Do one Download/Upload; queue its TransferComplete; True on success."""
        start = now_iso()
        code, message = 0, ""
        http = _http_session()
        try:
            if t["kind"] == "download":
                status, size = self._http_transfer(http, "GET", t)
                self.downloads.append((t["url"], status, size))
                if 200 <= status < 300 and t["type"].startswith("1 "):
                    self._install_firmware(t["url"])
            else:
                data = log_file(self.model) if "Log" in t["type"] else config_file(self.model)
                status, _ = self._http_transfer(http, "PUT", t, data)
                self.uploads.append((t["url"], status, len(data)))
            if not 200 <= status < 300:
                code = 9012 if status in (401, 403) else (9010 if t["kind"] == "download" else 9011)
                message = f"HTTP {status} from the file server"
        except requests.RequestException as exc:
            (self.downloads if t["kind"] == "download" else self.uploads).append((t["url"], 0, 0))
            code = 9010 if t["kind"] == "download" else 9011
            message = _short(exc)
        finally:
            http.close()
        with self._state:
            self._transfer_completes.append({"key": t["key"], "code": code, "message": message,
                                             "start": start, "complete": now_iso()})
        return code == 0

    def _http_transfer(self, http, method, t, data=None):
        def send():
            return http.request(method, t["url"], data=data, timeout=self.timeout,
                                stream=method == "GET", headers={"Content-Type": "text/plain"}
                                if data is not None else None)

        resp = send()
        if resp.status_code == 401 and t["username"] and _transfer_auth(
                http, resp, t["username"], t["password"]):
            resp.close()
            resp = send()
        size = sum(len(chunk) for chunk in resp.iter_content(65536)) if method == "GET" else 0
        resp.close()
        return resp.status_code, size

    def _install_firmware(self, url):
        """The version in the image's name if any (T54W-96.86.0.80.rom), else the next build."""
        found = re.findall(r"\d+\.\d+\.\d+\.\d+", urlsplit(url).path.rsplit("/", 1)[-1])
        current = self.value("DeviceInfo.SoftwareVersion")
        if found:
            new = found[-1]
        else:
            parts = current.split(".")
            new = ".".join(parts[:-1] + [str(int(parts[-1]) + 1)]) if parts[-1].isdigit() else (
                current + ".1")
        self.model.set_local("DeviceInfo.SoftwareVersion", new)


def _values(parent, plist):
    out = _array(parent, "ParameterList", "cwmp:ParameterValueStruct", len(plist))
    for name, ptype, value in plist:
        item = _sub(out, "ParameterValueStruct")
        _sub(item, "Name", name)
        _sub(item, "Value", value, xsi__type=ptype)


def _events(events):
    """[(code, command key)] from codes or pairs."""
    return [(e, "") if isinstance(e, str) else (e[0], e[1]) for e in events]


def _event_order(event):
    code = event[0]
    return (1, 0) if code.startswith("M ") else (0, int(code.split(" ")[0]))


def _full_ns(namespace):
    return namespace if namespace.startswith("urn:") else f"urn:dslforum-org:{namespace}"


# --- connection requests --------------------------------------------------------------------------


class _CrHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the ACS answers the challenge on the same socket
    server_version = "Yealink-CR/1.0"

    def do_GET(self):
        match = re.fullmatch(r"/cr/([0-9a-fA-F]{12})", urlsplit(self.path).path)
        phone = self.server.phones.get(match.group(1).lower()) if match else None
        if phone is None:
            return self._reply(404)
        params, name = phone.model.params, phone.model.name
        with phone.model.lock:
            user = params[name("ManagementServer.ConnectionRequestUsername")].value
            password = params[name("ManagementServer.ConnectionRequestPassword")].value
        # TR-069 requires Digest; with no credentials configured there is nothing to check
        # against, so an unconfigured phone (as shipped) accepts any request.
        guard = self.server.guard
        if (user or password) and not guard.check(self.headers.get("Authorization"), "GET",
                                                  self.path, user, password):
            return self._reply(401, {"WWW-Authenticate": guard.challenge()})
        self._reply(200)
        phone.connection_request()  # never waits: the session runs in its own thread

    def _reply(self, status, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):  # quiet: a fleet gets many
        pass


class ConnectionRequestServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host="127.0.0.1", port=0, advertise_host=None):
        super().__init__((host, port), _CrHandler)
        self.phones, self.guard = {}, DigestGuard()
        self.host = advertise_host or (host if host not in ("", "0.0.0.0", "::") else "127.0.0.1")
        self.port = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="cwmp-cr", daemon=True)
        self._thread.start()

    def url_for(self, mac):
        return f"http://{self.host}:{self.port}/cr/{mac}"

    def add(self, phone):
        self.phones[phone.mac] = phone
        phone._cr_url = self.url_for(phone.mac)
        phone.set_connection_request_url(phone._cr_url)

    def shutdown(self):
        if self._thread.is_alive():
            super().shutdown()
            self.server_close()


def serve_connection_requests(phones, host="127.0.0.1", port=0, advertise_host=None):
    """Listen for connection requests (GET /cr/<mac>) for these phones; sets each phone's
    ConnectionRequestURL. The server has .port, .url_for(mac), .add(phone), .shutdown()."""
    server = ConnectionRequestServer(host, port, advertise_host)
    for phone in [phones] if isinstance(phones, SimulatedPhone) else phones:
        server.add(phone)
    return server


# --- the fleet ------------------------------------------------------------------------------------


class Fleet:
    def __init__(self, acs_url, count, *, mac_prefix="001565", start_index=1, username=None,
                 password=None, auth="basic", namespace=DEFAULT_NS, data_model="Device",
                 periodic_interval=900, jitter=True, cr_host="127.0.0.1", cr_port=0,
                 cr_advertise_host=None, model="SIP-T54W", firmware="96.86.0.70", workers=8,
                 timeout=10):
        if not re.fullmatch(r"[0-9a-fA-F]{6}", mac_prefix):
            raise ValueError("mac_prefix must be 6 hex digits")
        self.phones = [
            SimulatedPhone(acs_url, f"{mac_prefix.lower()}{i:06x}", username=username,
                           password=password, auth=auth, namespace=namespace,
                           data_model=data_model, model=model, firmware=firmware,
                           periodic_interval=periodic_interval, timeout=timeout)
            for i in range(start_index, start_index + count)]
        self.jitter, self.workers = jitter, workers
        self.cr_host, self.cr_port, self.cr_advertise_host = cr_host, cr_port, cr_advertise_host
        self.server = None
        self._heap, self._gen = [], {}
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._stopped = False
        self._thread = self._pool = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def listen(self):
        """Only the connection-request listener (start() calls it)."""
        if self.server is None:
            self.server = serve_connection_requests(self.phones, self.cr_host, self.cr_port,
                                                    self.cr_advertise_host)
            self.cr_port = self.server.port
        return self.server

    def start(self):
        if self._thread is not None:
            return
        self.listen()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="cwmp-sim")
        spread = min(3.0, 0.1 * len(self.phones)) if self.jitter else 0.0
        now = time.monotonic()
        with self._cond:
            for i, phone in enumerate(self.phones):
                phone._on_schedule_change = lambda i=i: self._schedule(i, None)
                self._schedule(i, now + random.uniform(0, spread))
        self._thread = threading.Thread(target=self._loop, name="cwmp-scheduler", daemon=True)
        self._thread.start()

    def run_once(self, timeout=60):
        """One BOOTSTRAP session per phone (plus the follow-ups the ACS causes); True if none
        failed. For the CLI's --once and benchmarks; no periodic Informs."""
        self.listen()
        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(lambda p: p.run_session(), self.phones))
        deadline = time.monotonic() + timeout
        for phone in self.phones:
            phone.wait_idle(max(0.0, deadline - time.monotonic()))
        return all(log.ok for phone in self.phones for log in phone.sessions)

    def stop(self):
        with self._cond:
            if self._stopped:
                return
            self._stopped = True
            self._cond.notify_all()
        for phone in self.phones:
            phone.close()
        if self._thread is not None:
            self._thread.join(5)
        if self.server is not None:
            self.server.shutdown()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _schedule(self, i, due):
        """(Re)plan phone i; a newer entry makes older heap entries for it stale."""
        with self._cond:
            if self._stopped:
                return
            if due is None:
                due = time.monotonic() + self.phones[i].next_inform_delay()
            self._gen[i] = gen = next(self._seq)
            heapq.heappush(self._heap, (due, gen, i))
            self._cond.notify()

    def _loop(self):
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                due, gen, i = self._heap[0]
                if self._gen.get(i) != gen:
                    heapq.heappop(self._heap)
                    continue
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._gen[i] = None  # running: no entry until the tick reschedules
                self._pool.submit(self._tick, i)

    def _tick(self, i):
        phone = self.phones[i]
        try:
            if phone.value("ManagementServer.PeriodicInformEnable") == "1":
                phone._periodic()
        except Exception as exc:  # the scheduler must outlive any one phone
            sys.stderr.write(f"{phone.mac}: periodic session failed: {exc!r}\n")
        finally:
            with self._cond:
                if self._gen.get(i) is None:  # not re-planned meanwhile (interval change)
                    self._schedule(i, None)


# --- CLI ------------------------------------------------------------------------------------------


def _report_failure(phone, log):
    if log.error:  # one write per line: sessions end on many threads at once
        sys.stderr.write(f"{phone.mac}: session [{', '.join(log.events)}] failed: {log.error}\n")
        sys.stderr.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m app.device_ops.simulator",
                                 description="Simulated Yealink phones speaking TR-069 to an ACS.")
    ap.add_argument("--acs-url", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--auth", choices=("basic", "digest"), default="basic")
    ap.add_argument("--mac-prefix", default="001565")
    ap.add_argument("--start-index", type=int, default=1)
    ap.add_argument("--periodic-interval", type=int, default=900)
    ap.add_argument("--namespace", default="cwmp-1-2", help="cwmp-1-0 ... cwmp-1-4 or a full URN")
    ap.add_argument("--data-model", choices=("Device", "InternetGatewayDevice"), default="Device")
    ap.add_argument("--model", default="SIP-T54W")
    ap.add_argument("--firmware", default="96.86.0.70")
    ap.add_argument("--cr-host", default="127.0.0.1")
    ap.add_argument("--cr-port", type=int, default=0)
    ap.add_argument("--cr-advertise-host", help="host put in ConnectionRequestURL")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--once", action="store_true",
                    help="one BOOTSTRAP session per phone, then exit (1 if any failed)")
    args = ap.parse_args(argv)
    fleet = Fleet(args.acs_url, args.count, mac_prefix=args.mac_prefix,
                  start_index=args.start_index, username=args.username, password=args.password,
                  auth=args.auth, namespace=args.namespace, data_model=args.data_model,
                  periodic_interval=args.periodic_interval, cr_host=args.cr_host,
                  cr_port=args.cr_port, cr_advertise_host=args.cr_advertise_host,
                  model=args.model, firmware=args.firmware, workers=args.workers,
                  timeout=args.timeout)
    for phone in fleet.phones:
        phone.on_session_end = _report_failure
    if args.once:
        try:
            return 0 if fleet.run_once() else 1
        except KeyboardInterrupt:
            return 130
        finally:
            fleet.stop()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    fleet.start()
    print(f"{args.count} simulated phones -> {args.acs_url}; connection requests on "
          f"{fleet.server.host}:{fleet.cr_port}", flush=True)
    while not done.wait(0.5):
        pass
    fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
