"""One simulated phone's CWMP sessions: SimulatedPhone speaks TR-069 (CWMP 1.0-1.4, SOAP 1.1)
over real HTTP to an ACS - Informs, the ACS's RPCs, transfers, reboots and follow-up sessions.

The parameter tree and RPC semantics live in sim_model.py; the SOAP envelopes in sim_soap.py; HTTP
auth (DigestGuard, answering 401s) in sim_auth.py; Fleet, the connection-request listener and the
CLI in simulator.py."""

import random
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from app.device_ops.simulator import transfers
from app.device_ops.simulator.auth import transfer_auth
from app.device_ops.simulator.model import (
    UNKNOWN_TIME,
    CwmpFault,
    DataModel,
    Param,
    now_iso,
)
from app.device_ops.simulator.quirks import Quirks
from app.device_ops.simulator.soap import (
    DEFAULT_NS,
    SOAP_CONTENT_TYPE,
    SessionError,
    array,
    child,
    envelope,
    event_order,
    event_pairs,
    fault_envelope,
    flag,
    full_ns,
    parse,
    strings,
    sub,
    text,
    to_bytes,
    values,
    xsi_type,
)
from app.device_ops.simulator.vendor import upload_supported

__all__ = ["SessionError", "SessionLog", "SimulatedPhone"]

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
                 serial=None, timeout=10, seed=None, quirks=None):
        mac = re.sub(r"[^0-9a-fA-F]", "", mac).lower()
        if len(mac) != 12:
            raise ValueError(f"bad MAC {mac!r}")
        if auth not in ("basic", "digest", None):
            raise ValueError(f"auth must be basic, digest or None, not {auth!r}")
        self.mac, self.auth, self.timeout = mac, auth, timeout
        self.quirks = quirks = quirks or Quirks()
        if quirks.no_mac_in_inform and serial is None:
            serial = f"CP{mac.upper()}"  # a serial number that is no MAC
        self.namespace = full_ns(namespace)
        index = int(mac[6:], 16)
        ip = ip or f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"
        self.model = DataModel(
            data_model, mac=mac, ip=ip, serial=serial or mac.upper(), model=model,
            firmware=firmware, acs_url=acs_url, username=username, password=password,
            periodic_interval=periodic_interval,
            rng=random.Random(mac if seed is None else seed),  # reproducible per phone
            drop=quirks.dropped, mac_in_inform=not quirks.no_mac_in_inform,
            diagnostics_hang=quirks.never_complete_diagnostics)
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
            self._merge(self._default_events() if events is None else event_pairs(events))
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
                base = self._default_events() if events is None else event_pairs(events)
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
        events = sorted(events, key=event_order)
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
            events = sorted(events + [e for e in extra if e not in events], key=event_order)
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
            if resp.status_code == 401 and username and transfer_auth(http, resp, username,
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
            msg = parse(data)
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
        root, el = envelope(self.namespace, secrets.token_hex(8), "cwmp:Inform")
        dev = sub(el, "DeviceId")
        sub(dev, "Manufacturer", g("DeviceInfo.Manufacturer"))
        sub(dev, "OUI", g("DeviceInfo.ManufacturerOUI"))
        sub(dev, "ProductClass", g("DeviceInfo.ProductClass"))
        sub(dev, "SerialNumber", g("DeviceInfo.SerialNumber"))
        evl = array(el, "Event", "cwmp:EventStruct", len(events))
        for code, key in events:
            item = sub(evl, "EventStruct")
            sub(item, "EventCode", code)
            sub(item, "CommandKey", key)
        sub(el, "MaxEnvelopes", 1)
        sub(el, "CurrentTime", now_iso())
        sub(el, "RetryCount", self.retry_count)
        values(el, plist)
        return to_bytes(root)

    def _transfer_complete(self, ns, tc):
        root, el = envelope(ns, secrets.token_hex(8), "cwmp:TransferComplete")
        sub(el, "CommandKey", tc["key"])
        fault = sub(el, "FaultStruct")
        sub(fault, "FaultCode", tc["code"])
        sub(fault, "FaultString", tc["message"])
        sub(el, "StartTime", tc["start"])
        sub(el, "CompleteTime", tc["complete"])
        return to_bytes(root)

    # --- RPCs -----------------------------------------------------------------------------------

    def _answer(self, msg, actions, log):
        log.rpcs.append(msg.name)
        if self.quirks.silent_on_metrics and msg.name == "GetParameterValues" and any(
                "DeviceInfo.ProcessStatus" in n or "DeviceInfo.MemoryStatus" in n
                for n in strings(child(msg.el, "ParameterNames"))):
            raise SessionError("broke off the session on a CPU/memory read (quirk)")
        handler = getattr(self, f"_rpc_{msg.name}", None) if msg.name in RPC_METHODS else None
        try:
            if handler is None:
                raise CwmpFault(9000)
            root, out = envelope(msg.ns, msg.cwmp_id, f"cwmp:{msg.name}Response")
            handler(msg.el, out, actions)
            return to_bytes(root)
        except CwmpFault as fault:
            return fault_envelope(msg.ns, msg.cwmp_id, fault)
        except (ValueError, TypeError, KeyError, AttributeError):
            return fault_envelope(msg.ns, msg.cwmp_id, CwmpFault(9003))

    def _rpc_GetRPCMethods(self, req, out, actions):
        supported = [m for m in RPC_METHODS if not (
            self.quirks.no_attributes and m.endswith("ParameterAttributes"))]
        methods = array(out, "MethodList", "xsd:string", len(supported))
        for name in supported:
            sub(methods, "string", name)

    def _rpc_GetParameterValues(self, req, out, actions):
        values(out, self.model.get_values(strings(child(req, "ParameterNames"))))

    def _rpc_SetParameterValues(self, req, out, actions):
        items = []
        for struct in child(req, "ParameterList"):
            value = child(struct, "Value")
            items.append((text(struct, "Name"), "" if value is None else value.text or "",
                          None if value is None else xsi_type(value)))
        actions["changed"].update(self.model.set_values(items, text(req, "ParameterKey")))
        sub(out, "Status", 0)

    def _rpc_GetParameterNames(self, req, out, actions):
        names = self.model.get_names(text(req, "ParameterPath"), flag(req, "NextLevel"))
        plist = array(out, "ParameterList", "cwmp:ParameterInfoStruct", len(names))
        for name, writable in names:
            item = sub(plist, "ParameterInfoStruct")
            sub(item, "Name", name)
            sub(item, "Writable", int(writable))

    def _rpc_GetParameterAttributes(self, req, out, actions):
        attrs = self.model.get_attributes(strings(child(req, "ParameterNames")))
        plist = array(out, "ParameterList", "cwmp:ParameterAttributeStruct", len(attrs))
        for name, note, access in attrs:
            item = sub(plist, "ParameterAttributeStruct")
            sub(item, "Name", name)
            sub(item, "Notification", note)
            acl = array(item, "AccessList", "xsd:string", len(access))
            for entry in access:
                sub(acl, "string", entry)

    def _rpc_SetParameterAttributes(self, req, out, actions):
        if self.quirks.no_attributes:
            raise CwmpFault(9000)
        self.model.set_attributes([{
            "name": text(s, "Name"), "notification_change": flag(s, "NotificationChange"),
            "notification": int(text(s, "Notification", "0") or 0),
            "access_change": flag(s, "AccessListChange"),
            "access_list": strings(child(s, "AccessList")),
        } for s in child(req, "ParameterList")])

    def _rpc_AddObject(self, req, out, actions):
        raise CwmpFault(9005, "No object here can be added or deleted")

    _rpc_DeleteObject = _rpc_AddObject

    def _rpc_Reboot(self, req, out, actions):
        actions["reboot"] = text(req, "CommandKey")

    def _rpc_FactoryReset(self, req, out, actions):
        actions["factory"] = True

    def _rpc_Download(self, req, out, actions):
        file_type = text(req, "FileType")
        if not re.match(r"^([1345] |X )", file_type):
            raise CwmpFault(9003, f"Unsupported FileType {file_type}")
        self._queue_transfer(req, out, actions, "download", file_type)

    def _rpc_Upload(self, req, out, actions):
        file_type = text(req, "FileType")
        if not re.match(r"^([1-4] |X )", file_type) or not upload_supported(self.quirks, file_type):
            raise CwmpFault(9003, f"Unsupported FileType {file_type}")
        self._queue_transfer(req, out, actions, "upload", file_type)

    def _queue_transfer(self, req, out, actions, kind, file_type):
        url = text(req, "URL")
        if urlsplit(url).scheme not in ("http", "https"):
            raise CwmpFault(9013)
        if len(actions["transfers"]) >= MAX_TRANSFERS:
            raise CwmpFault(9004)
        actions["transfers"].append({
            "kind": kind, "type": file_type, "url": url, "key": text(req, "CommandKey"),
            "username": text(req, "Username"), "password": text(req, "Password"),
            "delay": int(text(req, "DelaySeconds", "0") or 0)})
        sub(out, "Status", 1)  # "not yet done": a TransferComplete follows
        sub(out, "StartTime", UNKNOWN_TIME)
        sub(out, "CompleteTime", UNKNOWN_TIME)

    # --- after the session ------------------------------------------------------------------------

    def _followups(self, actions):
        """What the ACS asked for, done after its session; then a session to report it."""
        try:
            events, reboot = [], actions["reboot"] is not None
            started = time.monotonic()
            for t in sorted(actions["transfers"], key=lambda t: t["delay"]):
                if self._stop.wait(max(0.0, started + t["delay"] - time.monotonic())):
                    return
                ok = transfers.transfer(self, t)
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
