"""The command queue inside a CWMP session: pick the device's next command, turn it into an
RPC, and record the device's answer (or fault) on the command.

A command's CommandKey is ``cmd<id>``: TransferComplete, ``M Reboot`` and diagnostics find their
command by it. Multi-step commands (setup; diagnostics) keep their step in ``phase``.
"""

import datetime
import hashlib
import json
import secrets

from sqlalchemy import select, update

from app.device_ops import auth, fault_events, sealed, soap, vendor_map
from app.device_ops.commands import DIAGNOSTICS_GAVE_UP, arguments_of, finish, queue_command
from app.device_ops.inventory import metric_names, record_metrics
from app.models import CommandStatus, Device, DeviceCommand, utcnow

SETUP_KIND = "setup"
DIAGNOSTICS = ("ping", "traceroute")
DIAGNOSTICS_CANCELLED = "The device cancelled the diagnostic (its DiagnosticsState is %(state)s)."
OPTIONAL_STEP = "Not supported by this device (fault %(code)s %(text)s); the set-up goes on."


def command_key(command_id):
    return f"cmd{command_id}"


def command_id_of(key):
    key = (key or "").strip()
    if key.startswith("cmd") and key[3:].isdigit() and len(key) < 16:
        return int(key[3:])
    return None


def diagnostics_object(root, kind):
    if root == "InternetGatewayDevice":
        return ("InternetGatewayDevice.IPPingDiagnostics." if kind == "ping"
                else "InternetGatewayDevice.TraceRouteDiagnostics.")
    return "Device.IP.Diagnostics." + ("IPPing." if kind == "ping" else "TraceRoute.")


# --- things the ACS queues itself -------------------------------------------------------------


def queue_setup(session, device, periodic_interval):
    """At bootstrap: give the device connection-request credentials and our periodic interval,
    its own ACS credentials when it has them (a pre-registered device's first session), and
    ask it to report CPU/memory changes in every Inform (passive notification)."""
    device.cr_username = f"cr{device.id}"
    device.cr_password = auth.new_secret()
    root = device.data_model or "Device"
    ms = f"{root}.ManagementServer."
    cpu, _total, free = metric_names(root)
    values = [[ms + "ConnectionRequestUsername", device.cr_username, "xsd:string"],
              [ms + "ConnectionRequestPassword", device.cr_password, "xsd:string"],
              [ms + "PeriodicInformEnable", "1", "xsd:boolean"],
              [ms + "PeriodicInformInterval", str(periodic_interval), "xsd:unsignedInt"]]
    if device.acs_password:
        values = [[ms + "Username", auth.device_username(device.id), "xsd:string"],
                  [ms + "Password", device.acs_password, "xsd:string"]] + values
    return queue_command(session, device, SETUP_KIND, {"values": values, "notify": [cpu, free]})


