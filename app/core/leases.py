"""How scheduler processes agree through the database: the lease and the JobRun ledger.

The lease, a row in scheduler_lease, is held by one process at a time: the one that runs jobs.
The holder renews it every tick; anyone may take it once expires_at has passed. Only plain
SELECT, UPDATE and INSERT, so the same code works on SQLite, MariaDB and Galera (no GET_LOCK, no
SELECT ... FOR UPDATE): the UPDATE is atomic on its row, and the primary key turns a race to
create the row into an IntegrityError for every racer but one. Expiry is judged by the callers'
own UTC clocks (the database's is not portable), so hosts running schedulers must keep their
clocks in step (NTP) to well under the lease length. The lease functions commit or roll back
the session they are given: pass one with no pending work.

The ledger (claim_slot) makes a side effect happen once per time slot even when a new holder
reruns a job its predecessor had already done.
"""

import datetime

from flask import g
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.models import JobRun, SchedulerLease, utcnow

_lease = SchedulerLease.__table__


def try_acquire(session, name, holder, seconds, now=None):
    """Take or renew the lease `name` for `holder` until now + seconds; True if holder has it."""
    now = now or utcnow()
    # Whole seconds: a DATETIME column drops fractions (MySQL rounds them, MariaDB truncates)
    # while SQLite keeps them; storing none makes all behave alike. Rounding down only
    # shortens the lease.
    expires_at = _whole_seconds(now) + datetime.timedelta(seconds=seconds)
    try:
        if not _lease_row_exists(session, name):
            return _insert_first_lease(session, name, holder, expires_at)
        return _take_over_or_renew(session, name, holder, now, expires_at)
    except OperationalError as error:
        session.rollback()
        if _is_lost_race(error):
            return False
        raise


def release(session, name, holder, now=None):
    """Give the lease up at once (a clean stop) so a standby need not wait for it to expire."""
    expired = _whole_seconds(now or utcnow()) - datetime.timedelta(seconds=1)
    session.execute(
        update(_lease)
        .where(_lease.c.name == name, _lease.c.holder == holder)
        .values(expires_at=expired)
    )
    session.commit()


def current_holder(session, name, now=None):
    """Who holds the lease right now, or None when nobody holds a valid one."""
    row = session.execute(
        select(_lease.c.holder, _lease.c.expires_at).where(_lease.c.name == name)
    ).first()
    session.rollback()  # end the read, so a REPEATABLE READ snapshot does not linger
    if row is None or row.expires_at < (now or utcnow()):
        return None
    return row.holder


# The ledger


def time_slot(moment, seconds):
    """The start of the `seconds`-long slot holding `moment` (naive UTC), as ISO text.

    Slots are counted from the Unix epoch, so daily slots start at midnight UTC.
    """
    epoch = int(moment.replace(tzinfo=datetime.UTC).timestamp())
    start = datetime.datetime.fromtimestamp(epoch - epoch % seconds, datetime.UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%S")


def claim_slot(session, job, slot, holder=None):
    """Claim (job, slot) in the caller's transaction; False if someone already has it.

    Call it first in the transaction: a refusal rolls the session back. The claim counts once
    the caller commits, so commit it together with the record of the side effect (an outbox
    row): a rollback frees the slot again, a commit makes it final. The holder defaults to the
    scheduler running the job.
    """
    holder = holder or g.get("scheduler_holder", "unknown")
    # No savepoint: pysqlite lets a SAVEPOINT opened first in a transaction commit on release.
    session.add(JobRun(job=job, slot=slot, holder=holder))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _lease_row_exists(session, name):
    found = session.execute(select(_lease.c.name).where(_lease.c.name == name)).first()
    # End the read before writing: InnoDB would keep gap locks that deadlock racing INSERTs,
    # and a SQLite read snapshot cannot wait its turn to become a write.
    session.rollback()
    return found is not None


def _insert_first_lease(session, name, holder, expires_at):
    try:
        session.execute(_lease.insert().values(name=name, holder=holder, expires_at=expires_at))
        session.commit()
    except IntegrityError:
        # Another process created the row since we looked: it holds the lease.
        session.rollback()
        return False
    return True


def _take_over_or_renew(session, name, holder, now, expires_at):
    # The WHERE is evaluated on the latest committed row under the row lock, so of two
    # processes racing for an expired lease only the first matches; the second sees the
    # new holder and a future expires_at. (MySQL dialects count matched rows, not changed.)
    matched = session.execute(
        update(_lease)
        .where(_lease.c.name == name, or_(_lease.c.holder == holder, _lease.c.expires_at < now))
        .values(holder=holder, expires_at=expires_at)
    ).rowcount == 1
    if matched:
        session.commit()
    else:
        session.rollback()
    return matched


def _is_lost_race(error):
    # MySQL/MariaDB 1213: a deadlock victim, or a Galera certification failure at commit;
    # either way another process's write won.
    return getattr(error.orig, "args", (None,))[0] == 1213


def _whole_seconds(moment):
    return moment.replace(microsecond=0)
