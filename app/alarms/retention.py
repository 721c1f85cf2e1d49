"""How long alarms and the charts' daily roll-up are kept: ALARM_RETENTION_DAYS.

Open alarms stay whatever their age (they still need someone); acknowledged and cleared ones
whose latest occurrence is older than the retention leave, and so do the roll-up's days
before it, so the charts never count alarms the list no longer has."""

import datetime

from sqlalchemy import delete, select

from app.alarms.models import Alarm, AlarmDaily, AlarmStatus
from app.models import utcnow

BATCH = 1000  # rows per committed delete: no long lock on the table the ACS writes


def prune_alarms(session, days, now=None):
    """Delete finished alarms last seen more than ``days`` ago and the roll-up's older days;
    ``days`` 0 keeps everything. Returns (alarms deleted, roll-up rows deleted)."""
    if days <= 0:
        return 0, 0
    cutoff = (now or utcnow()) - datetime.timedelta(days=days)
    alarms = 0
    while True:
        # (last_at, id) index: walks only the old rows
        ids = session.execute(
            select(Alarm.id).where(Alarm.last_at < cutoff, Alarm.status != AlarmStatus.open)
            .order_by(Alarm.last_at, Alarm.id).limit(BATCH)).scalars().all()
        if not ids:
            break
        alarms += session.execute(delete(Alarm).where(Alarm.id.in_(ids))).rowcount
        session.commit()
    days_gone = session.execute(
        delete(AlarmDaily).where(AlarmDaily.day < cutoff.date())).rowcount
    session.commit()
    return alarms, days_gone
