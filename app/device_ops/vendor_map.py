"""Every Yealink vendor parameter and vendor file type the portal uses, in one place, each with
the reason or source of its name. Nothing else in the portal spells them: the diagnostic page
(diagnostics.py), the ACS's file checks (device_files.py) and the fleet simulator
(simulator/vendor.py) all read them from here.

Names follow TR-106 (Amendment 13, section 3.3): vendor parameters begin ``X_<VENDOR>_`` and
vendor file types of Upload/Download are ``X <OUI> <name>`` (TR-069 Amendment 6, A.3.2.8 and
A.4.1.5). The prefix ``X_YEALINK_`` is the one the simulated phones already answer to for
their syslog and SIP account objects (simulator/model.py); a real firmware's data-model file
is what to check these names against, and the one place to change them is this module.
"""

import re
from dataclasses import dataclass

OUI = "001565"  # Yealink Network Technology's IEEE OUI; also the DeviceInfo.ManufacturerOUI
PREFIX = "X_YEALINK_"  # TR-106 vendor prefix, as in the simulator's existing objects


@dataclass(frozen=True)
class VendorParameter:
    path: str  # below the root object ("Device." or "InternetGatewayDevice.")
    xsd: str
    source: str


def _p(path, xsd, source):
    return VendorParameter(PREFIX + path, xsd, source)


_S, _U, _B = "xsd:string", "xsd:unsignedInt", "xsd:boolean"
_LOG = ("Spec ch. 6 'Setting Device Log' (video conferencing systems from XX.32.0.35); "
        "Yealink's auto-provisioning key {key} carried as a vendor parameter")

# The modules of "Setting the Module Log" (spec ch. 6), in the spec's order.
MODULES = ("All", "Driver", "System", "Service", "Connectivity", "AudioVideo", "Protocol",
           "Deploy", "Web", "App", "Talk")

PARAMETERS = {
    # -- Setting the Log Level
    "log.level": _p("Log.Level", _U, _LOG.format(key="static.syslog.log_level")),
    # -- Setting the Local Log
    "local.enable": _p("LocalLog.Enable", _B, _LOG.format(key="static.local_log.enable")),
    "local.usb_export": _p("LocalLog.USBAutoExport", _B,
                           _LOG.format(key="static.auto_export_syslog.enable")),
    "local.level": _p("LocalLog.Level", _U, _LOG.format(key="static.local_log.level")),
    "local.max_size": _p("LocalLog.MaxFileSize", _U,
                         _LOG.format(key="static.local_log.max_file_size (KB)")),
    # -- Setting the Syslog (Enable, Server, Port and Level are the simulator's old object)
    "syslog.enable": _p("Syslog.Enable", _B, _LOG.format(key="static.syslog.enable")),
    "syslog.server": _p("Syslog.Server", _S, _LOG.format(key="static.syslog.server")),
    "syslog.port": _p("Syslog.Port", _U, _LOG.format(key="static.syslog.server_port")),
    "syslog.transport": _p("Syslog.Transport", _S,
                           _LOG.format(key="static.syslog.transport_type (UDP/TCP/TLS)")),
    "syslog.level": _p("Syslog.Level", _U, _LOG.format(key="static.syslog.level")),
    "syslog.facility": _p("Syslog.Facility", _U, _LOG.format(key="static.syslog.facility")),
    "syslog.prepend_mac": _p("Syslog.PrependMAC", _B,
                             _LOG.format(key="static.syslog.prepend_mac_address.enable")),
    # -- Putting the Log Backups to a Specified Server
    "backup.enable": _p("LogBackup.Enable", _B,
                        _LOG.format(key="static.auto_provision.local_log.backup.enable")),
    "backup.url": _p("LogBackup.URL", _S,
                     _LOG.format(key="static.auto_provision.local_log.backup.path")),
    "backup.username": _p("LogBackup.Username", _S,
                          _LOG.format(key="static.auto_provision.server.username")),
    # "Password" in the name: the ACS never remembers or shows its value (rpc.py, views.py)
    "backup.password": _p("LogBackup.Password", _S,
                          _LOG.format(key="static.auto_provision.server.password")),
    "backup.method": _p("LogBackup.HTTPMethod", _S,
                        _LOG.format(key="static.auto_provision.local_log.backup.method")),
    "backup.post_mode": _p("LogBackup.PostMode", _S,
                           _LOG.format(key="static.auto_provision.local_log.backup.post_mode")),
    # -- Enabling the Log Data Backup: the platform asks for the day's log every day (the
    # "X <OUI> Backup Log" Upload below); the switch is one of the device's own log settings
    # (spec: "In the Other Log Settings field, enable Log Data Backup", a section only of VC
    # firmware from XX.32.0.35), so it is sent too: the device keeps its day's log for the
    # Upload. No auto-provisioning key of Yealink's is documented for it; the name is ours.
    "log.data_backup": _p("LogDataBackup.Enable", _B,
                          "Spec ch. 6 'Enabling the Log Data Backup' (Other Log Settings)"),
    # -- Capturing Packets (spec ch. 6): the capture runs on the device, then is uploaded
    "capture.interface": _p("PacketCapture.Interface", _S,
                            "Spec ch. 6 'Capturing Packets': the Ethernet to capture on"),
    "capture.type": _p("PacketCapture.Type", _S,
                       "Spec ch. 6 'Capturing Packets': the capture type"),
    "capture.filter": _p("PacketCapture.Filter", _S,
                         "Spec ch. 6 'Capturing Packets': the string, only for Custom"),
    "capture.state": _p("PacketCapture.State", _S,
                        "Spec ch. 6 'Capturing Packets': Start and Finish (Start/Stop/None, "
                        "like TR-069's DiagnosticsState)"),
    # What the device is doing, read-only: State is what the ACS asked for, Status what is
    # (a capture also ends on the device: full, rebooted). Capturing / Stopped / None (never
    # started since boot) / Error.
    "capture.status": _p("PacketCapture.Status", _S,
                         "Spec ch. 6 'Capturing Packets': whether the device is capturing, "
                         "read back so the page shows the device's state"),
    # -- Viewing Recordings
    "recording.auto_upload": _p("Recording.AutoUpload", _B,
                                "Spec ch. 6 'Viewing Recordings': Automatic upload recording "
                                "file"),
    # -- Viewing the CPU and the Memory Status: the detailed text behind the copy button
    "memory.detail": _p("MemoryStatus.Detail", _S,
                        "Spec ch. 6 'Viewing the CPU and the Memory Status': the detailed "
                        "memory information (TR-181 has only Total and Free)"),
}
for _module in MODULES:
    PARAMETERS[f"module.{_module}"] = _p(
        f"Log.Module.{_module}.Level", _U,
        _LOG.format(key=f"static.syslog.module.{_module.lower()}.level (spec 'Setting the "
                        "Module Log')"))

