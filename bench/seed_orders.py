"""Seed the order-list benchmark database fast: a channel tree, 10,000 enterprises, the three
packages and 1,000,000 orders (bench/bench_order_list.py calls it; not a test).

The tree, the packages and the accounts go through the app (tenants.create_channel,
sm.add_user) so their closure rows and password hashes are what the app writes; enterprises
and orders bypass the ORM with ``INSERT ... SELECT`` from MariaDB's sequence engine
(``seq_1_to_N``) in batches.

Shape (every channel also owns its generated same-name enterprise):

    bench-root                <- BIG_ADMIN (channel_master): 100 channels, ~91% of the orders
      9 level-1 channels, each with 10 level-2 channels
        bench-L2-4-4          <- SMALL_ADMIN (channel_master, a leaf): ~0.9% of the orders
    bench-other               <- a sibling tree, out of both channel admins' scope
      9 children
    PLATFORM_ADMIN (platform) sees everything.

Enterprises are spread round-robin over the 110 channels and named "<word> <kind> <n>"
(40 words x 12 kinds), so a prefix search can match a tenth of the enterprises ("Nimbus"),
a few ("Nimbus Hotel") or one ("Nimbus Hotel 1234"). Orders are spread round-robin over the
enterprises, placed by the enterprise's channel, one every ~158 s over the last five years (so
ids grow with the order time, as they do in production), effective 0-30 days after being
placed, for 1-36 months, of one of the three packages, sold by one of 2,000 resellers
("<word> <Telecom|Systems|Networks|Solutions> <n>", ~500 orders each). Status follows the
dates as the sweep would set them; 1 in 37 was cancelled instead.
"""

import time

from common import log_since  # noqa: E402  (bench/common.py)
from sqlalchemy import text

ENTERPRISES = 10_000
ORDERS = 1_000_000
ORDER_BATCH = 100_000
SECONDS_BETWEEN_ORDERS = 158  # 1M orders over ~5 years
RESELLERS = 2_000

PASSWORD = "Bench-pass-2026"
PLATFORM_ADMIN = "bench-platform@bench.test"
BIG_ADMIN = "bench-big@bench.test"
SMALL_ADMIN = "bench-small@bench.test"  # written last: its presence marks a finished seed
ROOT_NAME = "bench-root"
OTHER_NAME = "bench-other"
SMALL_NAME = "bench-L2-4-4"

# (name, devices per unit, months): the three packages of the demo data.
PACKAGES = [("Basic", 20, 12), ("Business", 100, 12), ("Enterprise", 500, 24)]

NAME_WORDS = [
    "Acme", "Apex", "Aurora", "Beacon", "Blue", "Cedar", "Cobalt", "Crown", "Delta", "Echo",
    "Falcon", "Granite", "Harbor", "Horizon", "Iris", "Jade", "Keystone", "Lotus", "Maple",
    "Meridian", "Nimbus", "Nova", "Oak", "Orion", "Pacific", "Pine", "Quantum", "Raven",
    "Redwood", "Sierra", "Silver", "Summit", "Sun", "Titan", "Union", "Vertex", "Vista",
    "Willow", "Zenith", "Zephyr",
]
NAME_KINDS = ["Hotel", "Bank", "Logistics", "Clinic", "Trading", "Foods", "Motors", "Labs",
              "Retail", "Media", "Energy", "Airlines"]
RESELLER_WORDS = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware",
                  "Adatum", "Proseware", "Lucerne", "Margie", "Relecloud", "Trey", "Woodgrove",
                  "Coho", "Alpine", "Fourth", "Humongous", "Southridge", "Wide", "Blue Yonder"]
RESELLER_KINDS = ["Telecom", "Systems", "Networks", "Solutions"]
DURATIONS = [12, 12, 12, 24, 24, 36, 1, 3, 6, 12, 12, 24, 6]


def _sql_list(values):
    return ", ".join(f"'{v}'" for v in values)


def database_is_seeded(conn):
    """True when a previous run finished seeding (the small channel's admin is written last)."""
    tables = {r[0] for r in conn.execute(text("SHOW TABLES"))}
    if not {"ab_user", "service_order", "enterprise"} <= tables:
        return False
    if conn.execute(text("SELECT id FROM ab_user WHERE username = :u"),
                    {"u": SMALL_ADMIN}).first() is None:
        return False
    orders = conn.execute(text("SELECT COUNT(*) FROM service_order")).scalar()
    enterprises = conn.execute(text("SELECT COUNT(*) FROM enterprise")).scalar()
    return orders >= ORDERS and enterprises >= ENTERPRISES


