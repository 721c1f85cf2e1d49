"""What an Inform does to the device table: who the device is, whether it may connect, which
enterprise it binds to, its identity, online state and CPU/memory samples; and the sweeps that
mark silent devices offline and prune old samples.

The per-Inform statements are built once and run on an autocommit connection: a periodic
Inform costs one SELECT, one UPDATE and (with metrics) one INSERT.
"""

import contextlib
import datetime
import os

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.device_ops import auth, capabilities, fault_events
from app.device_ops.fastsql import Prepared
from app.device_ops.identity import BY_ID
from app.models import (
    Device,
    DeviceCommand,
    DeviceSample,
    Enterprise,
    InvalidMac,
    PermissionType,
    Status,
    normalize_mac,
    utcnow,
)
from app.orders.rules import check_device_quota
from app.tenancy.rps import MAC_REFUSED  # one wording for a MAC that cannot be used, wherever typed
from app.tenancy.rules import TenantError

ENTERPRISE = select(Enterprise.status, Enterprise.permission_type, Enterprise.acs_password).where(
    Enterprise.id == bindparam("eid"))
TOUCH = (
    update(Device).where(Device.id == bindparam("did")).values(
        model=bindparam("model"), firmware=bindparam("firmware"), ip=bindparam("ip"),
        manufacturer=bindparam("manufacturer"), oui=bindparam("oui"),
        product_class=bindparam("product_class"), serial=bindparam("serial"),
        data_model=bindparam("data_model"), cr_url=bindparam("cr_url"), online=True,
        remote_ip=bindparam("remote_ip"),
        last_seen=bindparam("now"), offline_after=bindparam("offline_after"),
        periodic_interval=bindparam("interval"),
        # a CPU/memory read sent in this session counts until its answer resets it
        metrics_unanswered=bindparam("unanswered"),
        # an Inform without them keeps the latest values
        cpu_usage=func.coalesce(bindparam("cpu"), Device.cpu_usage),
        memory_total=func.coalesce(bindparam("mem_total"), Device.memory_total),
        memory_free=func.coalesce(bindparam("mem_free"), Device.memory_free))
)
SAMPLE = insert(DeviceSample).values(
    device_id=bindparam("did"), taken_on=bindparam("now"), cpu_usage=bindparam("cpu"),
    memory_total=bindparam("mem_total"), memory_free=bindparam("mem_free"))

RUN_TOUCH, RUN_SAMPLE = Prepared(TOUCH), Prepared(SAMPLE)  # the hot path's, on the cursor