# Upload file types. The standard ones (TR-069 A.4.1.5) for the whole configuration and the
# system log; vendor ones for what the standard has no type for.
# A SIP account's registration state: "Failed" raises the "Register failure" alarm (spec
# appendix; app/device_ops/fault_events.py), "Registered" clears it. The simulator's account
# object (simulator/model.py) has answered to it from the start.
ACCOUNT_REGISTRATION = PREFIX + "Account.{index}.RegistrationStatus"
ACCOUNT_REGISTRATION_PATTERN = re.escape(PREFIX) + r"Account\.(\d{1,3})\.RegistrationStatus$"

CONFIG_FILE = "1 Vendor Configuration File"  # TR-069 standard: the whole configuration
LOG_FILE = "2 Vendor Log File"  # TR-069 standard: the system log
FILE_TYPES = {
    "config_all": (CONFIG_FILE, "TR-069 A.4.1.5 standard type: all settings (cfg)"),
    "config_static": (f"X {OUI} Static Configuration File",
                      "Spec ch. 6 'Exporting Backup Files': static settings (cfg)"),
    "config_non_static": (f"X {OUI} Non-static Configuration File",
                          "Spec ch. 6 'Exporting Backup Files': non-static settings (cfg)"),
    "config_bin": (f"X {OUI} Configuration Backup",
                   "Spec ch. 6 'Exporting Backup Files': the bin file"),
    "syslog": (LOG_FILE, "TR-069 A.4.1.5 standard type; spec ch. 6 'Exporting Syslogs'"),
    "capture": (f"X {OUI} Packet Capture", "Spec ch. 6 'Capturing Packets': the pcap file"),
    "screenshot": (f"X {OUI} Screenshot", "Spec ch. 6 'Capturing the Screenshot' (PNG)"),
    "recording": (f"X {OUI} Recording File", "Spec ch. 6 'Viewing Recordings' (WAV)"),
    "backup_log": (f"X {OUI} Backup Log",
                   "Spec ch. 6 'Enabling the Log Data Backup': the day's log (text or zip)"),
}


# Inform event codes. TR-069 (3.7.1.5, Table 7) lets a vendor add "X <OUI> <event>" codes.
RECORDING_EVENT = f"X {OUI} RecordingReady"  # a recording finished with auto-upload on
EVENT_SOURCES = {RECORDING_EVENT: "Spec ch. 6 'Viewing Recordings': with automatic upload on, "
                                  "a finished recording is uploaded to the platform; the "
                                  "device says so in an Inform, the ACS asks for the file"}


def name(root, key):
    """The full name of vendor parameter ``key`` under ``root`` ("Device" by default)."""
    return f"{root or 'Device'}.{PARAMETERS[key].path}"


def xsd(key):
    return PARAMETERS[key].xsd


def file_type(key):
    return FILE_TYPES[key][0]


def file_kind(file_type_string):
    """Our key of an Upload file type, or None."""
    for key, (value, _source) in FILE_TYPES.items():
        if value == file_type_string:
            return key
    return None


def key_of(full_name):
    """Our key of a full vendor parameter name (any root), or None."""
    tail = str(full_name).partition(".")[2]
    for key, parameter in PARAMETERS.items():
        if parameter.path == tail:
            return key
    return None
