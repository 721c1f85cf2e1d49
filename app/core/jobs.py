"""Periodic jobs: idempotent sweepers run on a shared tick by the one process holding the lease.

Every process that runs a scheduler (the `flask run` dev server, or any number of
`flask ymcs scheduler` processes in production) ticks every SCHEDULER_TICK_SECONDS. On each tick
it tries to take or renew the lease (app/core/leases.py); the holder then runs the jobs that are
due, a standby does nothing else. A job is a plain function taking no arguments, run inside an app
context; it must be safe to run twice, because a new holder runs every job on its first tick and
a job outliving the lease may overlap its successor. A side effect that must not repeat (a digest
mail) first claims its time slot in the JobRun ledger with app.leases.claim_slot().
"""

import atexit
import datetime
import importlib
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import g
from flask.cli import get_debug_flag, run_command
from sqlalchemy import delete

from app.core import leases
from app.core.mail import send_outbox_job
from app.extensions import db
from app.models import JobRun, utcnow
from app.orders.rules import sweep_orders_job

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
SCHEDULER_MODES = ("embedded", "off")
JOB_RUN_RETENTION = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], object]
    seconds: int  # the job runs at most once per this many seconds, on the holder's ticks


class JobRegistry:
    """The jobs of one app, in registration order."""

    def __init__(self):
        self._jobs = {}

    def add(self, name, func, seconds):
        if name in self._jobs:
            raise ValueError(f"job {name!r} is already registered")
        if seconds <= 0:
            raise ValueError(f"job {name!r} needs a positive interval, not {seconds!r}")
        self._jobs[name] = Job(name, func, seconds)

    def __iter__(self):
        return iter(list(self._jobs.values()))

    def __contains__(self, name):
        return name in self._jobs


def init_jobs(app):
    if app.config["SCHEDULER_MODE"] not in SCHEDULER_MODES:
        raise ValueError(f"SCHEDULER_MODE must be one of {SCHEDULER_MODES}")
    registry = JobRegistry()
    register_builtin_jobs(registry, app.config)
    register_extra_jobs(registry, _extra_jobs_spec(app))
    app.extensions["ymcs_jobs"] = registry
    if should_embed_scheduler(app.config):
        start_embedded_scheduler(app)


def job_registry(app):
    return app.extensions["ymcs_jobs"]


def register_builtin_jobs(registry, config):
    # Every periodic job of the application is listed here, as register_views lists the views.
    registry.add("prune_job_runs", prune_job_runs, seconds=3600)
    registry.add("send_outbox_mail", send_outbox_job, seconds=config["MAIL_OUTBOX_SECONDS"])
    registry.add("prune_captcha_uses", prune_captcha_uses, seconds=3600)
    registry.add("prune_sessions", prune_sessions, seconds=600)  # expired sessions
    registry.add("prune_login_throttle", prune_login_throttle, seconds=3600)
    registry.add("sweep_orders", sweep_orders_job, seconds=config["ORDER_SWEEP_SECONDS"])
    from app.exports.jobs import register_export_jobs  # queued exports, pruning
    register_export_jobs(registry, config)
    from app.device_ops.jobs import register_device_jobs  # offline marking, timeouts, samples
    register_device_jobs(registry, config)
    from app.system.jobs import register_system_jobs  # the operation log's retention
    register_system_jobs(registry, config)
    from app.configs.jobs import register_config_jobs  # timer tasks, push outcomes, expiry
    register_config_jobs(registry, config)
    from app.alarms.jobs import register_alarm_jobs  # alarm digests
    register_alarm_jobs(registry, config)


def register_extra_jobs(registry, spec):
    """Call each "module:function" of the comma-separated spec with the registry.

    A hook for plug-ins, and for tests that need a job of their own in a real scheduler process.
    """
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        module_name, _, func_name = entry.partition(":")
        if not func_name:
            raise ValueError(f"YMCS_EXTRA_JOBS entry {entry!r} is not module:function")
        getattr(importlib.import_module(module_name), func_name)(registry)


def _extra_jobs_spec(app):
    return app.config.get("YMCS_EXTRA_JOBS", "")


def prune_captcha_uses():
    from app.accounts.challenges import prune_spent

    prune_spent(db.session)


def prune_sessions():
    from app.accounts.sessions import prune_sessions as prune

    return prune()


def prune_login_throttle():
    from app.accounts.rules import prune_login_throttle as prune

    return prune(db.session)


def prune_job_runs():
    """Forget ledger rows past any slot a job could still be deciding about."""
    cutoff = utcnow() - JOB_RUN_RETENTION
    deleted = db.session.execute(delete(JobRun).where(JobRun.ran_at < cutoff)).rowcount
    db.session.commit()
    return deleted


# Ticking: what one scheduler process does every SCHEDULER_TICK_SECONDS.


def new_holder_id():
    # The random part keeps two containers with the same hostname and pid 1 apart.
    return f"{socket.gethostname()[:96]}:{os.getpid()}:{secrets.token_hex(4)}"


