"""The device command queue: what people (or the ACS itself) ask of a device, kept in one table
until the device's next CWMP session turns it into RPCs (app/device_ops/rpc.py).

Plain functions over a session; the caller commits. Errors carry ``template`` % ``params`` for
the views to translate.
"""

import datetime
import ipaddress
import json
import re
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update

from app.device_ops import fault_events, vendor_map
from app.models import CommandStatus, Device, DeviceCommand, PermissionType, Status, utcnow
from app.tenancy.rules import TenantError


def _N(message):
    return message


class CommandError(TenantError):
    """A command refused; ``template`` % ``params`` is the message (views translate it)."""


# kind -> label (for people)
KINDS = {
    "get_parameters": _N("Read parameters"),
    "set_parameters": _N("Set parameters"),
    "download": _N("Download file"),
    "upload": _N("Upload file"),
    "reboot": _N("Reboot"),
    "ping": _N("Ping"),
    "traceroute": _N("Traceroute"),
    "setup": _N("Connect to the ACS"),  # queued by the ACS itself at bootstrap
}
USER_KINDS = [k for k in KINDS if k != "setup"]

DOWNLOAD_TYPES = {"1 Firmware Upgrade Image": _N("Firmware"),
                  "3 Vendor Configuration File": _N("Configuration file")}
UPLOAD_TYPES = {"1 Vendor Configuration File": _N("Configuration file"),
                "2 Vendor Log File": _N("Log file")}
PARAM_TYPES = ("xsd:string", "xsd:unsignedInt", "xsd:int", "xsd:boolean", "xsd:dateTime")

_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*\.?$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*\.?$")
MAX_NAMES = 100
MAX_VALUE = 1024

BAD_KIND = _N("Unknown command.")
BAD_NAME = _N("Not a parameter name: %(name)s")
NO_NAMES = _N("Enter at least one parameter name.")
TOO_MANY = _N("At most %(n)s parameters at a time.")
BAD_TYPE = _N("Unknown parameter type: %(type)s")
BAD_VALUE = _N("The value of %(name)s is not valid for its type.")
BAD_URL = _N("Enter a full http:// or https:// URL.")
BAD_FILE_TYPE = _N("Choose a file type.")
BAD_HOST = _N("Enter a host name or an IP address.")
BAD_NUMBER = _N("%(field)s must be a whole number from %(low)s to %(high)s.")
NOT_BOUND = _N("The device belongs to no enterprise.")
NOT_RETRYABLE = _N("Only a failed command can be retried.")
NOT_MANAGED = _N("Commands go only to devices of active device-management enterprises that "
                 "authorize management.")
DIAGNOSTICS_GAVE_UP = ("The device did not complete the diagnostic within %(minutes)s minutes: it "
                       "never reported 8 DIAGNOSTICS COMPLETE and its DiagnosticsState stayed "
                       "Requested.")


def _check_name(name):
    name = str(name or "").strip()
    if len(name) > 256 or not _PARAM_NAME.match(name):
        raise CommandError(BAD_NAME, name=name[:80])
    return name


def _check_value(name, value, xsd):
    value = str(value if value is not None else "")
    if len(value) > MAX_VALUE or "\x00" in value:
        raise CommandError(BAD_VALUE, name=name)
    if xsd == "xsd:boolean" and value not in ("0", "1", "true", "false"):
        raise CommandError(BAD_VALUE, name=name)
    if xsd in ("xsd:unsignedInt", "xsd:int"):
        try:
            number = int(value)
        except ValueError:
            raise CommandError(BAD_VALUE, name=name) from None
        if number < (0 if xsd == "xsd:unsignedInt" else -(2**31)) or number > 2**32 - 1:
            raise CommandError(BAD_VALUE, name=name)
    if xsd == "xsd:dateTime":
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise CommandError(BAD_VALUE, name=name) from None
    return value


def _bounded_int(value, field, low, high, default):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CommandError(BAD_NUMBER, field=field, low=low, high=high) from None
    if not low <= number <= high:
        raise CommandError(BAD_NUMBER, field=field, low=low, high=high)
    return number


def _check_host(host):
    host = str(host or "").strip()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if len(host) > 253 or not _HOST.match(host):
        raise CommandError(BAD_HOST)
    return host


