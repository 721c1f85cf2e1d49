"""Alarms from devices and from the ACS: TR-181 fault management (``Device.FaultMgmt.``) and
what the ACS sees itself, turned into app/alarms/rules.raise_alarm calls.

How an event arrives (TR-069 / TR-181):
- The device has active notification on ``FaultMgmt.ExpeditedEventNumberOfEntries`` (and
  passive on ``QueuedEventNumberOfEntries``): a new event changes the count, and the device
  opens a session with "4 VALUE CHANGE" carrying the new count. The ACS then reads the new
  entries (``FaultMgmt.ExpeditedEvent.{i}.``) with a GetParameterValues in the same session
  (on_inform queues it; on_answer ingests what comes back).
- A device that sends the entries' fields in the Inform itself has them ingested at once.
- The Yealink account's ``RegistrationStatus`` notified as failed raises "Register failure";
  registered again, it clears it.
From the ACS: a failed Download of the configuration file (file type "3 Vendor Configuration
File") raises "Update configuration failure", of a firmware image "Upgrade firmware failure"
(whether the device reported a fault or the command timed out, a configuration push expired);
a device marked offline after missing its periodic Informs raises "Device offline", and its
next Inform clears it.

An event counts only for the device whose session carried it: whatever an event names (a
ManagedObjectInstance, another MAC in its text), it is never booked on another device.
Unknown event types are skipped (and logged), never stored.
"""

import datetime
import json
import logging
import random
import re
import time

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import object_session

from app.alarms.rules import (
    BATCH,
    ORM,
    SYSTEM,
    alarm_types,
    begin,
    clear_open_alarm,
    on_new_alarm,
    open_key,
    raise_alarm,
)
from app.alarms.types import TYPES
from app.device_ops import vendor_map
from app.device_ops.fastsql import Prepared
from app.models import Alarm, AlarmStatus, CommandStatus, Device, DeviceCommand, utcnow

log = logging.getLogger(__name__)

ROOTS = ("Device.FaultMgmt.", "InternetGatewayDevice.FaultMgmt.")
TABLES = ("ExpeditedEvent", "QueuedEvent")
FIELDS = ("EventTime", "AlarmIdentifier", "NotificationType", "ManagedObjectInstance",
          "EventType", "ProbableCause", "SpecificProblem", "PerceivedSeverity",
          "AdditionalText", "AdditionalInformation")
MAX_READ = 16  # entries read per table and session; a device that logged more loses the rest
MAX_EVENTS = 64  # per Inform or answer
_ENTRY = re.compile(r"^(?:Device|InternetGatewayDevice)\.FaultMgmt\.(ExpeditedEvent|QueuedEvent|"
                    r"CurrentAlarm)\.(\d{1,6})\.([A-Za-z]{1,32})$")
_COUNT = re.compile(r"^(?:Device|InternetGatewayDevice)\.FaultMgmt\.(ExpeditedEvent|QueuedEvent)"
                    r"NumberOfEntries$")
_REGISTRATION = re.compile(r"\." + vendor_map.ACCOUNT_REGISTRATION_PATTERN)
REGISTRATION_FAILED = {"failed", "failure", "error", "registration failed", "rejected"}
REGISTRATION_OK = {"registered", "up"}

# Download file types whose failure is an alarm (TR-069 A.3.2.8).
FAILED_DOWNLOADS = {"3 Vendor Configuration File": "update_configuration_failure",
                    "1 Firmware Upgrade Image": "upgrade_firmware_failure"}


def normalize(value):
    return re.sub(r"[^a-z0-9]", "", str(value or "").lower())[:64]


