"""Benchmarks of the alarms (issue 15), on MariaDB; run by hand, not a test.

    .venv/bin/python bench/bench_alarms.py                    # 5,000,000 alarms, all parts
    .venv/bin/python bench/bench_alarms.py --alarms 1000000   # reduced scale
    .venv/bin/python bench/bench_alarms.py --only ingest --seconds 20

Parts:
- ``list``: the alarm list at N alarms (seeded by INSERT ... SELECT from MariaDB's sequence
  engine: 50,000 devices of 500 enterprises under a big channel, 10 devices of one enterprise
  under a small channel, alarms spread over 30 days and every type) for the platform admin,
  the big channel and the small one: first, middle (keyset cursor) and last page, and each
  filter; median latency of 7 requests in process (Flask test client, the whole page with its
  menu and bell) beside a hand-written page (one SQL keyset query of the same 50 rows and
  columns, rendered by a tiny template) in the same run. Target < 150 ms.
- ``bell``: CPU (process time) the bell adds to a page: the same page rendered with and
  without it, 300 times each, alternating; and the bell's own query when its cache is cold.
  Target < 1 ms.
- ``chart``: the alarm page's charts (alarms per day by severity and top types, 30 days) for
  the three principals: the GROUP BY over the alarm table they ran before the daily roll-up
  (the baseline) beside the roll-up's query, same run, same figures checked.
- ``ingest``: alarm events through the ACS with gunicorn (2 sync workers) on 127.0.0.1: two
  load processes post Informs whose ParameterList carries fault events (mostly repeats of
  open alarms, as in life), each answered InformResponse; events/s = answered Informs/s x
  events per Inform, checked against the alarm counts written. Target >= 1,000 events/s.

Results: printed, and bench/results/alarms.json.
"""

import argparse
import base64
import json
import multiprocessing
import os
import re
import secrets
import statistics
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, REPO)
sys.path.insert(0, BENCH_DIR)

from common import cpu_seconds, free_port, start_gunicorn, stop, wait_ready  # noqa: E402

SECRET = secrets.token_hex(32)
SERVER = os.environ.get("YMCS_BENCH_MARIADB", "mysql+mysqldb://root@127.0.0.1:3306")
DB_NAME = "ymcs_bench_alarms"
PASSWORD = "Bench-pass-2026"
BIG_ENTERPRISES, BIG_DEVICES_EACH, SMALL_DEVICES = 500, 100, 10
MAC_PREFIX = "0015b0"
RESULTS = os.path.join(BENCH_DIR, "results")


def settings(url):
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "SCHEDULER_MODE": "off",
            "TRUSTED_HOSTS": ["localhost", "127.0.0.1"], "AUTH_RATE_LIMIT": "100000 per second"}


# --- seeding -----------------------------------------------------------------------------------


