"""Demo data: a platform admin, a 3-level channel tree plus a sibling tree, enterprises of
both permission types, devices and accounts. Idempotent: running it twice changes nothing."""

import datetime

from flask import current_app
from sqlalchemy import select

from app.accounts import roles
from app.models import (
    Account,
    AccountGrant,
    AccountKind,
    Authorization,
    Channel,
    Device,
    DeviceSample,
    Enterprise,
    Order,
    OrderEvent,
    OrderLimit,
    Package,
    PermissionType,
    RpsDevice,
    utcnow,
)
from app.tenancy import rules as tenants

DEMO_PASSWORD = "Ymcs-demo-2026"

# (email, role, kind, channel name or None, enterprise name or None)
DEMO_ACCOUNTS = [
    ("admin@ymcs.example", roles.ADMIN, AccountKind.platform, None, None),
    ("acme@ymcs.example", roles.CHANNEL_ADMIN, AccountKind.channel_master, "Acme Telecom", None),
    ("finance@acme.example", roles.CHANNEL_FINANCE, AccountKind.channel_sub, "Acme Telecom", None),
    ("beta@ymcs.example", roles.CHANNEL_ADMIN, AccountKind.channel_master, "Beta Networks", None),
    ("gamma@ymcs.example", roles.CHANNEL_ADMIN, AccountKind.channel_master, "Gamma Voice", None),
    ("zenith@ymcs.example", roles.CHANNEL_ADMIN, AccountKind.channel_master, "Zenith ITSP", None),
    ("it@kaixin.example", roles.ENTERPRISE_ADMIN, AccountKind.enterprise, None, "Kaixin Trading"),
    ("ops@redirect.example", roles.RPS_ENTERPRISE_ADMIN, AccountKind.enterprise, None,
     "Redirect Logistics"),
]

# (name, parent name, may add sub-channels)
DEMO_CHANNELS = [
    ("Acme Telecom", None, True),
    ("Beta Networks", "Acme Telecom", True),
    ("Gamma Voice", "Beta Networks", False),
    ("Zenith ITSP", None, True),
]

# (name, channel, permission, authorization, registered email)
DEMO_ENTERPRISES = [
    ("Acme Hotel Group", "Acme Telecom", PermissionType.device_management,
     Authorization.accepted, "it@acmehotels.example"),
    ("Beta Clinics", "Beta Networks", PermissionType.device_management,
     Authorization.rejected, "admin@betaclinics.example"),
    ("Kaixin Trading", "Gamma Voice", PermissionType.device_management,
     Authorization.accepted, "it@kaixin.example"),
    ("Redirect Logistics", "Gamma Voice", PermissionType.rps,
     Authorization.pending, "ops@redirect.example"),
    ("Zenith Bank", "Zenith ITSP", PermissionType.device_management,
     Authorization.accepted, "it@zenithbank.example"),
]

DEVICE_MODELS = ["SIP-T54W", "SIP-T46U", "SIP-T33G", "W70B", "CP965"]

# (MAC, server URL, unique URL, IP) of Redirect Logistics' RPS devices
DEMO_RPS_DEVICES = [
    ("001565fe0001", "https://dm.redirect.example/", "https://dm.redirect.example/p/001565fe0001",
     "203.0.113.21"),
    ("001565fe0002", "https://dm.redirect.example/", None, "203.0.113.22"),
]


# (name, devices per unit, months)
DEMO_PACKAGES = [("Basic", 20, 12), ("Business", 100, 12), ("Enterprise", 500, 24)]

# (enterprise, distributor channel, reseller, package, quantity, months, days from today)
# Effective ones, one not yet effective, one long expired.
DEMO_ORDERS = [
    ("Acme Hotel Group", "Acme Telecom", "Acme Direct", "Business", 1, 12, -30),
    ("Acme Hotel Group", "Acme Telecom", "Acme Direct", "Basic", 2, 12, 14),
    ("Kaixin Trading", "Gamma Voice", "Shenzhen Partner", "Basic", 1, 12, -200),
    ("Kaixin Trading", "Gamma Voice", "Shenzhen Partner", "Basic", 1, 1, -400),
    ("Zenith Bank", "Zenith ITSP", "Zenith Sales", "Enterprise", 1, 24, -10),
]


def _one(session, model, **by):
    return session.execute(select(model).filter_by(**by)).scalar_one_or_none()


