"""The rules of the device diagnostic page (spec chapter 6): which devices may be diagnosed,
which tools a device may use now and why not, what each tool sends through the command queue,
and which command belongs to which tool.

Plain functions over a session and explicit arguments; errors are DiagnosticsError with a
``template`` % ``params`` the views translate. Vendor names come from vendor_map.py only.
"""

import ipaddress
import json
import re

from sqlalchemy import select

from app.core import scope
from app.device_ops import (
    capabilities,
    commands,
    firmware_support,
    inventory,
    sealed,
    vendor_map,
)
from app.device_ops.diagnostics_models import DeviceDiagnostics
from app.models import CommandStatus, Device, DeviceCommand, Enterprise, PermissionType, utcnow
from app.tenancy.rules import TenantError


def _N(message):
    return message


class DiagnosticsError(TenantError):
    """A tool refused; ``template`` % ``params`` is the message (views translate it)."""


# tool -> (label, needs the device online). The order is the page's.
TOOLS = {
    "network": (_N("Diagnosing the Network"), True),
    "syslog": (_N("Export System Log"), True),
    "config": (_N("Export Config File"), True),
    "cpu": (_N("CPU and Memory Status"), True),
    "log_settings": (_N("Log Settings"), True),
    "backups": (_N("Backup Logs"), False),
    "capture": (_N("Packet Capture"), True),
    "screenshot": (_N("Screenshot"), True),
    "recordings": (_N("Recordings"), True),
    "assist": (_N("Diagnosis Assistance"), False),
}

OFFLINE = _N("The device is offline: this tool needs it connected to the platform.")
NOT_MANAGED = _N("The device's enterprise is not an active device-management enterprise: the "
                 "platform sends it no commands.")
NOT_VIDEO = _N("Log settings are only for video conferencing systems (%(models)s); this "
               "device is a %(model)s.")
OLD_FIRMWARE = _N("Log settings need firmware %(minimum)s or later; this device runs "
                  "%(firmware)s.")
BAD_CHOICE = _N("Choose a value for %(field)s.")
BAD_TEXT = _N("%(field)s is too long or contains characters that are not allowed.")
NEED_FILTER = _N("Enter the capture filter for the Custom type.")
BAD_SECTION = _N("Unknown log setting.")
NO_DESCRIPTION = _N("Describe the problem.")
NO_SUPPORT_ADDRESS = _N("No support address is set (DIAGNOSIS_SUPPORT_ADDRESS): diagnosis "
                        "assistance cannot be sent.")

LEVELS = tuple(str(n) for n in range(7))  # Yealink log levels 0 (emergency) .. 6 (debug)
LOCAL_MAX_SIZES = ("256", "512", "1024", "2048", "5120", "10240")  # KB
TRANSPORTS = ("UDP", "TCP", "TLS")
FACILITIES = {"0": "kern", "1": "user", "2": "mail", "3": "daemon", "4": "auth", "5": "syslog",
              "6": "lpr", "7": "news", "8": "uucp", "9": "cron", "10": "authpriv", "11": "ftp",
              **{str(16 + n): f"local{n}" for n in range(8)}}
HTTP_METHODS = ("POST", "PUT")
POST_MODES = ("form-data", "binary")
CAPTURE_INTERFACES = {"WAN": _N("Internet port"), "LAN": _N("PC port")}
CAPTURE_TYPES = {"All": _N("All packets"), "SIP": _N("SIP"), "RTP": _N("RTP"),
                 "Custom": _N("Custom")}
CONFIG_EXPORTS = {"config_all": _N("cfg: all settings"),
                  "config_static": _N("cfg: static settings"),
                  "config_non_static": _N("cfg: non-static settings"),
                  "config_bin": _N("bin")}
PING_COUNTS = ("1", "4", "10", "20", "50")
_FILTER = re.compile(r"^[A-Za-z0-9 .:/()&|!<>=_-]{1,200}$")  # a tcpdump expression's alphabet
MAX_DESCRIPTION = 4000

# Which models and firmware take the log settings: one table, firmware_support.LOG_SETTINGS.
LOG_SETTINGS_MODELS = tuple(m for row in firmware_support.LOG_SETTINGS for m in row.models)
LOG_SETTINGS_MINIMUM_TEXT = " / ".join(sorted({row.minimum
                                               for row in firmware_support.LOG_SETTINGS}))


