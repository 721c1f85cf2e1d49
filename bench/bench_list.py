"""Benchmark of the device list at 1M devices / 10k enterprises (not a test: run it by hand).

    .venv/bin/python bench/bench_list.py            # seeds ymcs_bench once, then measures
    .venv/bin/python bench/bench_list.py --reseed   # drop and rebuild the database first
    .venv/bin/python bench/bench_list.py --profile 300  # where a page's CPU goes, in-process

What it does, in one run:
1. creates the MariaDB database (default ``ymcs_bench``), builds the schema with the
   migrations, syncs the roles and seeds it (bench/seed.py) unless a previous run did;
2. counts the SQL statements of list pages in-process (Flask test client, a
   ``before_cursor_execute`` listener on db.engine, after login): the first view of the
   list in a session, and the same page again with the cookie the first view set;
3. serves the real app (``app:create_app()``) and the hand-written page (bench/handwritten.py)
   with gunicorn, 2 workers each, on 127.0.0.1;
4. logs in as the channel admin over HTTP and measures the median latency of the first, a
   middle (keyset cursor at the middle visible device) and the last (``?last=1``) page,
   replaying the login cookie (so the capped count runs on every request);
5. measures requests/s of the list and of the hand-written page with wrk (or a Python client
   when wrk is missing) in alternating rounds, so background load hits both alike: "list"
   with the cookie a browser holds after one view of the list, "list_recount" replaying the
   login cookie (the count on every request); and, per round, the CPU the gunicorn workers
   and MariaDB spent per request, which other load on the machine barely moves;
6. prints the figures against the targets and writes bench/results/list.json.

Other work on the same cores skews req/s: read the per-round ratios and the CPU figures too.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import sys
import time
import urllib.parse

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, REPO)
sys.path.insert(0, BENCH_DIR)

import seed  # noqa: E402  (bench/seed.py, next to this file)
from common import (  # noqa: E402
    _session_cookie,
    cpu_seconds,
    free_port,
    http_get,
    loadavg,
    prepare_seeded_database,
    run_python_load,
    run_wrk,
    start_gunicorn,
    stop,
    wait_ready,
)

LIST_PATH = "/devicemodelview/list/"
HAND_PATH = "/devices"
# A fresh key per run: create_app refuses a known one, and a server left running must not
# accept cookies anyone could sign.
SECRET = secrets.token_hex(32)
TARGETS = {"ratio_min": 0.25, "sql_max": 6, "latency_ms_max": 150.0}


# --- database ----------------------------------------------------------------------------------


def app_settings(url):
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": SECRET,
        "SCHEDULER_MODE": "off",
        "AUTH_RATE_LIMIT": "100000 per second",
    }


def prepare_database(server, name, reseed):
    """Create, migrate, sync roles and seed (once); returns (url, root channel id)."""
    import sqlalchemy

    def state_of(conn):
        if seed.database_is_seeded(conn):
            return "seeded"
        has_channels = conn.execute(sqlalchemy.text(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = :s "
            "AND table_name = 'channel'"), {"s": name}).scalar()
        if has_channels and conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM channel")).scalar():
            return "partial"
        return "empty"

    url = prepare_seeded_database(
        server, name, reseed, app_settings(url=None), state_of, seed.seed,
        f"{seed.ENTERPRISES:,} enterprises, {seed.DEVICES:,} devices")
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        root_id = seed.root_channel_id(conn)
    engine.dispose()
    return url, root_id


SCOPE_SQL = """
    FROM device WHERE device.enterprise_id IN (
        SELECT enterprise.id FROM enterprise
        WHERE enterprise.channel_id IN (
            SELECT descendant_id FROM channel_closure WHERE ancestor_id = :root)
          AND (enterprise.permission_type = 'rps' OR enterprise.`authorization` = 'accepted'))
