"""Benchmark of the statement export at 1,000,000 rows (not a test: run it by hand).

    .venv/bin/python bench/bench_export.py            # seeds ymcs_bench_export once, measures
    .venv/bin/python bench/bench_export.py --reseed   # drop and rebuild the database first

The target (the issue): exporting 1,000,000 statement rows from MariaDB takes at most 1.2x the
time bare openpyxl write-only mode takes to write the same rows from memory, with a peak RSS
under 100 MB.

What it does, in one run:
1. creates the MariaDB database (default ``ymcs_bench_export``), builds the schema with the
   migrations, syncs the roles and seeds it unless a previous run did: a channel tree through
   the app, 2,200 enterprises, three packages, 1,000,000 orders under the bench channel and
   100,000 under a sibling tree it does not see (``INSERT ... SELECT`` from MariaDB's sequence
   engine). One enterprise in 1,000 has a name starting with "=" or "+" (the writer's careful
   path runs for those rows, as it would in life);
2. stores one statement export of everything the bench channel's admin sees
   (export_jobs.request_export: over EXPORT_INLINE_ROWS, so it is queued);
3. in alternating rounds, each in a fresh subprocess:
   (a) ``baseline``: loads the export's rows, converted exactly as the export converts them,
       into a list (not timed), then times bare openpyxl: ``Workbook(write_only=True)``,
       ``append`` of the header and every row, ``save``;
   (b) ``export``: claims the job (queued -> running) and times ``run_export(app, job_id)``
       as the scheduler's worker runs it: the count and the query in the app, then the lean
       writer process (app/exports/writer.py: conversion, openpyxl, the rename and the
       status) fed by its reader process (app/exports/reader.py);
   each child reports its wall time and CPU time; (a) its peak RSS during the timed part
   (VmHWM, reset through /proc/self/clear_refs just before); (b) the CPU time of the writer
   and reader processes and the peak RSS of each (the writer's as it reports it at its end,
   the reader's sampled from /proc), and the app process's own, which only waits;
4. prints the figures against the targets and writes bench/results/export.json.

The memory target is for the processes that run the export (writer and reader). The app
process that asked for it (the scheduler's, with Flask-AppBuilder: ~112 MB whether or not an
export runs) is reported beside them, with its growth during the export.
"""

import argparse
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time

from common import log_since  # noqa: E402  (bench/common.py)

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, REPO)
sys.path.insert(0, BENCH_DIR)

# A fresh key per run: create_app refuses a known one, and a server left running must not
# accept cookies anyone could sign.
SECRET = secrets.token_hex(32)
TARGETS = {"ratio_max": 1.2, "rss_mb_max": 100}
ROOT_NAME = "bench-export-root"
OTHER_NAME = "bench-export-other"
ADMIN_EMAIL = "bench-export@bench.test"  # written last: its presence marks a finished seed
ADMIN_PASSWORD = "Bench-pass-2026"
ENTERPRISES_IN, ENTERPRISES_OUT = 2_000, 200
ORDERS_OUT = 100_000
BATCH = 200_000
PACKAGES = [("Bench Basic", 20, 12), ("Bench Business", 100, 12), ("Bench Enterprise", 500, 24)]


def app_settings(url, store):
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "SCHEDULER_MODE": "off",
            "FILE_STORE_DIR": store}


# --- database -----------------------------------------------------------------------------------


def prepare_database(server, name, reseed, rows):
    """Create, migrate, sync roles and seed (once); returns the database URL."""
    from common import prepare_seeded_database

    return prepare_seeded_database(
        server, name, reseed, app_settings(None, None), lambda conn: _seed_state(conn, rows),
        lambda app: seed(app, rows), f"{rows:,} orders in scope, {ORDERS_OUT:,} outside")