# --- who may diagnose what ------------------------------------------------------------------

def diagnosable_devices(query, principal=None):
    """Devices the principal sees AND manages: of device-management enterprises (for a
    channel, ones that authorize it; scope.visible_devices says which)."""
    query = query.where(Device.enterprise_id.in_(select(Enterprise.id).where(
        Enterprise.permission_type == PermissionType.device_management)))
    return scope.visible_devices(query, principal)


def device_or_raise(session, pk, principal=None):
    """The device ``pk`` if the principal may diagnose it, else scope.OutOfScope."""
    pk = scope.parse_pk(pk)
    device = pk and session.execute(diagnosable_devices(
        select(Device).where(Device.id == pk), principal)).scalar()
    if not device:
        raise scope.OutOfScope()
    return device


def command_or_raise(session, device, pk):
    """A command of ``device`` (already in scope), else scope.OutOfScope."""
    pk = scope.parse_pk(pk)
    command = pk and session.execute(select(DeviceCommand).where(
        DeviceCommand.id == pk, DeviceCommand.device_id == device.id)).scalar()
    if not command:
        raise scope.OutOfScope()
    return command


# --- which tools a device may use now ---------------------------------------------------------

def log_settings_refusal(device):
    """None when the device takes log settings, else (template, params) saying why not."""
    ok, row = firmware_support.supported(device.model, device.firmware,
                                         firmware_support.LOG_SETTINGS)
    if row is None:
        return NOT_VIDEO, {"models": ", ".join(LOG_SETTINGS_MODELS),
                           "model": (device.model or "").strip() or "?"}
    if not ok:
        return OLD_FIRMWARE, {"minimum": row.minimum, "firmware": device.firmware or "?"}
    return None


def tool_refusal(device, tool, support_address=""):
    """None when ``tool`` may run for the device now, else (template, params)."""
    needs_online = TOOLS[tool][1]
    if needs_online and not commands.commands_allowed(device.enterprise):
        return NOT_MANAGED, {}
    if needs_online and not device.online:
        return OFFLINE, {}
    if tool == "log_settings":
        return log_settings_refusal(device)
    if tool == "assist" and not support_address:
        return NO_SUPPORT_ADDRESS, {}
    return None


def check_tool(device, tool, support_address=""):
    refusal = tool_refusal(device, tool, support_address)
    if refusal is not None:
        raise DiagnosticsError(refusal[0], **refusal[1])


# --- what each tool sends ---------------------------------------------------------------------

def _choice(form, field, choices, label):
    value = str(form.get(field) or "").strip()
    if value not in choices:
        raise DiagnosticsError(BAD_CHOICE, field=label)
    return value


def _text(form, field, label, pattern=None, required=False, limit=255):
    value = str(form.get(field) or "").strip()
    if len(value) > limit or any(ord(ch) < 32 for ch in value) or (
            value and pattern is not None and not pattern.match(value)):
        raise DiagnosticsError(BAD_TEXT, field=label)
    if required and not value:
        raise DiagnosticsError(BAD_TEXT, field=label)
    return value


def _flag(form, field):
    return "1" if form.get(field) in ("1", "on", "true") else "0"


def _values(root, pairs):
    return [[vendor_map.name(root, key), value, vendor_map.xsd(key)] for key, value in pairs]


def network_arguments(form, default_host):
    """(kind, arguments) of a ping or trace route."""
    kind = "traceroute" if form.get("method") == "traceroute" else "ping"
    host = str(form.get("host") or "").strip() or default_host
    if kind == "ping":
        return kind, {"host": host, "count": form.get("count") or "4"}
    return kind, {"host": host, "max_hops": form.get("max_hops") or "30"}


def config_file_type(form):
    choice = _choice(form, "export", CONFIG_EXPORTS, _N("file type"))
    return vendor_map.file_type(choice)


LOG_SECTIONS = ("level", "module", "local", "syslog", "backup")