"""


def middle_device(url, root_id):
    """(number of devices the admin sees, id of the middle one in the list's id order)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sqlalchemy.text("SELECT COUNT(*) " + SCOPE_SQL),
                         {"root": root_id}).scalar()
        mid = conn.execute(sqlalchemy.text(
            f"SELECT device.id {SCOPE_SQL} ORDER BY device.id DESC LIMIT 1 OFFSET {n // 2}"),
            {"root": root_id}).scalar()
    engine.dispose()
    return n, mid


# --- SQL statements per page, in-process ------------------------------------------------------

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def count_statements(url, pages):
    """Statements per page: "cold", the first view of a list in a session (the capped count
    runs), and "warm", the same page again with the cookie the first answer set (the list
    remembers "more than the cap" in the session, as a browser carries it)."""
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app(app_settings(url))

    def logged_in_client():
        client = app.test_client()
        token = _CSRF_RE.search(client.get("/login/").get_data(as_text=True)).group(1)
        response = client.post("/login/", data={"username": seed.ADMIN_EMAIL,
                                                "password": seed.ADMIN_PASSWORD,
                                                "csrf_token": token})
        assert response.status_code == 302 and "/login" not in response.headers["Location"], \
            "in-process login failed"
        return client

    statements = []
    with app.app_context():
        engine = db.engine

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:300])

    def run(client, path):
        statements.clear()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return {"count": len(statements), "statements": list(statements)}

    out = {}
    logged_in_client().get(LIST_PATH)  # first-request work of the process is not per page
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for name, path in pages.items():
            client = logged_in_client()
            out[name] = {"cold": run(client, path), "warm": run(client, path)}
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        with app.app_context():
            db.engine.dispose()
    return out


# --- where a list request's CPU goes, in-process ----------------------------------------------

_AREAS = (("/pymysql/", "PyMySQL (driver)"), ("MySQLdb", "mysqlclient (driver)"),
          ("/sqlalchemy/", "SQLAlchemy"),
          ("/jinja2/", "Jinja2 runtime"), ("/app/templates/", "templates (compiled)"),
          ("/flask_appbuilder/", "Flask-AppBuilder (templates and security)"),
          ("/werkzeug/", "Werkzeug"), ("/flask/", "Flask"), ("/markupsafe/", "markupsafe"),
          ("babel", "Babel"), ("/flask_login/", "Flask-Login"), ("/app/", "app code"))


def profile_list(url, n):
    """cProfile (CPU time) of ``n`` views of the first page, logged in, with the cookie a
    browser holds (the Flask test client keeps it): own CPU time by part of the stack."""
    import cProfile
    import pstats

    import app.device_ops.views as device_views
    from app import create_app

    app = create_app(app_settings(url))
    client = app.test_client()
    token = _CSRF_RE.search(client.get("/login/").get_data(as_text=True)).group(1)
    client.post("/login/", data={"username": seed.ADMIN_EMAIL, "password": seed.ADMIN_PASSWORD,
                                 "csrf_token": token})
    device_views.MODEL_CHOICES_SECONDS = 10**9  # its once-a-minute refresh is not per page
    for _ in range(30):
        assert client.get(LIST_PATH).status_code == 200
    c0 = time.process_time()
    for _ in range(n):
        client.get(LIST_PATH)
    plain = (time.process_time() - c0) * 1000 / n
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for _ in range(n):
        client.get(LIST_PATH)
    prof.disable()
    stats = pstats.Stats(prof)
    areas = {}
    for (filename, _line, _func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        name = next((a for key, a in _AREAS if key in filename), "other (stdlib, builtins)")
        areas[name] = areas.get(name, 0.0) + tt
    total = stats.total_tt
    print(f"{n} list pages in-process: {plain:.2f} ms CPU each without the profiler "
          f"(load average {loadavg()}); own CPU time by part of the stack:")
    for name, tt in sorted(areas.items(), key=lambda kv: -kv[1]):
        print(f"  {100 * tt / total:5.1f}%  {name}")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(r"/app/|templating", 25)
    pstats.Stats(prof).sort_stats("tottime").print_stats(30)  # the hottest functions, any code
    if os.environ.get("YMCS_PROFILE_CALLERS"):
        pstats.Stats(prof).sort_stats("tottime").print_callers(os.environ["YMCS_PROFILE_CALLERS"])


# --- servers -----------------------------------------------------------------------------------


# --- HTTP --------------------------------------------------------------------------------------


def login(port):
    """Log in like a browser; returns the session cookie header value."""
    status, headers, body = http_get(port, "/login/")
    cookie = _session_cookie(headers, None)
    token = _CSRF_RE.search(body.decode()).group(1)
    form = urllib.parse.urlencode({"username": seed.ADMIN_EMAIL,
                                   "password": seed.ADMIN_PASSWORD, "csrf_token": token})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/login/", body=form, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    conn.close()
    location = response.headers.get("Location", "")
    if response.status != 302 or "/login" in location:
        raise RuntimeError(f"login failed: {response.status} -> {location}")
    return _session_cookie(response.headers, cookie)


def checked_get(port, path, cookie=None):
    status, _, body = http_get(port, path, cookie)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status}")
    return body.decode()