def on_inform_events(session, device_id, inform, now=None, diagnostics_timeout=300):
    """Commands an Inform's events complete: ``M Reboot`` finishes a reboot, a vendor event of
    a finished recording queues its upload, ``8 DIAGNOSTICS
    COMPLETE`` sends waiting diagnostics back to the queue to read their results (without it,
    a later session reads their DiagnosticsState all the same: some devices never send it),
    and commands a previous session sent but never heard back from fail. Returns True if work
    is queued."""
    now = now or utcnow()
    codes = inform.event_codes
    for code, key in inform.events:
        cid = command_id_of(key)
        if code == "M Reboot" and cid:
            command = _command(session, device_id, cid)
            if command is not None and command.status == CommandStatus.waiting:
                finish(command, CommandStatus.done, result={"rebooted": now.isoformat()}, now=now)
    if "1 BOOT" in codes:  # rebooted without telling which command: a waiting reboot is done
        for command in _commands(session, device_id, (CommandStatus.waiting,), ("reboot",)):
            finish(command, CommandStatus.done, result={"rebooted": now.isoformat()}, now=now)
    queued = False
    if vendor_map.RECORDING_EVENT in codes:  # a recording to upload (auto-upload is on)
        queue_command(session, session.get(Device, device_id), "upload",
                      {"file_type": vendor_map.file_type("recording")})
        queued = True
    for command in _commands(session, device_id, (CommandStatus.waiting,), DIAGNOSTICS):
        if "8 DIAGNOSTICS COMPLETE" not in codes and diagnostics_overdue(
                command, diagnostics_timeout, now):
            finish(command, CommandStatus.failed, now=now,
                   fault_string=DIAGNOSTICS_GAVE_UP % {
                       "minutes": max(1, diagnostics_timeout // 60)})
            continue
        started = command.updated_on.isoformat()
        command.status = CommandStatus.queued
        command.result = json.dumps({"phase": "read", "started": started,
                                     "reported": "8 DIAGNOSTICS COMPLETE" in codes})
        command.updated_on = now
        queued = True
    for command in _commands(session, device_id, (CommandStatus.sent,), None):
        finish(command, CommandStatus.failed, fault_string="The device started a new session "
               "without answering this command.", now=now)
    return queued


def diagnostics_overdue(command, timeout_seconds, now):
    """A diagnostic the device accepted more than ``timeout_seconds`` ago (its start is kept
    across the polls that found it still running)."""
    started = command.updated_on
    phase = json.loads(command.result) if command.result else {}
    if isinstance(phase, dict) and phase.get("started"):
        started = datetime.datetime.fromisoformat(phase["started"])
    return started < now - datetime.timedelta(seconds=timeout_seconds)


def _command(session, device_id, command_id):
    return session.execute(select(DeviceCommand).where(
        DeviceCommand.id == command_id, DeviceCommand.device_id == device_id)).scalar_one_or_none()


def _commands(session, device_id, statuses, kinds):
    query = select(DeviceCommand).where(DeviceCommand.device_id == device_id,
                                        DeviceCommand.status.in_(statuses))
    if kinds:
        query = query.where(DeviceCommand.kind.in_(kinds))
    return session.execute(query.order_by(DeviceCommand.id)).scalars().all()


# --- next RPC ---------------------------------------------------------------------------------


def next_rpc(session, state, base_url, now=None, secret=None):
    """The next RPC envelope for the session (claiming its command), or None when the queue is
    empty (the device's ``has_work`` is then cleared)."""
    now = now or utcnow()
    device_id = state["d"]
    while True:
        command = session.execute(
            select(DeviceCommand).where(DeviceCommand.device_id == device_id,
                                        DeviceCommand.status == CommandStatus.queued)
            .order_by(DeviceCommand.id).limit(1)).scalar_one_or_none()
        if command is None:
            # Commands still waiting (a reboot, a transfer, diagnostics) keep the flag up, so
            # the Inform that completes them looks at the queue.
            waiting = session.execute(select(DeviceCommand.id).where(
                DeviceCommand.device_id == device_id,
                DeviceCommand.status == CommandStatus.waiting).limit(1)).first()
            session.execute(update(Device).where(Device.id == device_id)
                            .values(has_work=waiting is not None)
                            .execution_options(synchronize_session=False))
            session.commit()
            return None
        claimed = session.execute(
            update(DeviceCommand).where(DeviceCommand.id == command.id,
                                        DeviceCommand.status == CommandStatus.queued)
            .values(status=CommandStatus.sent, updated_on=now, attempts=DeviceCommand.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:  # another session of the same device took it
            session.rollback()
            continue
        session.refresh(command)
        body = _rpc_for(session, command, state, base_url, secret)
        session.commit()
        return body


def _rpc_for(session, command, state, base_url, secret=None):
    ns, root = state["n"], state["r"]
    args = arguments_of(command)
    phase = json.loads(command.result).get("phase") if command.result else None
    state["c"], state["k"] = command.id, command.kind
    key = command_key(command.id)
    cwmp_id = f"{key}.{command.attempts}"
    if command.kind == "get_parameters":
        state["p"] = "gpv"
        return soap.get_parameter_values(ns, cwmp_id, args["names"])
    if command.kind in ("set_parameters", SETUP_KIND):
        state["p"] = "spv"
        values = [[n, sealed.unseal(secret, v), t] for n, v, t in args["values"]]
        return soap.set_parameter_values(ns, cwmp_id, values, key)
    if command.kind == "reboot":
        state["p"] = "reboot"
        return soap.reboot(ns, cwmp_id, key)
    if command.kind == "download":
        state["p"] = "download"
        url = args.get("url")
        if not url:
            # The device's own provisioning file, from a one-time URL: no credentials to
            # hand out, and a device that ignores those of a Download gets its file too.
            token = secrets.token_urlsafe(24)
            command.upload_token = hashlib.sha256(token.encode()).hexdigest()
            url = f"{base_url}acs/file/{token}"
        return soap.download(ns, cwmp_id, key, args["file_type"], url, "", "")
    if command.kind == "upload":
        state["p"] = "upload"
        token = secrets.token_urlsafe(24)
        command.upload_token = hashlib.sha256(token.encode()).hexdigest()
        return soap.upload(ns, cwmp_id, key, args["file_type"], f"{base_url}acs/upload/{token}")
    if command.kind in ("ping", "traceroute"):
        obj = diagnostics_object(root, command.kind)
        if phase == "read":
            state["p"] = "diag_read"
            return soap.get_parameter_values(ns, cwmp_id, [obj])
        state["p"] = "diag_start"
        values = [[obj + "Host", args["host"], "xsd:string"]]
        if command.kind == "ping":
            values.append([obj + "NumberOfRepetitions", str(args["count"]), "xsd:unsignedInt"])
        else:
            values.append([obj + "MaxHopCount", str(args["max_hops"]), "xsd:unsignedInt"])
        values.append([obj + "DiagnosticsState", "Requested", "xsd:string"])
        return soap.set_parameter_values(ns, cwmp_id, values, key)
    finish(command, CommandStatus.failed, fault_string="Unknown command kind.")
    state["c"] = None
    return soap.fault(ns, cwmp_id, 9000, "unknown command")


# --- the device's answer ----------------------------------------------------------------------

_EXPECTED = {"gpv": "GetParameterValuesResponse", "spv": "SetParameterValuesResponse",
             "spa": "SetParameterAttributesResponse", "reboot": "RebootResponse",
             "download": "DownloadResponse", "upload": "UploadResponse",
             "diag_start": "SetParameterValuesResponse",
             "diag_read": "GetParameterValuesResponse"}


def handle_answer(session, state, message, now=None):
    """Record the device's answer to the command in flight. Returns an envelope to send next
    when the same command needs another RPC (setup's attributes), else None."""
    now = now or utcnow()
    command_id, phase = state.get("c"), state.get("p")
    state["c"] = state["p"] = None
    command = _command(session, state["d"], command_id) if command_id else None
    if command is None or command.status != CommandStatus.sent:
        session.commit()
        return None
    if message.name == "Fault" and phase == "spa" and command.kind == SETUP_KIND:
        # Passive notification is optional: without it the ACS reads CPU/memory itself.
        finish(command, CommandStatus.done, now=now, result={"steps": _steps(
            "done", "unsupported", OPTIONAL_STEP % {"code": message.fault.get("code"),
                                                    "text": message.fault.get("string") or ""})})
        session.commit()
        return None
    if message.name == "Fault":
        result = None
        if command.kind == SETUP_KIND:
            result = {"steps": _steps("done", "failed") if phase == "spa" else _steps("failed")}
        finish(command, CommandStatus.failed, fault_code=message.fault.get("code"), result=result,
               fault_string=message.fault.get("string") or "fault", now=now)
        session.commit()
        return None
    if message.name != _EXPECTED.get(phase):
        finish(command, CommandStatus.failed,
               fault_string=f"The device answered {message.name[:60]} to {_EXPECTED.get(phase)}.",
               now=now)
        session.commit()
        return None
    follow_up = None
    if phase in ("gpv", "diag_read"):
        values = soap.parameter_values(message.body)
        _remember_parameters(session, state["d"], values, now)
        fault_events.on_answer(session, command, values)  # the ACS's read of fault events
        if phase == "gpv":
            _record_metrics_read(session, state, values, now)
            finish(command, CommandStatus.done, result={"values": values}, now=now)
        else:
            _diagnostics_read(command, diagnostics_result(command.kind, values, state["r"]),
                              now)
    elif phase == "spv":
        args = arguments_of(command)
        # Values we set are remembered as read, but never a password (devices read them
        # back empty anyway, and the detail page is no place for them).
        _remember_parameters(session, state["d"], {
            n: v for n, v, _t in args["values"] if "password" not in n.lower()}, now)
        _remember_interval(session, state["d"], args["values"], now)
        status = soap.text(message.body, "Status", "0")
        if command.kind == SETUP_KIND and args.get("notify"):
            state["c"], state["p"] = command.id, "spa"
            command.updated_on = now
            command.result = json.dumps({"steps": _steps("done", "sent")})
            follow_up = soap.set_parameter_attributes(
                state["n"], f"{command_key(command.id)}.spa", args["notify"], 1)
        elif command.kind == SETUP_KIND:
            finish(command, CommandStatus.done, result={"status": status,
                                                         "steps": _steps("done")}, now=now)
        else:
            finish(command, CommandStatus.done, result={"status": status}, now=now)
    elif phase == "spa":
        finish(command, CommandStatus.done, result={"status": "0",
                                                     "steps": _steps("done", "done")}, now=now)
    elif phase in ("reboot", "diag_start"):
        command.status, command.updated_on = CommandStatus.waiting, now
    elif phase in ("download", "upload"):
        if soap.text(message.body, "Status", "1") == "0" and phase == "download":
            finish(command, CommandStatus.done, result={"url": "", "status": "0"}, now=now)
        else:
            command.status, command.updated_on = CommandStatus.waiting, now
    session.commit()
    return follow_up


def _record_metrics_read(session, state, values, now):
    """A read that asked for CPU/memory (the diagnostic page's refresh) is a sample too."""
    if set(metric_names(state["r"])) & set(values):
        record_metrics(session.connection(), state["d"], values, state["r"], now=now)


def _steps(values, notify=None, note=None):
    """The set-up's steps with their outcomes: "values" (SPV of the connection-request
    credentials and the interval: required), "notify" (SPA for passive notification of
    CPU/memory: optional, None when not reached)."""
    steps = [{"step": "values", "status": values}]
    if notify is not None:
        steps.append({"step": "notify", "status": notify, **({"note": note} if note else {})})
    return steps


def _remember_interval(session, device_id, values, now):
    """The PeriodicInformInterval a device accepted is the one its offline rule uses."""
    for name, value, _type in values:
        if name.endswith("ManagementServer.PeriodicInformInterval") and str(value).isdigit():
            interval = max(1, int(value))
            device = session.get(Device, device_id)
            device.periodic_interval = interval
            if device.online and device.last_seen is not None:
                device.offline_after = now + datetime.timedelta(seconds=2 * interval)


def _diagnostics_read(command, result, now):
    """The DiagnosticsState read after 8 DIAGNOSTICS COMPLETE, or polled without it."""
    phase = json.loads(command.result) if command.result else {}
    state = result.get("state", "")
    if state == "Requested" and not phase.get("reported"):
        # still running: wait again, the timeout counted from the start
        command.status = CommandStatus.waiting
        command.updated_on = datetime.datetime.fromisoformat(phase.get("started")) if (
            phase.get("started")) else now
        command.result = json.dumps({"phase": "wait", "started": phase.get("started")})
    elif state in ("None", "Requested", ""):
        finish(command, CommandStatus.failed, result=result, now=now,
               fault_string=DIAGNOSTICS_CANCELLED % {"state": state or "empty"})
    else:
        finish(command, CommandStatus.done, result=result, now=now)


def handle_transfer_complete(session, state, message, now=None):
    """TransferComplete of a Download or Upload: finish its command (found by CommandKey)."""
    now = now or utcnow()
    body = message.body
    cid = command_id_of(soap.text(body, "CommandKey"))
    command = _command(session, state["d"], cid) if cid else None
    if command is None or command.kind not in ("download", "upload") or command.status not in (
            CommandStatus.waiting, CommandStatus.sent):
        return
    fault_el = soap.child(body, "FaultStruct")
    raw = soap.text(fault_el, "FaultCode", "0").strip() if fault_el is not None else "0"
    result = {"start": soap.text(body, "StartTime"), "complete": soap.text(body, "CompleteTime")}
    if raw not in ("", "0"):  # a fault, even one whose code is no number we can keep
        finish(command, CommandStatus.failed, fault_code=soap.fault_code(raw) or None,
               fault_string=soap.text(fault_el, "FaultString") or "transfer failed", now=now)
    elif command.kind == "upload" and not command.file_name:
        finish(command, CommandStatus.failed, now=now,
               fault_string="The device reported the upload complete but no file arrived.")
    else:
        finish(command, CommandStatus.done, result=result, now=now)
    command.upload_token = None
    session.commit()


MAX_PARAMETERS = 500  # names kept per device: the latest read or set win


def _remember_parameters(session, device_id, values, now):
    """Values read or set, kept per device in order of last change (newest last), at most
    MAX_PARAMETERS of them: a device read name by name never grows its row without bound."""
    device = session.get(Device, device_id)
    known = json.loads(device.parameters) if device.parameters else {}
    for name in values:
        known.pop(name, None)
    known.update(values)
    if len(known) > MAX_PARAMETERS:
        known = dict(list(known.items())[-MAX_PARAMETERS:])
    device.parameters = json.dumps(known)
    device.parameters_read_on = now


def _num(values, name):
    try:
        return int(values.get(name, ""))
    except ValueError:
        return None


def diagnostics_result(kind, values, root):
    obj = diagnostics_object(root, kind)
    state = values.get(obj + "DiagnosticsState", "")
    if kind == "ping":
        return {"state": state, "success": _num(values, obj + "SuccessCount"),
                "failure": _num(values, obj + "FailureCount"),
                "avg_ms": _num(values, obj + "AverageResponseTime"),
                "min_ms": _num(values, obj + "MinimumResponseTime"),
                "max_ms": _num(values, obj + "MaximumResponseTime")}
    igd = root == "InternetGatewayDevice"
    hops = []
    count = _num(values, obj + "RouteHopsNumberOfEntries") or 0
    for i in range(1, min(count, 64) + 1):
        hop = f"{obj}RouteHops.{i}."
        hops.append({"host": values.get(hop + ("HopHost" if igd else "Host"), ""),
                     "address": values.get(hop + ("HopHostAddress" if igd else "HostAddress"), ""),
                     "rtt": values.get(hop + ("HopRTTimes" if igd else "RTTimes"), ""),
                     "error": _num(values, hop + ("HopErrorCode" if igd else "ErrorCode"))})
    return {"state": state, "response_ms": _num(values, obj + "ResponseTime"), "hops": hops}