class Refused(Exception):
    """The device may not connect: ``status`` 401 (who are you?) or 403 (not allowed)."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def metric_names(root):
    return (f"{root}.DeviceInfo.ProcessStatus.CPUUsage",
            f"{root}.DeviceInfo.MemoryStatus.Total", f"{root}.DeviceInfo.MemoryStatus.Free")


def data_model_of(params):
    for name in params:
        root = name.partition(".")[0]
        if root in ("Device", "InternetGatewayDevice"):
            return root
    return "Device"


def _first(params, suffixes):
    for suffix in suffixes:
        for name, value in params.items():
            if name.endswith(suffix) and value:
                return value
    return ""


def _int(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**62 else None


def _usable(status, permission_type):
    return status == Status.active and permission_type == PermissionType.device_management


def authenticate(conn, row, authorization, secret_key):
    """Who may open this session of the device ``row`` (identity.find's row, None for a
    device never seen): (row, enterprise id, first contact), or Refused. Nothing is written.

    Credentials come first, whatever the MAC: the enterprise's (``ent<id>``) or the device's
    own (``dev<id>``, good for that device only). Without any, the only device let in is one
    pre-registered by MAC that has never connected (``first contact``): the caller
    claims that one session with ``claim_first_contact`` and provisions the device's own
    credentials in it. Anything else is a 401 challenge.
    """
    bound = row is not None and row.enterprise_id is not None

    def password_of(username):
        did = auth.device_id_of_username(username)
        if did is not None:
            return (row.device_password or None) if bound and row.id == did else None
        eid = auth.enterprise_id_of_username(username)
        if eid is None:
            return None
        if bound and row.enterprise_id == eid:
            return row.acs_password or None  # its own enterprise: frozen is a 403 below
        ent = conn.execute(ENTERPRISE, {"eid": eid}).first()
        if ent is None or not _usable(ent.status, ent.permission_type):
            return None
        return ent.acs_password or None

    proven = None
    if authorization:
        username = auth.check_authorization(authorization, "POST", secret_key, password_of)
        if auth.device_id_of_username(username) is not None:
            proven = row.enterprise_id
        elif username:
            proven = auth.enterprise_id_of_username(username)
    if proven is None:
        # wrong credentials are wrong even where none would have done
        if (not authorization and bound and row.device_password is None
                and _usable(row.status, row.permission_type)):
            return row, row.enterprise_id, True
        raise Refused(401, "valid ACS credentials required")
    if bound:
        if proven != row.enterprise_id:
            raise Refused(403, "the device belongs to another enterprise")
        if not _usable(row.status, row.permission_type):
            raise Refused(403, "the device's enterprise is frozen or holds no managed devices")
    return row, proven, False


def credentials_valid(conn, authorization, secret_key):
    """Whether the header proves any device's or enterprise's ACS credentials (for requests
    that name no device: a malformed body, an Inform without identity). Nothing is written."""

    def password_of(username):
        did = auth.device_id_of_username(username)
        if did is not None:
            row = conn.execute(BY_ID, {"did": did}).first()
            usable = row is not None and row.enterprise_id is not None and _usable(
                row.status, row.permission_type)
            return (row.device_password or None) if usable else None
        eid = auth.enterprise_id_of_username(username)
        ent = conn.execute(ENTERPRISE, {"eid": eid}).first() if eid is not None else None
        if ent is None or not _usable(ent.status, ent.permission_type):
            return None
        return ent.acs_password or None

    if not authorization:
        return False
    try:
        return bool(auth.check_authorization(authorization, "POST", secret_key, password_of))
    except (TypeError, ValueError):
        return False


CLAIM = (update(Device).where(Device.id == bindparam("did"), Device.acs_password.is_(None))
         .values(acs_password=bindparam("password")))


def claim_first_contact(conn, device_id):
    """Take the one credential-less session a pre-registered device gets: the device's own
    ACS password, or None when another request took it first (one UPDATE decides)."""
    password = auth.new_secret()
    if conn.execute(CLAIM, {"did": device_id, "password": password}).rowcount != 1:
        return None
    return password


def lock_enterprise(session, enterprise_id):
    """Hold the enterprise's row until the transaction ends, so two devices binding at once
    cannot both take its last place: the second waits here, then counts the first.

    An UPDATE that changes nothing: a row lock on MariaDB, and on SQLite the database's write
    lock (its driver begins a transaction only at a write, and ignores SELECT ... FOR UPDATE:
    every binding counted the same devices, and all of them bound)."""
    session.execute(update(Enterprise).where(Enterprise.id == enterprise_id)
                    .values(name=Enterprise.name)
                    .execution_options(synchronize_session=False))


def _device_by_identity(session, mac, key):
    device = None
    if mac:
        device = session.execute(select(Device).where(Device.mac == mac)).scalar_one_or_none()
    if device is None and key:
        device = session.execute(select(Device).where(Device.cpe_key == key)).scalar_one_or_none()
    return device


def bind_device(session, mac, key, enterprise_id):
    """Create (or adopt an unbound) device for the enterprise, within its device quota; by
    MAC, or by DeviceId key (identity.py) when the device tells no MAC. Returns the device id;
    QuotaExceeded when the enterprise has no room."""
    lock_enterprise(session, enterprise_id)
    enterprise = session.execute(
        select(Enterprise).where(Enterprise.id == enterprise_id)).scalar_one()
    device = _device_by_identity(session, mac, key)
    if device is not None and device.enterprise_id not in (None, enterprise_id):
        raise Refused(403, "the device belongs to another enterprise")
    if device is None or device.enterprise_id is None:
        check_device_quota(session, enterprise)
        if device is None:
            if mac and key and session.execute(
                    select(Device.id).where(Device.cpe_key == key)).first() is not None:
                key = None  # a DeviceId another device holds (a default serial): the MAC rules
            device = Device(mac=mac, cpe_key=key)
            session.add(device)
        device.enterprise_id = enterprise_id
    if device.acs_password is None:
        device.acs_password = ""  # it proved the enterprise's credentials: no free session
    try:
        session.commit()
    except IntegrityError:  # the same new device informed twice at once: the other won
        session.rollback()
        device = _device_by_identity(session, mac, key)
        if device is None or device.enterprise_id != enterprise_id:
            raise Refused(403, "the device belongs to another enterprise") from None
    return device.id


# --- pre-registration by people -----------------------------------------------------------------


def _N(message):
    return message


class DeviceError(TenantError):
    """A device rule refused the change; ``template`` % ``params`` is the message."""


NOT_MANAGED = _N("%(name)s is not a device management enterprise.")
NO_ENTERPRISE = _N("Choose the enterprise the device belongs to.")


def preregister_device(session, enterprise, mac):
    """Bind a MAC to the enterprise before the device ever connects (its first session may
    then come without credentials, once), within the enterprise's device quota. The caller
    commits."""
    try:
        mac = normalize_mac(mac)
    except InvalidMac:
        raise DeviceError(MAC_REFUSED) from None
    if enterprise.permission_type != PermissionType.device_management:
        raise DeviceError(NOT_MANAGED, name=enterprise.name)
    # The enterprise row is the lock: two registrations cannot both take its last place.
    lock_enterprise(session, enterprise.id)
    # The quota first, so a full enterprise learns nothing of other MACs; then a MAC taken
    # anywhere reads like a malformed one: the answer tells nobody what another tree holds.
    check_device_quota(session, enterprise)
    if session.execute(select(Device.id).where(Device.mac == mac)).first() is not None:
        raise DeviceError(MAC_REFUSED)
    device = Device(mac=mac, enterprise_id=enterprise.id)
    session.add(device)
    session.flush()
    # Again, this device included, with a locking read: the caller's transaction (a request
    # that loaded its user and the enterprise) may have begun before a registration it
    # waited for above was committed, and on MariaDB a plain count would not see that one.
    # After the insert, as place_order counts: a locking read first, then an insert, let two
    # enterprises' registrations deadlock on the index gap between them.
    check_device_quota(session, enterprise, adding=0, locking=True)
    return device


def remove_device(session, device_id):
    """Forget a device with its commands and samples (it frees its place in the quota; if it
    connects again it must present the enterprise's credentials). The caller commits, then
    deletes the returned uploaded files (relative to the file store)."""
    files = session.execute(select(DeviceCommand.file_name).where(
        DeviceCommand.device_id == device_id, DeviceCommand.file_name.is_not(None))
    ).scalars().all()
    for model in (DeviceSample, DeviceCommand):
        session.execute(delete(model).where(model.device_id == device_id))
    session.execute(delete(Device).where(Device.id == device_id))
    return files


def delete_stored_files(store_dir, names):
    """Delete files of the store by their relative names; never outside the store, and a
    file already gone is no error."""
    root = os.path.realpath(store_dir)
    for name in names:
        path = os.path.realpath(os.path.join(root, name))
        if path.startswith(root + os.sep):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def record_inform(conn, row, device_id, inform, remote_ip, now=None):
    """Write what the Inform says; returns (data model root, the CPU/memory names to read in
    this session because the Inform did not carry them: [] for none)."""
    now = now or utcnow()
    params = inform.params
    root = data_model_of(params)
    cpu_name, total_name, free_name = metric_names(root)
    interval = _int(params.get(f"{root}.ManagementServer.PeriodicInformInterval")) or (
        row.periodic_interval if row is not None else 900) or 900
    cpu, total, free = _int(params.get(cpu_name)), _int(params.get(total_name)), _int(
        params.get(free_name))
    known_total = total if total is not None else (row.memory_total if row is not None else None)
    has_metrics = cpu is not None or free is not None
    periodic = bool(inform.event_codes & {"1 BOOT", "2 PERIODIC", "0 BOOTSTRAP"})
    unanswered = row.metrics_unanswered if row is not None else 0
    if inform.event_codes & {"1 BOOT", "0 BOOTSTRAP"}:
        unanswered = 0  # new firmware may have them: ask again
    read = []
    if periodic and (not has_metrics or known_total is None) and not (
            capabilities.metrics_given_up(unanswered)):
        missing = capabilities.missing_of(row.missing_parameters if row is not None else None)
        read = capabilities.wanted(metric_names(root), missing)
    values = {
        "did": device_id, "model": inform.product_class[:64],
        "firmware": _first(params, (".SoftwareVersion",))[:64],
        "ip": (_first(params, (".IPAddress", ".ExternalIPAddress", ".IPInterfaceIPAddress"))
               or remote_ip or "")[:45],
        "manufacturer": inform.manufacturer, "oui": inform.oui,
        "product_class": inform.product_class, "serial": inform.serial, "data_model": root,
        "cr_url": (_first(params, (".ConnectionRequestURL",)) or None),
        "remote_ip": (remote_ip or None) and remote_ip[:45],
        "now": now, "offline_after": now + datetime.timedelta(seconds=2 * interval),
        "interval": interval, "unanswered": unanswered + (1 if read else 0),
        "cpu": cpu, "mem_total": known_total, "mem_free": free,
    }
    if values["cr_url"] and len(values["cr_url"]) > 512:
        values["cr_url"] = None
    RUN_TOUCH.execute(conn, values)
    if has_metrics:
        RUN_SAMPLE.execute(conn, {"did": device_id, "now": now, "cpu": cpu,
                                  "mem_total": known_total, "mem_free": free})
    return root, read


def record_metrics(conn, device_id, values, root, now=None):
    """A GetParameterValues answer to the session's own CPU/memory read (the answer came:
    the unanswered count starts over)."""
    now = now or utcnow()
    cpu_name, total_name, free_name = metric_names(root)
    cpu, total, free = (_int(values.get(cpu_name)), _int(values.get(total_name)),
                        _int(values.get(free_name)))
    if cpu is None and free is None:
        conn.execute(update(Device).where(Device.id == device_id).values(metrics_unanswered=0))
        return False
    conn.execute(update(Device).where(Device.id == device_id).values(
        cpu_usage=cpu, memory_total=func.coalesce(total, Device.memory_total),
        memory_free=free, metrics_unanswered=0))
    conn.execute(SAMPLE, {"did": device_id, "now": now, "cpu": cpu, "mem_total": total,
                          "mem_free": free})
    return True


# --- sweeps (scheduler jobs) ------------------------------------------------------------------

BATCH = 1000


def mark_silent_devices_offline(session, now=None):
    """Online devices that missed two periodic Informs become offline. Returns how many."""
    now = now or utcnow()
    total = 0
    while True:
        ids = session.execute(select(Device.id).where(Device.offline_after < now)
                              .order_by(Device.offline_after).limit(BATCH)).scalars().all()
        if not ids:
            return total
        # The UPDATE first: it holds the rows until the alarms are committed with it, so an
        # Inform arriving meanwhile waits, then clears what it finds (device_back_online).
        total += session.execute(
            update(Device).where(Device.id.in_(ids), Device.offline_after < now)
            .values(online=False, offline_after=None)
            .execution_options(synchronize_session=False)).rowcount
        fault_events.devices_going_offline(session, ids, now)  # each raises "Device offline"
        session.commit()


def prune_samples(session, days, now=None):
    cutoff = (now or utcnow()) - datetime.timedelta(days=days)
    total = 0
    while True:
        ids = session.execute(select(DeviceSample.id).where(DeviceSample.taken_on < cutoff)
                              .limit(BATCH)).scalars().all()
        if not ids:
            return total
        total += session.execute(delete(DeviceSample).where(DeviceSample.id.in_(ids))).rowcount
        session.commit()


def prune_uploaded_files(session, store_dir, days, now=None):
    """Uploaded files of commands finished more than ``days`` ago are deleted; the command
    keeps its history without the file. Returns how many."""
    cutoff = (now or utcnow()) - datetime.timedelta(days=days)
    total = 0
    while True:
        rows = session.execute(
            select(DeviceCommand.id, DeviceCommand.file_name)
            .where(DeviceCommand.file_name.is_not(None), DeviceCommand.finished_on < cutoff)
            .limit(BATCH)).all()
        if not rows:
            return total
        session.execute(update(DeviceCommand).where(DeviceCommand.id.in_([r.id for r in rows]))
                        .values(file_name=None).execution_options(synchronize_session=False))
        session.commit()
        delete_stored_files(store_dir, [r.file_name for r in rows])
        total += len(rows)