def has_tables(conn, schema):
    """Whether anything was written into ``schema`` (a partial seed when not seeded)."""
    return bool(conn.execute(text(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = :s "
        "AND table_name = 'channel'"), {"s": schema}).scalar()) and bool(
        conn.execute(text("SELECT COUNT(*) FROM channel")).scalar())


def seed(app):
    """Seed into the (migrated, role-synced, empty) database of ``app``."""
    from app.accounts import roles
    from app.extensions import db
    from app.models import AccountKind, Package
    from app.tenancy import rules as tenants

    started = time.monotonic()
    session = db.session

    # 1. The channel tree through the app (closure rows written by the insert hook).
    root = tenants.create_channel(session, ROOT_NAME, can_add_subchannel=True,
                                  contact="Bench NOC", email="noc@bench.test", country="US")
    other = tenants.create_channel(session, OTHER_NAME, can_add_subchannel=True)
    session.flush()
    small = None
    for i in range(9):
        l1 = tenants.create_channel(session, f"bench-L1-{i}", parent=root,
                                    can_add_subchannel=True)
        session.flush()
        for j in range(10):
            channel = tenants.create_channel(session, f"bench-L2-{i}-{j}", parent=l1)
            if channel.name == SMALL_NAME:
                small = channel
        tenants.create_channel(session, f"bench-other-{i}", parent=other)
        session.flush()
    for name, devices, months in PACKAGES:
        session.add(Package(name=name, max_devices=devices, duration_months=months))
    session.commit()
    log_since("channel tree: 110 channels (+ their own enterprises), 3 packages", started)

    # One dedicated connection for the bulk part: its temporary tables must stay visible.
    with db.engine.connect() as conn:
        _bulk(conn, started)

    # 4. The accounts; the small channel's admin last: its presence marks a finished seed.
    sm = app.appbuilder.sm
    for username, role, kind, channel in (
            (PLATFORM_ADMIN, roles.ADMIN, AccountKind.platform, None),
            (BIG_ADMIN, roles.CHANNEL_ADMIN, AccountKind.channel_master, root),
            (SMALL_ADMIN, roles.CHANNEL_ADMIN, AccountKind.channel_master, small)):
        user = sm.add_user(username=username, first_name="Bench", last_name=kind.value,
                           email=username, role=sm.find_role(role), password=PASSWORD)
        assert user, f"could not create {username}"
        user.kind = kind
        user.channel_id = channel.id if channel is not None else None
        session.commit()
    log_since("accounts: platform admin, big and small channel admins", started)