class Ticker:
    """Renew the lease, then run the jobs that are due; a standby only tries for the lease."""

    def __init__(self, app, registry, holder, lease_name=LEASE_NAME):
        self.app = app
        self.registry = registry
        self.holder = holder
        self.lease_name = lease_name
        self.tick_seconds = app.config["SCHEDULER_TICK_SECONDS"]
        self.lease_seconds = app.config["SCHEDULER_LEASE_SECONDS"]
        if self.lease_seconds < 2 * self.tick_seconds:
            # The holder renews once a tick; a shorter lease would lapse between renewals.
            raise ValueError("SCHEDULER_LEASE_SECONDS must be at least twice the tick")
        self.is_leader = False
        self._renewed_at = None
        self._last_started = {}  # job name -> time.monotonic() when it last started here

    def tick(self):
        if not self._renew_lease():
            return
        for job in self._due_jobs(time.monotonic()):
            if not self._lease_is_fresh() and not self._renew_lease():
                return  # lost the lease to a standby while earlier jobs ran
            self._run(job)

    def release(self):
        try:
            with self.app.app_context():
                leases.release(db.session, self.lease_name, self.holder)
        except Exception:  # stopping anyway: the lease will simply run out
            log.exception("scheduler %s could not release the lease", self.holder)
        self._note_leadership(False)

    def _renew_lease(self):
        try:
            with self.app.app_context():
                held = leases.try_acquire(db.session, self.lease_name, self.holder,
                                          self.lease_seconds)
        except Exception:  # a database outage makes this process a standby, not a corpse
            log.exception("scheduler %s could not reach the lease", self.holder)
            held = False
        self._note_leadership(held)
        if held:
            self._renewed_at = time.monotonic()
        return held

    def _lease_is_fresh(self):
        return time.monotonic() - self._renewed_at < self.tick_seconds

    def _due_jobs(self, now):
        # Half a tick of slack: timer jitter must not push a job past a tick it was due on.
        slack = self.tick_seconds / 2
        never = float("-inf")
        return [job for job in self.registry
                if now - self._last_started.get(job.name, never) >= job.seconds - slack]

    def _run(self, job):
        self._last_started[job.name] = time.monotonic()
        with self.app.app_context():
            g.scheduler_holder = self.holder  # for leases.claim_slot()
            try:
                job.func()
            except Exception:  # one broken sweeper must not stop the others
                log.exception("job %s failed", job.name)
                db.session.rollback()

    def _note_leadership(self, held):
        if held != self.is_leader:
            log.info("scheduler %s is now %s", self.holder, "the leader" if held else "a standby")
        self.is_leader = held


# Processes: where a scheduler runs.


def should_embed_scheduler(config):
    """True only in the process that `flask run` serves from, and only in embedded mode.

    Flask sets FLASK_RUN_FROM_CLI for every `flask` command, so the click command being run
    must be `run` itself. With the reloader, the parent only watches files and the child it
    starts (WERKZEUG_RUN_MAIN) serves. gunicorn has no `run` command; tests set the mode off.
    """
    if config["SCHEDULER_MODE"] != "embedded" or os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return False
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.command is not run_command:
        return False
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        return True
    return not _reloader_requested(ctx)


def _reloader_requested(ctx):
    reload = ctx.params.get("reload")
    return get_debug_flag() if reload is None else reload


def start_embedded_scheduler(app):
    ticker = Ticker(app, job_registry(app), new_holder_id())
    scheduler = BackgroundScheduler(timezone=datetime.UTC)
    _schedule_ticks(scheduler, ticker)
    scheduler.start()
    # A reload or Ctrl-C ends the process: hand the lease over rather than let it run out.
    atexit.register(_stop_embedded_scheduler, scheduler, ticker)
    return scheduler


def _stop_embedded_scheduler(scheduler, ticker):
    if scheduler.running:
        scheduler.shutdown(wait=False)
    ticker.release()


def run_scheduler_process(app):
    """Tick in the foreground until SIGTERM or SIGINT, then release the lease and return."""
    _log_to_stderr()
    ticker = Ticker(app, job_registry(app), new_holder_id())
    scheduler = BlockingScheduler(timezone=datetime.UTC)
    _schedule_ticks(scheduler, ticker)
    for signum in (signal.SIGTERM, signal.SIGINT):
        # SIGINT too: a shell starting us in the background may have set it to be ignored.
        signal.signal(signum, _exit_on_signal)
    log.info("scheduler %s started; tick %ss, lease %ss", ticker.holder,
             ticker.tick_seconds, ticker.lease_seconds)
    try:
        scheduler.start()
    except SystemExit:
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)  # let the running tick finish its job
        ticker.release()
        log.info("scheduler %s stopped and released the lease", ticker.holder)


def _exit_on_signal(_signum, _frame):
    # Unwind out of scheduler.start() into the clean stop; a second signal kills at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    raise SystemExit(0)


def _schedule_ticks(scheduler, ticker):
    seconds = ticker.tick_seconds
    scheduler.add_job(ticker.tick, "interval", seconds=seconds, id="ymcs-tick",
                      next_run_time=datetime.datetime.now(datetime.UTC),  # first tick at once
                      max_instances=1, coalesce=True, misfire_grace_time=seconds)


def _log_to_stderr():
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run at INFO: once a tick is noise.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
