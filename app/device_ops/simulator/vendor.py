"""The simulated phone's Yealink vendor extensions (app/device_ops/vendor_map.py names them):
every vendor parameter the diagnostic page sets or reads, and a fake but well-formed file for
every vendor Upload file type - a real pcap, a real PNG, a real WAV - so the whole page works
against the fleet simulator.

Kept apart from model.py (the standard data model) and importing neither it nor phone.py:
they call in here through one-line hooks.
"""

import datetime
import io
import struct
import zlib

from app.device_ops import vendor_map

_LEVEL = {"limits": (0, 6)}
# key -> (default, writable, extra Param options)
_DEFAULTS = {
    "log.level": ("3", True, _LEVEL),
    "local.enable": ("1", True, {}),
    "local.usb_export": ("0", True, {}),
    "local.level": ("3", True, _LEVEL),
    "local.max_size": ("1024", True, {"choices": ("256", "512", "1024", "2048", "5120",
                                                  "10240")}),
    "syslog.enable": ("1", True, {}),
    "syslog.server": ("", True, {}),
    "syslog.port": ("514", True, {"limits": (1, 65535)}),
    "syslog.transport": ("UDP", True, {"choices": ("UDP", "TCP", "TLS")}),
    "syslog.level": ("3", True, _LEVEL),
    "syslog.facility": ("16", True, {"limits": (0, 23)}),
    "syslog.prepend_mac": ("0", True, {}),
    "log.data_backup": ("0", True, {}),
    "backup.enable": ("0", True, {}),
    "backup.url": ("", True, {}),
    "backup.username": ("", True, {}),
    "backup.password": ("", True, {"secret": True}),
    "backup.method": ("POST", True, {"choices": ("POST", "PUT")}),
    "backup.post_mode": ("form-data", True, {"choices": ("form-data", "binary")}),
    "capture.interface": ("WAN", True, {"choices": ("WAN", "LAN")}),
    "capture.type": ("All", True, {"choices": ("All", "SIP", "RTP", "Custom")}),
    "capture.filter": ("", True, {}),
    "capture.state": ("None", True, {"choices": ("None", "Start", "Stop")}),
    "capture.status": ("None", False, {}),
    "recording.auto_upload": ("0", True, {}),
    "memory.detail": (None, False, {}),
}


def _meminfo():
    return ("MemTotal:         262144 kB\nMemFree:          101376 kB\n"
            "MemAvailable:     148480 kB\nBuffers:           6144 kB\nCached:            "
            "40960 kB\nSlab:              12288 kB\nVmallocUsed:        4096 kB\n")


def parameters(make):
    """{relative name: Param} of every vendor parameter; ``make`` is model.py's Param maker
    (value, type, writable, **options)."""
    out = {}
    for key, parameter in vendor_map.PARAMETERS.items():
        default, writable, options = _DEFAULTS.get(key, ("3", True, _LEVEL))
        value = _meminfo() if key == "memory.detail" else default
        out[parameter.path] = make(value, parameter.xsd, writable, **options)
    return out


def relative_names():
    """Every vendor parameter's name below the root (quirks.py drops them for a CPE of
    another vendor)."""
    return [p.path for p in vendor_map.PARAMETERS.values()]


def after_set(params, name, written):
    """What writing vendor parameters does on the phone (model.py calls it after a
    SetParameterValues): PacketCapture.State Start starts a capture, Stop ends it; Status
    says which."""
    state = name(vendor_map.PARAMETERS["capture.state"].path)
    if state in written:
        status = params[name(vendor_map.PARAMETERS["capture.status"].path)]
        status.value = {"Start": "Capturing", "Stop": "Stopped"}.get(params[state].value,
                                                                     status.value)


def upload_supported(quirks, file_type):
    """A CPE without Yealink's extensions refuses vendor file types (fault 9003)."""
    return not (getattr(quirks, "no_vendor_extensions", False) and file_type.startswith("X "))


def finish_recording(phone):
    """A call recording ends on the phone: with automatic upload on, it tells the ACS in an
    Inform (vendor event) and the ACS asks for the file; True if it told."""
    if phone.value(vendor_map.PARAMETERS["recording.auto_upload"].path) != "1":
        return False
    phone._trigger([(vendor_map.RECORDING_EVENT, "")])
    return True


# --- files ------------------------------------------------------------------------------------

def pcap(packets=3):
    """A libpcap file: the global header and a few UDP/SIP-looking Ethernet frames."""
    out = io.BytesIO()
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet
    payload = b"OPTIONS sip:ymcs@example.invalid SIP/2.0\r\n\r\n"
    udp = struct.pack(">HHHH", 5060, 5060, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])) + udp
    frame = b"\x00\x15\x65\x00\x00\x01" + b"\x00\x15\x65\x00\x00\x02" + b"\x08\x00" + ip
    for i in range(packets):
        out.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)))
        out.write(frame)
    return out.getvalue()


def png(width=64, height=40):
    """A real PNG (8-bit RGB) of a plain screen with a bar: what a screenshot looks like."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b""
    for y in range(height):
        colour = b"\x33\x7a\xb7" if y < 8 else b"\xf0\xf0\xf0"
        rows += b"\x00" + colour * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def wav(seconds=1, rate=8000):
    """A real WAV (PCM, 16-bit mono) of a quiet tone: a call recording."""
    import math

    samples = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * n / rate)))
                       for n in range(seconds * rate))
    header = (b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
              + b"data" + struct.pack("<I", len(samples)))
    return header + samples


def _config(model, which):
    g = model.get
    lines = ["#!version:1.0.0.1", f"## {g('DeviceInfo.ModelName')} {which} settings"]
    if which in ("static", "all"):
        lines += [f"static.syslog.level = {g(vendor_map.PARAMETERS['syslog.level'].path)}",
                  f"static.local_log.level = {g(vendor_map.PARAMETERS['local.level'].path)}",
                  "static.network.internet_port.type = 0"]
    if which in ("non-static", "all"):
        lines += ["account.1.enable = 0", "lang.gui = English", "local_time.time_zone = +1"]
    return ("\n".join(lines) + "\n").encode()


def _log(model, title):
    now = datetime.datetime.now(datetime.UTC)
    return "".join(f"<134>{now:%b %d %H:%M:%S} {title} [{1000 + i}]: line {i}\n"
                   for i in range(40)).encode()


def upload_data(model, file_type):
    """The file the phone uploads for a vendor file type, or None for the standard ones
    (transfers.py makes those)."""
    kind = vendor_map.file_kind(file_type)
    makers = {
        "config_static": lambda: _config(model, "static"),
        "config_non_static": lambda: _config(model, "non-static"),
        "config_bin": lambda: b"YLBK\x00\x01" + zlib.compress(_config(model, "all")),
        "capture": pcap, "screenshot": png, "recording": wav,
        "backup_log": lambda: _log(model, "backup"),
    }
    return makers[kind]() if kind in makers else None