def seed_demo(session, devices_per_enterprise=6):
    channels = {}
    for name, parent, may_add in DEMO_CHANNELS:
        channel = _one(session, Channel, name=name)
        if channel is None:
            channel = tenants.create_channel(
                session, name, parent=channels.get(parent), can_add_subchannel=may_add,
                contact=f"{name} NOC", email=f"noc@{name.split()[0].lower()}.example",
                country="US")
            session.flush()
        channels[name] = channel

    enterprises = {}
    for name, channel, permission, authorization, email in DEMO_ENTERPRISES:
        enterprise = _one(session, Enterprise, name=name)
        if enterprise is None:
            enterprise = Enterprise(
                name=name, channel=channels[channel], permission_type=permission,
                authorization=authorization, email=email, has_master_admin=True,
                contact=f"{name} IT", country="US")
            session.add(enterprise)
            session.flush()
        enterprises[name] = enterprise

    now = utcnow()
    # These phones are not simulated: the "online" ones were heard two minutes ago and go
    # offline by the normal rule (two periodic intervals of silence), as a real phone
    # switched off would; the commands queued for them then time out.
    silent_after = datetime.timedelta(
        seconds=2 * current_app.config["DEVICE_PERIODIC_INTERVAL"])
    for index, enterprise in enumerate(enterprises.values()):
        for n in range(devices_per_enterprise):
            mac = f"001565{index:02x}{n:04x}"
            device = _one(session, Device, mac=mac)
            if device is None:
                online = n % 3 != 0
                last_seen = now - datetime.timedelta(minutes=2 if online else 90)
                session.add(Device(
                    mac=mac, model=DEVICE_MODELS[n % len(DEVICE_MODELS)],
                    firmware="96.86.0.70", ip=f"10.{index}.0.{n + 10}",
                    enterprise=enterprise, online=online,
                    # they "have connected": their credential-less first session is spent
                    acs_password="", last_seen=last_seen,
                    offline_after=last_seen + silent_after if online else None))
            elif device.online and device.offline_after is None:
                # seeded by an earlier version that left them online for good
                device.offline_after = (device.last_seen or now) + silent_after

    for mac, server_url, unique_url, ip in DEMO_RPS_DEVICES:
        if _one(session, RpsDevice, mac=mac) is None:
            session.add(RpsDevice(mac=mac, server_url=server_url, unique_url=unique_url, ip=ip,
                                  enterprise=enterprises["Redirect Logistics"]))

    seed_demo_orders(session, enterprises, channels)
    seed_demo_fleet(session, enterprises[DEMO_FLEET_ENTERPRISE],
                    min(current_app.config["DEMO_FLEET_SIZE"], DEMO_FLEET_MAX))

    sm = current_app.appbuilder.sm
    for email, role_name, kind, channel, enterprise in DEMO_ACCOUNTS:
        if _one(session, Account, username=email) is not None:
            continue
        account = sm.add_user(
            username=email, first_name=email.split("@")[0].title(), last_name="Demo",
            email=email, role=sm.find_role(role_name), password=DEMO_PASSWORD)
        account.kind = kind
        account.channel = channels.get(channel)
        if enterprise:
            account.enterprise = enterprises[enterprise]
        if kind == AccountKind.channel_sub:
            # The finance sub-account looks after Beta Networks' subtree only.
            session.add(AccountGrant(account_id=account.id,
                                     channel_id=channels["Beta Networks"].id))
    session.commit()
    return DEMO_ACCOUNTS


# The simulated phones `scripts/run.sh` starts (app/device_ops/demo_fleet.py): pre-registered
# by MAC to this enterprise, with a day of CPU/memory history so their charts are not empty.
DEMO_FLEET_ENTERPRISE = "Acme Hotel Group"
DEMO_FLEET_MAC_PREFIX = "001565"
DEMO_FLEET_START = 0xD00001
DEMO_FLEET_MAX = 50


def demo_fleet_macs(count):
    return [f"{DEMO_FLEET_MAC_PREFIX}{DEMO_FLEET_START + i:06x}" for i in range(count)]


def seed_demo_fleet(session, enterprise, count, hours=24):
    """Pre-register the simulated phones (once) with ``hours`` of quarter-hourly samples.
    More phones than were pre-registered still join: they present the enterprise's ACS
    credentials."""
    import random

    rng = random.Random(2026)
    now = utcnow()
    for index, mac in enumerate(demo_fleet_macs(count)):
        if _one(session, Device, mac=mac) is not None:
            continue
        device = Device(mac=mac, model=DEVICE_MODELS[index % len(DEVICE_MODELS)],
                        enterprise=enterprise, online=False)
        session.add(device)
        session.flush()
        cpu, total, free = rng.randint(5, 30), 262144, rng.randint(90000, 160000)
        for step in range(hours * 4, 0, -1):
            cpu = min(100, max(1, cpu + rng.randint(-6, 6)))
            free = min(total - 20000, max(20000, free + rng.randint(-8000, 8000)))
            session.add(DeviceSample(device_id=device.id, cpu_usage=cpu, memory_total=total,
                                     memory_free=free,
                                     taken_on=now - datetime.timedelta(minutes=15 * step)))


def seed_demo_orders(session, enterprises, channels):
    """Packages, a limit for Zenith ITSP, and orders in every state (once: only when there
    are no orders yet). The sweep would move them along; here they are placed as it would."""
    packages = {}
    for name, devices, months in DEMO_PACKAGES:
        package = _one(session, Package, name=name)
        if package is None:
            package = Package(name=name, max_devices=devices, duration_months=months)
            session.add(package)
        packages[name] = package
    if _one(session, OrderLimit, channel_id=channels["Zenith ITSP"].id) is None:
        session.add(OrderLimit(channel=channels["Zenith ITSP"], max_open_orders=5))
    session.flush()
    if session.execute(select(Order.id).limit(1)).first() is not None:
        return
    from app.orders.rules import expiry_of, sweep_orders, today

    for name, channel, reseller, package, quantity, months, days in DEMO_ORDERS:
        effective_on = today() + datetime.timedelta(days=days)
        order = Order(
            enterprise=enterprises[name], channel=channels[channel], reseller=reseller,
            package=packages[package], package_name=package, quantity=quantity,
            max_devices=packages[package].max_devices * quantity, duration_months=months,
            effective_on=effective_on, expires_on=expiry_of(effective_on, months),
            created_on=utcnow() + datetime.timedelta(days=min(days, 0) - 1))
        session.add(order)
        session.flush()
        session.add(OrderEvent(order_id=order.id, event="placed", by="demo", at=order.created_on))
    session.commit()
    sweep_orders(session, by="demo")
