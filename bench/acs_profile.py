"""In-process profile of the ACS's periodic sessions (``bench/bench_acs.py --profile N``): the
WSGI app called directly, no HTTP layer, under cProfile measuring CPU time; the statements a
session sends; best-of-3 timings of its parts. Split from bench_acs.py, which prepares the
database and calls ``profile``."""

import random
import sys
import time

from bench_acs import REPO, SECRET, basic_auth, inform_xml
from common import loadavg


def _area(filename):
    """Which part of the stack a profiled function belongs to."""
    f = filename.replace("\\", "/")
    for key, name in (("/pymysql/", "pymysql (driver)"), ("MySQLdb", "mysqlclient (driver)"),
                      ("/sqlalchemy/", "SQLAlchemy"),
                      ("/werkzeug/", "Werkzeug"), ("/itsdangerous/", "itsdangerous (cookie)"),
                      ("/defusedxml/", "XML parse"), ("xml/etree", "XML parse"),
                      ("pyexpat", "XML parse"), ("/app/", "app code"),
                      ("/bench/", "bench driver (not the server)"), ("socket", "socket I/O")):
        if key in f:
            return name
    return "other (stdlib, builtins)"


def components(app, authorization, n):
    """Best-of-3 timings of the pieces of a periodic session, without the profiler's overhead:
    CPU-only steps in microseconds of this process, database steps in wall time."""
    import timeit

    from sqlalchemy import text

    from app.device_ops import auth, identity, inventory, soap

    acs = app.extensions["ymcs_acs"]
    body = inform_xml(n, "components")
    message = soap.parse(body)
    inform = soap.parse_inform(message)
    state = {"d": n, "n": message.ns, "r": "Device", "w": False, "m": False, "c": None,
             "p": None}
    cookie = acs.signer.dumps(state)
    mac = identity.mac_of(inform)

    def best(fn, number):
        fn()
        return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e6

    rows = [("soap.parse of the Inform (defusedxml)", best(lambda: soap.parse(body), 2000)),
            ("soap.parse_inform + identity.mac_of",
             best(lambda: identity.mac_of(soap.parse_inform(message)), 2000)),
            ("auth.check_authorization, Basic", best(lambda: auth.check_authorization(
                authorization, "POST", SECRET, lambda u: "x"), 2000)),
            ("signer.dumps(state): the Set-Cookie value", best(
                lambda: acs.signer.dumps(state), 2000)),
            ("signer.loads(cookie): the empty POST", best(
                lambda: acs.signer.loads(cookie, max_age=600), 2000))]
    with acs.fast.connect() as conn:
        row = conn.execute(identity.BY_MAC, {"mac": mac}).first()
        rows += [
            ("SELECT 1 (one MariaDB round trip), wall",
             best(lambda: conn.execute(text("SELECT 1")).all(), 500)),
            ("identity.BY_MAC by MAC, wall",
             best(lambda: conn.execute(identity.BY_MAC, {"mac": mac}).first(), 500)),
            ("inventory.record_inform: UPDATE device + INSERT device_sample, wall",
             best(lambda: inventory.record_inform(conn, row, row.id, inform, "127.0.0.1"),
                  300))]
    rows.append(("acs.fast.connect() + close (pool checkout, ROLLBACK on return), wall",
                 best(lambda: acs.fast.connect().close(), 500)))
    print(f"\nComponent timings (best of 3; load average {loadavg()}):")
    for label, us in rows:
        print(f"  {us:8.1f} us  {label}")


