"""Exactly one digest per receiver and period with three scheduler PROCESSES running the digest
job at the same moment (each its own interpreter, app and database connections; the test's
own database: a file on SQLite, MariaDB with YMCS_TEST_DB=mariadb). The job itself, not the
scheduler's lease, must make it once: its ledger row is unique on (receiver, period)."""

import datetime
import multiprocessing

from sqlalchemy import func, select

from app.alarms import notify, rules
from app.core.mail import send_due_mail
from app.models import AlarmDigest, utcnow

from ..conftest import TEST_SETTINGS
from .support import device_of
from .test_notify import _receive

PROCESSES = 3
PERIOD = 3600


def _scheduler_process(settings, barrier, results):
    """One scheduler process: its own app, then the digest job as the scheduler runs it."""
    from app import create_app
    from app.alarms.jobs import send_alarm_digests_job

    app = create_app(settings)
    with app.app_context():
        barrier.wait(timeout=120)  # all three ready: they run the job at the same moment
        try:
            results.put(("queued", send_alarm_digests_job()))
        except Exception as error:  # reported by the test
            results.put(("error", repr(error)))


def test_three_scheduler_processes_send_one_digest_per_receiver(app, db_session, fresh_tree,
                                                                smtp_server):
    t = fresh_tree
    _receive(db_session, t, t.a, t.sub)
    device = device_of(db_session, t.E)
    now = utcnow()
    start, _end = notify.period_of(now, PERIOD)
    # Alarms in the last whole period, and others just now: should the hour turn before the
    # processes run, the period they digest holds those instead. Either way one digest each.
    for code in ("hold_failure", "rtp_dead"):
        rules.raise_alarm(db_session, device.id, t.E, code, "earlier",
                          now=start + datetime.timedelta(minutes=10))
    for code in ("call_failed", "device_reboot"):
        rules.raise_alarm(db_session, device.id, t.E, code, "lately",
                          now=now - datetime.timedelta(seconds=1))
    db_session.commit()

    settings = {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "FILE_STORE_DIR": app.config["FILE_STORE_DIR"], "ALARM_DIGEST_SECONDS": PERIOD}
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, nothing inherited
    barrier, results = spawn.Barrier(PROCESSES), spawn.Queue()
    processes = [spawn.Process(target=_scheduler_process, args=(settings, barrier, results))
                 for _ in range(PROCESSES)]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    assert all(kind == "queued" for kind, _n in outcomes), outcomes
    # (The job also digests what earlier tests left in the database: only ours are counted.)
    db_session.commit()  # a fresh snapshot (MariaDB)
    ledger = db_session.execute(select(AlarmDigest.account_id, func.count()).where(
        AlarmDigest.account_id.in_([t.a, t.sub])).group_by(AlarmDigest.account_id)).all()
    assert dict(ledger) == {t.a: 1, t.sub: 1}
    send_due_mail(db_session, app)
    mine = [r for rcpts, message in smtp_server.received for r in rcpts
            if r in (t.a_email, t.sub_email) and "alarms from" in message["Subject"]]
    assert sorted(mine) == sorted([t.a_email, t.sub_email])
