"""How a push's device rows end, and the task's counters.

A row's outcome derives from its Download command: done -> success; failed with a fault ->
failed (code and text); failed because the device never came for it (the command queue's
timeout) -> expired; still pending CONFIG_PUSH_EXPIRY_DAYS after the push -> expired (its
command, if still queued, fails with it). A newer push of the same device supersedes the row
(``supersede``). Only this module and pushes.py write a row's status.
"""

import datetime

from sqlalchemy import and_, bindparam, func, select, update

from app.configs.tables import ConfigPush, ConfigPushDevice, RowStatus
from app.device_ops import fault_events
from app.device_ops.commands import TIMED_OUT
from app.models import CommandStatus, DeviceCommand, utcnow

SUPERSEDED_TEXT = "Superseded by a newer push."
EXPIRED_TEXT = "The device did not fetch the configuration before the push expired."
_NEVER_CAME = TIMED_OUT[CommandStatus.queued]
BATCH = 2000
SWEEP_MAX = 500  # tasks per kind and tick

_COUNTERS = {RowStatus.success: "succeeded", RowStatus.failed: "failed",
             RowStatus.expired: "expired", RowStatus.superseded: "superseded",
             RowStatus.pending: "open_rows"}


def outcome_of(command_status, fault_code, fault_string):
    """(row status, fault code, fault text) for a finished command, None while it runs."""
    if command_status == CommandStatus.done:
        return RowStatus.success, None, None
    if command_status != CommandStatus.failed:
        return None
    if fault_code is None and fault_string == _NEVER_CAME:
        return RowStatus.expired, None, fault_string
    return RowStatus.failed, fault_code, fault_string


def recount(session, push_id):
    """Set the task's counters from its rows (one GROUP BY over its index)."""
    counts = dict(session.execute(
        select(ConfigPushDevice.status, func.count()).where(ConfigPushDevice.push_id == push_id)
        .group_by(ConfigPushDevice.status)).all())
    values = {column: 0 for column in _COUNTERS.values()}
    for status, n in counts.items():
        values[_COUNTERS[RowStatus(status)]] = n
    values["devices"] = sum(counts.values())
    session.execute(update(ConfigPush).where(ConfigPush.id == push_id).values(**values)
                    .execution_options(synchronize_session=False))


def sync_push(session, push_id, now=None):
    """Carry finished commands into the push's pending rows; returns how many changed. The
    caller commits."""
    now = now or utcnow()
    rows, dc = ConfigPushDevice.__table__, DeviceCommand.__table__
    changed = 0
    last_id = 0
    while True:
        found = session.execute(
            select(rows.c.id, dc.c.status, dc.c.fault_code, dc.c.fault_string,
                   dc.c.finished_on)
            .join(dc, dc.c.id == rows.c.command_id)
            .where(rows.c.push_id == push_id, rows.c.status == RowStatus.pending.value,
                   rows.c.id > last_id,
                   dc.c.status.in_([CommandStatus.done.value, CommandStatus.failed.value]))
            .order_by(rows.c.id).limit(BATCH)).all()
        if not found:
            break
        last_id = found[-1].id
        params = []
        for row in found:
            status, code, text = outcome_of(CommandStatus(row.status), row.fault_code,
                                            row.fault_string)
            params.append({"rid": row.id, "s": status.value, "code": code,
                           "text": (text or "")[:512] or None,
                           "at": row.finished_on or now})
        session.execute(update(rows).where(rows.c.id == bindparam("rid"),
                                           rows.c.status == RowStatus.pending.value)
                        .values(status=bindparam("s"), fault_code=bindparam("code"),
                                fault_string=bindparam("text"), finished_on=bindparam("at")),
                        params)
        changed += len(params)
    if changed:
        recount(session, push_id)
    return changed


