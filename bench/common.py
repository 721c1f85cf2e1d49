"""What the benchmarks share: free ports, gunicorn started and stopped, plain HTTP GETs and
logins' cookies, wrk rounds (or a Python fallback), the load average and CPU seconds read from
/proc. Each bench_*.py script keeps only its own scenario."""

import http.client
import os
import re
import socket
import subprocess
import threading
import time
from http.cookies import SimpleCookie

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(target, port, env_extra, chdir=REPO):
    env = {**os.environ, **env_extra}
    cmd = [os.path.join(REPO, ".venv", "bin", "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
           "--chdir", chdir, "--log-level", "warning", "--timeout", "120", target]
    return subprocess.Popen(cmd, cwd=REPO, env=env)


def wait_ready(port, path, proc, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn on {port} exited with {proc.returncode}")
        try:
            status, _, _ = http_get(port, path)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn on {port} not ready after {timeout}s")


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def http_get(port, path, cookie=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, response.headers, body


def _session_cookie(headers, current):
    for value in headers.get_all("Set-Cookie") or []:
        jar = SimpleCookie()
        jar.load(value)
        if "session" in jar:
            return f"session={jar['session'].value}"
    return current


_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")


_WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(m?s|m), ([\d.]+)([KMG]?B) read")


_WRK_ERR = re.compile(r"Non-2xx or 3xx responses: (\d+)")


_UNIT = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def run_wrk(port, path, cookie, seconds, threads, connections):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    rps = float(_WRK_RPS.search(out).group(1))
    total = _WRK_TOTAL.search(out)
    requests = int(total.group(1))
    read = float(total.group(4)) * _UNIT[total.group(5)]
    errors = _WRK_ERR.search(out)
    return {"rps": rps, "requests": requests,
            "bytes_per_response": round(read / requests) if requests else 0,
            "non_2xx": int(errors.group(1)) if errors else 0}


def run_python_load(port, path, cookie, seconds, threads, connections):
    """Fallback load generator: `connections` threads, one request at a time each."""
    deadline = time.monotonic() + seconds
    counts, sizes, errors = [0] * connections, [0] * connections, [0] * connections

    def worker(i):
        while time.monotonic() < deadline:
            status, _, body = http_get(port, path, cookie)
            counts[i] += 1
            sizes[i] += len(body)
            errors[i] += status != 200

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    n = sum(counts)
    return {"rps": round(n / elapsed, 2), "requests": n,
            "bytes_per_response": round(sum(sizes) / n) if n else 0, "non_2xx": sum(errors)}


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK  # ppid, utime+stime


def _all_stats():
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                out[int(entry)] = _stat(entry)
            except (OSError, ValueError, IndexError):
                pass
    return out


def cpu_seconds(master_pid):
    """CPU seconds used so far by a gunicorn master's workers and by the MariaDB server (the
    latter is shared with anything else using it on this machine)."""
    stats = _all_stats()
    workers = sum(cpu for pid, (ppid, cpu) in stats.items() if ppid == master_pid)
    db = 0.0
    for pid in stats:
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() in ("mariadbd", "mysqld"):
                    db += stats[pid][1]
        except OSError:
            pass
    return workers, db


def log_since(msg, started):
    """A progress line with the seconds since ``started`` (time.monotonic())."""
    print(f"  [{time.monotonic() - started:6.1f}s] {msg}", flush=True)


def prepare_seeded_database(server, name, reseed, settings, state_of, seed, describe):
    """Create the MariaDB database ``name`` on ``server`` (dropped first with ``reseed``),
    migrate it and sync the roles, then seed it once. ``state_of(conn)`` says "seeded",
    "partial" (an interrupted seed: the database is rebuilt rather than guessed at) or
    anything else (empty); ``seed(app)`` fills it; ``describe`` names what it seeds.
    Returns the database URL."""
    import flask_migrate
    import sqlalchemy

    engine = sqlalchemy.create_engine(server)
    with engine.begin() as conn:
        if reseed:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4")
    url = f"{server}/{name}?charset=utf8mb4"
    db_engine = sqlalchemy.create_engine(url)
    with db_engine.connect() as conn:
        state = state_of(conn)
    db_engine.dispose()
    if state == "partial":
        print(f"Found a partial seed in {name}; rebuilding it.")
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")
            conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    engine.dispose()

    from app import create_app
    from app.extensions import db

    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        app.appbuilder.sm.sync_roles()
        if state == "seeded":
            print(f"Database {name} already seeded; skipping the seed (--reseed rebuilds it).")
        else:
            print(f"Seeding {name}: {describe} ...")
            t0 = time.monotonic()
            seed(app)
            print(f"Seeded in {time.monotonic() - t0:.0f}s.")
        db.session.remove()
        db.engine.dispose()
    return url