def prepare(alarms, reseed):
    import sqlalchemy
    from sqlalchemy import text

    server = sqlalchemy.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    url = f"{SERVER}/{DB_NAME}?charset=utf8mb4"
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {DB_NAME} CHARACTER SET utf8mb4")
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SHOW TABLES"))}
        # The seeded rows (ingestion runs add their own alarms beside them).
        have = conn.execute(text("SELECT COUNT(*) FROM alarm")).scalar() \
            if "alarm" in tables else -1
    # Ingestion runs add a few alarms of their own (a type not yet open on a device).
    seeded = alarms <= have <= alarms + 10_000
    engine.dispose()
    if seeded and not reseed:
        print(f"{DB_NAME} already holds {alarms:,} alarms (--reseed rebuilds it).")
        return url
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.exec_driver_sql(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4")
    server.dispose()
    seed(url, alarms)
    return url


def seed(url, alarms):
    import flask_migrate
    from sqlalchemy import text

    from app import create_app
    from app.accounts import roles
    from app.device_ops import auth
    from app.extensions import db
    from app.models import AccountKind, Enterprise
    from app.tenancy import rules as tenants

    t0 = time.monotonic()
    app = create_app(settings(url))
    with app.app_context():
        flask_migrate.upgrade()
        app.appbuilder.sm.sync_roles()
        s = db.session
        big = tenants.create_channel(s, "bench-big", country="US")
        small = tenants.create_channel(s, "bench-small", country="US")
        s.flush()
        for i in range(BIG_ENTERPRISES):
            s.add(Enterprise(name=f"bench-ent-{i:04d}", channel=big, country="US"))
        small_ent = Enterprise(name="bench-small-ent", channel=small, country="US")
        s.add(small_ent)
        s.flush()
        auth.ensure_acs_password(s, small_ent)
        sm = app.appbuilder.sm
        for email, role, kind, channel in (
                ("admin@bench.test", roles.ADMIN, AccountKind.platform, None),
                ("big@bench.test", roles.CHANNEL_ADMIN, AccountKind.channel_master, big),
                ("small@bench.test", roles.CHANNEL_ADMIN, AccountKind.channel_master, small)):
            user = sm.add_user(username=email, first_name="b", last_name="b", email=email,
                               role=sm.find_role(role), password=PASSWORD)
            user.kind, user.channel = kind, channel
        s.commit()
        first_ent = s.execute(text("SELECT MIN(id) FROM enterprise WHERE name LIKE "
                                   "'bench-ent-%'")).scalar()
        small_id = small_ent.id
        s.remove()
        with db.engine.connect() as conn:
            conn.execute(text("SET SESSION unique_checks = 0, foreign_key_checks = 0"))
            n_big = BIG_ENTERPRISES * BIG_DEVICES_EACH
            conn.execute(text(f"""
                INSERT INTO device (mac, model, firmware, ip, enterprise_id, online, created_on,
                    manufacturer, oui, product_class, serial, data_model, periodic_interval,
                    cr_username, cr_password, has_work, acs_password)
                SELECT CONCAT('{MAC_PREFIX}', LPAD(LOWER(HEX(s.seq)), 6, '0')),
                       ELT(1 + s.seq % 3, 'SIP-T54W', 'CP965', 'T58A'), '96.86.0.90',
                       '10.0.0.1',
                       IF(s.seq <= {n_big}, {first_ent} + (s.seq - 1) DIV {BIG_DEVICES_EACH},
                          {small_id}),
                       1, NOW(), 'Yealink', '001565', 'SIP-T54W', CONCAT('SN', s.seq), 'Device',
                       900, CONCAT('cr', s.seq), 'x', 0, ''
                FROM seq_1_to_{n_big + SMALL_DEVICES} s"""))
            conn.commit()
            first_dev = conn.execute(text("SELECT MIN(id) FROM device")).scalar()
            ndev = n_big + SMALL_DEVICES
            batch = 500_000
            span = 30 * 86400
            for lo in range(1, alarms + 1, batch):
                hi = min(lo + batch - 1, alarms)
                # Spread over 30 days by id; the newest alarm of each device is open.
                conn.execute(text(f"""
                    INSERT INTO alarm (device_id, enterprise_id, type_id, severity, status,
                        open_key, count, first_at, last_at, description)
                    SELECT d.id, d.enterprise_id, t.id, t.severity,
                           IF(s.seq > {alarms} - {ndev}, 'open', 'cleared'),
                           IF(s.seq > {alarms} - {ndev}, CONCAT(d.id, ':', t.id), NULL),
                           1 + s.seq % 5,
                           NOW() - INTERVAL FLOOR(({alarms} - s.seq) * {span} / {alarms}) SECOND,
                           NOW() - INTERVAL FLOOR(({alarms} - s.seq) * {span} / {alarms}) SECOND,
                           'bench alarm'
                    FROM seq_{lo}_to_{hi} s
                    JOIN device d ON d.id = {first_dev} + (s.seq % {ndev})
                    JOIN alarm_type t ON t.id = 1 + (s.seq % 26)"""))
                conn.commit()
                print(f"  {hi:,} alarms", flush=True)
            # The bulk insert bypassed the roll-up the ACS keeps: count it as migration 0017 does.
            conn.execute(text(ROLL_UP))
            conn.commit()
            conn.execute(text("ANALYZE TABLE alarm, alarm_daily, device, enterprise"))
    print(f"Seeded {alarms:,} alarms in {time.monotonic() - t0:.0f} s.")


ROLL_UP = ("INSERT INTO alarm_daily (day, enterprise_id, type_id, severity, count) "
           "SELECT DATE(first_at), enterprise_id, type_id, MIN(severity), COUNT(*) "
           "FROM alarm GROUP BY DATE(first_at), enterprise_id, type_id")


# --- the list ------------------------------------------------------------------------------------


def login(client, email):
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = client.post("/login/", data={"username": email, "password": PASSWORD,
                                     "csrf_token": token})
    assert r.status_code == 302, r.status_code


def timed(fn, n=7):
    fn()  # warm
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


HAND = """<table>{% for r in rows %}<tr><td>{{ r.severity }}</td><td>{{ r.type_id }}</td>
<td>{{ r.mac }}</td><td>{{ r.model }}</td><td>{{ r.name }}</td><td>{{ r.first_at }}</td>
<td>{{ r.last_at }}</td><td>{{ r.count }}</td><td>{{ r.description }}</td></tr>{% endfor %}
</table>"""


def hand_written(app, scope_ids, before=None, big=False):
    """The baseline: one keyset query of the page's 50 rows, rendered by a tiny template."""
    from flask import render_template_string
    from sqlalchemy import text

    from app.extensions import db

    where = [] if scope_ids is None else [f"a.enterprise_id IN ({scope_ids})"]
    if before:
        where.append(f"a.id < {int(before)}")
    sql = ("SELECT " + ("STRAIGHT_JOIN " if big else "")
           + "a.id, a.severity, a.type_id, d.mac, d.model, e.name, a.first_at, a.last_at,"
           " a.count, a.description FROM alarm a LEFT JOIN device d ON d.id = a.device_id "
           "LEFT JOIN enterprise e ON e.id = a.enterprise_id "
           + ("WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.id DESC LIMIT 50")
    with app.test_request_context("/"):
        rows = db.session.execute(text(sql)).all()
        render_template_string(HAND, rows=rows)
        db.session.remove()


def bench_list(url):
    from sqlalchemy import text

    from app import create_app
    from app.core.listing import encode_key
    from app.extensions import db

    app = create_app(settings(url))
    out = {}
    with app.app_context():
        max_id = db.session.execute(text("SELECT MAX(id) FROM alarm")).scalar()
        small_ent = db.session.execute(text(
            "SELECT id FROM enterprise WHERE name = 'bench-small-ent'")).scalar()
        big_ent = db.session.execute(text(
            "SELECT id FROM enterprise WHERE name = 'bench-ent-0250'")).scalar()
        mac = db.session.execute(text(f"SELECT mac FROM device WHERE enterprise_id = {big_ent}"
                                      " LIMIT 1")).scalar()
        day = db.session.execute(text("SELECT DATE(NOW() - INTERVAL 15 DAY)")).scalar()
        scope_of = {
            "admin": None,
            "big": "SELECT e.id FROM enterprise e JOIN channel c ON c.id = e.channel_id "
                   "WHERE c.name = 'bench-big'",
            "small": str(small_ent)}
        scope_of = {k: v if v is None or v.isdigit() else ",".join(
            str(r[0]) for r in db.session.execute(text(v))) for k, v in scope_of.items()}
        db.session.remove()
    cases = [("first page", ""), ("middle page", "?after=" + encode_key([max_id // 2,
                                                                           max_id // 2])),
             ("last page", "?last=1"), ("severity", "?severity=major"),
             ("type", "?type=7"), ("status open", "?status=open"),
             ("enterprise", f"?enterprise={big_ent}"), ("MAC", f"?q={mac}"),
             ("time range", f"?from={day}&to={day}"),
             ("severity + range", f"?severity=critical&from={day}&to={day}")]
    for who in ("admin", "big", "small"):
        client = app.test_client()
        login(client, f"{who}@bench.test")
        for name, query in cases:
            if who == "small" and name == "enterprise":
                query = f"?enterprise={small_ent}"
            def page(q=query, c=client, w=who):
                r = c.get("/alarms/list/" + q)
                assert r.status_code == 200, (w, q, r.status_code)
            ms = timed(page)
            out[f"{who}: {name}"] = round(ms, 1)
            print(f"{who:6} {name:18} {ms:7.1f} ms", flush=True)
        hand = timed(lambda w=who: hand_written(app, scope_of[w], big=w == "big"))
        hand_mid = timed(lambda w=who: hand_written(app, scope_of[w], max_id // 2, w == "big"))
        out[f"{who}: hand-written first"] = round(hand, 1)
        out[f"{who}: hand-written middle"] = round(hand_mid, 1)
        print(f"{who:6} hand-written page   {hand:7.1f} ms (middle {hand_mid:.1f} ms)",
              flush=True)
    return out


# --- the bell ------------------------------------------------------------------------------------


def bench_bell(url):
    from app import create_app
    from app.alarms import queries
    from app.extensions import db

    app = create_app(settings(url))
    client = app.test_client()
    login(client, "big@bench.test")
    page = "/alarmsettings/?q=zzz"  # a small page of ours: the bell is a big part of it
    real = app.jinja_env.globals["alarm_bell"]
    client.get(page)
    with_bell, without = [], []
    for _ in range(300):
        for store, fn in ((with_bell, real), (without, lambda: None)):
            app.jinja_env.globals["alarm_bell"] = fn
            t = time.process_time()
            client.get(page)
            store.append(time.process_time() - t)
    app.jinja_env.globals["alarm_bell"] = real
    added = (statistics.mean(with_bell) - statistics.mean(without)) * 1000
    cold = []
    with app.app_context():
        from app.core import scope
        from app.models import Account

        account = db.session.execute(db.select(Account).where(
            Account.username == "big@bench.test")).scalar()
        principal = scope.principal_of(account)
        for _ in range(20):
            queries._bell_cache.clear()
            t = time.perf_counter()
            queries.bell(db.session, principal)
            cold.append((time.perf_counter() - t) * 1000)
    out = {"bell CPU per page, cached (ms)": round(added, 3),
           "page CPU without bell (ms)": round(statistics.mean(without) * 1000, 2),
           "bell query, cache cold, median (ms)": round(statistics.median(cold), 2)}
    for k, v in out.items():
        print(f"{k}: {v}")
    return out


# --- the charts ---------------------------------------------------------------------------------


def chart_from_alarms(session, principal, days=30):
    """The charts' query before the roll-up (as of 0015): one GROUP BY over 30 days of the
    scope's alarms, read from the covering index ix_alarm_chart. The baseline."""
    from sqlalchemy import func, select

    from app.alarms import queries
    from app.models import Alarm

    start = queries._day_start(None, days)
    day = func.date(Alarm.first_at)
    query = queries.visible_alarms(select(day, Alarm.severity, Alarm.type_id, func.count())
                                   .where(Alarm.first_at >= start), principal).group_by(
        day, Alarm.severity, Alarm.type_id)
    if queries.scope_is_big(session, principal):
        query = queries.walk_newest_first(query)
    per_day, per_type = {}, {}
    for d, severity, type_id, n in session.execute(query):
        key = (d, getattr(severity, "value", severity))
        per_day[key] = per_day.get(key, 0) + n
        per_type[type_id] = per_type.get(type_id, 0) + n
    top = sorted(per_type.items(), key=lambda kv: (-kv[1], kv[0]))[:queries.TOP_TYPES]
    return start.date(), per_day, top


def _revision(url):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        indexes = {r[2] for r in conn.execute(text("SHOW INDEX FROM alarm"))}
    engine.dispose()
    return version, "ix_alarm_chart" in indexes


def bench_chart(url, n=5, baseline_n=1):
    """The charts' query for each principal, cold (no cache of ours; MariaDB's buffer pool
    warm): the GROUP BY over the alarm table (baseline) beside the roll-up's, same run; both
    must give the same figures. A database still at 0015 is measured, then upgraded to the
    roll-up (the migration's time is reported); one already upgraded gets the old chart index
    back for the baseline's runs, then loses it again."""
    import flask_migrate
    from sqlalchemy import text

    from app import create_app
    from app.alarms import queries
    from app.core import scope
    from app.extensions import db
    from app.models import Account

    out = {}
    version, has_index = _revision(url)
    app = create_app(settings(url))

    def principals():
        accounts = {who: db.session.execute(db.select(Account).where(
            Account.username == f"{who}@bench.test")).scalar() for who in ("admin", "big",
                                                                          "small")}
        return {who: scope.principal_of(a) for who, a in accounts.items()}

    def median_ms(fn, runs=n):
        fn()  # the buffer pool warm, as on a running portal
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            result = fn()
            samples.append((time.perf_counter() - t) * 1000)
        return statistics.median(samples), result

    with app.app_context():
        if not has_index:
            t = time.monotonic()
            db.session.execute(text("CREATE INDEX ix_alarm_chart ON alarm "
                                    "(first_at, enterprise_id, severity, type_id)"))
            out["baseline index built (s)"] = round(time.monotonic() - t, 1)
        before = {}
        for who, principal in principals().items():
            ms, before[who] = median_ms(lambda p=principal: chart_from_alarms(db.session, p),
                                        baseline_n)
            out[f"{who}: GROUP BY over the alarms (ms)"] = round(ms, 1)
            print(f"{who:6} chart over the alarm table {ms:9.1f} ms", flush=True)
        db.session.remove()
        if version != "0017_alarm_daily" and version.startswith(("0015", "0016")):
            t = time.monotonic()
            flask_migrate.upgrade()
            out["migration 0017 at this size (s)"] = round(time.monotonic() - t, 1)
            print(f"migration 0017 (roll-up counted, index dropped): "
                  f"{out['migration 0017 at this size (s)']} s", flush=True)
        else:  # as 0017 left it
            db.session.execute(text("DROP INDEX ix_alarm_chart ON alarm"))
        db.session.execute(text("ANALYZE TABLE alarm_daily"))
        rows = db.session.execute(text("SELECT COUNT(*) FROM alarm_daily")).scalar()
        out["roll-up rows"] = rows
        for who, principal in principals().items():
            ms, after = median_ms(lambda p=principal: queries.chart_counts(db.session, p))
            out[f"{who}: from the roll-up (ms)"] = round(ms, 1)
            same = after[1:] == before[who][1:]
            out[f"{who}: same figures"] = same
            print(f"{who:6} chart from the roll-up    {ms:9.1f} ms  same figures: {same}",
                  flush=True)
        db.session.remove()
    return out


# --- ingestion ------------------------------------------------------------------------------------


def inform_body(mac, events, n):
    pv = ("<ParameterValueStruct><Name>{}</Name><Value>{}</Value></ParameterValueStruct>")
    params = [pv.format("Device.DeviceInfo.SoftwareVersion", "96.86.0.90"),
              pv.format("Device.Ethernet.Interface.1.MACAddress", mac)]
    types = ("Call failed", "RTP dead", "Hold failure", "SRTP failure", "Device reboot",
             "RTP violate", "Resume failure", "Meet now failure", "BToE pairing failure",
             "Calllog retrieve failure")
    for i in range(events):
        p = f"Device.FaultMgmt.QueuedEvent.{n * events + i + 1}."
        params += [pv.format(p + "EventType", types[i % len(types)]),
                   pv.format(p + "PerceivedSeverity", "Minor"),
                   pv.format(p + "AdditionalText", f"bench {n}")]
    return ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
            'envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap:Header><cwmp:ID '
            'soap:mustUnderstand="1">1</cwmp:ID></soap:Header><soap:Body><cwmp:Inform>'
            "<DeviceId><Manufacturer>Yealink</Manufacturer><OUI>001565</OUI><ProductClass>"
            f"SIP-T54W</ProductClass><SerialNumber>{mac}</SerialNumber></DeviceId><Event>"
            "<EventStruct><EventCode>4 VALUE CHANGE</EventCode><CommandKey></CommandKey>"
            "</EventStruct></Event><MaxEnvelopes>1</MaxEnvelopes><CurrentTime>"
            "2026-01-01T00:00:00Z</CurrentTime><RetryCount>0</RetryCount><ParameterList>"
            + "".join(params) + "</ParameterList></cwmp:Inform></soap:Body></soap:Envelope>"
            ).encode()


def _load(port, auth, macs, events, seconds, result):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ok = bad = n = 0
    cpu = time.process_time()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        mac = macs[n % len(macs)]
        conn.request("POST", "/acs", body=inform_body(mac, events, n),
                     headers={"Authorization": auth, "Content-Type": "text/xml"})
        r = conn.getresponse()
        body = r.read()
        n += 1
        if r.status == 200 and b"InformResponse" in body:
            ok += 1
        else:
            bad += 1
    result.put((ok, bad, time.process_time() - cpu))


def bench_ingest(url, seconds, events_per_inform, workers=2):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        ent = conn.execute(text("SELECT id, acs_password FROM enterprise "
                                "WHERE name = 'bench-small-ent'")).first()
        macs = [r[0] for r in conn.execute(text(
            f"SELECT mac FROM device WHERE enterprise_id = {ent.id}"))]
    auth = "Basic " + base64.b64encode(f"ent{ent.id}:{ent.acs_password}".encode()).decode()
    port = free_port()
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "SCHEDULER_MODE": "off",
           "TRUSTED_HOSTS": "127.0.0.1,localhost"}
    proc = start_gunicorn("app:create_app()", port, env)
    if workers != 2:  # common.start_gunicorn runs 2: start this count instead
        stop(proc)
        import subprocess
        proc = subprocess.Popen(
            [os.path.join(REPO, ".venv", "bin", "gunicorn"), "-w", str(workers), "-b",
             f"127.0.0.1:{port}", "--chdir", REPO, "--log-level", "warning", "app:create_app()"],
            cwd=REPO, env={**os.environ, **env})
    out = {}
    try:
        wait_ready(port, "/acs/health", proc)
        for events in events_per_inform:
            with engine.connect() as conn:
                before = conn.execute(text("SELECT COALESCE(SUM(count), 0) FROM alarm "
                                           f"WHERE enterprise_id = {ent.id}")).scalar()
            queue = multiprocessing.Queue()
            loaders = [multiprocessing.Process(target=_load, args=(
                port, auth, macs[i::2], events, seconds, queue)) for i in range(2)]
            t = time.monotonic()
            cpu_before = cpu_seconds(proc.pid)
            for p in loaders:
                p.start()
            results = [queue.get() for _ in loaders]
            for p in loaders:
                p.join()
            elapsed = time.monotonic() - t
            cpu_after = cpu_seconds(proc.pid)
            workers_cpu, db_cpu = (b - a for a, b in zip(cpu_before, cpu_after, strict=True))
            ok = sum(r[0] for r in results)
            bad = sum(r[1] for r in results)
            with engine.connect() as conn:
                after = conn.execute(text("SELECT COALESCE(SUM(count), 0) FROM alarm "
                                          f"WHERE enterprise_id = {ent.id}")).scalar()
            key = f"{events} event(s) per Inform, {workers} workers"
            out[key] = {"informs_per_s": round(ok / elapsed, 1),
                        "events_per_s": round(ok * events / elapsed, 1),
                        "events_counted_per_s": round(float(after - before) / elapsed, 1),
                        "errors": bad,
                        # where the 2 cores went, in ms of CPU per Inform
                        "cpu_ms_per_inform": {
                            "gunicorn workers": round(workers_cpu * 1000 / max(ok, 1), 2),
                            "mariadb": round(db_cpu * 1000 / max(ok, 1), 2),
                            "load clients": round(sum(r[2] for r in results) * 1000
                                                  / max(ok, 1), 2)},
                        "load_average": os.getloadavg()[0]}
            print(key, out[key], flush=True)
    finally:
        stop(proc)
        engine.dispose()
    return out


def upgrade(url):
    import flask_migrate

    from app import create_app

    with create_app(settings(url)).app_context():
        flask_migrate.upgrade()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alarms", type=int, default=5_000_000)
    ap.add_argument("--reseed", action="store_true")
    ap.add_argument("--only", choices=("list", "bell", "chart", "ingest"))
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--events", default="1,10", help="events per Inform, comma-separated")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers for ingest")
    ap.add_argument("--chart-runs", default="5,1",
                    help="timed runs of the chart query: roll-up,baseline (after a warm one)")
    args = ap.parse_args(argv)
    url = prepare(args.alarms, args.reseed)
    path = os.path.join(RESULTS, "alarms.json")
    results = {}
    if os.path.exists(path):  # a run of one part keeps the others' figures
        with open(path) as previous:
            results = json.load(previous)
    results["alarms"] = args.alarms
    if args.only not in (None, "chart"):  # the chart part measures 0015 first, then upgrades
        upgrade(url)
    if args.only in (None, "list"):
        results["list_ms"] = bench_list(url)
    if args.only in (None, "bell"):
        results["bell"] = bench_bell(url)
    if args.only in (None, "chart"):
        runs, baseline_runs = (int(x) for x in args.chart_runs.split(","))
        results["chart"] = bench_chart(url, runs, baseline_runs)
    if args.only in (None, "ingest"):
        results.setdefault("ingest", {}).update(bench_ingest(
            url, args.seconds, [int(x) for x in args.events.split(",")], args.workers))
    os.makedirs(RESULTS, exist_ok=True)
    with open(path, "w") as out:
        json.dump(results, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