def _check_url(url):
    url = str(url or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port past 65535 raises here, not later on the device page)
    except ValueError:  # "http://[::1": an unclosed IPv6 bracket
        raise CommandError(BAD_URL) from None
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 512 or any(
            ch.isspace() for ch in url):
        raise CommandError(BAD_URL)
    return url


def clean_arguments(kind, arguments):
    """The arguments of a command of ``kind`` as stored, or CommandError. Accepts what a form
    gives (strings, newline-separated lists)."""
    a = dict(arguments or {})
    if kind == "get_parameters":
        names = a.get("names") or []
        if isinstance(names, str):
            names = [n for n in re.split(r"[\s,]+", names) if n]
        if not names:
            raise CommandError(NO_NAMES)
        if len(names) > MAX_NAMES:
            raise CommandError(TOO_MANY, n=MAX_NAMES)
        return {"names": [_check_name(n) for n in names]}
    if kind in ("set_parameters", "setup"):
        values = a.get("values") or []
        if isinstance(values, str):  # "name = value" or "name = value : type" lines
            values = [_parse_value_line(line) for line in values.splitlines() if line.strip()]
        if not values:
            raise CommandError(NO_NAMES)
        if len(values) > MAX_NAMES:
            raise CommandError(TOO_MANY, n=MAX_NAMES)
        cleaned = []
        for item in values:
            name, value, xsd = (list(item) + ["xsd:string"])[:3]
            name = _check_name(name)
            if name.endswith("."):
                raise CommandError(BAD_NAME, name=name)
            if xsd not in PARAM_TYPES:
                raise CommandError(BAD_TYPE, type=str(xsd)[:40])
            cleaned.append([name, _check_value(name, value, xsd), xsd])
        out = {"values": cleaned}
        if kind == "setup":
            out["notify"] = [_check_name(n) for n in a.get("notify", [])]
        return out
    if kind == "download":
        if a.get("file_type") not in DOWNLOAD_TYPES:
            raise CommandError(BAD_FILE_TYPE)
        out = {"file_type": a["file_type"]}
        if a.get("url"):
            out["url"] = _check_url(a["url"])
        return out
    if kind == "upload":
        if a.get("file_type") not in UPLOAD_TYPES and vendor_map.file_kind(
                a.get("file_type")) is None:
            raise CommandError(BAD_FILE_TYPE)
        return {"file_type": a["file_type"]}
    if kind == "reboot":
        return {}
    if kind == "ping":
        return {"host": _check_host(a.get("host")),
                "count": _bounded_int(a.get("count"), "Count", 1, 64, 4)}
    if kind == "traceroute":
        return {"host": _check_host(a.get("host")),
                "max_hops": _bounded_int(a.get("max_hops"), "Max hops", 1, 64, 30)}
    raise CommandError(BAD_KIND)


def _parse_value_line(line):
    name, sep, rest = line.partition("=")
    if not sep:
        raise CommandError(BAD_NAME, name=line.strip()[:80])
    value, xsd = rest.strip(), "xsd:string"
    head, colon, tail = value.rpartition(" : ")
    if colon and tail.strip() in PARAM_TYPES:
        value, xsd = head.strip(), tail.strip()
    return [name.strip(), value, xsd]


def commands_allowed(enterprise):
    """Devices of RPS enterprises are only redirected, and a frozen enterprise's devices may
    not connect: neither gets commands. (Which channel may command which enterprise's devices
    - those that authorize it - is the scope of app/core/scope.py.)"""
    return (enterprise is not None and enterprise.status == Status.active
            and enterprise.permission_type == PermissionType.device_management)


def queue_command(session, device, kind, arguments=None, by=None):
    """Queue a command for the device's next session (the caller commits, then may wake the
    device with a connection request)."""
    if kind not in KINDS:
        raise CommandError(BAD_KIND)
    if device.enterprise_id is None:
        raise CommandError(NOT_BOUND)
    if not commands_allowed(device.enterprise):
        raise CommandError(NOT_MANAGED)
    command = DeviceCommand(device_id=device.id, kind=kind,
                            arguments=json.dumps(clean_arguments(kind, arguments)),
                            status=CommandStatus.queued, created_by=by)
    session.add(command)
    session.execute(update(Device).where(Device.id == device.id).values(has_work=True)
                    .execution_options(synchronize_session=False))
    session.flush()
    return command