def profile(url, enterprise_id, password, devices, n, top):
    """n sessions through the WSGI app in this process (as gunicorn calls it, without the
    HTTP layer) against MariaDB: wall and CPU time per session, then a cProfile measuring CPU
    time (time.process_time), so waits for MariaDB do not count: the top functions and the
    CPU by part of the stack. Also counts the statements each session sends MariaDB."""
    import cProfile
    import io
    import pstats

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                      "SCHEDULER_MODE": "off"})
    wsgi = app.wsgi_app
    authorization = basic_auth(enterprise_id, password)

    def call(body, headers):
        environ = {"REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/acs",
                   "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
                   "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
                   "HTTP_HOST": "127.0.0.1:8000", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
                   "wsgi.multithread": False, "wsgi.multiprocess": True,
                   "wsgi.run_once": False, "wsgi.version": (1, 0),
                   "CONTENT_LENGTH": str(len(body)), **headers}
        out = {}

        def start_response(status, response_headers, exc_info=None):
            out["status"] = status
            out["headers"] = response_headers

        chunks = wsgi(environ, start_response)
        data = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return out["status"], out["headers"], data

    start = random.randrange(devices)
    bodies = {}

    def session(k):
        dev = (start + k) % devices + 1
        status, headers, _ = call(bodies[k], {
            "HTTP_AUTHORIZATION": authorization, "CONTENT_TYPE": 'text/xml; charset="utf-8"'})
        assert status.startswith("200"), status
        cookie = next(v for h, v in headers if h == "Set-Cookie").split(";")[0]
        status, _, _ = call(b"", {"HTTP_COOKIE": cookie})
        assert status.startswith("204"), (dev, status)

    plain_n = min(n, 1000)
    for k in range(51 + plain_n + n):  # built before timing: the device's side of it
        bodies[k] = inform_xml((start + k) % devices + 1, f"p-{k}")
    for k in range(50):  # warm-up: connections, compiled statements
        session(k)

    commands = []
    # the driver's own send of a statement, whichever driver the URL names
    if "pymysql" in url:
        import pymysql.connections as module
        owner, name = module.Connection, "_execute_command"
    else:
        import MySQLdb.cursors as module
        owner, name = module.BaseCursor, "_query"
    original = getattr(owner, name)

    def counted(self, *args):
        sql = args[-1]
        commands.append(sql if isinstance(sql, str) else sql.decode(errors="replace"))
        return original(self, *args)

    setattr(owner, name, counted)
    try:
        session(50)
    finally:
        setattr(owner, name, original)
    print(f"MariaDB round trips in one periodic session: {len(commands)}")
    for sql in commands:
        print(f"  {' '.join(sql.split())[:110]}")

    w0, c0 = time.perf_counter(), time.process_time()
    for k in range(51, 51 + plain_n):
        session(k)
    wall = (time.perf_counter() - w0) / plain_n
    cpu = (time.process_time() - c0) / plain_n
    print(f"In-process, no HTTP layer, {plain_n} sessions: {wall * 1000:.2f} ms wall, "
          f"{cpu * 1000:.2f} ms CPU of this process per session (the rest waits for MariaDB); "
          f"load average {loadavg()}")

    components(app, authorization, start % devices + 1)

    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for k in range(51 + plain_n, 51 + plain_n + n):
        session(k)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    areas = {}
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        where = _area(filename if filename != "~" else func)
        areas[where] = areas.get(where, 0.0) + tt
    print(f"\ncProfile, CPU time (process_time), {n} sessions: {total * 1000 / n:.2f} ms CPU "
          "per session under the profiler. Own CPU time by part of the stack:")
    for where, tt in sorted(areas.items(), key=lambda kv: -kv[1]):
        print(f"  {100 * tt / total:5.1f}%  {where}")
    for key, title in (("tottime", "own CPU time"), ("cumulative", "cumulative CPU time")):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
        print(f"\nTop {top} by {title} (% of all profiled CPU):")
        lines = buf.getvalue().splitlines()
        head = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        print(f"{'%':>5}  " + lines[head])
        for line in lines[head + 1:]:
            if not line.strip():
                continue
            parts = line.split()
            sec = float(parts[1] if key == "tottime" else parts[3])
            print(f"{100 * sec / total:5.1f}  {line.replace(REPO + '/', '')}")
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    app.extensions["ymcs_acs"].fast.dispose()