def _bulk(conn, started):
    conn.execute(text("SET SESSION unique_checks = 0, foreign_key_checks = 0"))

    # 2. Enterprises: INSERT ... SELECT over a numbered map of the channels.
    conn.execute(text("DROP TEMPORARY TABLE IF EXISTS bench_channel_map"))
    conn.execute(text(
        "CREATE TEMPORARY TABLE bench_channel_map (n INT PRIMARY KEY, id INT NOT NULL) "
        "SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id FROM channel"))
    n_channels = conn.execute(text("SELECT COUNT(*) FROM bench_channel_map")).scalar()
    have = conn.execute(text("SELECT COUNT(*) FROM enterprise")).scalar()
    to_add = ENTERPRISES - have
    words, kinds = len(NAME_WORDS), len(NAME_KINDS)
    conn.execute(text(f"""
        INSERT INTO enterprise (name, channel_id, permission_type, has_master_admin, email,
                                country, contact, phone, address, status, `authorization`,
                                is_channel_own, created_on)
        SELECT CONCAT(ELT(1 + s.seq % {words}, {_sql_list(NAME_WORDS)}), ' ',
                      ELT(1 + (s.seq DIV {words}) % {kinds}, {_sql_list(NAME_KINDS)}), ' ',
                      s.seq),
               m.id, IF(s.seq % 20 = 1, 'rps', 'device_management'), 1,
               CONCAT('it', s.seq, '@ent.bench.test'), 'US', CONCAT('Contact ', s.seq),
               '+1555000000', 'Main Street 1', 'active',
               CASE s.seq % 20 WHEN 0 THEN 'rejected' WHEN 1 THEN 'pending'
                    ELSE 'accepted' END,
               0, NOW() - INTERVAL 6 YEAR + INTERVAL s.seq MINUTE
        FROM seq_1_to_{to_add} s
        JOIN bench_channel_map m ON m.n = s.seq % {n_channels}
    """))
    conn.commit()
    log_since(f"enterprises: {to_add} bulk + {have} channel-own = {ENTERPRISES}", started)

    # 3. Orders, round-robin over every enterprise, in batches of ORDER_BATCH rows. The
    # derived table computes the dates once; the outer SELECT derives status from them.
    conn.execute(text("DROP TEMPORARY TABLE IF EXISTS bench_enterprise_map"))
    conn.execute(text(
        "CREATE TEMPORARY TABLE bench_enterprise_map "
        "(n INT PRIMARY KEY, id INT NOT NULL, channel_id INT NOT NULL) "
        "SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id, channel_id FROM enterprise"))
    n_ent = conn.execute(text("SELECT COUNT(*) FROM bench_enterprise_map")).scalar()
    packages = conn.execute(text("SELECT id, name, max_devices FROM package ORDER BY id")).all()
    assert len(packages) == 3, packages
    p_ids = ", ".join(str(p.id) for p in packages)
    p_names = _sql_list(p.name for p in packages)
    p_devices = ", ".join(str(p.max_devices) for p in packages)
    durations = ", ".join(str(d) for d in DURATIONS)
    r_words, r_kinds = len(RESELLER_WORDS), len(RESELLER_KINDS)
    # Each enterprise buys through two resellers (alternating orders); ~500 orders a reseller.
    k = f"((m.n * 7 + (s.seq DIV {n_ent}) % 2) % {RESELLERS})"
    for lo in range(1, ORDERS + 1, ORDER_BATCH):
        hi = min(lo + ORDER_BATCH - 1, ORDERS)
        conn.execute(text(f"""
            INSERT INTO service_order (enterprise_id, channel_id, reseller, order_type,
                                       package_id, package_name, quantity, max_devices,
                                       duration_months, effective_on, expires_on, status,
                                       created_on)
            SELECT x.enterprise_id, x.channel_id, x.reseller, 'paid', x.package_id,
                   x.package_name, x.quantity, x.quantity * x.unit_devices, x.months,
                   x.effective_on, x.effective_on + INTERVAL x.months MONTH,
                   CASE WHEN x.seq % 37 = 0 THEN 'cancelled'
                        WHEN x.effective_on > CURDATE() THEN 'pending'
                        WHEN x.effective_on + INTERVAL x.months MONTH > CURDATE()
                             THEN 'effective'
                        ELSE 'expired' END,
                   x.created_on
            FROM (
                SELECT s.seq, m.id AS enterprise_id, m.channel_id,
                       CONCAT(ELT(1 + {k} % {r_words}, {_sql_list(RESELLER_WORDS)}), ' ',
                              ELT(1 + ({k} DIV {r_words}) % {r_kinds},
                                  {_sql_list(RESELLER_KINDS)}), ' ', {k}) AS reseller,
                       ELT(1 + s.seq % 3, {p_ids}) AS package_id,
                       ELT(1 + s.seq % 3, {p_names}) AS package_name,
                       ELT(1 + s.seq % 3, {p_devices}) AS unit_devices,
                       1 + (s.seq * 7) % 5 AS quantity,
                       ELT(1 + (s.seq * 11) % {len(DURATIONS)}, {durations}) AS months,
                       NOW() - INTERVAL ({ORDERS} - s.seq) * {SECONDS_BETWEEN_ORDERS} SECOND
                           AS created_on,
                       DATE(NOW() - INTERVAL ({ORDERS} - s.seq) * {SECONDS_BETWEEN_ORDERS}
                            SECOND) + INTERVAL (s.seq * 13) % 31 DAY AS effective_on
                FROM seq_{lo}_to_{hi} s
                JOIN bench_enterprise_map m ON m.n = s.seq % {n_ent}
            ) x
        """))
        conn.commit()
        log_since(f"orders: {hi:,}", started)
    conn.execute(text("ANALYZE TABLE channel, channel_closure, enterprise, service_order"))
    conn.commit()
    log_since("analyzed", started)


def channel_id(conn, name):
    return conn.execute(text("SELECT id FROM channel WHERE name = :n"), {"n": name}).scalar_one()
