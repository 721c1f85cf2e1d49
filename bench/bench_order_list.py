"""Benchmark of the order and statement lists at 1M orders / 10k enterprises (not a test: run
it by hand). Target (the order list's issue): any page opens in under 150 ms on MariaDB.

    .venv/bin/python bench/bench_order_list.py             # seeds ymcs_bench_orders once
    .venv/bin/python bench/bench_order_list.py --reseed    # drop and rebuild it first
    .venv/bin/python bench/bench_order_list.py --only big --lists orders --pages 'q_*'
    .venv/bin/python bench/bench_order_list.py --proposed-indexes add   # or drop (see below)

Indexes: the list machinery picks its index hints from the models' metadata, so indexes the
benchmark database has and the models do not declare (added by hand, or by
``--proposed-indexes add``: PROPOSED_INDEXES, which no migration creates yet) are declared to
the app in this process and in the gunicorn workers (``bench_app``) before measuring; the
run prints and records which.

What it does, in one run:
1. creates the MariaDB database ``ymcs_bench_orders``, builds the schema with the migrations,
   syncs the roles and seeds it (bench/seed_orders.py) unless a previous run did;
2. for three principals (the platform admin; the admin of a channel whose subtree holds ~91%
   of the orders; the admin of a leaf channel with ~0.9%) builds the pages to time on
   /ordermodelview/list/ and /statementmodelview/list/: first, next, middle (keyset cursor at
   the middle visible row of the sort), last page, each sort both ways, each status, searches
   (order ID, enterprise name prefix matching one / a few / a tenth of the enterprises,
   reseller, nothing), an expiration and an order-time range, and one combination;
3. counts the SQL statements of every page in-process (Flask test client, a cursor listener
   on db.engine, freshly logged in, so the capped count runs: the first view of a list in a
   session) and the time of its slowest statement;
4. serves the real app (``app:create_app()``) and a hand-written page (the platform admin's
   first 50 orders, same LEFT JOINs, one Jinja table: bench/order_list_baseline.py) with
   gunicorn, 2 workers each, on 127.0.0.1, and times every page over HTTP in several rounds,
   each round timing the hand-written page too, replaying the login cookie (so the count runs
   on every request, the worse case: a browser's cookie remembers "more than 10,000" for 60 s);
5. prints a table (median and worst ms per page, SQL statements, ratio against the
   hand-written page) and writes bench/results/order_list.json.

Exits non-zero only when setup fails (database, server, login, a page that is not a 200);
pages over the target are findings, printed and recorded, not failures.
"""

import argparse
import fnmatch
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, REPO)
sys.path.insert(0, BENCH_DIR)

import seed_orders  # noqa: E402  (bench/seed_orders.py, next to this file)
from order_list_baseline import HAND_PATH, HELLO_PATH  # noqa: E402
from order_list_pages import LISTS, build_pages, principals  # noqa: E402

TARGET_MS = 150.0
# A fresh key per run: create_app refuses a known one, and a server left running must not
# accept cookies anyone could sign.
SECRET = secrets.token_hex(32)
HTTP_TIMEOUT = 60  # seconds (bench_list.http_get's)


# --- database ----------------------------------------------------------------------------------


def app_settings(url):
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "SCHEDULER_MODE": "off",
            "AUTH_RATE_LIMIT": "100000 per second"}


def prepare_database(server, name, reseed):
    """Create, migrate, sync roles and seed (once); returns the database URL."""
    from common import prepare_seeded_database

    def state_of(conn):
        if seed_orders.database_is_seeded(conn):
            return "seeded"
        return "partial" if seed_orders.has_tables(conn, name) else "empty"

    return prepare_seeded_database(
        server, name, reseed, app_settings(None), state_of, seed_orders.seed,
        f"{seed_orders.ENTERPRISES:,} enterprises, {seed_orders.ORDERS:,} orders")


def database_facts(conn, schema):
    """What the timings depend on besides the code: the server and how much of the table fits
    in its buffer pool."""
    from sqlalchemy import text

    row = conn.execute(text(
        "SELECT VERSION() AS version, @@innodb_buffer_pool_size DIV 1048576 AS pool, "
        "(SELECT (data_length + index_length) DIV 1048576 FROM information_schema.tables "
        "WHERE table_schema = :s AND table_name = 'service_order') AS orders"),
        {"s": schema}).one()
    indexes = [r[0] for r in conn.execute(text(
        "SELECT DISTINCT index_name FROM information_schema.statistics "
        "WHERE table_schema = :s AND table_name = 'service_order' ORDER BY 1"), {"s": schema})]
    return {"version": row.version, "buffer_pool_mb": int(row.pool),
            "service_order_mb": int(row.orders or 0), "service_order_indexes": indexes}


