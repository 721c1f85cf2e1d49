"""Benchmark of the TR-069 ACS: periodic Inform sessions/s against two yardsticks served by the
same gunicorn set-up in the same run (not a test: run it by hand): hello world, and a
hand-written bare WSGI "ACS" (bench/acs_baseline.py) doing the same three statements per session
through the same driver with no framework, XML parsing or authentication. Targets (issue 19):
our sessions/s at least 0.5 x the baseline's; 1,100 sessions/s on a quiet 2-core machine whose
bare hello world does 11,000 req/s.

    .venv/bin/python bench/bench_acs.py                        # 100,000 devices, 3 x 10 s
    .venv/bin/python bench/bench_acs.py --devices 20000 --seconds 5 --reseed
    .venv/bin/python bench/bench_acs.py --workers 2,4          # one server per count, in turn
    .venv/bin/python bench/bench_acs.py --profile 3000         # cProfile, in-process, then stop

What it does, in one run:
1. creates the MariaDB database (default ``ymcs_bench_acs``), builds the schema with the
   migrations and seeds it unless it already holds exactly --devices devices: one channel
   (tenants.create_channel), one device-management enterprise with an ACS password
   (auth.ensure_acs_password), and the devices, bound to it, set up as the ACS leaves a phone
   after its first session (connection-request credentials, data model ``Device``, memory
   total), in one INSERT ... SELECT from MariaDB's sequence engine;
2. serves the real app (``app:create_app()``, the ACS mounted at /acs) with gunicorn, sync
   workers, on 127.0.0.1;
3. checks one session by hand (Inform -> 200 InformResponse + cookie, empty POST -> 204),
   then has five simulated phones (app/device_ops/simulator/fleet.py) run periodic sessions;
4. in alternating rounds, measures with wrk (same threads, one connection per thread, same
   duration): hello world, ``GET /acs/health`` of the same server; Inform sessions, each a
   different device (bench/wrk_cwmp.lua); the baseline's sessions (the same script: its fixed
   InformResponse and cookie satisfy it); the baseline's bare WSGI hello world. Per round it
   also counts the device_sample rows added and the devices whose last_seen moved (both
   should match the Informs answered), and the CPU the gunicorn workers, MariaDB and wrk spent;
5. prints medians against the targets and a Markdown table, writes bench/results/acs.json
   and keeps gunicorn's error log in bench/results/acs_gunicorn_w<W>.log.

A session counts only when both answers are right; more than 0.5% errors fails the run.
``--profile N`` instead runs N sessions in-process (the WSGI app called directly, no HTTP)
under cProfile and prints where the time goes (bench/acs_profile.py). The verdicts and the
printout are in bench/acs_report.py.
"""

import argparse
import base64
import json
import os
import random
import re
import resource
import secrets
import signal
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, REPO)
sys.path.insert(0, BENCH_DIR)

from acs_report import TARGETS, report, summarize  # noqa: E402
from common import cpu_seconds, free_port, loadavg, run_wrk, stop, wait_ready  # noqa: E402

# A fresh key per run: create_app refuses a known one, and a server left running must not
# accept cookies anyone could sign.
SECRET = secrets.token_hex(32)
LUA = os.path.join(BENCH_DIR, "wrk_cwmp.lua")
RESULTS = os.path.join(BENCH_DIR, "results")
HELLO_PATH = "/acs/health"
MAC_PREFIX = "001565"  # device n (1..N) has MAC 001565 + %06x of n (bench/wrk_cwmp.lua too)
CHANNEL_NAME = "acs-bench-channel"
ENTERPRISE_NAME = "acs-bench-enterprise"
TARGET_SESSIONS = 500_000 / 900  # 555.6/s; the issue rounds it to 560


def mac_of(n):
    return f"{MAC_PREFIX}{n:06x}"


# --- database ----------------------------------------------------------------------------------


def engine_for(url):
    import sqlalchemy

    return sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")


