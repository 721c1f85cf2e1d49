"""A big export's writer, in a lean process of its own: SQLAlchemy, the database driver and
openpyxl, no Flask app.

The scheduler's process holds the whole application (Flask-AppBuilder alone is 73 MB; the
process is ~112 MB before any export starts). Writing 1,000,000 rows there kept it at 115 MB;
this process peaks far lower (figures in README "Performance"). The app's worker thread
still decides everything a tenant may see: it counts the rows, builds the query (scope,
criteria, order) and the columns, compiles the query with its parameters kept apart (as
app/exports/reader.py does) and hands this process a description on stdin (never on the
command line: it carries the database password). This process then, for that one job:
beats the heartbeat (rows_done, heartbeat_at, once a second, over a connection of its own),
streams the rows (on MariaDB through the reader process, elsewhere a server-side cursor),
converts the date columns, writes the ".part" file, renames it and marks the job done, or
failed with the error the app translates later. It prints one JSON line: what it did and its
own peak RSS.

Run as a script (``python -P writer.py``), it registers empty stand-ins for the ``app``
packages, so that ``app.exports.xlsx``, ``app.exports.reader`` and ``app.core.clock`` load
without ``app/__init__.py`` (which imports Flask). Those three import nothing of Flask;
tests/exports/test_lean_writer.py checks the process's modules.
"""

import json
import logging
import os
import pickle
import subprocess
import sys
import threading
import types

_HERE = os.path.dirname(os.path.abspath(__file__))


def _stand_in_packages():
    """Empty ``app``, ``app.core`` and ``app.exports`` packages pointing at their folders."""
    root = os.path.dirname(_HERE)
    for name, path in (("app", root), ("app.core", os.path.join(root, "core")),
                       ("app.exports", _HERE)):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package


if __name__ == "__main__":
    _stand_in_packages()

import sqlalchemy as sa  # noqa: E402  (after the stand-ins, when run as a script)

from app.core.clock import utcnow  # noqa: E402
from app.exports import reader as export_reader  # noqa: E402
from app.exports.xlsx import Column, row_converter, write_xlsx  # noqa: E402

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0  # the progress page polls once a second
YIELD_PER = 2000  # rows fetched per round trip
MAX_ERROR_CHARS = 500

# The columns of export_job this process reads and writes (app/models.py's ExportJob; the
# status as its stored string). Its own metadata: no model, no Flask-SQLAlchemy.
_jobs = sa.Table(
    "export_job", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(32)),
    sa.Column("rows_total", sa.BigInteger),
    sa.Column("rows_done", sa.BigInteger),
    sa.Column("file_name", sa.String(255)),
    sa.Column("error", sa.String(500)),
    sa.Column("heartbeat_at", sa.DateTime),
    sa.Column("finished_on", sa.DateTime),
)
RUNNING, DONE, FAILED_STATUS, QUEUED = "running", "done", "failed", "queued"


class ExportCancelled(Exception):
    """The job stopped being ours while it ran (marked failed, or deleted)."""


class LeanWriterError(RuntimeError):
    """The writer process ended without saying what became of the job (killed, crashed)."""


# --- status transitions (nothing else writes the status column) ----------------------------


def finish_export(conn, job_id, file_name, rows, now=None):
    """running -> done with its file; False when the job stopped being running meanwhile."""
    now = now or utcnow()
    return conn.execute(
        sa.update(_jobs).where(_jobs.c.id == job_id, _jobs.c.status == RUNNING)
        .values(status=DONE, file_name=file_name, rows_done=rows, rows_total=rows,
                heartbeat_at=now, finished_on=now)).rowcount == 1


def fail_export(conn, job_id, template, detail="", now=None):
    """queued or running -> failed, with the reason; False when it had finished already."""
    error = f"{template}\n{detail}" if detail else template
    return conn.execute(
        sa.update(_jobs).where(_jobs.c.id == job_id, _jobs.c.status.in_([QUEUED, RUNNING]))
        .values(status=FAILED_STATUS, error=error[:MAX_ERROR_CHARS],
                finished_on=now or utcnow())).rowcount == 1


class Heartbeat:
    """While an export runs: write its progress and heartbeat once a second from a thread of
    its own, over a connection of its own. The writer's progress callback only stores a
    number (no database work in the row loop) and learns here when to stop."""

    def __init__(self, engine, job_id, seconds=HEARTBEAT_SECONDS, rows_total=None):
        self.engine = engine
        self.job_id = job_id
        self.seconds = seconds
        self.rows_done = 0
        self.rows_total = rows_total
        self.cancelled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"export-{job_id}-heartbeat",
                                        daemon=True)

    def progress(self, rows_done):
        self.rows_done = rows_done
        if self.cancelled:
            raise ExportCancelled(self.job_id)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    def _loop(self):
        while not self._stop.wait(self.seconds):
            self.beat()

    def beat(self):
        values = {"heartbeat_at": utcnow(), "rows_done": self.rows_done}
        if self.rows_total is not None:
            values["rows_total"] = self.rows_total
        try:
            with self.engine.begin() as conn:
                matched = conn.execute(
                    sa.update(_jobs).where(_jobs.c.id == self.job_id, _jobs.c.status == RUNNING)
                    .values(**values)).rowcount
        except Exception:  # a blip: the next beat tries again, the stale check is lenient
            log.exception("export %s: heartbeat failed", self.job_id)
            return
        if matched == 0:
            self.cancelled = True