def _seed_state(conn, rows):
    from sqlalchemy import text

    tables = {r[0] for r in conn.execute(text("SHOW TABLES"))}
    if "service_order" not in tables:
        return "empty"
    admin = conn.execute(text("SELECT id FROM ab_user WHERE username = :u"),
                         {"u": ADMIN_EMAIL}).first()
    orders = conn.execute(text("SELECT COUNT(*) FROM service_order")).scalar()
    if admin is not None and orders == rows + ORDERS_OUT:
        return "seeded"
    channels = conn.execute(text("SELECT COUNT(*) FROM channel")).scalar()
    return "partial" if channels or orders else "empty"


def seed(app, rows):
    from sqlalchemy import text

    from app.accounts import roles
    from app.extensions import db
    from app.models import AccountKind, Package
    from app.tenancy import rules as tenants

    started = time.monotonic()
    session = db.session
    root = tenants.create_channel(session, ROOT_NAME, can_add_subchannel=True)
    other = tenants.create_channel(session, OTHER_NAME, can_add_subchannel=True)
    session.flush()
    for i in range(9):
        tenants.create_channel(session, f"bench-export-L1-{i}", parent=root)
    tenants.create_channel(session, "bench-export-other-1", parent=other)
    for name, devices, months in PACKAGES:
        session.add(Package(name=name, max_devices=devices, duration_months=months))
    session.commit()
    log_since("channels (10 in scope, 2 outside) and 3 packages", started)

    with db.engine.connect() as conn:  # one connection: its temporary tables stay visible
        conn.execute(text("SET SESSION unique_checks = 0, foreign_key_checks = 0"))
        for scope_root, count, tag in ((root.id, ENTERPRISES_IN, "in"),
                                       (other.id, ENTERPRISES_OUT, "out")):
            _bulk_enterprises(conn, scope_root, count, tag)
        conn.commit()
        log_since(f"enterprises: {ENTERPRISES_IN:,} in scope, {ENTERPRISES_OUT:,} outside", started)
        conn.execute(text("DROP TEMPORARY TABLE IF EXISTS bench_package_map"))
        conn.execute(text(
            "CREATE TEMPORARY TABLE bench_package_map (n INT PRIMARY KEY, id INT, name "
            "VARCHAR(128), max_devices INT, months INT) SELECT ROW_NUMBER() OVER (ORDER BY id)"
            " - 1 AS n, id, name, max_devices, duration_months AS months FROM package"))
        # The outside orders first, then the ones in scope: ids interleave neither way, and
        # the newest rows are the bench channel's, as its list shows them.
        _bulk_orders(conn, "out", ORDERS_OUT, rows + ORDERS_OUT, 0, started)
        _bulk_orders(conn, "in", rows, rows + ORDERS_OUT, ORDERS_OUT, started)
        conn.execute(text("ANALYZE TABLE enterprise, channel_closure, service_order"))
        conn.commit()
        log_since("analyzed", started)

    sm = app.appbuilder.sm
    user = sm.add_user(username=ADMIN_EMAIL, first_name="Bench", last_name="Export",
                       email=ADMIN_EMAIL, role=sm.find_role(roles.CHANNEL_ADMIN),
                       password=ADMIN_PASSWORD)
    assert user, "could not create the bench admin"
    user.kind = AccountKind.channel_master
    user.channel_id = root.id
    session.commit()
    log_since(f"channel admin {ADMIN_EMAIL} on channel {root.id}", started)