def browser_cookie(port, cookie):
    """The cookie a browser holds after viewing the list once with ``cookie``."""
    status, headers, _ = http_get(port, LIST_PATH, cookie)
    assert status == 200, status
    return _session_cookie(headers, cookie)


def rows_on(html):
    """Device rows on a page (the seeded MACs all start 805ec0; the portal shows them with
    separators, 80:5e:c0:…, the hand-written page bare)."""
    return len(re.findall(r">80:?5e:?c0(?::?[0-9a-f]{2}){3}<", html))


def median_latency_ms(port, path, cookie, samples):
    checked_get(port, path, cookie)  # warm
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        status, _, _ = http_get(port, path, cookie)
        times.append((time.perf_counter() - t0) * 1000)
        assert status == 200, (path, status)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1), "samples": samples}


# --- load --------------------------------------------------------------------------------------


# --- main --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get(
        "BENCH_MARIADB", "mysql+mysqldb://root@127.0.0.1:3306"))
    parser.add_argument("--database", default="ymcs_bench")
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--duration", type=int, default=8, help="seconds per load round")
    parser.add_argument("--rounds", type=int, default=5, help="load rounds per page")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--samples", type=int, default=15, help="requests per latency median")
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument("--out", default=os.path.join(BENCH_DIR, "results", "list.json"))
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="profile N list pages in-process instead of measuring")
    args = parser.parse_args()

    url, root_id = prepare_database(args.server, args.database, args.reseed)
    if args.profile:
        profile_list(url, args.profile)
        return 0
    visible, mid_id = middle_device(url, root_id)
    from app.core.listing import encode_key

    pages = {
        "first": LIST_PATH,
        "middle": f"{LIST_PATH}?after={encode_key((mid_id, mid_id))}",
        "last": f"{LIST_PATH}?last=1",
    }
    print(f"The channel admin sees {visible:,} devices; middle device id {mid_id}.")

    sql = count_statements(url, pages)
    sql_max = max(v[kind]["count"] for v in sql.values() for kind in ("cold", "warm"))
    print("SQL statements per page (first view in a session / again): " + ", ".join(
        f"{k} {v['cold']['count']}/{v['warm']['count']}" for k, v in sql.items()))

    app_port, hand_port = free_port(), free_port()
    common_env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "SCHEDULER_MODE": "off",
                  "AUTH_RATE_LIMIT": "100000 per second", "FAB_UPDATE_PERMS": "0"}
    app_proc = hand_proc = None
    try:
        app_proc = start_gunicorn("app:create_app()", app_port, common_env)
        hand_proc = start_gunicorn("handwritten:app", hand_port,
                                   {**common_env, "BENCH_CHANNEL_ID": str(root_id)},
                                   chdir=BENCH_DIR)
        wait_ready(app_port, "/login/", app_proc)
        wait_ready(hand_port, HAND_PATH, hand_proc)
        cookie = login(app_port)

        # Correctness before speed: both pages show 50 rows; the list's Next link walks on.
        html = checked_get(app_port, LIST_PATH, cookie)
        hand_html = checked_get(hand_port, HAND_PATH)
        assert rows_on(html) == 50, f"list shows {rows_on(html)} rows"
        assert rows_on(hand_html) == 50, "hand-written page is not 50 rows"
        assert 'name="csrf_token"' in html and 'rel="next"' in html
        next_link = re.search(r'href="([^"]*after=[^"]*)" rel="next"', html)
        assert next_link, "no Next link on the first page"
        for name, path in pages.items():
            n = rows_on(checked_get(app_port, path, cookie))
            assert n == 50, f"{name} page shows {n} rows"
        list_bytes, hand_bytes = len(html.encode()), len(hand_html.encode())

        print(f"Latency, median of {args.samples} sequential requests over HTTP:")
        latency = {}
        for name, path in pages.items():
            latency[name] = median_latency_ms(app_port, path, cookie, args.samples)
            print(f"  {name:<7} {latency[name]['median_ms']:7.1f} ms "
                  f"(min {latency[name]['min_ms']}, max {latency[name]['max_ms']})")
        latency["next_link_from_first"] = median_latency_ms(
            app_port, next_link.group(1).replace("&amp;", "&"), cookie, args.samples)
        latency["handwritten"] = median_latency_ms(hand_port, HAND_PATH, None, args.samples)

        use_wrk = shutil.which("wrk") and not args.python_load
        load = run_wrk if use_wrk else run_python_load
        tool = (f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s" if use_wrk
                else f"python client, {args.connections} threads, {args.duration}s")
        print(f"Throughput ({tool}, {args.rounds} alternating rounds, after a warm-up):")
        load(app_port, LIST_PATH, cookie, 3, args.threads, args.connections)
        load(hand_port, HAND_PATH, None, 3, args.threads, args.connections)
        # wrk replays one cookie. A browser keeps the cookie of each answer, in which the
        # list remembers "more than the cap" (LIST_COUNT_CACHE_SECONDS): "list" gets the
        # cookie a browser would hold after viewing the list once, fetched anew before each
        # round; "list_recount" replays the login cookie, so every request counts again.
        kinds = (("list", app_port, LIST_PATH, app_proc),
                 ("list_recount", app_port, LIST_PATH, app_proc),
                 ("handwritten", hand_port, HAND_PATH, hand_proc))
        rounds = {name: [] for name, *_ in kinds}
        for i in range(args.rounds):
            for name, port, path, proc in kinds:
                ck = {"list": lambda: browser_cookie(app_port, cookie),
                      "list_recount": lambda: cookie, "handwritten": lambda: None}[name]()
                before = loadavg()
                cpu0 = cpu_seconds(proc.pid)
                r = load(port, path, ck, args.duration, args.threads, args.connections)
                cpu1 = cpu_seconds(proc.pid)
                r["loadavg_before"] = before
                if r["requests"]:
                    r["worker_cpu_ms_per_request"] = round(
                        (cpu1[0] - cpu0[0]) * 1000 / r["requests"], 2)
                    r["db_cpu_ms_per_request"] = round(
                        (cpu1[1] - cpu0[1]) * 1000 / r["requests"], 2)
                rounds[name].append(r)
                expected = hand_bytes if name == "handwritten" else list_bytes
                if r["non_2xx"] or abs(r["bytes_per_response"] - expected) > expected * 0.2:
                    raise RuntimeError(f"{name} round {i}: unexpected responses {r} "
                                       f"(a 200 page is ~{expected} bytes)")
                print(f"  round {i + 1} {name:<12} {r['rps']:7.1f} req/s  server CPU/request: "
                      f"workers {r.get('worker_cpu_ms_per_request')} ms, "
                      f"MariaDB {r.get('db_cpu_ms_per_request')} ms  (load avg before "
                      f"{before[0]})")
    finally:
        stop(app_proc)
        stop(hand_proc)

    list_rps = statistics.median(r["rps"] for r in rounds["list"])
    recount_rps = statistics.median(r["rps"] for r in rounds["list_recount"])
    hand_rps = statistics.median(r["rps"] for r in rounds["handwritten"])
    ratio = list_rps / hand_rps
    # Each list round runs next to a hand-written one: their ratio shares the background load.
    pair_ratios = [round(a["rps"] / b["rps"], 3)
                   for a, b in zip(rounds["list"], rounds["handwritten"], strict=True)]

    def cpu_per_request(name):
        rs = rounds[name]
        return round(statistics.median(r["worker_cpu_ms_per_request"]
                                       + r["db_cpu_ms_per_request"] for r in rs), 2)

    cpu_ratio = cpu_per_request("handwritten") / cpu_per_request("list")
    recount_pair_ratios = [round(a["rps"] / b["rps"], 3) for a, b in
                           zip(rounds["list_recount"], rounds["handwritten"], strict=True)]
    checks = {
        "ratio": ratio >= TARGETS["ratio_min"],
        "sql": sql_max <= TARGETS["sql_max"],
        **{f"latency_{k}": latency[k]["median_ms"] < TARGETS["latency_ms_max"]
           for k in pages},
    }
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": args.database,
        "devices_visible_to_admin": visible,
        "machine": {"cpus": os.cpu_count(), "loadavg_end": loadavg()},
        "load_tool": tool,
        "rps": {"list": list_rps, "handwritten": hand_rps, "ratio": round(ratio, 3),
                "pair_ratios": pair_ratios,
                "list_recount": recount_rps,
                "ratio_recount": round(recount_rps / hand_rps, 3),
                "recount_pair_ratios": recount_pair_ratios,
                "rounds": rounds},
        "server_cpu_ms_per_request": {
            "list": cpu_per_request("list"), "handwritten": cpu_per_request("handwritten"),
            "list_recount": cpu_per_request("list_recount"),
            "ratio_handwritten_over_list": round(cpu_ratio, 3),
            "note": "gunicorn workers + MariaDB CPU per request (MariaDB's includes any other "
                    "client's queries); unlike req/s, barely moved by other load",
        },
        "page_bytes": {"list": list_bytes, "handwritten": hand_bytes},
        "sql_statements": {"max": sql_max, **sql},
        "latency": latency,
        "targets": TARGETS,
        "passed": checks,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)

    print()
    print(f"list        {list_rps:8.1f} req/s")
    print(f"handwritten {hand_rps:8.1f} req/s")
    print(f"ratio       {ratio:8.3f}   (target >= {TARGETS['ratio_min']})  "
          f"{'OK' if checks['ratio'] else 'MISSED'}   per round: {pair_ratios}")
    print(f"list, counting on every request (stale cookie): {recount_rps:.1f} req/s, ratio "
          f"{recount_rps / hand_rps:.3f}, per round {recount_pair_ratios}")
    print(f"server CPU per request: list {cpu_per_request('list')} ms, recounting "
          f"{cpu_per_request('list_recount')} ms, hand-written "
          f"{cpu_per_request('handwritten')} ms (hand-written/list {cpu_ratio:.3f})")
    print(f"SQL/page    {sql_max:8d}   (target <= {TARGETS['sql_max']})  "
          f"{'OK' if checks['sql'] else 'MISSED'}")
    for k in pages:
        print(f"{k:<11} {latency[k]['median_ms']:8.1f} ms (target < "
              f"{TARGETS['latency_ms_max']:.0f})  {'OK' if checks[f'latency_{k}'] else 'MISSED'}")
    print(f"results: {os.path.relpath(args.out, REPO)}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