# The mapping table: what devices put in EventType (or, for a generic X.733 EventType such as
# "Processing error alarm", in ProbableCause / SpecificProblem) -> our alarm type. Every
# appendix name and code maps to itself; these are the other spellings met.
ALIASES = {
    "poorvoicequality": "poor_call_quality", "lowmos": "poor_call_quality",
    "registrationfailure": "register_failure", "registrationfailed": "register_failure",
    "sipregistrationfailed": "register_failure", "registerfailed": "register_failure",
    "firmwareupgradefailure": "upgrade_firmware_failure",
    "firmwareupgradefailed": "upgrade_firmware_failure",
    "configurationupdatefailure": "update_configuration_failure",
    "provisioningfailure": "update_configuration_failure",
    "appcrash": "application_crash", "applicationcrashed": "application_crash",
    "applicationnotresponding": "application_no_response", "anr": "application_no_response",
    "kernelcrash": "kernel_panic", "programexit": "exit_program",
    "callfailure": "call_failed", "reboot": "device_reboot", "devicerebooted": "device_reboot",
    "rtpviolation": "rtp_violate", "bluetoothpairingfailure": "bluetooth_paired_failed",
    "calendarsyncfailure": "calendar_synchronization_failure",
}
EVENT_TYPES = {**{normalize(code): code for code, *_ in TYPES},
               **{normalize(en): code for code, en, *_ in TYPES}, **ALIASES}


def map_event(event):
    """Our alarm type code for an event's fields, or None when none of them is known."""
    for field in ("EventType", "ProbableCause", "SpecificProblem"):
        code = EVENT_TYPES.get(normalize(event.get(field)))
        if code:
            return code
    return None


def description_of(event):
    parts = [event.get("ProbableCause"), event.get("SpecificProblem"),
             event.get("AdditionalText")]
    return " · ".join(p.strip() for p in parts if p and p.strip())[:512]


def events_in(values):
    """The events among parameter values: [{field: value}] in (table, index) order."""
    entries = {}
    for name, value in values.items():
        match = _ENTRY.match(name)
        if match and match.group(3) in FIELDS:
            table, index, field = match.groups()
            entries.setdefault((table, int(index)), {})[field] = str(value)[:512]
    return [entries[k] for k in sorted(entries)][:MAX_EVENTS]


def _has_fault_values(params):
    return any(name.startswith(ROOTS) or ".RegistrationStatus" in name for name in params)


def ingest(session, device_id, enterprise_id, events, now=None, follow_up=True, tx=ORM):
    """Raise (or clear) the alarms of the events. Returns the Raised of those counted.

    Taken in the order of their types (an event's order among those of its own type kept):
    two Informs' transactions then lock the day counts (AlarmDaily) in the same order, and
    cannot deadlock on them."""
    now = now or utcnow()
    types = alarm_types(session)
    counted = []
    mapped = []
    for event in events:
        code = map_event(event)
        if code is None:
            log.info("device %s: unknown fault event type %r skipped", device_id,
                     str(event.get("EventType"))[:64])
            continue
        mapped.append((types[code].id, code, event))
    for _type_id, code, event in sorted(mapped, key=lambda m: m[0]):
        if normalize(event.get("PerceivedSeverity")) == "cleared" or normalize(
                event.get("NotificationType")) == "clearedalarm":
            clear_open_alarm(session, device_id, code, now=now)
            continue
        raised = raise_alarm(session, device_id, enterprise_id, code, description_of(event), now,
                             types=types, follow_up=follow_up, tx=tx)
        if raised:
            counted.append(raised)
    return counted


def _registration(session, device_id, enterprise_id, params, now, tx):
    raised = []
    for name, value in params.items():
        match = _REGISTRATION.search(name)
        if not match:
            continue
        status = str(value).strip().lower()
        if status in REGISTRATION_FAILED:
            raised.append(raise_alarm(session, device_id, enterprise_id, "register_failure",
                                      f"Account {match.group(1)}: {str(value)[:64]}", now,
                                      follow_up=False, tx=tx))
        elif status in REGISTRATION_OK:
            clear_open_alarm(session, device_id, "register_failure", now=now)
    return [r for r in raised if r]