def _bulk_enterprises(conn, scope_root, count, tag):
    from sqlalchemy import text

    conn.execute(text(f"DROP TEMPORARY TABLE IF EXISTS bench_channel_{tag}"))
    conn.execute(text(
        f"CREATE TEMPORARY TABLE bench_channel_{tag} (n INT PRIMARY KEY, id INT NOT NULL) "
        "SELECT ROW_NUMBER() OVER (ORDER BY descendant_id) - 1 AS n, descendant_id AS id "
        f"FROM channel_closure WHERE ancestor_id = {int(scope_root)}"))
    n_channels = conn.execute(text(f"SELECT COUNT(*) FROM bench_channel_{tag}")).scalar()
    # 1 in 1000 names starts with "=" or "+": exported as text, not as a formula.
    conn.execute(text(f"""
        INSERT INTO enterprise (name, channel_id, permission_type, has_master_admin, email,
                                status, `authorization`, is_channel_own, created_on)
        SELECT CASE WHEN s.seq % 1000 = 7 THEN CONCAT('=Enterprise ', '{tag}', s.seq)
                    WHEN s.seq % 1000 = 501 THEN CONCAT('+Enterprise ', '{tag}', s.seq)
                    ELSE CONCAT('Enterprise ', '{tag}', ' ', s.seq) END,
               m.id, 'device_management', 1, CONCAT('it', s.seq, '@{tag}.bench.test'),
               'active', 'accepted', 0, NOW()
        FROM seq_1_to_{count} s JOIN bench_channel_{tag} m ON m.n = s.seq % {n_channels}
    """))
    conn.execute(text(f"DROP TEMPORARY TABLE IF EXISTS bench_enterprise_{tag}"))
    conn.execute(text(
        f"CREATE TEMPORARY TABLE bench_enterprise_{tag} (n INT PRIMARY KEY, id INT NOT NULL, "
        "channel_id INT NOT NULL) SELECT ROW_NUMBER() OVER (ORDER BY e.id) - 1 AS n, e.id, "
        "e.channel_id FROM enterprise e JOIN channel_closure cc ON cc.descendant_id = "
        f"e.channel_id WHERE cc.ancestor_id = {int(scope_root)} AND e.is_channel_own = 0"))


def _bulk_orders(conn, tag, count, total, offset, started):
    """``count`` orders over the ``tag`` enterprises, round-robin, one a minute, in batches."""
    from sqlalchemy import text

    n_ent = conn.execute(text(f"SELECT COUNT(*) FROM bench_enterprise_{tag}")).scalar()
    for lo in range(1, count + 1, BATCH):
        hi = min(lo + BATCH - 1, count)
        conn.execute(text(f"""
            INSERT INTO service_order (enterprise_id, channel_id, reseller, order_type,
                package_id, package_name, quantity, max_devices, duration_months,
                effective_on, expires_on, status, created_on)
            SELECT e.id, e.channel_id, CONCAT('Reseller ', s.seq % 500), 'paid', p.id, p.name,
                   1 + s.seq % 5, p.max_devices * (1 + s.seq % 5), p.months,
                   DATE('2024-01-01') + INTERVAL (s.seq % 700) DAY,
                   DATE('2024-01-01') + INTERVAL (s.seq % 700) DAY + INTERVAL p.months MONTH,
                   ELT(1 + s.seq % 4, 'pending', 'effective', 'expired', 'cancelled'),
                   NOW() - INTERVAL ({total} - {offset} - s.seq) MINUTE
            FROM seq_{lo}_to_{hi} s
            JOIN bench_enterprise_{tag} e ON e.n = s.seq % {n_ent}
            JOIN bench_package_map p ON p.n = s.seq % 3
            ORDER BY s.seq
        """))
        conn.commit()
        log_since(f"orders ({tag}): {hi:,}", started)


def bench_account(url):
    """(account id, root channel id) of the bench channel's admin."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        account_id, channel_id = conn.execute(sqlalchemy.text(
            "SELECT id, channel_id FROM ab_user WHERE username = :u"),
            {"u": ADMIN_EMAIL}).one()
    engine.dispose()
    return account_id, channel_id


def create_job(url, store):
    """Store the export as the bench admin's list would (everything it sees); its id."""
    from app import create_app
    from app.core.scope import Principal
    from app.exports import jobs as export_jobs
    from app.extensions import db
    from app.models import AccountKind, ExportStatus
    from app.orders.queries import STATEMENTS, OrderCriteria

    account_id, channel_id = bench_account(url)
    app = create_app(app_settings(url, store))
    with app.app_context():
        principal = Principal(account_id, AccountKind.channel_master, channel_id)
        job = export_jobs.request_export(db.session, account_id, principal, STATEMENTS,
                                         OrderCriteria(), "en")
        assert job.status == ExportStatus.queued, job.status
        job_id = job.id
        db.session.remove()
        db.engine.dispose()
    return job_id