def seeded_state(conn, devices):
    """(enterprise id, ACS password) when the database holds this benchmark's seed with
    exactly ``devices`` devices; None otherwise."""
    from sqlalchemy import text

    tables = {r[0] for r in conn.execute(text("SHOW TABLES"))}
    if not {"device", "enterprise", "device_sample"} <= tables:
        return None
    ent = conn.execute(text("SELECT id, acs_password FROM enterprise WHERE name = :n"),
                       {"n": ENTERPRISE_NAME}).first()
    if ent is None or not ent.acs_password:
        return None
    n = conn.execute(text("SELECT COUNT(*) FROM device WHERE enterprise_id = :e"),
                     {"e": ent.id}).scalar()
    total = conn.execute(text("SELECT COUNT(*) FROM device")).scalar()
    return (ent.id, ent.acs_password) if n == total == devices else None


def prepare_database(server, name, devices, reseed):
    """Create, migrate and seed (unless already seeded with ``devices`` devices); returns
    (url, enterprise id, ACS password)."""
    import flask_migrate

    server_engine = engine_for(server)
    url = f"{server}/{name}?charset=utf8mb4"
    with server_engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4")
    db_engine = engine_for(url)
    with db_engine.connect() as conn:
        state = None if reseed else seeded_state(conn, devices)
    db_engine.dispose()
    if state is not None:
        server_engine.dispose()
        print(f"Database {name} already holds {devices:,} seeded devices (--reseed rebuilds it).")
        return url, *state
    with server_engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    server_engine.dispose()

    from app import create_app
    from app.device_ops import auth
    from app.extensions import db
    from app.models import Enterprise, PermissionType
    from app.tenancy import rules as tenants

    t0 = time.monotonic()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                      "SCHEDULER_MODE": "off"})
    with app.app_context():
        flask_migrate.upgrade()
        session = db.session
        channel = tenants.create_channel(session, CHANNEL_NAME, country="US")
        enterprise = Enterprise(name=ENTERPRISE_NAME, channel=channel, country="US",
                                permission_type=PermissionType.device_management)
        session.add(enterprise)
        session.flush()
        password = auth.ensure_acs_password(session, enterprise)
        enterprise_id = enterprise.id
        session.commit()
        session.remove()
        with db.engine.connect() as conn:
            seed_devices(conn, enterprise_id, devices)
        db.engine.dispose()
    print(f"Seeded {name}: 1 channel, 1 enterprise (ent{enterprise_id}), {devices:,} devices "
          f"in {time.monotonic() - t0:.1f}s.")
    return url, enterprise_id, password


def seed_devices(conn, enterprise_id, devices):
    """The devices as the ACS leaves them after a first session: bound, connection-request
    credentials set (so no setup is queued), their free first session spent (acs_password
    ''), data model and memory total known, offline."""
    from sqlalchemy import text

    conn.execute(text("SET SESSION unique_checks = 0, foreign_key_checks = 0"))
    batch = 100_000
    for lo in range(1, devices + 1, batch):
        hi = min(lo + batch - 1, devices)
        conn.execute(text(f"""
            INSERT INTO device (mac, model, firmware, ip, enterprise_id, online, created_on,
                                manufacturer, oui, product_class, serial, data_model,
                                periodic_interval, cr_username, cr_password, has_work,
                                cpu_usage, memory_total, memory_free, acs_password, cpe_key)
            SELECT CONCAT('{MAC_PREFIX}', LPAD(LOWER(HEX(s.seq)), 6, '0')), 'SIP-T54W',
                   '96.86.0.90', CONCAT('10.', (s.seq >> 16) & 255, '.', (s.seq >> 8) & 255,
                   '.', s.seq & 255), {int(enterprise_id)}, 0, NOW(), 'Yealink', '001565',
                   'SIP-T54W', CONCAT('8015', LPAD(s.seq, 8, '0')), 'Device', 900,
                   CONCAT('cr', s.seq), 'bench-cr-password', 0, 5, 262144, 120000, '',
                   CONCAT('001565-SIP-T54W-8015', LPAD(s.seq, 8, '0'))
            FROM seq_{lo}_to_{hi} s
        """))
        conn.commit()
    conn.execute(text("ANALYZE TABLE device, enterprise"))
    conn.commit()


