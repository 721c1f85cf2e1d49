"""Excel export jobs: asked for by a list's Export button, written in the background,
downloaded by the account that asked.

A request stores an ExportJob row with the list's criteria and the requester's principal (the
job runs outside any request, so scope comes from the row, never from ``current_user``). An
export of at most EXPORT_INLINE_ROWS rows (a capped count says so) is written at once, in the
request; a bigger one waits, queued, for the scheduler.

The scheduler's tick job (start_exports_job, every EXPORT_POLL_SECONDS) must stay short: mail
and the lease renewal run on the same tick. It only claims queued exports (a conditional
UPDATE queued -> running, so two scheduler processes never both take one) and starts each in
a worker thread of its process, with its own app context and connections. The worker counts
the rows and builds the query (scope, criteria, order) and the columns, then hands them to a
lean writer process (app/exports/writer.py: SQLAlchemy, the driver and openpyxl, no Flask;
on MariaDB it reads the rows through app/exports/reader.py's process, so PyMySQL's decoding
runs on the other core) and waits for it: the scheduler's process, the whole app, stays as
big as it was. An inline (small) export is written in the request's own thread. Either way a
heartbeat thread writes rows_done and heartbeat_at once a second over a connection of its
own, because the streaming connection is busy. A running export whose heartbeat stops (its
process died) is marked failed by the next tick after STALE_AFTER.

Statuses move only through claim_export, finish_export and fail_export (each a conditional
UPDATE). The file is written under a ".part" name and renamed when complete, so nothing
half-written is ever offered; a failure removes it. Finished files and rows are pruned after
EXPORT_RETENTION_HOURS.
"""

import datetime
import logging
import os
import threading

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, delete, func, or_, select, update

from app.accounts.rules import _N
from app.core import scope
from app.core.listing import capped_count
from app.exports import writer as lean_writer
from app.exports.writer import (  # noqa: F401  (ExportCancelled: the module's interface)
    ExportCancelled,
    fail_export,
    finish_export,
)
from app.exports.writer import Heartbeat as _Heartbeat
from app.exports.writer import remove_file as _remove
from app.exports.xlsx import write_xlsx
from app.extensions import db
from app.models import AccountKind, ExportJob, ExportStatus, Order, utcnow
from app.orders import exports as order_exports
from app.orders.queries import OrderCriteria

log = logging.getLogger(__name__)

KINDS = order_exports.KINDS
STALE_AFTER = datetime.timedelta(minutes=2)  # a running export silent this long is dead
MAX_RUNNING = 2  # exports written at once by one scheduler process (2 cores here)
YIELD_PER = lean_writer.YIELD_PER
# An export holding at least this share of all orders reads them in index order, streaming
# at once, rather than gathering and sorting every row in scope before sending the first
# (MariaDB sorted 1M rows in a temporary table for 2-5 s first; the walk answered in 0.1 s).
WALK_SHARE = 0.25

# Errors as untranslated templates (translated when shown, in the reader's language).
STOPPED = _N("The export stopped: the process writing it ended. Please export again.")
WRITE_FAILED = _N("The export file could not be written. Please try again later.")
FAILED = _N("The export failed. Please try again later.")

_jobs = ExportJob.__table__

# --- the file store ------------------------------------------------------------------------


def file_store_dir(app=None):
    app = app or current_app
    return app.config.get("FILE_STORE_DIR") or os.path.join(app.instance_path, "files")


def exports_dir(app=None):
    return os.path.join(file_store_dir(app), "exports")


def export_path(job, app=None):
    """Where a finished export's file is, or None before it is done."""
    if not job.file_name:
        return None
    return os.path.join(exports_dir(app), os.path.basename(job.file_name))


def download_name(job):
    """The name the browser saves: the stored name without its job id prefix."""
    return (job.file_name or "").partition("-")[2] or f"{job.kind}.xlsx"


def error_text(job):
    """The job's error in the current language ("template\\ndetail" is stored)."""
    if not job.error:
        return ""
    template, _, detail = job.error.partition("\n")
    text = gettext(template)
    return f"{text} ({detail})" if detail else text


# --- asking for an export ------------------------------------------------------------------