def _entries_to_read(device, params):
    """Names of the event entries a changed ...NumberOfEntries announces: those after the count
    last seen (kept in the device's remembered parameters)."""
    known = {}
    if device.parameters:
        try:
            known = json.loads(device.parameters)
        except ValueError:
            known = {}
    names, changed = [], {}
    for name, value in params.items():
        match = _COUNT.match(name)
        if not match:
            continue
        text = str(value).strip()
        # ASCII digits only: int() would take "١" (Arabic-Indic one) or " +1_0".
        if not (text.isascii() and text.isdigit() and len(text) <= 6):
            continue  # a malformed count announces nothing
        count = int(text)
        try:
            before = int(known.get(name, 0))
        except (TypeError, ValueError):
            before = 0
        first = before + 1 if before < count else 1  # a smaller count: the device restarted
        prefix = name[: -len("NumberOfEntries")]
        names += [f"{prefix}.{i}." for i in range(max(first, count - MAX_READ + 1), count + 1)]
        changed[name] = str(count)
    if changed and isinstance(known, dict):
        device.parameters = json.dumps(dict(sorted({**known, **changed}.items())))
    return names


def queue_read(session, device_id, names, now):
    """The ACS's own GetParameterValues of the announced entries, first in the queue."""
    session.execute(DeviceCommand.__table__.insert().values(
        device_id=device_id, kind="get_parameters", arguments=json.dumps({"names": names}),
        status=CommandStatus.queued.value, created_on=now, updated_on=now, attempts=0))
    device = session.get(Device, device_id)
    device.has_work = True


def record_with_events(conn, row, device_id, inform, record):
    """The Inform's writes on the ACS's autocommit connection: ``record()`` (the device row:
    inventory.record_inform, returning its result), "Device offline" cleared when it was,
    and the fault events the Inform carries. An Inform with fault values does it all in one
    transaction: one commit, so one wait for the redo log's flush where each statement was
    one. Returns (record's result, the Raised of the events counted)."""
    now = utcnow()
    if row is None or row.enterprise_id is None or not _has_fault_values(inform.params):
        result = record()
        device_back_online(conn, row, device_id, now)
        return result, []

    def writes():
        result = record()
        device_back_online(conn, row, device_id, now)
        return result, ingest_all(conn, device_id, row.enterprise_id, inform.params, now)

    return in_one_transaction(conn, writes)


def ingest_all(conn, device_id, enterprise_id, params, now):
    """The events and registration states among an Inform's values, inside the caller's
    transaction on the ACS's connection (its BEGIN ... COMMIT)."""
    raised = ingest(conn, device_id, enterprise_id, events_in(params), now, follow_up=False,
                    tx=BATCH)
    return raised + _registration(conn, device_id, enterprise_id, params, now, BATCH)


BATCH_TRIES = 5


def in_one_transaction(conn, writes):
    """``writes()`` in one transaction on an autocommit connection, run again when InnoDB
    picks it as a deadlock's victim (it rolled all of it back)."""
    for attempt in range(BATCH_TRIES):
        begin(conn)
        try:
            result = writes()
        except OperationalError as error:
            conn.exec_driver_sql("ROLLBACK")
            if getattr(error.orig, "args", (None,))[0] != 1213 or attempt == BATCH_TRIES - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # not in step with the other
            continue
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")
        return result


def on_inform(acs, row, device_id, inform, raised):
    """After the Inform's writes (record_with_events): a new alarm's log request and mail,
    the read of the event entries the Inform announces. Returns True when work was queued
    for this session."""
    params = inform.params
    if row is None or row.enterprise_id is None or not _has_fault_values(params):
        return False
    new = [r for r in raised if r.new]
    announced = any(_COUNT.match(n) for n in params)
    if not (new or announced):
        return False
    with acs.orm() as session:  # a new alarm's log request and mail, in one transaction
        for r in new:
            on_new_alarm(session, r)
        if announced:
            names = _entries_to_read(session.get(Device, device_id), params)
            if names:
                queue_read(session, device_id, names, utcnow())
        work = bool(session.execute(select(Device.has_work).where(Device.id == device_id))
                    .scalar())
        session.commit()
    return work