def retry_command(session, command, by=None):
    """Queue a failed command again (a new row, so the history keeps the failure)."""
    if command.status != CommandStatus.failed:
        raise CommandError(NOT_RETRYABLE)
    return queue_command(session, command.device, command.kind,
                         json.loads(command.arguments), by=by)


def arguments_of(command):
    return json.loads(command.arguments or "{}")


def result_of(command):
    return json.loads(command.result) if command.result else None


def finish(command, status, *, result=None, fault_code=None, fault_string=None, now=None):
    command.status = status
    command.updated_on = command.finished_on = now or utcnow()
    if result is not None:
        command.result = json.dumps(result)
    command.fault_code = fault_code
    command.fault_string = (fault_string or "")[:512] or None
    fault_events.on_command_finished(command)  # a failed configuration push is an alarm


PUSH_MARK = '%"push": %'  # the arguments of a configuration push's Download

TIMED_OUT = {
    CommandStatus.queued: "The device did not connect in time to run this command.",
    CommandStatus.sent: "The device did not answer this command.",
    CommandStatus.waiting: "The device did not report the result in time.",
}


def expire_commands(session, timeout_seconds, now=None):
    """Commands stuck past the timeout fail with a message saying where they stopped (each
    by a conditional UPDATE, so a device answering at the same moment wins or loses cleanly);
    a failed configuration or firmware Download raises its alarm. Returns how many failed."""
    now = now or utcnow()
    cutoff = now - datetime.timedelta(seconds=timeout_seconds)
    failed = 0
    for status, message in TIMED_OUT.items():
        query = select(DeviceCommand.id, DeviceCommand.kind, DeviceCommand.device_id,
                       DeviceCommand.arguments).where(DeviceCommand.status == status,
                                                      DeviceCommand.updated_on < cutoff)
        if status == CommandStatus.queued:
            # A configuration push waits for offline devices its own expiry
            # (CONFIG_PUSH_EXPIRY_DAYS, app/configs/outcomes.py), not this timeout.
            query = query.where(DeviceCommand.arguments.not_like(PUSH_MARK))
        for row in session.execute(query.limit(1000)).all():
            won = session.execute(
                update(DeviceCommand).where(DeviceCommand.id == row.id,
                                            DeviceCommand.status == status,
                                            DeviceCommand.updated_on < cutoff)
                .values(status=CommandStatus.failed, finished_on=now, updated_on=now,
                        fault_string=message, upload_token=None)
                .execution_options(synchronize_session=False)).rowcount
            failed += won
            if won and row.kind == "download":  # only the UPDATE that failed it: one alarm
                fault_events.download_failed(session, row.device_id, row.arguments, message,
                                             now)
        session.commit()
    return failed


def expire_diagnostics(session, timeout_seconds, now=None):
    """Ping/traceroute the device accepted but never completed (no 8 DIAGNOSTICS COMPLETE, and
    no session since to poll it) fail after the diagnostics timeout, saying so. A waiting
    diagnostic's ``updated_on`` is its start. Returns how many."""
    now = now or utcnow()
    cutoff = now - datetime.timedelta(seconds=timeout_seconds)
    failed = session.execute(
        update(DeviceCommand).where(DeviceCommand.status == CommandStatus.waiting,
                                    DeviceCommand.kind.in_(("ping", "traceroute")),
                                    DeviceCommand.updated_on < cutoff)
        .values(status=CommandStatus.failed, finished_on=now, updated_on=now,
                fault_string=DIAGNOSTICS_GAVE_UP % {"minutes": max(1, timeout_seconds // 60)})
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return failed


def prune_commands(session, days, now=None):
    """Finished commands older than ``days`` go (with their uploaded files' names returned for
    the caller to delete); a device keeps its recent history. Returns the file names."""
    cutoff = (now or utcnow()) - datetime.timedelta(days=days)
    files = []
    while True:
        rows = session.execute(
            select(DeviceCommand.id, DeviceCommand.file_name).where(
                DeviceCommand.status.in_((CommandStatus.done, CommandStatus.failed)),
                DeviceCommand.updated_on < cutoff).limit(1000)).all()
        if not rows:
            return files
        session.execute(delete(DeviceCommand).where(DeviceCommand.id.in_([r.id for r in rows]))
                        .execution_options(synchronize_session=False))
        session.commit()
        files += [r.file_name for r in rows if r.file_name]