def log_settings_values(form, root, secret_key):
    """The SetParameterValues list of one section of the log settings form. The log backup
    server's password is sealed (sealed.py) until the RPC is written; an empty one is not
    sent (the device keeps its own)."""
    section = form.get("section")
    if section == "level":
        level = _choice(form, "level", LEVELS, _N("Log level"))
        return _values(root, [("log.level", level)])
    if section == "module":
        module = _choice(form, "module", vendor_map.MODULES, _N("Module"))
        level = _choice(form, "module_level", LEVELS, _N("Level"))
        modules = vendor_map.MODULES if module == "All" else (module,)
        return _values(root, [(f"module.{m}", level) for m in modules])
    if section == "local":
        return _values(root, [
            ("local.enable", _flag(form, "local_enable")),
            ("local.usb_export", _flag(form, "usb_export")),
            ("local.level", _choice(form, "local_level", LEVELS, _N("Local log level"))),
            ("local.max_size", _choice(form, "max_size", LOCAL_MAX_SIZES,
                                       _N("Maximum file size")))])
    if section == "syslog":
        server = _text(form, "server", _N("Syslog server"), limit=253)
        if server:
            server = commands._check_host(server)
        port = commands._bounded_int(form.get("port"), _N("Port"), 1, 65535, 514)
        return _values(root, [
            ("syslog.enable", _flag(form, "syslog_enable")), ("syslog.server", server),
            ("syslog.port", str(port)),
            ("syslog.transport", _choice(form, "transport", TRANSPORTS, _N("Transport"))),
            ("syslog.level", _choice(form, "syslog_level", LEVELS, _N("Syslog level"))),
            ("syslog.facility", _choice(form, "facility", FACILITIES, _N("Facility"))),
            ("syslog.prepend_mac", _flag(form, "prepend_mac"))])
    if section == "backup":
        url = str(form.get("url") or "").strip()
        if url:
            url = commands._check_url(url)
        pairs = [("backup.enable", _flag(form, "backup_enable")), ("backup.url", url),
                 ("backup.username", _text(form, "username", _N("User name"), limit=128)),
                 ("backup.method", _choice(form, "method", HTTP_METHODS, _N("HTTP method"))),
                 ("backup.post_mode", _choice(form, "post_mode", POST_MODES,
                                              _N("POST mode")))]
        password = str(form.get("password") or "")
        if password:
            _text(form, "password", _N("Password"), limit=128)
            pairs.append(("backup.password", sealed.seal(secret_key, password)))
        return _values(root, pairs)
    raise DiagnosticsError(BAD_SECTION)


def log_data_backup_values(on, root):
    """The switch of the log data backup, for the device too (vendor_map says why)."""
    return _values(root, [("log.data_backup", "1" if on else "0")])


def log_settings_names(root):
    """Every log setting's vendor parameter (for reading the device's current values), the
    password aside: devices read it back empty and the page never shows it."""
    groups = ("log.", "module.", "local.", "syslog.", "backup.")
    return [vendor_map.name(root, key) for key in vendor_map.PARAMETERS
            if key.startswith(groups) and key != "backup.password"]


def exported_level(module_level, channel_level):
    """The spec's rule: a module's exported level is the smaller of its own level and the
    local log's (or the syslog's) level. None when either is unknown."""
    try:
        return min(int(module_level), int(channel_level))
    except (TypeError, ValueError):
        return None


def capture_start_values(form, root):
    kind = _choice(form, "type", CAPTURE_TYPES, _N("Type"))
    custom = _text(form, "filter", _N("Filter"), pattern=_FILTER, limit=200) if (
        kind == "Custom") else ""
    if kind == "Custom" and not custom:
        raise DiagnosticsError(NEED_FILTER)
    return _values(root, [
        ("capture.interface", _choice(form, "interface", CAPTURE_INTERFACES,
                                      _N("Ethernet"))),
        ("capture.type", kind), ("capture.filter", custom), ("capture.state", "Start")])


def capture_stop_values(root):
    return _values(root, [("capture.state", "Stop")])


def recording_switch_values(form, root):
    return _values(root, [("recording.auto_upload", _flag(form, "auto_upload"))])


def cpu_read_names(device):
    """CPU, memory and the detailed memory text, less what the device said it lacks."""
    root = device.data_model or "Device"
    names = list(inventory.metric_names(root)) + [vendor_map.name(root, "memory.detail")]
    missing = capabilities.missing_of(device.missing_parameters)
    return [n for n in names if n not in missing] or names