def expire_push(session, push_id, now=None):
    """Every still-pending row of the push expires; their still-queued commands fail, each
    raising "Update configuration failure" on its device."""
    now = now or utcnow()
    rows = ConfigPushDevice.__table__
    pending = (rows.c.push_id == push_id) & (rows.c.status == RowStatus.pending.value)
    dc = DeviceCommand.__table__
    # Held until the commit (MariaDB): a second sweep reads them failed, raises no alarm again.
    queued = session.execute(
        select(dc.c.id, dc.c.device_id, dc.c.arguments)
        .where(dc.c.status == CommandStatus.queued.value,
               dc.c.id.in_(select(rows.c.command_id).where(pending)))
        .with_for_update()).all()
    for start in range(0, len(queued), BATCH):
        session.execute(
            update(DeviceCommand).where(DeviceCommand.status == CommandStatus.queued,
                                        DeviceCommand.id.in_([q.id for q in
                                                              queued[start:start + BATCH]]))
            .values(status=CommandStatus.failed, fault_string=EXPIRED_TEXT, finished_on=now,
                    updated_on=now).execution_options(synchronize_session=False))
    for q in queued:  # the device never fetched its configuration: "Update configuration failure"
        fault_events.download_failed(session, q.device_id, q.arguments, EXPIRED_TEXT, now)
    expired = session.execute(update(rows).where(pending).values(
        status=RowStatus.expired.value, fault_string=EXPIRED_TEXT, finished_on=now)).rowcount
    recount(session, push_id)
    return expired


def supersede(session, push_id, now, id_range=None):
    """Older pending rows of the devices of push ``push_id`` become "superseded", and their
    still-queued commands fail (a device already fetching keeps its transfer; its row says
    superseded anyway). Returns the ids of the pushes touched."""
    rows = ConfigPushDevice.__table__
    new = rows.alias("new_row")
    older = and_(new.c.push_id == push_id, rows.c.device_id == new.c.device_id,
                 rows.c.push_id != push_id, rows.c.status == RowStatus.pending.value)
    if id_range is not None:
        older = and_(older, new.c.id.between(*id_range))
    touched = session.execute(select(rows.c.push_id).where(older).distinct()).scalars().all()
    if not touched:
        return []
    dc = DeviceCommand.__table__
    session.execute(update(dc).where(
        older, dc.c.id == rows.c.command_id, dc.c.status == CommandStatus.queued.value)
        .values({dc.c.status: CommandStatus.failed.value, dc.c.fault_string: SUPERSEDED_TEXT,
                 dc.c.finished_on: now, dc.c.updated_on: now}))
    session.execute(update(rows).where(older).values(
        {rows.c.status: RowStatus.superseded.value, rows.c.finished_on: now,
         rows.c.fault_string: SUPERSEDED_TEXT}))
    for push in touched:
        recount(session, push)
    return touched


def supersede_in_batches(session, push_id, now=None, batch=BATCH):
    """The sweep's supersession of a big push: batches of its rows, a commit after each."""
    now = now or utcnow()
    rows = ConfigPushDevice.__table__
    low, high = session.execute(select(func.min(rows.c.id), func.max(rows.c.id)).where(
        rows.c.push_id == push_id)).one()
    for start in range(low or 0, (high or -1) + 1, batch):
        supersede(session, push_id, now, (start, start + batch - 1))
        session.commit()
    session.execute(update(ConfigPush).where(ConfigPush.id == push_id)
                    .values(supersede_pending=False))
    session.commit()


def sweep_pushes(session, expiry_days, now=None):
    """The scheduler's sweep over tasks with pending rows: finished commands first, then the
    expiry of what is left past ``expiry_days``. Commits per task; safe to run twice."""
    now = now or utcnow()
    for push_id in session.execute(select(ConfigPush.id).where(
            ConfigPush.supersede_pending.is_(True)).order_by(ConfigPush.id)).scalars().all():
        supersede_in_batches(session, push_id, now)
    cutoff = now - datetime.timedelta(days=expiry_days)
    # The expired first (oldest first), then the newest: many open tasks never starve either.
    is_open = ConfigPush.open_rows > 0
    due = session.execute(select(ConfigPush.id, ConfigPush.pushed_on).where(
        is_open, ConfigPush.pushed_on < cutoff).order_by(ConfigPush.id).limit(SWEEP_MAX)).all()
    recent = session.execute(select(ConfigPush.id, ConfigPush.pushed_on).where(
        is_open, ConfigPush.pushed_on >= cutoff).order_by(ConfigPush.id.desc())
        .limit(SWEEP_MAX)).all()
    open_ids = list(due) + list(recent)
    for push_id, pushed_on in open_ids:
        sync_push(session, push_id, now)
        if pushed_on is not None and pushed_on < cutoff:
            expire_push(session, push_id, now)
        session.commit()
    return len(open_ids)
