"""The simulated phone's TR-069 parameter tree (TR-181 "Device." or TR-098 "InternetGatewayDevice.")
and the RPC semantics that work on it: values, names, attributes, notification, fake diagnostics.

No I/O here: sim_phone.py does the HTTP and the threads; sim_diagnostics.py makes up the
diagnostics results. Every public method takes the model's lock, because the session thread and
the connection-request listener read it concurrently."""

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.device_ops.simulator import diagnostics as sim_diagnostics
from app.device_ops.simulator import vendor

FAULT_STRINGS = {
    9000: "Method not supported",
    9001: "Request denied",
    9002: "Internal error",
    9003: "Invalid arguments",
    9004: "Resources exceeded",
    9005: "Invalid parameter name",
    9006: "Invalid parameter type",
    9007: "Invalid parameter value",
    9008: "Attempt to set a non-writable parameter",
    9009: "Notification request rejected",
    9010: "Download failure",
    9011: "Upload failure",
    9012: "File transfer server authentication failure",
    9013: "Unsupported protocol for file transfer",
}
# TR-069 fault table: these are the receiver's fault ("Server"), the others the sender's ("Client").
SERVER_FAULTS = {9000, 9001, 9002, 9004, 9009, 9010, 9011, 9012, 9013}

UNKNOWN_TIME = "0001-01-01T00:00:00Z"  # TR-069's "unknown time" value
DIAG_STATES = ("None", "Requested", "Complete")


class CwmpFault(Exception):
    """A CWMP fault answer; spv_faults: [(name, code, message)] for SetParameterValuesFault."""

    def __init__(self, code, message=None, spv_faults=()):
        self.code = code
        self.message = message or FAULT_STRINGS.get(code, "Fault")
        self.spv_faults = list(spv_faults)
        super().__init__(f"{code} {self.message}")


@dataclass
class Param:
    value: str = ""
    type: str = "xsd:string"
    writable: bool = False
    notification: int = 0  # 0 off, 1 passive, 2 active
    access_list: list = field(default_factory=list)
    secret: bool = False  # passwords read back as "" (TR-069 requirement)
    limits: tuple | None = None  # inclusive integer range
    choices: tuple | None = None  # the values the ACS may write
    active_notify: str = "normal"  # TR-106 "canDeny" / "forceEnabled" active notification
    reported: str | None = None  # the value as of the last Inform (notification baseline)

    @property
    def read_value(self):
        return "" if self.secret else self.value


def now_iso():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mac_colons(mac):
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2)).upper()


def normalize(ptype, text):
    """The canonical text of a value of ptype, or ValueError."""
    text = "" if text is None else text
    if ptype == "xsd:boolean":
        low = text.strip().lower()
        if low in ("1", "true"):
            return "1"
        if low in ("0", "false"):
            return "0"
        raise ValueError(text)
    if ptype in ("xsd:unsignedInt", "xsd:int"):
        number = int(text.strip())
        low, high = (0, 2**32 - 1) if ptype == "xsd:unsignedInt" else (-(2**31), 2**31 - 1)
        if not low <= number <= high:
            raise ValueError(text)
        return str(number)
    if ptype == "xsd:dateTime":
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return text.strip()
    if len(text) > 256:
        raise ValueError("too long")
    return text


def _p(value="", ptype="xsd:string", w=False, **kw):
    return Param(str(value), ptype, w, **kw)


def _u(value, w=False, **kw):
    return _p(value, "xsd:unsignedInt", w, **kw)


def _b(value, w=True):
    return _p("1" if value else "0", "xsd:boolean", w)


