"""What the Operation Log lists: its criteria (date range, operation type, path, user,
result), parsed from the query string and applied to a scoped Select; the pruning of log
rows and of finished mails past their retention time."""

import datetime
from dataclasses import dataclass

from sqlalchemy import delete, false, select

from app.accounts.rules import _N
from app.core.listing import like_pattern
from app.models import OperationLog, OutboxAttachment, OutboxMessage, OutboxStatus
from app.system.operations import operations_of

DAY_MIN, DAY_MAX = datetime.date(1970, 1, 1), datetime.date(9998, 12, 31)
RESULTS = ("success", "failure")


@dataclass
class LogCriteria:
    start: datetime.date | None = None
    end: datetime.date | None = None
    op: str = ""  # an operation type key (app/system/operations.py)
    path: str = ""  # a path prefix
    user: str = ""  # a login, exactly
    result: str = ""


def _day(text):
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return day if DAY_MIN <= day <= DAY_MAX else False


def parse_log_criteria(args):
    """(criteria, errors): errors are untranslated templates with params; a criterion in
    error is left out, never half applied."""
    criteria, errors = LogCriteria(), []
    start, end = _day(args.get("start")), _day(args.get("end"))
    if start is False or end is False:
        errors.append((_N("Dates are written YYYY-MM-DD."), {}))
    elif start and end and end < start:
        errors.append((_N("The end date is before the start date."), {}))
    else:
        criteria.start, criteria.end = start, end
    op = (args.get("op") or "").strip()
    if op and operations_of(op):
        criteria.op = op
    criteria.path = (args.get("path") or "").strip()[:512]
    criteria.user = (args.get("user") or "").strip()[:128]
    if args.get("result") in RESULTS:
        criteria.result = args["result"]
    return criteria, errors


# Rows are written in time order, give or take the clock skew of concurrent requests: the
# id range of a time range is widened by this much, and the time test itself stays exact.
ID_RANGE_SLACK = datetime.timedelta(minutes=5)


def _first_id_from(session, moment):
    """The id of the first row written at or after ``moment`` (one seek on created_on)."""
    return session.execute(select(OperationLog.id).where(OperationLog.created_on >= moment)
                           .order_by(OperationLog.created_on, OperationLog.id).limit(1)
                           ).scalar()


def apply_log_criteria(query, criteria: LogCriteria, session=None):
    """Narrow a Select over OperationLog. With a session, a time range is also given as an
    id range: rows are written in time order, so the page walks the ids of the range
    alone (through the scope's or a filter's (column, id) index) instead of testing the
    time of every row newer than it."""
    if criteria.start:
        criteria_start = datetime.datetime.combine(criteria.start, datetime.time())
        query = query.where(OperationLog.created_on >= criteria_start)
        if session is not None:
            first = _first_id_from(session, criteria_start - ID_RANGE_SLACK)
            query = query.where(OperationLog.id >= first) if first else query.where(false())
    if criteria.end:  # the end day counts whole
        after = datetime.datetime.combine(criteria.end, datetime.time()) + datetime.timedelta(
            days=1)
        query = query.where(OperationLog.created_on < after)
        if session is not None:
            past = _first_id_from(session, after + ID_RANGE_SLACK)
            if past:
                query = query.where(OperationLog.id < past)
    if criteria.op:
        query = query.where(OperationLog.operation.in_(operations_of(criteria.op)))
    if criteria.path:
        query = query.where(OperationLog.path.like(like_pattern(criteria.path), escape="\\"))
    if criteria.user:
        query = query.where(OperationLog.username == criteria.user)
    if criteria.result:
        query = query.where(OperationLog.result == criteria.result)
    return query


PRUNE_BATCH = 5000


def prune_operation_log(session, retention_days, now, max_batches=100):
    """Delete rows older than ``retention_days`` in batches of PRUNE_BATCH (each committed,
    so no long lock); at most ``max_batches`` per call, the next run goes on. Returns the
    number deleted; 0 retention days keeps everything."""
    if not retention_days or retention_days <= 0:
        return 0
    cutoff = now - datetime.timedelta(days=retention_days)
    deleted = 0
    for _ in range(max_batches):
        ids = session.execute(select(OperationLog.id).where(OperationLog.created_on < cutoff)
                              .order_by(OperationLog.created_on).limit(PRUNE_BATCH)
                              ).scalars().all()
        if not ids:
            break
        deleted += session.execute(delete(OperationLog).where(OperationLog.id.in_(ids))
                                   ).rowcount
        session.commit()
        if len(ids) < PRUNE_BATCH:
            break
    return deleted


def prune_outbox(session, retention_days, now, max_batches=100):
    """Delete sent and failed mails (with their attachments) queued more than
    ``retention_days`` ago, as prune_operation_log does: committed batches of PRUNE_BATCH,
    at most ``max_batches`` per call. A queued mail stays whatever its age (the outbox still
    owes it). Returns the number of mails deleted; 0 retention days keeps everything."""
    if not retention_days or retention_days <= 0:
        return 0
    cutoff = now - datetime.timedelta(days=retention_days)
    deleted = 0
    for _ in range(max_batches):
        ids = session.execute(
            select(OutboxMessage.id).where(OutboxMessage.created_on < cutoff,
                                           OutboxMessage.status != OutboxStatus.pending)
            .order_by(OutboxMessage.created_on).limit(PRUNE_BATCH)).scalars().all()
        if not ids:
            break
        # explicitly: SQLite enforces no ON DELETE CASCADE unless told to
        session.execute(delete(OutboxAttachment).where(OutboxAttachment.message_id.in_(ids)))
        deleted += session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                   ).rowcount
        session.commit()
        if len(ids) < PRUNE_BATCH:
            break
    return deleted


# The subjects of the mails that carry an enterprise's account information (app/tenancy/
# master_accounts.py, which marks them with the enterprise): the migration that added
# outbox_message.enterprise_id marked the older ones by these.
ACCOUNT_MAIL_SUBJECTS = ("YMCS: your account", "YMCS: your password was reset")


def account_mail_of(session, enterprise_id):
    """(status, last error) of the latest account-information mail of the enterprise, or
    (None, None). One lookup on (enterprise_id, id) per enterprise row."""
    if not enterprise_id:
        return None, None
    row = session.execute(
        select(OutboxMessage.status, OutboxMessage.last_error)
        .where(OutboxMessage.enterprise_id == enterprise_id)
        .order_by(OutboxMessage.id.desc()).limit(1)).first()
    return (row.status, row.last_error) if row else (None, None)