def on_answer(session, command, values):
    """A GetParameterValues answer: the events of a read the ACS queued itself."""
    if command.created_by is not None or not values:
        return 0
    names = json.loads(command.arguments or "{}").get("names") or []
    if not names or not all(str(n).startswith(ROOTS) for n in names):
        return 0
    device = session.get(Device, command.device_id)
    if device is None or device.enterprise_id is None:
        return 0
    return len(ingest(session, device.id, device.enterprise_id, events_in(values)))


def on_command_finished(command):
    """A failed Download of the configuration file or a firmware image is an alarm."""
    if command.kind != "download" or command.status != CommandStatus.failed:
        return
    session = object_session(command)
    if session is not None:
        download_failed(session, command.device_id, command.arguments, command.fault_string,
                        command.finished_on)


def download_failed(session, device_id, arguments, fault_string, now=None):
    """A Download that failed: the device's fault, no answer or no transfer report in time
    (commands.expire_commands), or a push the device never came for (its expiry). Its file
    type's alarm: "Update configuration failure" or "Upgrade firmware failure". Each caller
    runs it once per command, in the transaction that fails the command."""
    try:
        file_type = json.loads(arguments or "{}").get("file_type")
    except (TypeError, ValueError, AttributeError):
        return None
    code = FAILED_DOWNLOADS.get(file_type)
    if code is None:
        return None
    enterprise_id = session.execute(select(Device.enterprise_id)
                                    .where(Device.id == device_id)).scalar()
    if enterprise_id is None:
        return None
    return raise_alarm(session, device_id, enterprise_id, code, fault_string or "",
                       now or utcnow())


def devices_going_offline(session, device_ids, now=None):
    """Devices the sweep has just marked offline (in this transaction: their rows stay locked
    until it commits): each gets (or counts on) a "Device offline"."""
    now = now or utcnow()
    rows = session.execute(select(Device.id, Device.enterprise_id, Device.periodic_interval)
                           .where(Device.id.in_(device_ids), Device.online.is_(False),
                                  Device.offline_after.is_(None),
                                  Device.enterprise_id.is_not(None))).all()
    types = alarm_types(session)
    for r in rows:
        raise_alarm(session, r.id, r.enterprise_id, "device_offline",
                    f"No Inform for two periodic intervals ({2 * r.periodic_interval} s).",
                    now, types=types)
    return len(rows)


# An Inform this close to the device's deadline may meet the sweep marking it offline.
OFFLINE_MARGIN = datetime.timedelta(seconds=60)


def device_back_online(conn, row, device_id, now=None):
    """An Inform of a device that was offline clears its open "Device offline" (by the
    system). Runs after the Inform's UPDATE of the device row: a sweep marking the device
    offline at this moment holds that row until it commits its alarm, so the UPDATE here
    then sees the alarm. Only tried when the row read before said offline, or close to its
    deadline (a periodic Inform costs no statement more)."""
    if row is None:
        return False
    now = now or utcnow()
    due = row.offline_after is not None and row.offline_after < now + OFFLINE_MARGIN
    if row.online and not due:
        return False
    info = alarm_types(conn).get("device_offline")
    if info is None:
        return False
    # rules.clear_open_alarm's statement, built once (every overdue device's Inform runs it)
    return CLEAR_OPEN.execute(conn, {"key": open_key(device_id, info.id), "now": now,
                                     "by": SYSTEM}) > 0


CLEAR_OPEN = Prepared(
    update(Alarm).where(Alarm.open_key == bindparam("key"), Alarm.status != AlarmStatus.cleared)
    .values(status=AlarmStatus.cleared, open_key=None, cleared_on=bindparam("now"),
            cleared_by=bindparam("by")))