class DataModel:
    def __init__(self, data_model, *, mac, ip, serial, model, firmware, acs_url, username, password,
                 periodic_interval, rng=None, drop=(), mac_in_inform=True, diagnostics_hang=False):
        if data_model not in ("Device", "InternetGatewayDevice"):
            raise ValueError(f"unknown data model {data_model!r}")
        self.tr098 = data_model == "InternetGatewayDevice"
        self.root = data_model + "."
        self.factory = dict(mac=mac, ip=ip, serial=serial, model=model, firmware=firmware,
                            acs_url=acs_url, username=username or "", password=password or "",
                            periodic_interval=periodic_interval)
        self.rng = rng or random.Random()
        self.drop, self.mac_in_inform = tuple(drop), mac_in_inform  # quirks.py
        self.diagnostics_hang = diagnostics_hang
        self.lock = threading.RLock()
        self.params: dict[str, Param] = {}
        self.reset()

    # --- construction -------------------------------------------------------------------------

    def reset(self):
        """Factory defaults (keeps the same dict object, which callers may hold)."""
        with self.lock:
            self.params.clear()
            self.params.update({self.root + k: v for k, v in self._tree(**self.factory).items()
                                if k not in self.drop})
            for p in self.params.values():
                p.reported = p.value
            self.boot_time = time.monotonic()
            self.pending_diagnostics = set()
            self._entries = None

    def _tree(self, *, mac, ip, serial, model, firmware, acs_url, username, password,
              periodic_interval):
        major = firmware.split(".")[0]
        deny = {"active_notify": "canDeny"}
        force = {"active_notify": "forceEnabled", "notification": 2}
        summary = (
            "InternetGatewayDevice:1.4[](Baseline:2, EthernetLAN:1, IPPing:1, TraceRoute:1)"
            if self.tr098
            else "Device:2.12[](Baseline:3, EthernetInterface:1, IPPing:1, TraceRoute:1)"
        ) + ", VoiceService:1.0[1](Endpoint:1, SIPEndpoint:1)"
        t = {"DeviceSummary": _p(summary)}
        if not self.tr098:
            t["RootDataModelVersion"] = _p("2.12")
        total = 262144
        t.update({
            "DeviceInfo.Manufacturer": _p("Yealink"),
            "DeviceInfo.ManufacturerOUI": _p("001565"),
            "DeviceInfo.ModelName": _p(model),
            "DeviceInfo.Description": _p(f"Yealink {model} IP phone"),
            "DeviceInfo.ProductClass": _p(model),
            "DeviceInfo.SerialNumber": _p(serial),
            "DeviceInfo.HardwareVersion": _p(f"{major}.0.0.128.0.0.0"),
            "DeviceInfo.SoftwareVersion": _p(firmware, **force),
            "DeviceInfo.ProvisioningCode": _p("", w=True, **force),
            "DeviceInfo.UpTime": _u(0, **deny),
            "DeviceInfo.ProcessStatus.CPUUsage": _u(self.rng.randint(3, 20), **deny),
            "DeviceInfo.MemoryStatus.Total": _u(total),
            "DeviceInfo.MemoryStatus.Free": _u(self.rng.randint(total // 3, total // 2), **deny),
            "ManagementServer.URL": _p(acs_url, w=True),
            "ManagementServer.Username": _p(username, w=True),
            "ManagementServer.Password": _p(password, w=True, secret=True),
            "ManagementServer.PeriodicInformEnable": _b(True),
            "ManagementServer.PeriodicInformInterval": _u(periodic_interval, True,
                                                          limits=(1, 2**32 - 1)),
            "ManagementServer.PeriodicInformTime": _p(UNKNOWN_TIME, "xsd:dateTime", True),
            "ManagementServer.ParameterKey": _p(""),
            "ManagementServer.ConnectionRequestURL": _p("", **force),
            "ManagementServer.ConnectionRequestUsername": _p("", w=True),
            "ManagementServer.ConnectionRequestPassword": _p("", w=True, secret=True),
            "ManagementServer.UpgradesManaged": _b(False),
        })
        if self.tr098:
            lan = "LANDevice.1."
            ipif = lan + "LANHostConfigManagement.IPInterface.1."
            t.update({
                "LANDeviceNumberOfEntries": _u(1),
                lan + "LANEthernetInterfaceNumberOfEntries": _u(1),
                lan + "LANEthernetInterfaceConfig.1.Enable": _b(True),
                lan + "LANEthernetInterfaceConfig.1.Status": _p("Up"),
                lan + "LANEthernetInterfaceConfig.1.MACAddress": _p(mac_colons(mac)),
                lan + "LANEthernetInterfaceConfig.1.MaxBitRate": _p(
                    "Auto", w=True, choices=("10", "100", "1000", "Auto")),
                lan + "LANHostConfigManagement.IPInterfaceNumberOfEntries": _u(1),
                lan + "LANHostConfigManagement.IPInterface.1.Enable": _b(True),
                ipif + "IPInterfaceIPAddress": _p(ip),
                ipif + "IPInterfaceSubnetMask": _p("255.255.255.0"),
                ipif + "IPInterfaceAddressingType": _p("DHCP"),
            })
        else:
            t.update({
                "Ethernet.InterfaceNumberOfEntries": _u(1),
                "Ethernet.Interface.1.Enable": _b(True),
                "Ethernet.Interface.1.Status": _p("Up"),
                "Ethernet.Interface.1.Name": _p("eth0"),
                "Ethernet.Interface.1.MACAddress": _p(mac_colons(mac)),
                "Ethernet.Interface.1.MaxBitRate": _p(-1, "xsd:int", True),
                "IP.InterfaceNumberOfEntries": _u(1),
                "IP.Interface.1.Enable": _b(True),
                "IP.Interface.1.Status": _p("Up"),
                "IP.Interface.1.Name": _p("eth0"),
                "IP.Interface.1.LowerLayers": _p("Device.Ethernet.Interface.1."),
                "IP.Interface.1.IPv4AddressNumberOfEntries": _u(1),
                "IP.Interface.1.IPv4Address.1.Enable": _b(True),
                "IP.Interface.1.IPv4Address.1.IPAddress": _p(ip),
                "IP.Interface.1.IPv4Address.1.SubnetMask": _p("255.255.255.0"),
                "IP.Interface.1.IPv4Address.1.AddressingType": _p("DHCP"),
            })
        for kind in ("ping", "traceroute"):
            prefix = self._diag_suffix(kind)
            t.update({prefix + k: v for k, v in _diag_fields(kind).items()})
        t.update({
            "X_YEALINK_Syslog.Enable": _b(True),
            "X_YEALINK_Syslog.Level": _u(3, True, limits=(0, 6)),
            "X_YEALINK_Syslog.Server": _p("", w=True),
            "X_YEALINK_Syslog.Port": _u(514, True, limits=(1, 65535)),
            "X_YEALINK_Account.1.Enable": _b(False),
            "X_YEALINK_Account.1.Label": _p("", w=True),
            "X_YEALINK_Account.1.DisplayName": _p("", w=True),
            "X_YEALINK_Account.1.UserName": _p("", w=True),
            "X_YEALINK_Account.1.Password": _p("", w=True, secret=True),
            "X_YEALINK_Account.1.SIPServer": _p("", w=True),
            "X_YEALINK_Account.1.RegistrationStatus": _p("Disabled"),
        })
        return {**t, **vendor.parameters(_p)}  # the diagnostic page's vendor parameters

    # --- well-known names ---------------------------------------------------------------------

    def name(self, suffix):
        return self.root + suffix

    def resolve(self, name):
        """A full parameter name: accepts names relative to the root too."""
        return name if name in self.params else self.root + name

    @property
    def mac_param(self):
        if self.tr098:
            return self.name("LANDevice.1.LANEthernetInterfaceConfig.1.MACAddress")
        return self.name("Ethernet.Interface.1.MACAddress")

    @property
    def ip_param(self):
        if self.tr098:
            return self.name(
                "LANDevice.1.LANHostConfigManagement.IPInterface.1.IPInterfaceIPAddress")
        return self.name("IP.Interface.1.IPv4Address.1.IPAddress")

    def forced_inform(self):
        head = ["DeviceSummary"] if self.tr098 else ["RootDataModelVersion"]
        names = head + ["DeviceInfo.HardwareVersion", "DeviceInfo.SoftwareVersion",
                        "DeviceInfo.ProvisioningCode", "ManagementServer.ConnectionRequestURL",
                        "ManagementServer.ParameterKey"]
        names = [self.name(n) for n in names] + [self.ip_param]
        return names + [self.mac_param] * (self.mac_in_inform and self.mac_param in self.params)

    def _diag_suffix(self, kind):
        if self.tr098:
            return "IPPingDiagnostics." if kind == "ping" else "TraceRouteDiagnostics."
        return "IP.Diagnostics.IPPing." if kind == "ping" else "IP.Diagnostics.TraceRoute."

    def diag_path(self, kind):
        return self.root + self._diag_suffix(kind)

    def get(self, name):
        with self.lock:
            self._refresh_uptime()
            return self.params[self.resolve(name)].value

    def set_local(self, name, value):
        """A change made on the phone itself (not by the ACS): subject to notification."""
        with self.lock:
            p = self.params[self.resolve(name)]
            p.value = normalize(p.type, str(value))
            return p.notification

    # --- dynamic values -----------------------------------------------------------------------

    def _refresh_uptime(self):
        self.params[self.name("DeviceInfo.UpTime")].value = str(
            int(time.monotonic() - self.boot_time))

    def tick(self):
        """Load changes between sessions: CPU and free memory take a random-walk step."""
        with self.lock:
            self._refresh_uptime()
            if self.name("DeviceInfo.ProcessStatus.CPUUsage") not in self.params:
                return  # a model without them (quirks.py)
            cpu = self.params[self.name("DeviceInfo.ProcessStatus.CPUUsage")]
            cpu.value = str(_walk(self.rng, int(cpu.value), 8, 1, 95))
            total = int(self.params[self.name("DeviceInfo.MemoryStatus.Total")].value)
            free = self.params[self.name("DeviceInfo.MemoryStatus.Free")]
            free.value = str(_walk(self.rng, int(free.value), 4096, total // 5, total * 4 // 5))

    def reboot(self):
        with self.lock:
            self.boot_time = time.monotonic()
            self._refresh_uptime()
            cpu = self.params.get(self.name("DeviceInfo.ProcessStatus.CPUUsage"))
            if cpu is not None:
                cpu.value = str(self.rng.randint(20, 40))  # busy right after boot

    # --- names and lookups --------------------------------------------------------------------

    def _walk_entries(self):
        """[(name, writable)] of objects and parameters in tree order; objects end with '.'."""
        if self._entries is None:
            seen, out = set(), []
            for name, p in self.params.items():
                parts = name.split(".")
                for i in range(1, len(parts)):
                    obj = ".".join(parts[:i]) + "."
                    if obj not in seen:
                        seen.add(obj)
                        out.append((obj, False))  # no object here can be added or deleted
                out.append((name, p.writable))
            self._entries = out
            self._objects = seen
        return self._entries

    def _matching(self, name):
        """Parameter names selected by a full or partial path ("" = everything), or 9005."""
        if name == "":
            return list(self.params)
        if name.endswith("."):
            self._walk_entries()
            if name not in self._objects:
                raise CwmpFault(9005, f"Invalid parameter name {name}")
            return [n for n in self.params if n.startswith(name)]
        if name not in self.params:
            raise CwmpFault(9005, f"Invalid parameter name {name}")
        return [name]

    def get_values(self, names):
        with self.lock:
            self._refresh_uptime()
            out = []
            for name in names:
                for n in self._matching(name):
                    p = self.params[n]
                    out.append((n, p.type, p.read_value))
            return out

    def get_names(self, path, next_level):
        with self.lock:
            entries = self._walk_entries()
            if path == "":
                return [(self.root, False)] if next_level else list(entries)
            if not path.endswith("."):
                if path not in self.params:
                    raise CwmpFault(9005, f"Invalid parameter name {path}")
                if next_level:
                    raise CwmpFault(9003, "NextLevel must be false for a parameter")
                return [(path, self.params[path].writable)]
            if path not in self._objects:
                raise CwmpFault(9005, f"Invalid parameter name {path}")
            out = []
            for name, writable in entries:
                if not name.startswith(path):
                    continue
                rest = name[len(path) :]
                if not next_level or (rest and "." not in rest.rstrip(".")):
                    out.append((name, writable))
            return out

    def get_attributes(self, names):
        with self.lock:
            return [(n, self.params[n].notification, list(self.params[n].access_list))
                    for name in names for n in self._matching(name)]

    def set_attributes(self, structs):
        """structs: dicts name, notification_change, notification, access_change, access_list.
        All-or-nothing. A partial path skips parameters that cannot take the notification."""
        with self.lock:
            plan = []
            for s in structs:
                targets = self._matching(s["name"])
                note = s.get("notification", 0)
                if s.get("notification_change") and note not in (0, 1, 2):
                    raise CwmpFault(9003, f"Notification {note} out of range")
                if s.get("access_list") and set(s["access_list"]) - {"Subscriber"}:
                    raise CwmpFault(9003, "AccessList may only contain Subscriber")
                for n in targets:
                    p = self.params[n]
                    settable = not (p.active_notify == "canDeny" and note == 2) and not (
                        p.active_notify == "forceEnabled" and note != 2)
                    if s.get("notification_change") and not settable:
                        if not s["name"].endswith(".") and s["name"] != "":
                            raise CwmpFault(9009, f"Notification {note} refused for {n}")
                        continue
                    plan.append((p, s))
            for p, s in plan:
                if s.get("notification_change") and p.notification != s["notification"]:
                    p.notification = s["notification"]
                    p.reported = p.value  # the change is measured from now on
                if s.get("access_change"):
                    p.access_list = list(s.get("access_list") or [])

    def set_values(self, items, parameter_key):
        """items: [(name, value, xsi_type or None)]. All-or-nothing; returns the changed names."""
        with self.lock:
            faults, plan, seen = [], [], set()
            for name, value, xtype in items:
                if name in seen:
                    raise CwmpFault(9003, f"{name} given twice")
                seen.add(name)
                p = self.params.get(name)
                if p is None:
                    faults.append((name, 9005, FAULT_STRINGS[9005]))
                elif not p.writable:
                    faults.append((name, 9008, FAULT_STRINGS[9008]))
                elif xtype and xtype not in ("xsd:string", p.type):
                    # ACSs that send everything as xsd:string are tolerated, other wrong types not
                    faults.append((name, 9006, f"{name} is {p.type}"))
                else:
                    try:
                        canon = normalize(p.type, value)
                        if p.limits and not p.limits[0] <= int(canon) <= p.limits[1]:
                            raise ValueError(canon)
                        if p.choices and canon not in p.choices:
                            raise ValueError(canon)
                    except ValueError:
                        faults.append((name, 9007, f"Invalid value for {name}"))
                        continue
                    plan.append((name, p, canon))
            if faults:
                raise CwmpFault(9003, spv_faults=faults)
            changed = []
            for name, p, canon in plan:
                if p.value != canon:
                    changed.append(name)
                p.value = canon
                p.reported = canon  # changes made by the ACS are never notified back to it
            self.params[self.name("ManagementServer.ParameterKey")].value = parameter_key or ""
            self._after_set({n for n, _, _ in plan})
            vendor.after_set(self.params, self.name, {n for n, _, _ in plan})
            return changed

    def _after_set(self, written):
        """TR-069 diagnostics: writing DiagnosticsState=Requested starts a test; writing any
        other parameter of the object cancels a pending or finished one (state back to None)."""
        for kind in ("ping", "traceroute"):
            prefix = self.diag_path(kind)
            state = self.params[prefix + "DiagnosticsState"]
            if prefix + "DiagnosticsState" in written:
                if not self.diagnostics_hang:  # a hung one stays Requested (quirks.py)
                    self.pending_diagnostics.add(kind)
            elif any(n.startswith(prefix) for n in written):
                state.value = "None"
                self.pending_diagnostics.discard(kind)

    # --- notification / Inform ----------------------------------------------------------------

    def inform_params(self, bootstrap):
        """(params [(name, type, value)], value_changed): forced ones plus notified changes."""
        with self.lock:
            self._refresh_uptime()
            forced = self.forced_inform()
            names = list(forced)
            changed = False
            for name, p in self.params.items():
                if p.notification and p.value != p.reported and not bootstrap:
                    changed = True
                    if name not in forced:
                        names.append(name)
            return [(n, self.params[n].type, self.params[n].read_value) for n in names], changed

    def mark_reported(self, names=None):
        with self.lock:
            for n in self.params if names is None else names:
                if n in self.params:
                    self.params[n].reported = self.params[n].value

    # --- diagnostics --------------------------------------------------------------------------

    def run_diagnostics(self, kind):
        """Fill in results as if the test ran (nothing is sent on the network)."""
        with self.lock:
            self.pending_diagnostics.discard(kind)
            prefix = self.diag_path(kind)
            host = self.params[prefix + "Host"].value.strip()
            address = sim_diagnostics.fake_resolve(host)
            if kind == "ping":
                count = int(self.params[prefix + "NumberOfRepetitions"].value)
                results = sim_diagnostics.ping(self.rng, address, count)
            else:
                results = self._traceroute(prefix, host, address)
            for k, v in results.items():
                self.params[prefix + k].value = str(v)

    def _traceroute(self, prefix, host, address):
        """Replace the RouteHops table with a new run's; returns the result parameters."""
        for n in [n for n in self.params if n.startswith(prefix + "RouteHops.")]:
            del self.params[n]
        self._entries = None
        gateway = ".".join(self.params[self.ip_param].value.split(".")[:3] + ["1"])
        tries = int(self.params[prefix + "NumberOfTries"].value)
        hops, results = sim_diagnostics.traceroute(self.rng, host, address, gateway, tries)
        names = (("HopHost", "HopHostAddress", "HopErrorCode", "HopRTTimes") if self.tr098
                 else ("Host", "HostAddress", "ErrorCode", "RTTimes"))
        for i, (hop_host, hop_addr, rtts) in enumerate(hops, 1):
            hop = f"{prefix}RouteHops.{i}."
            for key, value, ptype in zip(
                names, (hop_host, hop_addr, "0", ",".join(map(str, rtts))),
                ("xsd:string", "xsd:string", "xsd:unsignedInt", "xsd:string"), strict=True,
            ):
                self.params[hop + key] = Param(value, ptype, reported=value)
        return results


def _diag_fields(kind):
    common = {
        "DiagnosticsState": _p("None", w=True, choices=("Requested",)),
        "Interface": _p("", w=True),
        "Host": _p("", w=True),
    }
    if kind == "ping":
        return common | {
            "NumberOfRepetitions": _u(3, True, limits=(1, 100)),
            "Timeout": _u(1000, True, limits=(1, 2**32 - 1)),
            "DataBlockSize": _u(64, True, limits=(1, 65535)),
            "DSCP": _u(0, True, limits=(0, 63)),
            "SuccessCount": _u(0),
            "FailureCount": _u(0),
            "AverageResponseTime": _u(0),
            "MinimumResponseTime": _u(0),
            "MaximumResponseTime": _u(0),
        }
    return common | {
        "NumberOfTries": _u(3, True, limits=(1, 3)),
        "Timeout": _u(5000, True, limits=(1, 2**32 - 1)),
        "DataBlockSize": _u(38, True, limits=(1, 65535)),
        "DSCP": _u(0, True, limits=(0, 63)),
        "MaxHopCount": _u(30, True, limits=(1, 64)),
        "ResponseTime": _u(0),
        "RouteHopsNumberOfEntries": _u(0),
    }


def _walk(rng, value, step, low, high):
    """One random-walk step that always moves (so a notified value changes every session)."""
    delta = rng.randint(1, step) * rng.choice((-1, 1))
    new = value + delta
    if not low <= new <= high:
        new = value - delta
    return min(max(new, low), high)


# --- files the phone uploads ------------------------------------------------------------------


def config_file(model: DataModel):
    """A Yealink-style configuration export (a few KB)."""
    g = model.get
    lines = [
        "#!version:1.0.0.1",
        f"## {g('DeviceInfo.ModelName')} {g('DeviceInfo.SoftwareVersion')} MAC "
        f"{model.factory['mac'].upper()}",
        "static.network.internet_port.type = 0",
        f"static.network.internet_port.ip = {g(model.ip_param)}",
        "static.network.internet_port.mask = 255.255.255.0",
        f"static.managementserver.url = {g('ManagementServer.URL')}",
        f"static.managementserver.periodic_inform_interval = "
        f"{g('ManagementServer.PeriodicInformInterval')}",
        f"static.syslog.level = {g('X_YEALINK_Syslog.Level')}",
        f"static.syslog.server = {g('X_YEALINK_Syslog.Server')}",
        f"account.1.enable = {g('X_YEALINK_Account.1.Enable')}",
        f"account.1.label = {g('X_YEALINK_Account.1.Label')}",
        f"account.1.user_name = {g('X_YEALINK_Account.1.UserName')}",
        f"account.1.sip_server.1.address = {g('X_YEALINK_Account.1.SIPServer')}",
        "lang.gui = English",
        "local_time.time_zone = +1",
    ]
    for i in range(1, 41):
        lines += [f"linekey.{i}.type = {15 if i == 1 else 0}", f"linekey.{i}.value = ",
                  f"linekey.{i}.label = ", f"linekey.{i}.line = 1"]
    return ("\n".join(lines) + "\n").encode()


def log_file(model: DataModel, lines=60):
    """A syslog-looking export (a few KB)."""
    ip = model.get(model.ip_param)
    up = int(model.get("DeviceInfo.UpTime"))
    start = time.time() - up
    messages = ["sip  <6+info  > REGISTER retry timer expired", "net  <6+info  > link up eth0",
                "cwmp <6+info  > Inform sent", "sys  <5+notice> cpu load normal",
                "dsp  <6+info  > codec G722 loaded", "cwmp <6+info  > session closed"]
    out = []
    for i in range(lines):
        stamp = datetime.fromtimestamp(start + i * max(up, 60) / lines, UTC)
        msg = messages[i % len(messages)]
        out.append(f"<134>{stamp:%b %d %H:%M:%S} {ip} [{1000 + i % 7}]: {msg} ({i})")
    return ("\n".join(out) + "\n").encode()