# Indexes this benchmark found missing (bench/README figures; the migration is not written
# here): --proposed-indexes add|drop creates or drops them in the benchmark database.
PROPOSED_INDEXES = {
    "ix_service_order_status_id": ("status", "id"),
    "ix_service_order_status_created": ("status", "created_on", "id"),
}


def set_proposed_indexes(url, mode):
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        have = {r[0] for r in conn.exec_driver_sql(
            "SELECT DISTINCT index_name FROM information_schema.statistics WHERE "
            "table_schema = DATABASE() AND table_name = 'service_order'")}
        for name, cols in PROPOSED_INDEXES.items():
            if mode == "add" and name not in have:
                print(f"Adding index {name} {cols} ...", flush=True)
                conn.exec_driver_sql(
                    f"ALTER TABLE service_order ADD INDEX {name} ({', '.join(cols)})")
            elif mode == "drop" and name in have:
                print(f"Dropping index {name} ...", flush=True)
                conn.exec_driver_sql(f"ALTER TABLE service_order DROP INDEX {name}")
    engine.dispose()


def declare_hand_indexes(url):
    """Tell the app's metadata about the indexes of service_order that the database has and
    the models do not declare (added by hand to try them): the list machinery chooses its
    index hints from the metadata, as it will once a migration and the model add them."""
    import sqlalchemy
    from sqlalchemy import Index

    from app.models import Order

    table = Order.__table__
    declared = {ix.name for ix in table.indexes}
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT index_name, column_name FROM information_schema.statistics WHERE "
            "table_schema = DATABASE() AND table_name = 'service_order' "
            "AND index_name LIKE 'ix\\_%%' ORDER BY index_name, seq_in_index").all()
    engine.dispose()
    found = {}
    for name, column in rows:
        found.setdefault(name, []).append(column)
    added = []
    for name, cols in found.items():
        if name not in declared:
            Index(name, *[table.c[c] for c in cols])
            added.append(f"{name} ({', '.join(cols)})")
    return added


def bench_app():
    """The app as gunicorn serves it here (``bench_order_list:bench_app()``): the real
    ``create_app()``, after declaring the hand-added indexes (declare_hand_indexes)."""
    declare_hand_indexes(os.environ["DATABASE_URL"])
    from app import create_app

    return create_app()


