"""The alarm rules without HTTP: dedup, strategy, acknowledging and clearing in scope."""

import threading

import pytest
from sqlalchemy import func, select

from app.alarms import rules
from app.alarms.types import CODES, TYPES
from app.core import scope
from app.extensions import db
from app.models import (
    Account,
    Alarm,
    AlarmStatus,
    AlarmType,
    DeviceCommand,
    Enterprise,
    OutboxMessage,
)

from .support import device_of, make_alarm


def test_every_appendix_type_is_seeded_once_with_its_severity(db_session):
    rows = {t.code: t for t in db_session.execute(select(AlarmType)).scalars()}
    assert set(rows) == CODES
    names = [t.name_en for t in rows.values()]
    assert names.count("Call failed") == 1  # twice in the appendix, one type
    for code, en, zh, severity in TYPES:
        assert (rows[code].name_en, rows[code].name_zh, rows[code].severity.value) == (
            en, zh, severity)
    assert rows["kernel_panic"].uploads_log and not rows["call_failed"].uploads_log


def test_a_repeat_counts_on_the_open_alarm(db_session, fresh_tree):
    first = make_alarm(db_session, fresh_tree.E, "hold_failure", "one")
    again = make_alarm(db_session, fresh_tree.E, "hold_failure", "two")
    db_session.refresh(first)
    assert again.id == first.id
    assert first.count == 2 and first.description == "two"
    assert first.last_at >= first.first_at


def test_a_cleared_alarm_repeated_opens_a_new_one(db_session, fresh_tree):
    t = fresh_tree
    first = make_alarm(db_session, t.E, "rtp_dead")
    principal = scope.principal_of(db_session.get(Account, t.c))
    assert rules.clear_alarms(db_session, principal, [first.id], "c") == 1
    db_session.commit()
    second = make_alarm(db_session, t.E, "rtp_dead")
    assert second.id != first.id and second.count == 1
    db_session.refresh(first)
    assert first.status == AlarmStatus.cleared and first.open_key is None


def test_unknown_type_is_refused_and_nothing_stored(db_session, fresh_tree):
    device = device_of(db_session, fresh_tree.E)
    before = db_session.execute(select(func.count(Alarm.id))).scalar()
    with pytest.raises(rules.AlarmError):
        rules.raise_alarm(db_session, device.id, fresh_tree.E, "no_such_type")
    assert db_session.execute(select(func.count(Alarm.id))).scalar() == before


def test_strategy_disabled_or_filtered_takes_no_alarm(db_session, fresh_tree):
    t = fresh_tree
    enterprise = db_session.get(Enterprise, t.E)
    principal = scope.principal_of(db_session.get(Account, t.c))
    rules.save_setting(db_session, principal, enterprise, enabled=True, severities=["critical"],
                       codes=list(CODES), receiver_ids=[], email=False, by="c")
    db_session.commit()
    device = device_of(db_session, t.E)
    assert rules.raise_alarm(db_session, device.id, t.E, "call_failed") is None  # minor
    assert rules.raise_alarm(db_session, device.id, t.E, "exit_program") is not None
    rules.save_setting(db_session, principal, enterprise, enabled=False,
                       severities=["critical"], codes=list(CODES), receiver_ids=[],
                       email=False, by="c")
    db_session.commit()
    assert rules.raise_alarm(db_session, device.id, t.E, "kernel_panic") is None


def test_log_types_queue_an_upload_of_the_log(db_session, fresh_tree):
    alarm = make_alarm(db_session, fresh_tree.E, "application_crash")
    command = db_session.get(DeviceCommand, alarm.log_command_id)
    assert command.kind == "upload" and '"2 Vendor Log File"' in command.arguments
    assert command.device_id == alarm.device_id
    again = make_alarm(db_session, fresh_tree.E, "application_crash")
    assert again.log_command_id == command.id  # a repeat asks for no second log


def test_critical_mail_goes_to_receivers_in_their_language(db_session, fresh_tree):
    t = fresh_tree
    enterprise = db_session.get(Enterprise, t.E)
    c = db_session.get(Account, t.c)
    c.language = "zh"
    principal = scope.principal_of(c)
    rules.save_setting(db_session, principal, enterprise, enabled=True,
                       severities=["critical", "major", "minor"], codes=list(CODES),
                       receiver_ids=[t.c], email=True, by="c")
    db_session.commit()
    make_alarm(db_session, t.E, "kernel_panic", "oops")
    mail = db_session.execute(select(OutboxMessage).where(
        OutboxMessage.recipient == t.c_email)).scalars().all()
    assert len(mail) == 1 and "内核崩溃" in mail[0].subject
    make_alarm(db_session, t.E, "kernel_panic", "oops")  # a repeat mails nobody
    make_alarm(db_session, t.E, "hold_failure")  # minor: the digest's
    assert db_session.execute(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == t.c_email)).scalar() == 1


def test_actions_with_an_id_of_another_tree_change_nothing(db_session, fresh_tree, tree):
    mine = make_alarm(db_session, fresh_tree.E, "srtp_failure")
    theirs = make_alarm(db_session, tree.SE, "srtp_failure")
    principal = scope.principal_of(db_session.get(Account, fresh_tree.c))
    for action in (rules.acknowledge_alarms, rules.clear_alarms):
        with pytest.raises(scope.OutOfScope):
            action(db_session, principal, [mine.id, theirs.id], "c")
        db_session.rollback()
    for alarm in (mine, theirs):
        db_session.refresh(alarm)
        assert alarm.status == AlarmStatus.open
    assert rules.acknowledge_alarms(db_session, principal, [mine.id], "c") == 1


def test_forged_receiver_of_another_tree_is_refused(db_session, fresh_tree, tree):
    t = fresh_tree
    enterprise = db_session.get(Enterprise, t.E)
    principal = scope.principal_of(db_session.get(Account, t.c))
    candidates = {a.id for a in rules.receiver_candidates(db_session, principal, enterprise)}
    assert t.c in candidates and tree.s not in candidates and t.a not in candidates
    with pytest.raises(scope.OutOfScope):
        rules.save_setting(db_session, principal, enterprise, enabled=True,
                           severities=["critical"], codes=[], receiver_ids=[tree.s],
                           email=True, by="c")
    # A's sub-account granted B's subtree may receive E's alarms when A picks.
    a = scope.principal_of(db_session.get(Account, t.a))
    assert {t.a, t.sub} <= {x.id for x in rules.receiver_candidates(db_session, a, enterprise)}


def test_two_workers_raising_at_once_leave_one_open_alarm(app, fresh_tree):
    """The unique open key: concurrent upserts of the same (device, type) never insert two
    rows (run on SQLite and MariaDB alike)."""
    with app.app_context():
        device_id = device_of(db.session, fresh_tree.E).id
    barrier = threading.Barrier(8)
    errors = []

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(5):
                    rules.raise_alarm(db.session, device_id, fresh_tree.E, "rtp_violate")
                    db.session.commit()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        rows = db.session.execute(select(Alarm).where(Alarm.device_id == device_id,
                                                      Alarm.type_id == rules.alarm_types(
                                                          db.session)["rtp_violate"].id)
                                  ).scalars().all()
        assert len(rows) == 1 and rows[0].count == 40