def remove_file(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("could not remove %s", path)


# --- the app's side: describe the job, start the process, wait ----------------------------


def describe(engine, job_id, query, columns, folder, file_name, rows_total, errors):
    """What the writer process needs for one job (plain values: it is pickled to stdin).
    ``errors``: {"write": template, "other": template}, the untranslated messages stored
    when writing the file fails (an OSError) or anything else does."""
    sql, params = export_reader.compiled_statement(engine, query)
    return {
        "url": engine.url.render_as_string(hide_password=False),
        "job_id": job_id, "sql": sql, "params": params,
        "columns": [(str(c.header), c.kind, c.max_width) for c in columns],
        "folder": folder, "file_name": file_name, "rows_total": rows_total,
        "read_aside": export_reader.can_read_aside(engine), "batch": YIELD_PER,
        "heartbeat_seconds": HEARTBEAT_SECONDS, "errors": errors,
    }


def write_in_lean_process(spec):
    """Run the writer process for ``spec`` (describe()) and wait for it; its report
    ({"outcome": "done"|"failed"|"cancelled"|"gone", "rows", "peak_rss_kb"}). Raises
    LeanWriterError when it ended without a report: the job is then the caller's to fail."""
    child = subprocess.Popen([sys.executable, "-P", os.path.abspath(__file__)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        out, err = child.communicate(pickle.dumps(spec))
    finally:
        if child.poll() is None:  # this thread was interrupted: take the process with it
            child.kill()
            child.wait()
    err = err.decode("utf-8", "replace").strip()
    lines = out.decode("utf-8", "replace").strip().splitlines()
    if child.returncode != 0 or not lines:
        raise LeanWriterError(err[-1000:] or f"the writer process ended with status "
                                             f"{child.returncode}")
    if err:  # what the process logged (a failure's traceback): into this process's log
        log.warning("export %s writer process: %s", spec["job_id"], err[-2000:])
    report = json.loads(lines[-1])
    log.info("export %s: %s, %s rows, writer peak RSS %.0f MB", spec["job_id"],
             report["outcome"], report.get("rows"), report["peak_rss_kb"] / 1024)
    return report


# --- the writer process ----------------------------------------------------------------------


def run(spec):
    """Write the job of ``spec``; the report write_in_lean_process returns."""
    engine = _engine(spec["url"])
    job_id = spec["job_id"]
    final = os.path.join(spec["folder"], spec["file_name"])
    partial = final + ".part"
    rows = None
    try:
        with engine.connect() as conn:
            status = conn.execute(sa.select(_jobs.c.status).where(_jobs.c.id == job_id)
                                  ).scalar()
        if status != RUNNING:
            return _report("gone", None)
        columns = [Column(header, kind, width) for header, kind, width in spec["columns"]]
        convert = row_converter(columns)
        os.makedirs(spec["folder"], exist_ok=True)
        with Heartbeat(engine, job_id, spec["heartbeat_seconds"], spec["rows_total"]) as beat:
            with _rows(engine, spec) as rows_in:
                rows = write_xlsx(partial, columns, map(convert, rows_in),
                                  progress=beat.progress)
        os.replace(partial, final)
        with engine.begin() as conn:
            finished = finish_export(conn, job_id, spec["file_name"], rows)
        if not finished:  # failed as stale meanwhile: the file would never be offered
            remove_file(final)
            return _report("cancelled", rows)
        return _report("done", rows)
    except Exception as error:
        remove_file(partial)
        remove_file(final)  # renamed, but the job could not be marked done
        if isinstance(error, ExportCancelled):
            log.info("export %s stopped: no longer running", job_id)
            return _report("cancelled", rows)
        log.exception("export %s failed", job_id)
        if isinstance(error, OSError):
            template, detail = spec["errors"]["write"], error.strerror or ""
        else:
            template, detail = spec["errors"]["other"], ""
        with engine.begin() as conn:  # the database is down too: the stale check catches it
            fail_export(conn, job_id, template, detail)
        return _report("failed", rows)
    finally:
        engine.dispose()


class _rows:
    """The query's rows: through the reader process (MariaDB with PyMySQL: its decoding runs
    on the other core) or a server-side cursor here."""

    def __init__(self, engine, spec):
        self.engine, self.spec = engine, spec
        self._aside = self._conn = None

    def __enter__(self):
        spec = self.spec
        if spec["read_aside"]:
            self._aside = export_reader.rows_read_aside_sql(
                self.engine, spec["sql"], spec["params"], spec["batch"])
            return self._aside.__enter__()
        self._conn = self.engine.connect()
        return self._conn.execution_options(stream_results=True, yield_per=spec["batch"]
                                            ).exec_driver_sql(spec["sql"], spec["params"])

    def __exit__(self, kind, error, tb):
        if self._aside is not None:
            return self._aside.__exit__(kind, error, tb)
        if error is not None:
            # Closing a half-read server-side cursor would first read every row left: drop
            # the connection instead.
            self._conn.invalidate()
        self._conn.close()
        return False


def _engine(url):
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    if engine.dialect.name == "sqlite":
        # As the app's connections (app/extensions.py): wait for a writer rather than fail.
        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA busy_timeout=10000")

    return engine


def _report(outcome, rows):
    with open("/proc/self/status") as f:
        peak = next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    return {"outcome": outcome, "rows": rows, "peak_rss_kb": peak}


def _main():
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    report = run(pickle.load(sys.stdin.buffer))
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