# --- SQL statements per page, in-process ------------------------------------------------------

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def count_statements(url, users, pages):
    """{principal: {list: {page: (statements, slowest statement ms, its text)}}} for the
    first view of each page in a fresh session (the capped count runs)."""
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app(app_settings(url))

    def logged_in_client(username):
        client = app.test_client()
        token = _CSRF_RE.search(client.get("/login/").get_data(as_text=True)).group(1)
        response = client.post("/login/", data={"username": username,
                                                "password": seed_orders.PASSWORD,
                                                "csrf_token": token})
        assert response.status_code == 302 and "/login" not in response.headers["Location"], \
            f"in-process login of {username} failed"
        return client

    statements = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("_bench_t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        elapsed = (time.perf_counter() - conn.info["_bench_t0"].pop()) * 1000
        statements.append((elapsed, " ".join(statement.split())))

    out = {}
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for who, per_list in pages.items():
            out[who] = {}
            login_cookie = logged_in_client(users[who]).get_cookie("session").value
            for lst, named in per_list.items():
                client = logged_in_client(users[who])
                client.get(LISTS[lst])  # first-request work of the process is not per page
                out[who][lst] = {}
                for page, path in named.items():
                    # The cookie of a fresh login: nothing remembered, the count runs.
                    client = app.test_client()
                    client.set_cookie("session", login_cookie)
                    statements.clear()
                    response = client.get(path)
                    if response.status_code != 200:
                        raise RuntimeError(f"in-process GET {path} as {who}: "
                                           f"{response.status_code}")
                    slowest = max(statements)
                    out[who][lst][page] = {"count": len(statements),
                                           "slowest_ms": round(slowest[0], 1),
                                           "slowest_sql": slowest[1][:600]}
                    if slowest[0] >= TARGET_MS:
                        print(f"  slow statement: {who} {lst} {page}: {slowest[0]:.0f} ms: "
                              f"{slowest[1][:300]}", flush=True)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        with app.app_context():
            db.engine.dispose()
    return out


# --- HTTP --------------------------------------------------------------------------------------


def login(port, username):
    """Log in like a browser; returns the session cookie header value."""
    import http.client

    from common import _session_cookie, http_get

    status, headers, body = http_get(port, "/login/")
    cookie = _session_cookie(headers, None)
    token = _CSRF_RE.search(body.decode()).group(1)
    form = urllib.parse.urlencode({"username": username, "password": seed_orders.PASSWORD,
                                   "csrf_token": token})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/login/", body=form, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    conn.close()
    location = response.headers.get("Location", "")
    if response.status != 302 or "/login" in location:
        raise RuntimeError(f"login of {username} failed: {response.status} -> {location}")
    return _session_cookie(response.headers, cookie)


_ROW_RE = re.compile(r'href="/(?:order|statement)modelview/show/(\d+)"')
_COUNT_RE = re.compile(r'class="ymcs-count[^>]*>\s*([^<]*?)\s*</span>')


def timed_get(port, path, cookie):
    from common import http_get

    t0 = time.perf_counter()
    status, _, body = http_get(port, path, cookie)
    ms = (time.perf_counter() - t0) * 1000
    if status != 200:
        raise RuntimeError(f"GET {path}: {status}")
    return ms, body.decode()


def sample(port, path, cookie, n):
    """``n`` timed sequential requests (fewer when one takes over a second; a request that
    times out counts as HTTP_TIMEOUT seconds)."""
    times = []
    for i in range(n):
        try:
            ms, _ = timed_get(port, path, cookie)
        except TimeoutError:
            times.append(HTTP_TIMEOUT * 1000.0)
            break
        times.append(ms)
        if ms > 1000 and i >= 1:
            break
    return times


# --- main --------------------------------------------------------------------------------------


def hello_world_rps(port):
    """The machine's figure (to compare runs on different machines): hello world requests/s
    on the hand-written app's gunicorn, with wrk; None without wrk."""
    from common import run_wrk

    try:
        return run_wrk(port, HELLO_PATH, None, 5, 2, 8)["rps"]
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get(
        "BENCH_MARIADB", "mysql+mysqldb://root@127.0.0.1:3306"))
    parser.add_argument("--database", default="ymcs_bench_orders")
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop")
    parser.add_argument("--proposed-indexes", choices=("keep", "add", "drop"), default="keep",
                        help="add or drop the indexes this benchmark proposes "
                             "(PROPOSED_INDEXES) before measuring; keep: as the database is")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every page")
    parser.add_argument("--samples", type=int, default=5, help="requests per page per round")
    parser.add_argument("--only", default="platform,big,small", help="principals to time")
    parser.add_argument("--lists", default="orders,statements")
    parser.add_argument("--pages", default="*", help="fnmatch pattern(s), comma-separated")
    parser.add_argument("--no-sql", action="store_true", help="skip the statement counts")
    parser.add_argument("--baseline-env", default="",
                        help="KEY=VALUE,...: also serve the app with these settings (e.g. "
                             "LIST_SEARCH_COUNT_CAP=10000, the code before issue 19) and time "
                             "every page on both servers, alternating, in the same rounds")
    parser.add_argument("--out", default=os.path.join(BENCH_DIR, "results", "order_list.json"))
    args = parser.parse_args()

    from common import free_port, loadavg, start_gunicorn, stop, wait_ready

    # A plain kill (SIGTERM) unwinds like Ctrl-C, so the gunicorn servers are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    try:
        url = prepare_database(args.server, args.database, args.reseed)
        if args.proposed_indexes != "keep":
            set_proposed_indexes(url, args.proposed_indexes)
        if args.seed_only:
            return 0
        hand_indexes = declare_hand_indexes(url)
        who = args.only.split(",")
        lists = args.lists.split(",")
        patterns = args.pages.split(",")
        pages, visible = build_pages(
            url, who, lambda page: any(fnmatch.fnmatch(page, p) for p in patterns))
        pages = {w: {lst: {k: v for k, v in named.items()
                           if any(fnmatch.fnmatch(k, p) for p in patterns)}
                     for lst, named in per_list.items() if lst in lists}
                 for w, per_list in pages.items()}
        import sqlalchemy

        engine = sqlalchemy.create_engine(url)
        with engine.connect() as conn:
            described = principals(conn)
            server = database_facts(conn, args.database)
        engine.dispose()
        server["indexes_not_in_migrations"] = hand_indexes
        print(f"MariaDB {server['version']}: buffer pool {server['buffer_pool_mb']} MB, "
              f"service_order {server['service_order_mb']} MB (data + indexes); indexes "
              f"added by hand (declared to the app): {hand_indexes or 'none'}")
        users = {w: described[w][0] for w in who}
        for w in who:
            print(f"{w:<9} {described[w][2]}: sees {visible[w]:,} orders")
    except Exception as error:  # setup failed: say so, exit non-zero
        print(f"setup failed: {error!r}", file=sys.stderr)
        raise

    sql = {}
    if not args.no_sql:
        t0 = time.monotonic()
        sql = count_statements(url, users, pages)
        print(f"SQL statements counted in-process ({time.monotonic() - t0:.0f}s).")

    app_port, hand_port = free_port(), free_port()
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "SCHEDULER_MODE": "off",
           "AUTH_RATE_LIMIT": "100000 per second", "FAB_UPDATE_PERMS": "0"}
    app_proc = hand_proc = base_proc = None
    base_env = dict(kv.split("=", 1) for kv in args.baseline_env.split(",") if kv)
    base_port = free_port() if base_env else None
    before_times = {w: {lst: {p: [] for p in named} for lst, named in per_list.items()}
                    for w, per_list in pages.items()}
    times = {w: {lst: {p: [] for p in named} for lst, named in per_list.items()}
             for w, per_list in pages.items()}
    base_times = {"handwritten": [], "hello": []}
    shown = {}
    loads = []
    try:
        app_proc = start_gunicorn("bench_order_list:bench_app()", app_port, env,
                                  chdir=BENCH_DIR)
        hand_proc = start_gunicorn("order_list_baseline:handwritten_app()", hand_port, env,
                                   chdir=BENCH_DIR)
        if base_env:
            base_proc = start_gunicorn("bench_order_list:bench_app()", base_port,
                                       {**env, **base_env}, chdir=BENCH_DIR)
            wait_ready(base_port, "/login/", base_proc)
            base_cookies = {w: login(base_port, users[w]) for w in who}
        wait_ready(app_port, "/login/", app_proc)
        wait_ready(hand_port, HELLO_PATH, hand_proc)
        cookies = {w: login(app_port, users[w]) for w in who}

        # Correctness first: every page is a 200; what it shows is recorded.
        for w, per_list in pages.items():
            for lst, named in per_list.items():
                for page, path in named.items():
                    _ms, html = timed_get(app_port, path, cookies[w])  # also warms the page
                    count = _COUNT_RE.search(html)
                    shown[(w, lst, page)] = (len(_ROW_RE.findall(html)),
                                             count.group(1) if count else "?")
        _ms, hand_html = timed_get(hand_port, HAND_PATH, None)
        assert hand_html.count("<tr><td>") == 50, "hand-written page is not 50 rows"
        first = shown.get(("platform", "orders", "first"))
        assert first is None or first[0] == 50, f"first page shows {first}"
    except Exception as error:
        stop(app_proc)
        stop(hand_proc)
        stop(base_proc)
        print(f"setup failed: {error!r}", file=sys.stderr)
        raise

    pool_engine = sqlalchemy.create_engine(url)

    def pool_reads():
        """InnoDB reads that missed the buffer pool, server-wide (other databases' work
        included): row-reading plans slow down when the table does not stay cached."""
        with pool_engine.connect() as conn:
            return int(conn.exec_driver_sql(
                "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_reads'").one()[1])

    misses = []
    try:
        for r in range(args.rounds):
            load = loadavg()
            loads.append(load)
            t0 = time.monotonic()
            reads0 = pool_reads()
            for w, per_list in pages.items():
                for lst, named in per_list.items():
                    base_times["handwritten"] += sample(hand_port, HAND_PATH, None, args.samples)
                    base_times["hello"] += sample(hand_port, HELLO_PATH, None, args.samples)
                    for page, path in named.items():
                        servers = [(app_port, cookies, times)]
                        if base_env:  # alternating which goes first
                            servers.insert(r % 2, (base_port, base_cookies, before_times))
                        for port, cookie_of, into in servers:
                            into[w][lst][page] += sample(port, path, cookie_of[w],
                                                         args.samples)
            misses.append(pool_reads() - reads0)
            print(f"round {r + 1}/{args.rounds}: {time.monotonic() - t0:.0f}s "
                  f"(load average before: {load}; buffer pool misses: {misses[-1]:,})",
                  flush=True)
        hello_rps = hello_world_rps(hand_port)
    finally:
        stop(app_proc)
        stop(hand_proc)
        stop(base_proc)
        pool_engine.dispose()
    loads.append(loadavg())

    hand_ms = statistics.median(base_times["handwritten"])
    hello_ms = statistics.median(base_times["hello"])
    rows, over = [], []
    for w, per_list in times.items():
        for lst, named in per_list.items():
            for page, ts in named.items():
                med, worst = statistics.median(ts), max(ts)
                s = sql.get(w, {}).get(lst, {}).get(page, {})
                row = {"principal": w, "list": lst, "page": page, "path": pages[w][lst][page],
                       "median_ms": round(med, 1), "worst_ms": round(worst, 1),
                       "samples": len(ts), "x_handwritten": round(med / hand_ms, 1),
                       "rows_shown": shown[(w, lst, page)][0],
                       "count_shown": shown[(w, lst, page)][1],
                       "sql_statements": s.get("count"), "slowest_sql_ms": s.get("slowest_ms"),
                       "slowest_sql": s.get("slowest_sql")}
                if base_env:
                    before = before_times[w][lst][page]
                    row["baseline_median_ms"] = round(statistics.median(before), 1)
                    row["baseline_worst_ms"] = round(max(before), 1)
                    row["x_baseline"] = round(med / statistics.median(before), 2)
                rows.append(row)
                if med >= TARGET_MS or worst >= TARGET_MS:
                    over.append(row)

    print()
    print(f"Baseline (same run, same server settings): hand-written 50-order page "
          f"{hand_ms:.1f} ms, hello world {hello_ms:.1f} ms (medians of "
          f"{len(base_times['handwritten'])}). x hand = page median / hand-written median.")
    print(f"The machine: hello world on the same gunicorn (2 workers), wrk 2 threads 8 "
          f"connections 5 s: {hello_rps if hello_rps is not None else '-'} requests/s.")
    header = (f"{'who':<8} {'list':<10} {'page':<30} {'median':>7} {'worst':>7} {'x hand':>6} "
              f"{'SQL':>3} {'slowest':>7}  {'rows':>4}  shown")
    print(header)
    print("-" * len(header))
    for row in rows:
        flag = " <-- over 150 ms" if row in over else ""
        if base_env:
            flag += (f"   [baseline {row['baseline_median_ms']} / {row['baseline_worst_ms']} ms,"
                     f" x{row['x_baseline']}]")
        print(f"{row['principal']:<8} {row['list']:<10} {row['page']:<30} "
              f"{row['median_ms']:7.1f} {row['worst_ms']:7.1f} {row['x_handwritten']:6.1f} "
              f"{row['sql_statements'] if row['sql_statements'] is not None else '-':>3} "
              f"{row['slowest_sql_ms'] if row['slowest_sql_ms'] is not None else '-':>7}  "
              f"{row['rows_shown']:>4}  {row['count_shown']}{flag}")
    medians = [row["median_ms"] for row in rows]
    print()
    print(f"{len(rows)} pages; median of the page medians {statistics.median(medians):.1f} ms, "
          f"slowest median {max(medians):.1f} ms, worst single request "
          f"{max(row['worst_ms'] for row in rows):.1f} ms; "
          f"{len(over)} page(s) at or over {TARGET_MS:.0f} ms (median or worst).")
    print(f"load average before each round / at the end: {loads}")
    print(f"InnoDB buffer pool misses per round (server-wide): {misses}; buffer pool "
          f"{server['buffer_pool_mb']} MB for a {server['service_order_mb']} MB service_order")

    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": args.database,
        "orders_visible": visible,
        "machine": {"cpus": os.cpu_count(), "loadavg": loads},
        "server": server,
        "rounds": args.rounds, "samples_per_round": args.samples,
        "buffer_pool_misses_per_round": misses,
        "baseline_ms": {"handwritten": round(hand_ms, 2), "hello": round(hello_ms, 2)},
        "hello_world_rps": hello_rps,
        "baseline_env": base_env,
        "target_ms": TARGET_MS,
        "pages": rows,
        "over_target": [(r["principal"], r["list"], r["page"]) for r in over],
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2, default=str)
    print(f"results: {os.path.relpath(args.out, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