def db_counters(conn):
    """(max device_sample id, device_command rows)."""
    from sqlalchemy import text

    return (conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM device_sample")).scalar(),
            conn.execute(text("SELECT COUNT(*) FROM device_command")).scalar())


def db_effects(conn, sample_id0, since):
    """(device_sample rows added since id sample_id0, devices with last_seen >= since)."""
    from sqlalchemy import text

    added = conn.execute(text("SELECT COUNT(*) FROM device_sample WHERE id > :i"),
                         {"i": sample_id0}).scalar()
    touched = conn.execute(text("SELECT COUNT(*) FROM device WHERE last_seen >= :t"),
                           {"t": since}).scalar()
    return added, touched


def server_facts(conn):
    from sqlalchemy import text

    names = ("version", "innodb_buffer_pool_size", "innodb_flush_log_at_trx_commit",
             "sync_binlog", "log_bin")
    out = {}
    for name in names:
        row = conn.execute(text(f"SHOW VARIABLES LIKE '{name}'")).first()
        out[name] = row[1] if row else None
    return out


# --- one session by hand -----------------------------------------------------------------------


def inform_xml(n, cwmp_id="check-1"):
    """The Inform bench/wrk_cwmp.lua sends for device n (kept in step with it)."""
    mac = mac_of(n)
    ip = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    params = [
        ("Device.RootDataModelVersion", "2.12", "xsd:string"),
        ("Device.DeviceInfo.HardwareVersion", "96.0.0.128.0.0.0", "xsd:string"),
        ("Device.DeviceInfo.SoftwareVersion", "96.86.0.100", "xsd:string"),
        ("Device.DeviceInfo.ProvisioningCode", "", "xsd:string"),
        ("Device.ManagementServer.ConnectionRequestURL", f"http://{ip}:7547/cr{mac[6:]}",
         "xsd:string"),
        ("Device.ManagementServer.ParameterKey", "", "xsd:string"),
        ("Device.IP.Interface.1.IPv4Address.1.IPAddress", ip, "xsd:string"),
        ("Device.Ethernet.Interface.1.MACAddress",
         ":".join(mac[i:i + 2] for i in range(0, 12, 2)), "xsd:string"),
        ("Device.DeviceInfo.ProcessStatus.CPUUsage", str(3 + n % 17), "xsd:unsignedInt"),
        ("Device.DeviceInfo.MemoryStatus.Free", str(90000 + n % 40000), "xsd:unsignedInt"),
    ]
    plist = "".join(f'<ParameterValueStruct><Name>{k}</Name><Value xsi:type="{t}">{v}</Value>'
                    "</ParameterValueStruct>" for k, v, t in params)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:cwmp="urn:dslforum-org:cwmp-1-2">'
        f'<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">{cwmp_id}</cwmp:ID>'
        '</soap-env:Header><soap-env:Body><cwmp:Inform>'
        '<DeviceId><Manufacturer>Yealink</Manufacturer><OUI>001565</OUI>'
        f'<ProductClass>SIP-T54W</ProductClass><SerialNumber>8015{n:08d}</SerialNumber>'
        '</DeviceId><Event soap-enc:arrayType="cwmp:EventStruct[2]">'
        '<EventStruct><EventCode>2 PERIODIC</EventCode><CommandKey></CommandKey></EventStruct>'
        '<EventStruct><EventCode>4 VALUE CHANGE</EventCode><CommandKey></CommandKey>'
        '</EventStruct></Event><MaxEnvelopes>1</MaxEnvelopes>'
        '<CurrentTime>2026-01-01T00:00:00Z</CurrentTime><RetryCount>0</RetryCount>'
        f'<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[{len(params)}]">'
        f'{plist}</ParameterList></cwmp:Inform></soap-env:Body></soap-env:Envelope>'
    ).encode()