def set_log_backup(session, device, on, by=None):
    """Turn the daily log data backup of the device on or off."""
    row = session.get(DeviceDiagnostics, device.id)
    if row is None:
        row = DeviceDiagnostics(device_id=device.id)
        session.add(row)
    row.log_backup, row.updated_on, row.updated_by = bool(on), utcnow(), by
    session.flush()
    return row


def log_backup_on(session, device):
    row = session.get(DeviceDiagnostics, device.id)
    return bool(row and row.log_backup)


# --- which command belongs to which tool -------------------------------------------------------

_UPLOAD_TOOLS = {"syslog": "syslog", "config_all": "config", "config_static": "config",
                 "config_non_static": "config", "config_bin": "config", "capture": "capture",
                 "screenshot": "screenshot", "recording": "recordings",
                 "backup_log": "backups"}
_SET_TOOLS = {"capture": "capture", "recording": "recordings", "memory": "cpu"}


def tool_of(kind, arguments, root="Device"):
    """The tool a command of ``kind`` with ``arguments`` belongs to, or None."""
    if kind in ("ping", "traceroute"):
        return "network"
    if kind == "upload":
        return _UPLOAD_TOOLS.get(vendor_map.file_kind(arguments.get("file_type")))
    if kind == "get_parameters":
        names = set(arguments.get("names") or [])
        if names & set(capture_status_names(root)):
            return "capture"
        if names & set(inventory.metric_names(root)):
            return "cpu"
        return "log_settings" if names & set(log_settings_names(root)) else None
    if kind == "set_parameters":
        for item in arguments.get("values") or []:
            key = vendor_map.key_of(item[0]) if item else None
            if key:
                group = key.split(".")[0]
                return _SET_TOOLS.get(group, "log_settings")
    return None


def upload_kind(command):
    """Our file kind of an upload command (vendor_map.FILE_TYPES key), or None."""
    try:
        arguments = json.loads(command.arguments or "{}")
    except ValueError:
        return None
    return vendor_map.file_kind(arguments.get("file_type")) if command.kind == "upload" else None


BUSY = (CommandStatus.queued, CommandStatus.sent, CommandStatus.waiting)
RECENT = 300  # commands looked at for the tools' latest state


def latest_by_tool(session, device):
    """{tool: [commands, newest first]} of the device's recent commands."""
    rows = session.execute(select(DeviceCommand).where(DeviceCommand.device_id == device.id)
                           .order_by(DeviceCommand.id.desc()).limit(RECENT)).scalars().all()
    out = {}
    root = device.data_model or "Device"
    for command in rows:
        try:
            arguments = json.loads(command.arguments or "{}")
        except ValueError:
            continue
        tool = tool_of(command.kind, arguments if isinstance(arguments, dict) else {}, root)
        if tool:
            out.setdefault(tool, []).append(command)
    return out


def pending_values(commands_newest_first):
    """{name: value} of the settings queued or on their way to the device (the newest win),
    passwords aside: the page's forms show what was just saved, not the values from before
    it, while the device has not answered yet."""
    values = {}
    for command in reversed(commands_newest_first):
        if command.kind != "set_parameters" or command.status not in BUSY:
            continue
        try:
            items = json.loads(command.arguments or "{}").get("values") or []
        except (ValueError, AttributeError):
            continue
        values.update({str(item[0]): str(item[1]) for item in items
                       if len(item) >= 2 and "password" not in str(item[0]).lower()})
    return values


CAPTURING, NOT_CAPTURING = "capturing", "stopped"


def capture_status_names(root):
    """What to read for the capture's real state (after Start and Finish, and on request)."""
    return [vendor_map.name(root, "capture.status")]


def capture_status(parameters, root):
    """The device's own answer (PacketCapture.Status, last read): CAPTURING, NOT_CAPTURING,
    or None when it has not been read or says something else (the page says it is unknown
    rather than guessing from what was asked)."""
    value = str(parameters.get(vendor_map.name(root, "capture.status")) or "").strip()
    if value == "Capturing":
        return CAPTURING
    if value in ("Stopped", "None"):
        return NOT_CAPTURING
    return None


def default_host(public_url, request_host):
    """The network diagnostics' default target: this platform's host (ACS_PUBLIC_URL's, else
    the one the page was asked from), without a port."""
    from urllib.parse import urlsplit

    host = urlsplit(public_url).hostname if public_url else None
    if not host:
        host = urlsplit("//" + (request_host or "")).hostname or ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host