def requeue(url, job_id):
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(
            "UPDATE export_job SET status = 'queued', rows_done = 0, rows_total = NULL, "
            "file_name = NULL, error = NULL, heartbeat_at = NULL, finished_on = NULL "
            "WHERE id = :id"), {"id": job_id})
    engine.dispose()


# --- the two measured children ---------------------------------------------------------------


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    """Start VmHWM again from the current RSS (Linux 4.0+), so the peak is the timed part's."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _cpu():
    t = os.times()
    return t.user + t.system


def child_baseline(url, job_id, out_path):
    """Bare openpyxl write-only: the same rows, from a list in memory."""
    import openpyxl

    from app import create_app
    from app.exports.jobs import job_principal
    from app.extensions import db
    from app.models import ExportJob
    from app.orders import exports as order_exports
    from app.orders.queries import OrderCriteria

    app = create_app(app_settings(url, None))
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        sheet = order_exports.export_sheet(job.kind, OrderCriteria.from_json(job.criteria),
                                           job_principal(job), job.language)
        with db.engine.connect() as conn:
            rows = [sheet.convert(r) for r in conn.execution_options(yield_per=5000)
                    .execute(sheet.query)]
        header = [str(column.header) for column in sheet.columns]
    loaded = len(rows)

    _reset_peak()
    rss_before = _status_kb("VmRSS")
    cpu0, t0 = _cpu(), time.perf_counter()
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(out_path)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "cpu_seconds": _cpu() - cpu0, "rows": loaded,
            "rss_before_mb": rss_before / 1024, "peak_rss_mb": _status_kb("VmHWM") / 1024,
            "file_bytes": os.path.getsize(out_path)}


def child_export(url, job_id, store):
    """The product's path: the scheduler's worker, run_export(app, job_id), which counts,
    builds the query and waits for the lean writer process (app/exports/writer.py) and its
    reader process (app/exports/reader.py)."""
    from app import create_app
    from app.exports import jobs as export_jobs
    from app.extensions import db
    from app.models import ExportJob, ExportStatus

    app = create_app(app_settings(url, store))
    with app.app_context():
        assert export_jobs.claim_export(db.session, job_id), "the job was not queued"
        db.session.remove()
    reports = _WriterReports()
    writer_log = logging.getLogger("app.exports.writer")
    writer_log.addHandler(reports)
    writer_log.setLevel(logging.INFO)
    mariadb_cpu0 = _mariadb_cpu()
    sampler = _ChildrenPeak()
    _reset_peak()
    rss_before = _status_kb("VmRSS")
    cpu0, t0 = _cpu(), time.perf_counter()
    with sampler:
        export_jobs.run_export(app, job_id)
    seconds = time.perf_counter() - t0
    cpu = _cpu() - cpu0  # the app process: count, query, waiting (and the heartbeat's share)
    peak = _status_kb("VmHWM")
    times = os.times()
    children_cpu = times.children_user + times.children_system  # writer + reader processes
    mariadb_cpu = _mariadb_cpu() - mariadb_cpu0 if mariadb_cpu0 is not None else None
    writer_reported = reports.peak_kb  # the writer's own VmHWM at its end: exact
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job.status == ExportStatus.done, (job.status, job.error)
        path = export_jobs.export_path(job)
        result = {"seconds": seconds, "cpu_seconds": cpu + children_cpu,
                  "app_cpu_seconds": cpu, "children_cpu_seconds": children_cpu,
                  "mariadb_cpu_seconds": mariadb_cpu,
                  "writer_peak_rss_mb": max(writer_reported, sampler.peak_kb["writer"]) / 1024,
                  "writer_reported_peak_rss_mb": writer_reported / 1024,
                  "reader_peak_rss_mb": sampler.peak_kb["reader"] / 1024,
                  "rows": job.rows_done, "app_rss_before_mb": rss_before / 1024,
                  "app_peak_rss_mb": peak / 1024, "app_growth_mb": (peak - rss_before) / 1024,
                  "file_bytes": os.path.getsize(path), "file": path}
    return result


class _WriterReports(logging.Handler):
    """The writer process's report, as app/exports/writer.py logs it (its peak RSS)."""

    peak_kb = 0

    def emit(self, record):
        if "writer peak RSS" in record.msg:
            self.peak_kb = max(self.peak_kb, int(record.args[-1] * 1024))