def basic_auth(enterprise_id, password):
    raw = f"ent{enterprise_id}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def check_one_session(port, authorization, n):
    """One session over HTTP, checked field by field; raises on anything unexpected."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/acs", body=inform_xml(n), headers={
        "Authorization": authorization, "Content-Type": 'text/xml; charset="utf-8"'})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    cookie = re.search(r"cwmp_session=([^;]+)", r.headers.get("Set-Cookie", ""))
    if r.status != 200 or b"InformResponse" not in body or not cookie:
        raise RuntimeError(f"Inform: {r.status} {r.headers.get('Set-Cookie')!r} {body[:300]!r}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/acs", body=b"", headers={"Cookie": f"cwmp_session={cookie[1]}"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    if r.status != 204:
        raise RuntimeError(f"empty POST after the Inform: {r.status} {body[:300]!r} (a 204 "
                           "ends a periodic session of a set-up device)")
    return len(inform_xml(n))


def check_with_simulator(port, enterprise_id, password, count=5):
    """A few simulated phones (app/device_ops/simulator/fleet.py) of seeded devices run real
    periodic sessions against the server: the protocol the load below replays by wrk."""
    from app.device_ops.simulator.fleet import SimulatedPhone

    failures = []
    for n in range(2, 2 + count):
        phone = SimulatedPhone(f"http://127.0.0.1:{port}/acs", mac_of(n),
                               username=f"ent{enterprise_id}", password=password, auth="basic")
        log = phone.run_session(["2 PERIODIC"])
        if log.error or log.ended_with != 204:
            failures.append(f"{phone.mac}: {log.error or log.ended_with}")
        phone.close()
    if failures:
        raise RuntimeError("simulated phones failed: " + "; ".join(failures))
    return count


# --- servers and load --------------------------------------------------------------------------


def start_gunicorn(port, workers, env_extra, log_path, target="app:create_app()",
                   chdir=REPO):
    """common.start_gunicorn with a worker count and an error log file."""
    env = {**os.environ, **env_extra}
    cmd = [os.path.join(REPO, ".venv", "bin", "gunicorn"), "-w", str(workers),
           "-b", f"127.0.0.1:{port}", "--chdir", chdir, "--log-level", "warning",
           "--timeout", "120", "--error-logfile", log_path, target]
    return subprocess.Popen(cmd, cwd=REPO, env=env)


_CWMP_LINE = re.compile(r"^CWMP total (.*)$", re.M)
_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_REQS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
_WRK_SOCK = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_LAT = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")
_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_cwmp(port, seconds, threads, devices, start, authorization):
    env = {**os.environ, "ACS_AUTH": authorization, "ACS_DEVICES": str(devices),
           "ACS_START": str(start), "ACS_THREADS": str(threads), "ACS_MAC_PREFIX": MAC_PREFIX}
    cmd = ["wrk", f"-t{threads}", f"-c{threads}", f"-d{seconds}s", "--timeout", "10s",
           "-s", LUA, f"http://127.0.0.1:{port}/acs"]
    cpu0 = children_cpu()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    wrk_cpu = children_cpu() - cpu0
    total = _CWMP_LINE.search(out)
    if not total:
        raise RuntimeError(f"wrk printed no CWMP totals:\n{out}")
    counts = {k: int(v) for k, v in (kv.split("=") for kv in total.group(1).split())}
    reqs = _WRK_REQS.search(out)
    elapsed = float(reqs.group(2)) * _SECONDS[reqs.group(3)]
    sock = _WRK_SOCK.search(out)
    lat = _WRK_LAT.search(out)
    errors = (counts["inform_bad"] + counts["end_bad"] + counts["no_cookie"]
              + counts["bad_body"] + (sum(int(x) for x in sock.groups()) if sock else 0))
    first_errors = re.findall(r"first_error=(.*)$", out, re.M)
    return {
        "sessions_per_s": round(counts["sessions"] / elapsed, 1),
        "http_rps": float(_WRK_RPS.search(out).group(1)),
        "requests": int(reqs.group(1)), "elapsed_s": elapsed, **counts,
        "socket_errors": sock.group(0) if sock else None, "errors": errors,
        "latency_avg_ms": round(float(lat.group(1)) * _SECONDS[lat.group(2)] * 1000, 2)
        if lat else None,
        "first_errors": first_errors[:3], "wrk_cpu_s": round(wrk_cpu, 2),
    }


def run_hello(port, seconds, threads, path=HELLO_PATH):
    cpu0 = children_cpu()
    r = run_wrk(port, path, None, seconds, threads, threads)
    r["wrk_cpu_s"] = round(children_cpu() - cpu0, 2)
    return r


def cwmp_round(args, port, proc, engine, authorization):
    """One wrk round of Inform sessions against ``port``, with the database's side counted
    (samples added, last_seen moved, commands queued) and the CPU per session."""
    from app.models import utcnow

    with engine.connect() as conn:
        sample0, commands0 = db_counters(conn)
    since = utcnow().replace(microsecond=0)
    before = loadavg()
    cpu0 = cpu_seconds(proc.pid)
    c = run_cwmp(port, args.seconds, args.threads, args.devices,
                 random.randrange(args.devices), authorization)
    cpu1 = cpu_seconds(proc.pid)
    time.sleep(0.5)  # let requests in flight when wrk stopped finish
    with engine.connect() as conn:
        added, touched = db_effects(conn, sample0, since)
        _, commands1 = db_counters(conn)
    sessions = max(c["sessions"], 1)
    c.update(loadavg_before=before, samples_added=added, devices_touched=touched,
             commands_queued=commands1 - commands0,
             worker_cpu_ms_per_session=round((cpu1[0] - cpu0[0]) * 1000 / sessions, 2),
             db_cpu_ms_per_session=round((cpu1[1] - cpu0[1]) * 1000 / sessions, 2),
             wrk_cpu_ms_per_session=round(c["wrk_cpu_s"] * 1000 / sessions, 2))
    return c


def hello_round(args, port, proc, path):
    before = loadavg()
    cpu0 = cpu_seconds(proc.pid)
    h = run_hello(port, args.seconds, args.threads, path)
    cpu1 = cpu_seconds(proc.pid)
    h.update(loadavg_before=before,
             worker_cpu_ms_per_request=round((cpu1[0] - cpu0[0]) * 1000
                                             / max(h["requests"], 1), 3),
             wrk_cpu_ms_per_request=round(h["wrk_cpu_s"] * 1000 / max(h["requests"], 1), 3),
             db_cpu_s=round(cpu1[1] - cpu0[1], 2))
    if h["non_2xx"]:
        raise RuntimeError(f"hello round on {path}: {h['non_2xx']} non-2xx answers")
    return h


def measure(args, url, enterprise_id, password, workers, facts):
    """The portal's gunicorn and the baseline's (bench/acs_baseline.py), each with
    ``workers`` sync workers, side by side: warm-up, then alternating rounds of the portal's
    hello world, the portal's Inform sessions, the baseline's sessions and the baseline's bare
    hello world."""
    authorization = basic_auth(enterprise_id, password)
    port, base_port = free_port(), free_port()
    log_path = os.path.join(RESULTS, f"acs_gunicorn_w{workers}.log")
    base_log = os.path.join(RESULTS, f"acs_baseline_w{workers}.log")
    open(log_path, "w").close()
    open(base_log, "w").close()
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "SCHEDULER_MODE": "off",
           "FAB_UPDATE_PERMS": "0", "RATELIMIT_ENABLED": "0"}
    proc = start_gunicorn(port, workers, env, log_path)
    # The baseline talks to MariaDB through the driver of the portal's URL.
    base_proc = start_gunicorn(base_port, workers, {"DATABASE_URL": url},
                               base_log, target="acs_baseline:app", chdir=BENCH_DIR)
    engine = engine_for(url)
    rounds = {"hello": [], "cwmp": [], "baseline": [], "bare_hello": []}
    try:
        wait_ready(port, HELLO_PATH, proc)
        wait_ready(base_port, "/health", base_proc)
        inform_bytes = check_one_session(port, authorization, 1)
        check_one_session(base_port, authorization, 1)
        phones = check_with_simulator(port, enterprise_id, password)
        print(f"\n== gunicorn, {workers} sync workers, port {port}: one session checked by hand "
              f"(Inform {inform_bytes} bytes -> 200 InformResponse + cookie; empty POST -> 204),"
              f" {phones} simulated phones ran periodic sessions; baseline on {base_port} "
              f"(driver {url.split(':')[0]})")
        # Warm-up: every worker connects to MariaDB, imports and caches what it will use.
        for p in (port, base_port):
            run_hello(p, 2, args.threads, HELLO_PATH if p == port else "/health")
            run_cwmp(p, 3, args.threads, args.devices, random.randrange(args.devices),
                     authorization)
        for i in range(args.rounds):
            h = hello_round(args, port, proc, HELLO_PATH)
            rounds["hello"].append(h)
            c = cwmp_round(args, port, proc, engine, authorization)
            rounds["cwmp"].append(c)
            b = cwmp_round(args, base_port, base_proc, engine, authorization)
            rounds["baseline"].append(b)
            bh = hello_round(args, base_port, base_proc, "/health")
            rounds["bare_hello"].append(bh)
            print(f"round {i + 1}: hello {h['rps']:8.1f} req/s, bare {bh['rps']:8.1f} | "
                  f"Inform sessions {c['sessions_per_s']:7.1f}/s ({c['errors']} errors), "
                  f"baseline {b['sessions_per_s']:7.1f}/s ({b['errors']} errors) | ratio "
                  f"{c['sessions_per_s'] / b['sessions_per_s']:.3f} of the baseline, "
                  f"{c['sessions_per_s'] / h['rps']:.3f} of hello | samples +"
                  f"{c['samples_added']}, last_seen moved {c['devices_touched']}, commands +"
                  f"{c['commands_queued']} | per session: workers "
                  f"{c['worker_cpu_ms_per_session']} ms (baseline "
                  f"{b['worker_cpu_ms_per_session']}), MariaDB {c['db_cpu_ms_per_session']} ms "
                  f"(baseline {b['db_cpu_ms_per_session']}), wrk {c['wrk_cpu_ms_per_session']} "
                  f"ms CPU | load before {h['loadavg_before'][0]}", flush=True)
            for r in (c, b):
                if r["first_errors"]:
                    print(f"  first errors: {r['first_errors']}")
    finally:
        stop(proc)
        stop(base_proc)
        engine.dispose()
    with open(log_path) as f:
        log_lines = [line.rstrip() for line in f if line.strip()]
    return summarize(args, workers, rounds, log_lines, log_path, facts)


# --- main --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get(
        "BENCH_MARIADB", "mysql+mysqldb://root@127.0.0.1:3306"))
    parser.add_argument("--database", default="ymcs_bench_acs")
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="seconds per load round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating round pairs")
    parser.add_argument("--workers", default="4",
                        help="gunicorn sync workers (4 beat 2 here: a sync worker idles while "
                             "MariaDB answers); a comma list measures each in turn")
    parser.add_argument("--threads", type=int, default=8,
                        help="wrk threads = connections (one connection per thread; more "
                             "connections than workers keeps every sync worker busy)")
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="profile N sessions in-process instead of measuring")
    parser.add_argument("--top", type=int, default=25, help="functions --profile prints")
    parser.add_argument("--out", default=os.path.join(RESULTS, "acs.json"))
    args = parser.parse_args()
    if args.devices < 1 or args.devices > 0xFFFFFF:
        parser.error("--devices must be 1..16,777,215 (the MACs are 001565 + 6 hex digits)")

    # A plain kill (SIGTERM) unwinds like Ctrl-C, so gunicorn is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.makedirs(RESULTS, exist_ok=True)
    load_start = loadavg()
    url, enterprise_id, password = prepare_database(args.server, args.database, args.devices,
                                                    args.reseed)
    if args.profile:
        from acs_profile import profile

        profile(url, enterprise_id, password, args.devices, args.profile, args.top)
        return 0
    engine = engine_for(url)
    with engine.connect() as conn:
        facts = server_facts(conn)
    engine.dispose()

    results = [measure(args, url, enterprise_id, password, int(w), facts)
               for w in args.workers.split(",")]
    report(results, load_start)
    with open(args.out, "w") as f:
        json.dump({"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "database": args.database,
                   "machine": {"cpus": os.cpu_count(), "loadavg_start": load_start,
                               "loadavg_end": loadavg()},
                   "targets": TARGETS, "results": results}, f, indent=2, default=str)
    print(f"results: {os.path.relpath(args.out, REPO)}")
    failed = any(not r["passed"]["errors"] for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
