"""Who a device is, from its Inform: its MAC when it tells one, else its TR-069 DeviceId.

The rule for the MAC (one rule, never "the first MACAddress seen": a gateway also reports its
Wi-Fi radios, WAN links and the hosts on its LAN):

1. the first LAN Ethernet interface's ``MACAddress`` — TR-181
   ``Device.Ethernet.Interface.1.MACAddress``, TR-098
   ``InternetGatewayDevice.LANDevice.1.LANEthernetInterfaceConfig.1.MACAddress``;
2. else the SerialNumber when it is a MAC (Yealink phones use their MAC as serial number);
3. else none: the device is known by ``OUI-ProductClass-SerialNumber`` (the CPE identifier of
   TR-069's DeviceIdStruct) and the ACS reads parameter (1) later in the session; a device
   whose data model has no such parameter stays without a MAC.
"""

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from app.device_ops.fastsql import Prepared
from app.models import Device, DeviceCommand, Enterprise, InvalidMac, normalize_mac

MAC_PARAMETERS = {
    "Device": "Device.Ethernet.Interface.1.MACAddress",
    "InternetGatewayDevice":
        "InternetGatewayDevice.LANDevice.1.LANEthernetInterfaceConfig.1.MACAddress",
}

_COLUMNS = (Device.id, Device.mac, Device.cpe_key, Device.enterprise_id, Device.has_work,
            Device.cr_username, Device.memory_total, Device.periodic_interval,
            Device.missing_parameters, Device.metrics_unanswered, Device.online,
            Device.offline_after,
            Device.acs_password.label("device_password"),
            Enterprise.status, Enterprise.permission_type, Enterprise.acs_password)
BY_MAC = (select(*_COLUMNS).outerjoin(Enterprise, Enterprise.id == Device.enterprise_id)
          .where(Device.mac == bindparam("mac")))
BY_KEY = (select(*_COLUMNS).outerjoin(Enterprise, Enterprise.id == Device.enterprise_id)
          .where(Device.cpe_key == bindparam("key")))
BY_ID = (select(*_COLUMNS).outerjoin(Enterprise, Enterprise.id == Device.enterprise_id)
         .where(Device.id == bindparam("did")))
FIND_BY_MAC, FIND_BY_KEY = Prepared(BY_MAC), Prepared(BY_KEY)  # the hot path's, on the cursor
SET_KEY = (update(Device).where(Device.id == bindparam("did"), Device.cpe_key.is_(None))
           .values(cpe_key=bindparam("key")))


def _mac(value):
    try:
        return normalize_mac(value)
    except InvalidMac:
        return None


def mac_of(inform):
    """The device's MAC by the module's rule, or None."""
    for name in MAC_PARAMETERS.values():
        mac = _mac(inform.params.get(name))
        if mac:
            return mac
    return _mac(inform.serial)


def cpe_key_of(inform):
    """``OUI-ProductClass-SerialNumber`` (``OUI-SerialNumber`` without a product class), or
    None when the DeviceId lacks the OUI or the serial number."""
    oui, serial = inform.oui.strip(), inform.serial.strip()
    if not oui or not serial:
        return None
    product_class = inform.product_class.strip()
    return "-".join(part for part in (oui, product_class, serial) if part)[:160]


def find(conn, mac, key):
    """The device row for this identity (BY_MAC's columns), or None. By MAC first; a device
    known only by its DeviceId is found by that."""
    row = FIND_BY_MAC.first(conn, {"mac": mac}) if mac else None
    if row is None and key:
        row = FIND_BY_KEY.first(conn, {"key": key})
    return row


def remember_key(conn, row, key):
    """Give a device found by MAC its DeviceId key when it has none yet (once). A key that
    another row already holds stays there: the MAC decides who this is."""
    if key and row.cpe_key is None:
        try:
            conn.execute(SET_KEY, {"did": row.id, "key": key})
        except IntegrityError:
            pass


def learn_mac(session, device_id, value):
    """The MAC the ACS read in the session of a device known by DeviceId only. A row of the
    same enterprise pre-registered with that MAC and never connected gives way (it was this
    device); a MAC held by any other device is not taken. Returns the MAC set, or None."""
    mac = _mac(value)
    if mac is None:
        return None
    device = session.get(Device, device_id)
    if device is None or device.mac is not None:
        return None
    other = session.execute(select(Device).where(Device.mac == mac)).scalar_one_or_none()
    if other is not None:
        if (other.enterprise_id != device.enterprise_id or other.last_seen is not None
                or other.cpe_key is not None):
            return None
        session.execute(delete(DeviceCommand).where(DeviceCommand.device_id == other.id))
        session.execute(delete(Device).where(Device.id == other.id))
    device.mac = mac
    try:
        session.commit()
    except IntegrityError:  # taken at the same moment by another session
        session.rollback()
        return None
    return mac
