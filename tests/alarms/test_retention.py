"""Alarm retention: finished alarms past ALARM_RETENTION_DAYS and the charts' older days go;
open alarms and everything younger stay."""

import datetime

from sqlalchemy import select

from app.alarms import rules
from app.alarms.retention import prune_alarms
from app.models import Alarm, AlarmDaily, AlarmStatus, utcnow

from .support import device_of


def test_old_finished_alarms_and_old_chart_days_go_open_and_young_ones_stay(db_session,
                                                                            fresh_tree):
    e = fresh_tree.E
    device = device_of(db_session, e)
    now = utcnow()
    old = now - datetime.timedelta(days=400)
    made = {}
    for code, when in (("call_failed", old), ("rtp_dead", old), ("hold_failure", None)):
        made[code] = rules.raise_alarm(db_session, device.id, e, code, now=when).alarm_id
    db_session.commit()
    # call_failed was cleared long ago; rtp_dead is still open however old
    rules.clear_open_alarm(db_session, device.id, "call_failed", now=old)
    rules.clear_open_alarm(db_session, device.id, "hold_failure")  # cleared today: young
    db_session.commit()

    assert prune_alarms(db_session, 0, now=now) == (0, 0)  # 0 keeps everything
    assert db_session.get(Alarm, made["call_failed"]) is not None

    alarms, days = prune_alarms(db_session, 365, now=now)
    assert alarms >= 1 and days >= 1
    db_session.expire_all()
    left = {a.id: a.status for a in db_session.execute(
        select(Alarm).where(Alarm.enterprise_id == e)).scalars()}
    assert made["call_failed"] not in left
    assert left[made["rtp_dead"]] == AlarmStatus.open
    assert made["hold_failure"] in left
    chart_days = set(db_session.execute(select(AlarmDaily.day).where(
        AlarmDaily.enterprise_id == e)).scalars())
    assert chart_days == {now.date()}  # the 400-day-old day left with its alarms


def test_the_scheduler_runs_the_alarm_retention(app):
    from app.core.jobs import job_registry

    assert "prune_alarms" in job_registry(app)