def request_export(session, account_id, principal, kind, criteria: OrderCriteria, language):
    """Store an export of what the ``kind`` list shows under ``criteria`` to ``principal``;
    return the job. A small one (at most EXPORT_INLINE_ROWS rows) is written before this
    returns, so the job comes back done (or failed); a bigger one comes back queued.
    Commits (the scheduler must see the row)."""
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    if principal.kind is None or principal.account_id not in (None, account_id):
        raise ValueError("an export runs in the scope of the account that asks for it")
    app = current_app._get_current_object()
    rows, many = capped_count(session, order_exports.count_select(kind, criteria, principal),
                              app.config["EXPORT_INLINE_ROWS"], probe=not criteria.q)
    now = utcnow()
    job = ExportJob(
        account_id=account_id, kind=kind, criteria=criteria.to_json(),
        principal_kind=AccountKind(principal.kind).value,
        principal_channel_id=principal.channel_id,
        principal_enterprise_id=principal.enterprise_id,
        language=(language or "en")[:8], rows_total=None if many else rows, rows_done=0,
        created_on=now,
        # A small export is this request's own from the start: no scheduler may claim it.
        status=ExportStatus.queued if many else ExportStatus.running,
        heartbeat_at=None if many else now,
    )
    session.add(job)
    session.flush()
    job_id = job.id  # read before the commit: reading it after would open a transaction
    session.commit()  # whose snapshot (MariaDB) never sees the run's result
    if not many:
        run_export(app, job_id)
        session.refresh(job)
    return job


def job_principal(job):
    return scope.Principal(job.account_id, AccountKind(job.principal_kind),
                           job.principal_channel_id, job.principal_enterprise_id)


# --- status transitions (nothing else writes the status column) ----------------------------


def claim_export(session, job_id, now=None):
    """queued -> running; False when someone else took it first. Commits."""
    now = now or utcnow()
    claimed = session.execute(
        update(_jobs).where(_jobs.c.id == job_id, _jobs.c.status == ExportStatus.queued.value)
        .values(status=ExportStatus.running.value, heartbeat_at=now)).rowcount == 1
    session.commit()
    return claimed


# --- the worker ----------------------------------------------------------------------------


def run_export(app, job_id):
    """Write a running export's file (the worker thread's whole work; also run inline for
    small exports). Returns quietly when the job is gone or not running; any failure marks
    the job failed and leaves no file."""
    with app.app_context():
        try:
            _run(app, job_id)
        finally:
            db.session.remove()


def _run(app, job_id):
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status != ExportStatus.running:
        return
    name = f"{job.id}-{order_exports.file_name(job.kind, job.created_on)}"
    folder = exports_dir(app)
    final = os.path.join(folder, name)
    partial = final + ".part"
    engine = db.engine
    try:
        kind, language, total = job.kind, job.language, job.rows_total
        criteria, principal = OrderCriteria.from_json(job.criteria), job_principal(job)
        db.session.rollback()  # hold no transaction open while the file is written
        if total is None:  # queued: big, written by the lean process
            with _Heartbeat(engine, job_id) as beat, engine.connect() as conn:
                # counted for the progress bar and the plan
                total = beat.rows_total = _count(conn, kind, criteria, principal)
                walk = total >= _table_span(conn) * WALK_SHARE
            sheet = order_exports.export_sheet(kind, criteria, principal, language, walk)
            lean_writer.write_in_lean_process(lean_writer.describe(
                engine, job_id, sheet.query, sheet.columns, folder, name, total,
                {"write": WRITE_FAILED, "other": FAILED}))
            return  # the process marked the job done or failed itself
        os.makedirs(folder, exist_ok=True)
        with _Heartbeat(engine, job_id) as beat:
            sheet = order_exports.export_sheet(kind, criteria, principal, language)
            written = _write_in_thread(engine, sheet, partial, beat)
        os.replace(partial, final)
        with engine.begin() as conn:
            finished = finish_export(conn, job_id, name, written)
        if not finished:  # failed as stale meanwhile: the file would never be offered
            _remove(final)
    except Exception as error:
        _remove(partial)
        _remove(final)  # renamed, but the job could not be marked done
        if isinstance(error, ExportCancelled):
            log.info("export %s stopped: no longer running", job_id)
            return
        log.exception("export %s failed", job_id)
        if isinstance(error, OSError):
            template, detail = WRITE_FAILED, error.strerror or ""
        else:
            template, detail = FAILED, ""
        try:
            with engine.begin() as conn:
                fail_export(conn, job_id, template, detail)
        except Exception:  # the database is down too: the stale check will catch it
            log.exception("export %s could not be marked failed", job_id)


