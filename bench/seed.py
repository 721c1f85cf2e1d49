"""Seed a benchmark database fast: a channel tree, 10,000 enterprises, 1,000,000 devices.

The tree and the accounts go through the app (tenants.create_channel, sm.add_user) so their
closure rows and password hashes are what the app writes; the bulk rows bypass the ORM with
``INSERT ... SELECT`` from MariaDB's sequence engine (``seq_1_to_N``) in big batches.

Shape (every channel also owns its generated same-name enterprise):

    bench-root            <- the channel admin logs in here (channel_master)
      9 level-1 channels, each with 10 level-2 channels       (100 channels in scope)
    bench-other           <- a sibling tree, out of the admin's scope
      9 children                                              (10 channels)

Bulk enterprises are spread round-robin over all 110 channels (so ~9% are out of scope);
1 in 20 rejected the channel's authorization (their devices are hidden), 1 in 20 is RPS with
authorization pending (visible). Devices are spread round-robin over all enterprises, so the
newest devices interleave in-scope and out-of-scope rows as real registrations would.
"""

import time

from common import log_since  # noqa: E402  (bench/common.py)
from sqlalchemy import text

ENTERPRISES = 10_000
DEVICES = 1_000_000
DEVICE_BATCH = 100_000
ADMIN_EMAIL = "bench-admin@bench.test"
ADMIN_PASSWORD = "Bench-pass-2026"
ROOT_NAME = "bench-root"
OTHER_NAME = "bench-other"


def database_is_seeded(conn):
    """True when a previous run finished seeding (the admin is written last)."""
    tables = {r[0] for r in conn.execute(text("SHOW TABLES"))}
    if not {"ab_user", "device", "enterprise"} <= tables:
        return False
    admin = conn.execute(text("SELECT channel_id FROM ab_user WHERE username = :u"),
                         {"u": ADMIN_EMAIL}).first()
    if admin is None:
        return False
    devices = conn.execute(text("SELECT COUNT(*) FROM device")).scalar()
    enterprises = conn.execute(text("SELECT COUNT(*) FROM enterprise")).scalar()
    return devices >= DEVICES and enterprises >= ENTERPRISES


def seed(app):
    """Seed into the (migrated, role-synced, empty) database of ``app``."""
    from app.accounts import roles
    from app.extensions import db
    from app.models import AccountKind
    from app.tenancy import rules as tenants

    started = time.monotonic()
    session = db.session

    # 1. The channel tree through the app (closure rows written by the insert hook).
    root = tenants.create_channel(session, ROOT_NAME, can_add_subchannel=True,
                                  contact="Bench NOC", email="noc@bench.test", country="US")
    other = tenants.create_channel(session, OTHER_NAME, can_add_subchannel=True)
    session.flush()
    for i in range(9):
        l1 = tenants.create_channel(session, f"bench-L1-{i}", parent=root,
                                    can_add_subchannel=True)
        session.flush()
        for j in range(10):
            tenants.create_channel(session, f"bench-L2-{i}-{j}", parent=l1)
        tenants.create_channel(session, f"bench-other-{i}", parent=other)
        session.flush()
    session.commit()
    log_since("channel tree: 110 channels (+ their own enterprises)", started)

    # One dedicated connection for the bulk part: its temporary tables must stay visible.
    with db.engine.connect() as conn:
        _bulk(conn, started)

    # 4. The channel admin, last: its presence marks a finished seed.
    sm = app.appbuilder.sm
    user = sm.add_user(username=ADMIN_EMAIL, first_name="Bench", last_name="Admin",
                       email=ADMIN_EMAIL, role=sm.find_role(roles.CHANNEL_ADMIN),
                       password=ADMIN_PASSWORD)
    assert user, "could not create the bench admin"
    user.kind = AccountKind.channel_master
    user.channel_id = root.id
    session.commit()
    log_since(f"channel admin {ADMIN_EMAIL} on channel {root.id}", started)


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
    conn.execute(text(f"""
        INSERT INTO enterprise (name, channel_id, permission_type, has_master_admin, email,
                                country, contact, phone, address, status, `authorization`,
                                is_channel_own, created_on)
        SELECT CONCAT('Enterprise ', s.seq), m.id,
               IF(s.seq % 20 = 1, 'rps', 'device_management'), 1,
               CONCAT('it', s.seq, '@ent.bench.test'), 'US', CONCAT('Contact ', s.seq),
               '+1555000000', 'Main Street 1', 'active',
               CASE s.seq % 20 WHEN 0 THEN 'rejected' WHEN 1 THEN 'pending'
                    ELSE 'accepted' END,
               0, NOW() - INTERVAL (100000 - s.seq) MINUTE
        FROM seq_1_to_{to_add} s
        JOIN bench_channel_map m ON m.n = s.seq % {n_channels}
    """))
    conn.commit()
    log_since(f"enterprises: {to_add} bulk + {have} channel-own = {ENTERPRISES}", started)

    # 3. Devices, round-robin over every enterprise, in batches of DEVICE_BATCH rows.
    conn.execute(text("DROP TEMPORARY TABLE IF EXISTS bench_enterprise_map"))
    conn.execute(text(
        "CREATE TEMPORARY TABLE bench_enterprise_map (n INT PRIMARY KEY, id INT NOT NULL) "
        "SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id FROM enterprise"))
    n_ent = conn.execute(text("SELECT COUNT(*) FROM bench_enterprise_map")).scalar()
    for lo in range(1, DEVICES + 1, DEVICE_BATCH):
        hi = min(lo + DEVICE_BATCH - 1, DEVICES)
        conn.execute(text(f"""
            INSERT INTO device (mac, model, firmware, ip, enterprise_id, online, last_seen,
                                created_on)
            SELECT CONCAT('805ec0', LPAD(LOWER(HEX(s.seq)), 6, '0')),
                   ELT(1 + s.seq % 5, 'SIP-T54W', 'SIP-T46U', 'SIP-T33G', 'W70B', 'CP965'),
                   CONCAT('96.86.0.', s.seq % 100),
                   CONCAT('10.', (s.seq >> 16) & 255, '.', (s.seq >> 8) & 255, '.',
                          s.seq & 255),
                   m.id, s.seq % 3 <> 0,
                   NOW() - INTERVAL (s.seq % 100000) SECOND,
                   NOW() - INTERVAL ({DEVICES} - s.seq) SECOND
            FROM seq_{lo}_to_{hi} s
            JOIN bench_enterprise_map m ON m.n = s.seq % {n_ent}
        """))
        conn.commit()
        log_since(f"devices: {hi:,}", started)
    conn.execute(text("ANALYZE TABLE channel, channel_closure, enterprise, device"))
    conn.commit()
    log_since("analyzed", started)


def root_channel_id(conn):
    return conn.execute(text("SELECT id FROM channel WHERE name = :n"),
                        {"n": ROOT_NAME}).scalar_one()