class _ChildrenPeak:
    """The peak RSS of the writer process (our child running app/exports/writer.py) and of
    its reader (the writer's child running app/exports/reader.py), read from /proc five times
    a second while they run (VmHWM only grows, so the last reading is the peak to within a
    fifth of a second). getrusage(RUSAGE_CHILDREN) would report the parent's size a child had
    before exec."""

    SCRIPTS = {"writer": b"exports/writer.py", "reader": b"exports/reader.py"}

    def __init__(self):
        self.peak_kb = {"writer": 0, "reader": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        me = str(os.getpid())
        while not self._stop.wait(0.2):
            parents = {}
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        parents[pid] = f.read().rsplit(")", 1)[1].split()[1]
                except (OSError, IndexError):
                    continue
            for pid, ppid in parents.items():
                if ppid != me and parents.get(ppid) != me:
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmdline = f.read()
                    which = next((k for k, s in self.SCRIPTS.items() if s in cmdline), None)
                    if which is None:
                        continue
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                self.peak_kb[which] = max(self.peak_kb[which],
                                                          int(line.split()[1]))
                except OSError:
                    continue


def _mariadb_cpu():
    """CPU seconds the MariaDB server has used so far (None when it is not on this host)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() not in ("mariadbd", "mysqld"):
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return None


def run_child(mode, url, job_id, store, out_path):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, "--url", url,
           "--job", str(job_id), "--store", store, "--child-out", out_path]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- main -------------------------------------------------------------------------------------


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get(
        "BENCH_MARIADB", "mysql+mysqldb://root@127.0.0.1:3306"))
    parser.add_argument("--database", default="ymcs_bench_export")
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--rows", type=int, default=1_000_000, help="orders in scope")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of (a), (b)")
    parser.add_argument("--store", default="/tmp/ymcs-bench-export",
                        help="file store of the export and the baseline's file")
    parser.add_argument("--out", default=os.path.join(BENCH_DIR, "results", "export.json"))
    parser.add_argument("--child", choices=["baseline", "export"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "baseline":
        print(json.dumps(child_baseline(args.url, args.job, args.child_out)))
        return
    if args.child == "export":
        print(json.dumps(child_export(args.url, args.job, args.store)))
        return

    os.makedirs(args.store, exist_ok=True)
    url = prepare_database(args.server, args.database, args.reseed, args.rows)
    job_id = create_job(url, args.store)
    baseline_file = os.path.join(args.store, "baseline.xlsx")
    rounds = []
    for i in range(args.rounds):
        load = loadavg()
        a = run_child("baseline", url, job_id, args.store, baseline_file)
        print(f"round {i + 1}: (a) bare openpyxl   {a['seconds']:7.1f} s  "
              f"cpu {a['cpu_seconds']:6.1f} s  rows {a['rows']:,}", flush=True)
        requeue(url, job_id)
        b = run_child("export", url, job_id, args.store, "")
        print(f"round {i + 1}: (b) export from DB  {b['seconds']:7.1f} s  "
              f"cpu {b['cpu_seconds']:6.1f} s (writer + reader {b['children_cpu_seconds']:.1f}"
              f" s, app {b['app_cpu_seconds']:.1f} s)  rows {b['rows']:,}  peak RSS: writer "
              f"{b['writer_peak_rss_mb']:.0f} MB, reader {b['reader_peak_rss_mb']:.0f} MB, app "
              f"{b['app_peak_rss_mb']:.0f} MB (+{b['app_growth_mb']:.0f})  ratio "
              f"{b['seconds'] / a['seconds']:.3f}  load {load:.1f}", flush=True)
        os.remove(b.pop("file"))
        requeue(url, job_id)
        rounds.append({"baseline": a, "export": b, "ratio": b["seconds"] / a["seconds"],
                       "cpu_ratio": b["cpu_seconds"] / a["cpu_seconds"],
                       "loadavg_before": load})
    os.remove(baseline_file)

    a_med = statistics.median(r["baseline"]["seconds"] for r in rounds)
    b_med = statistics.median(r["export"]["seconds"] for r in rounds)
    writer_peak = max(r["export"]["writer_peak_rss_mb"] for r in rounds)
    reader_peak = max(r["export"]["reader_peak_rss_mb"] for r in rounds)
    app_peak = max(r["export"]["app_peak_rss_mb"] for r in rounds)
    app_growth = max(r["export"]["app_growth_mb"] for r in rounds)
    a_cpu = statistics.median(r["baseline"]["cpu_seconds"] for r in rounds)
    b_cpu = statistics.median(r["export"]["cpu_seconds"] for r in rounds)
    children_cpu = statistics.median(r["export"]["children_cpu_seconds"] for r in rounds)
    summary = {
        "rows": rounds[0]["export"]["rows"],
        "baseline_cpu_seconds_median": a_cpu, "export_cpu_seconds_median": b_cpu,
        "writer_and_reader_cpu_seconds_median": children_cpu, "cpu_ratio": b_cpu / a_cpu,
        "round_ratios": [round(r["ratio"], 3) for r in rounds],
        "baseline_seconds_median": a_med, "export_seconds_median": b_med,
        "ratio": b_med / a_med, "ratio_target_max": TARGETS["ratio_max"],
        "writer_peak_rss_mb": writer_peak, "reader_peak_rss_mb": reader_peak,
        "app_peak_rss_mb": app_peak, "app_rss_growth_mb": app_growth,
        "loadavg": [r["loadavg_before"] for r in rounds],
        "rss_target_mb": TARGETS["rss_mb_max"], "rounds": rounds,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=2)

    ok_ratio = summary["ratio"] <= TARGETS["ratio_max"]
    print()
    print(f"Statement export, {summary['rows']:,} rows ({args.rounds} alternating rounds, "
          "medians):")
    print(f"  (a) bare openpyxl write-only from memory: {a_med:7.1f} s")
    print(f"  (b) our export, streamed from MariaDB:    {b_med:7.1f} s")
    print(f"  ratio (b)/(a): {summary['ratio']:.3f}   target <= {TARGETS['ratio_max']}   "
          f"{'MET' if ok_ratio else 'MISSED'}   (rounds: "
          f"{', '.join(f'{x:.3f}' for x in summary['round_ratios'])})")
    print(f"  CPU: (a) {a_cpu:.1f} s, (b) {b_cpu:.1f} s (ratio {b_cpu / a_cpu:.3f}), of which "
          f"the writer and reader processes {children_cpu:.1f} s; other load on the two "
          f"cores moves wall times, CPU times barely")
    ok_rss = max(writer_peak, reader_peak) < TARGETS["rss_mb_max"]
    print(f"  peak RSS of (b): writer process {writer_peak:.0f} MB, reader process "
          f"{reader_peak:.0f} MB   target < {TARGETS['rss_mb_max']} MB   "
          f"{'MET' if ok_rss else 'MISSED'}; the app process that only waits for them (the "
          f"scheduler's): {app_peak:.0f} MB, +{app_growth:.0f} MB during the export")
    print(f"  results: {args.out}")


if __name__ == "__main__":
    main()