def _write_in_thread(engine, sheet, path, beat):
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=YIELD_PER).execute(sheet.query)
        try:
            return write_xlsx(path, sheet.columns, map(sheet.convert, result),
                              progress=beat.progress)
        except BaseException:
            # Closing a half-read server-side cursor would first read every row left: drop
            # the connection instead.
            conn.invalidate()
            raise


def _count(conn, kind, criteria, principal):
    ids = order_exports.count_select(kind, criteria, principal).subquery()
    return conn.execute(select(func.count()).select_from(ids)).scalar_one()


def _table_span(conn):
    """About how many orders there are, from the primary key's ends (two index probes)."""
    low, high = conn.execute(select(func.min(Order.id), func.max(Order.id))).one()
    return 0 if low is None else high - low + 1


# --- the scheduler's side ------------------------------------------------------------------


def register_export_jobs(registry, config):
    registry.add("start_exports", start_exports_job, seconds=config["EXPORT_POLL_SECONDS"])
    registry.add("prune_exports", prune_exports_job, seconds=3600)


def start_exports_job():
    """Fail dead exports, then start queued ones in worker threads (never write here)."""
    app = current_app._get_current_object()
    fail_stale_exports(db.session)
    workers = running_workers(app)
    free = MAX_RUNNING - len(workers)
    if free <= 0:
        return []
    queued = db.session.scalars(
        select(ExportJob.id).where(ExportJob.status == ExportStatus.queued)
        .order_by(ExportJob.id).limit(free)).all()
    db.session.commit()
    started = []
    for job_id in queued:
        if not claim_export(db.session, job_id):
            continue
        thread = threading.Thread(target=run_export, args=(app, job_id),
                                  name=f"export-{job_id}", daemon=True)
        app.extensions.setdefault("ymcs_export_workers", {})[job_id] = thread
        thread.start()
        started.append(job_id)
    return started


def running_workers(app):
    """{job id: thread} of the exports this process is writing now."""
    workers = app.extensions.setdefault("ymcs_export_workers", {})
    for job_id, thread in list(workers.items()):
        if not thread.is_alive():
            del workers[job_id]
    return dict(workers)


def fail_stale_exports(session, now=None):
    """Mark failed every running export whose heartbeat stopped (its process died)."""
    now = now or utcnow()
    cutoff = now - STALE_AFTER
    stale = session.scalars(select(ExportJob.id).where(
        ExportJob.status == ExportStatus.running,
        or_(ExportJob.heartbeat_at < cutoff,
            and_(ExportJob.heartbeat_at.is_(None), ExportJob.created_on < cutoff)))).all()
    failed = [job_id for job_id in stale
              if fail_export(session.connection(), job_id, STOPPED, now=now)]
    session.commit()
    for job_id in failed:
        log.warning("export %s stopped sending heartbeats: marked failed", job_id)
    return failed


def prune_exports_job():
    return prune_exports(db.session, current_app._get_current_object())


def prune_exports(session, app, now=None):
    """Delete exports (rows and files) finished more than EXPORT_RETENTION_HOURS ago, queued
    ones never started in that time, and stray files as old. Returns the rows deleted."""
    now = now or utcnow()
    cutoff = now - datetime.timedelta(hours=app.config["EXPORT_RETENTION_HOURS"])
    old = session.execute(select(ExportJob.id, ExportJob.file_name).where(or_(
        and_(ExportJob.status.in_([ExportStatus.done, ExportStatus.failed]),
             func.coalesce(ExportJob.finished_on, ExportJob.created_on) < cutoff),
        and_(ExportJob.status == ExportStatus.queued, ExportJob.created_on < cutoff),
    ))).all()
    for row in old:
        if row.file_name:
            _remove(os.path.join(exports_dir(app), os.path.basename(row.file_name)))
    if old:
        session.execute(delete(ExportJob).where(ExportJob.id.in_([row.id for row in old])))
    session.commit()
    _prune_stray_files(exports_dir(app), cutoff)
    return len(old)


def _prune_stray_files(folder, cutoff):
    """Files no row points to any more (a process that died mid-export left a .part)."""
    limit = cutoff.replace(tzinfo=datetime.UTC).timestamp()
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        try:
            if entry.is_file() and entry.stat().st_mtime < limit:
                _remove(entry.path)
        except OSError:
            log.exception("could not check %s", entry.path)
