"""The charts' daily roll-up (AlarmDaily): one more per new alarm, none per repeat, exact with
workers raising at once, on every path the ACS takes; and the charts read it within scope."""

import datetime
import threading

from sqlalchemy import func, select

from app.alarms import queries, rules
from app.core import scope
from app.device_ops import cwmp, fault_events
from app.models import Account, Alarm, AlarmDaily, Device, utcnow

from .support import device_of


def rolled_up(session, enterprise_id):
    session.commit()  # a fresh snapshot (MariaDB)
    return {(str(d), t): n for d, t, n in session.execute(
        select(AlarmDaily.day, AlarmDaily.type_id, AlarmDaily.count)
        .where(AlarmDaily.enterprise_id == enterprise_id))}


def counted_from_alarms(session, enterprise_id):
    day = func.date(Alarm.first_at)
    return {(str(d), t): n for d, t, n in session.execute(
        select(day, Alarm.type_id, func.count()).where(Alarm.enterprise_id == enterprise_id)
        .group_by(day, Alarm.type_id))}


def test_new_alarms_count_repeats_do_not_and_a_cleared_one_counts_again(db_session,
                                                                         fresh_tree, tree):
    e = fresh_tree.E
    device = device_of(db_session, e)
    yesterday = utcnow() - datetime.timedelta(days=1)
    for code, when in (("call_failed", yesterday), ("call_failed", None), ("rtp_dead", None),
                       ("call_failed", None)):
        rules.raise_alarm(db_session, device.id, e, code, now=when)
    db_session.commit()
    rules.clear_open_alarm(db_session, device.id, "call_failed")
    rules.raise_alarm(db_session, device.id, e, "call_failed")  # a new alarm: counts
    rules.raise_alarm(db_session, device_of(db_session, tree.SE).id, tree.SE, "call_failed")
    db_session.commit()
    types = rules.alarm_types(db_session)
    today, before = str(utcnow().date()), str(yesterday.date())
    assert rolled_up(db_session, e) == {(before, types["call_failed"].id): 1,
                                        (today, types["rtp_dead"].id): 1,
                                        (today, types["call_failed"].id): 1}
    assert rolled_up(db_session, e) == counted_from_alarms(db_session, e)


def ingest_inform(conn, device_id, enterprise_id, events):
    """An Inform's events as the ACS writes them: one transaction on its connection."""
    params = {f"Device.FaultMgmt.QueuedEvent.{i}.EventType": e["EventType"]
              for i, e in enumerate(events, start=1)}
    return fault_events.in_one_transaction(conn, lambda: fault_events.ingest_all(
        conn, device_id, enterprise_id, params, utcnow()))


def test_the_acs_paths_count_each_new_alarm_once(app, db_session, fresh_tree):
    e = fresh_tree.E
    devices = db_session.execute(select(Device.id).where(Device.enterprise_id == e)
                                 .order_by(Device.id)).scalars().all()[:2]
    events = [{"EventType": name} for name in ("Hold failure", "RTP dead", "Hold failure")]
    engine = cwmp._acs_engine(app)
    with engine.connect() as conn:  # the ACS's autocommit connection
        ingest_inform(conn, devices[0], e, events[:1])
        ingest_inform(conn, devices[0], e, events)
        ingest_inform(conn, devices[1], e, list(reversed(events)))
    engine.dispose()
    found = rolled_up(db_session, e)
    types = rules.alarm_types(db_session)
    today = str(utcnow().date())
    assert found == {(today, types["hold_failure"].id): 2, (today, types["rtp_dead"].id): 2}
    assert found == counted_from_alarms(db_session, e)


def test_workers_raising_at_once_count_each_alarm_once(app, db_session, fresh_tree):
    e = fresh_tree.E
    devices = db_session.execute(select(Device.id).where(Device.enterprise_id == e)
                                 .order_by(Device.id)).scalars().all()[:2]
    engine = cwmp._acs_engine(app)
    barrier = threading.Barrier(6)
    errors = []

    def worker(n):
        # Informs of several events, in opposite orders, for two devices: the same day rows.
        events = [{"EventType": name} for name in ("Meet now failure", "Resume failure",
                                                   "Hold failure")]
        if n % 2:
            events.reverse()
        try:
            with engine.connect() as conn:
                barrier.wait()
                for _ in range(5):
                    ingest_inform(conn, devices[n % 2], e, events)
                    ingest_inform(conn, devices[n % 2], e, events[:1])
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert errors == []
    found = rolled_up(db_session, e)
    assert sorted(found.values()) == [2, 2, 2]  # three types, two devices, each alarm once
    assert found == counted_from_alarms(db_session, e)


def test_charts_read_the_roll_up_of_the_scope_only(db_session, fresh_tree, tree):
    mine, theirs = device_of(db_session, fresh_tree.E), device_of(db_session, tree.SE)
    for _ in range(3):  # one alarm: repeats are not alarms
        rules.raise_alarm(db_session, mine.id, fresh_tree.E, "srtp_failure")
    rules.raise_alarm(db_session, theirs.id, tree.SE, "srtp_failure")
    db_session.commit()
    srtp = rules.alarm_types(db_session)["srtp_failure"]
    today = utcnow().date()

    def chart_of(email):
        account = db_session.execute(select(Account).where(Account.username == email)).scalar()
        start, per_day, top = queries.chart_counts(db_session, scope.principal_of(account))
        return per_day.get((today, srtp.severity), 0), dict(top).get(srtp.id, 0)

    assert chart_of(fresh_tree.c_email) == (1, 1)  # the other tree's alarm is not counted
    platform_day, platform_top = chart_of(tree.admin_email)
    assert platform_day >= 2 and platform_top >= 2
