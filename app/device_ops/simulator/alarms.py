"""Alarms on demand for a simulated phone: TR-181 fault management (``Device.FaultMgmt.``) as a
phone has it, and the sessions that report an event.

``install(phone)`` gives the phone the FaultMgmt object: SupportedAlarm entries for every
alarm type of the appendix, and ExpeditedEventNumberOfEntries (active notification, forced)
and QueuedEventNumberOfEntries (passive). ``raise_alarm(phone, code)`` logs an event as the
phone's firmware would: a Critical type in the ExpeditedEvent table (a "4 VALUE CHANGE"
session at once), the others in the QueuedEvent table (delivered with the next Inform; the
helper opens one at once). The ACS then reads the new entries in the same session.
``raise_now`` is the test helper: raise and run the session, blocking until it ends.

CLI: ``python -m app.device_ops.simulator --acs-url URL --raise-alarm kernel_panic
[--raise-alarm call_failed ...]`` boots the phone(s), raises each alarm, and exits (1 if a
session failed).
"""

import argparse
import itertools
from datetime import UTC, datetime

from app.alarms.types import CRITICAL, TYPES
from app.device_ops import vendor_map
from app.device_ops.simulator.model import Param

SEVERITY = {code: severity for code, _en, _zh, severity in TYPES}
NAMES = {code: en for code, en, _zh, _severity in TYPES}
ASKS_ACS = {"device_offline", "update_configuration_failure"}  # what only the ACS can see
_ids = itertools.count(1)


def _set(model, name, value, ptype="xsd:string", notification=0, **kw):
    full = model.name(name)
    param = model.params.get(full)
    if param is None:
        model.params[full] = param = Param(str(value), ptype, False, notification=notification,
                                           **kw)
        param.reported = param.value
    else:
        param.value = str(value)
    return param


def install(phone):
    """Give the phone its FaultMgmt object (idempotent)."""
    model = phone.model
    with model.lock:
        if model.name("FaultMgmt.ExpeditedEventNumberOfEntries") in model.params:
            return
        supported = [(code, en, severity) for code, en, _zh, severity in TYPES
                     if code not in ASKS_ACS]
        _set(model, "FaultMgmt.SupportedAlarmNumberOfEntries", len(supported),
             "xsd:unsignedInt")
        for i, (code, en, severity) in enumerate(supported, start=1):
            prefix = f"FaultMgmt.SupportedAlarm.{i}."
            _set(model, prefix + "EventType", en)
            _set(model, prefix + "ProbableCause", code)
            _set(model, prefix + "PerceivedSeverity", severity.capitalize())
            _set(model, prefix + "ReportingMechanism",
                 "0 Expedited" if severity == CRITICAL else "1 Queued")
        for table, note in (("ExpeditedEvent", 2), ("QueuedEvent", 1)):
            _set(model, f"FaultMgmt.{table}NumberOfEntries", 0, "xsd:unsignedInt",
                 notification=note, active_notify="forceEnabled" if note == 2 else "normal")
        account = model.params.get(model.name(vendor_map.ACCOUNT_REGISTRATION.format(index=1)))
        if account is not None:
            account.notification = 2
        model._entries = None  # the object tree changed: partial paths are walked anew


def log_event(phone, code, text="", cleared=False, event_type=None, cause=None):
    """Add the event's entry to the phone's FaultMgmt tables; returns (the count's name, its
    new value) for the caller to set as a change made on the phone."""
    install(phone)
    model = phone.model
    severity = SEVERITY.get(code, "minor")
    table = "ExpeditedEvent" if severity == CRITICAL else "QueuedEvent"
    with model.lock:
        count_name = f"FaultMgmt.{table}NumberOfEntries"
        n = int(model.get(count_name)) + 1
        prefix = f"FaultMgmt.{table}.{n}."
        fields = {
            "EventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "AlarmIdentifier": f"{phone.mac}-{next(_ids)}",
            "NotificationType": "ClearedAlarm" if cleared else "NewAlarm",
            "ManagedObjectInstance": model.name("DeviceInfo."),
            "EventType": event_type if event_type is not None else NAMES.get(code, code),
            "ProbableCause": code if cause is None else cause, "SpecificProblem": "",
            "PerceivedSeverity": "Cleared" if cleared else severity.capitalize(),
            "AdditionalText": text,
        }
        for field, value in fields.items():
            _set(model, prefix + field, value)
        model._entries = None
    return count_name, n


def raise_alarm(phone, code, text=""):
    """Log the event as the phone would: an expedited one (active notification) opens a
    session in the background, a queued one waits for the next Inform."""
    phone.set_local_value(*log_event(phone, code, text))


def raise_now(phone, code, text="", cleared=False, event_type=None, cause=None):
    """Test helper: log the event and run the session that reports it; returns its
    SessionLog. Follow-ups (the log upload) run after it: ``phone.wait_idle()``."""
    phone.model.set_local(*log_event(phone, code, text, cleared=cleared,
                                           event_type=event_type, cause=cause))
    return phone.run_session([("4 VALUE CHANGE", "")])


def fail_registration(phone, status="Failed"):
    """The SIP account's registration fails (or, with "Registered", recovers)."""
    install(phone)
    phone.model.set_local(vendor_map.ACCOUNT_REGISTRATION.format(index=1), status)
    return phone.run_session([("4 VALUE CHANGE", "")])


# --- the CLI ------------------------------------------------------------------------------------


def main(argv=None):
    from app.device_ops.simulator.phone import SimulatedPhone

    ap = argparse.ArgumentParser(prog="python -m app.device_ops.simulator --raise-alarm",
                                 description="Boot simulated phones and raise alarms on them.")
    ap.add_argument("--acs-url", required=True)
    ap.add_argument("--raise-alarm", action="append", required=True, metavar="CODE",
                    choices=sorted(c for c in SEVERITY if c not in ASKS_ACS))
    ap.add_argument("--text", default="raised by the simulator")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--auth", choices=("basic", "digest"), default="basic")
    ap.add_argument("--mac-prefix", default="001565")
    ap.add_argument("--start-index", type=int, default=1)
    ap.add_argument("--model", default="SIP-T54W")
    args = ap.parse_args(argv)
    failed = False
    for i in range(args.start_index, args.start_index + args.count):
        mac = f"{args.mac_prefix}{i:0{12 - len(args.mac_prefix)}x}"
        phone = SimulatedPhone(args.acs_url, mac, username=args.username,
                               password=args.password, auth=args.auth, model=args.model)
        install(phone)
        logs = [phone.run_session()]
        for code in args.raise_alarm:
            logs.append(raise_now(phone, code, args.text) if code != "register_failure"
                        else fail_registration(phone))
        phone.wait_idle(30)
        phone.close()
        for log in logs:
            print(f"{mac}: [{', '.join(log.events)}] {'ok' if log.ok else log.error}",
                  flush=True)
            failed = failed or not log.ok
    return 1 if failed else 0
