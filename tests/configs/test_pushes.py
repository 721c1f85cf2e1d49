"""Pushes without HTTP: who receives (the authorization boundary), the bulk rows and their
commands, supersession, outcomes, expiry, retry and timer tasks run exactly once."""

import datetime
import json
import threading

import pytest
from sqlalchemy import select

from app.configs import outcomes, pushes
from app.configs.rules import ConfigError
from app.configs.tables import ConfigPush, ConfigPushDevice, PushStatus, RowStatus
from app.device_ops import commands
from app.extensions import db
from app.models import (
    Channel,
    CommandStatus,
    Device,
    DeviceCommand,
    Enterprise,
    Status,
    utcnow,
)

from .support import add_template


def push(session, template):
    p = pushes.new_push(template, by="tester")
    pushes.push_now(session, p)
    session.commit()
    return p


def rows_of(session, push_id):
    return session.execute(select(ConfigPushDevice).where(ConfigPushDevice.push_id == push_id)
                           .order_by(ConfigPushDevice.id)).scalars().all()


def enterprise_ids_reached(session, push_id):
    return {r.enterprise_id for r in rows_of(session, push_id)}


def device_ids(session, *enterprise_ids):
    return set(session.execute(select(Device.id).where(
        Device.enterprise_id.in_(enterprise_ids))).scalars())


def test_a_channel_push_reaches_authorized_enterprises_of_its_subtree_only(db_session,
                                                                          mtree):
    t = mtree
    template = add_template(db_session, "A", "x.a = 1\n", channel_id=t.A)
    p = push(db_session, template)
    # E (under C) and EB (under B); never ER (rejected), R (RPS) or SE (another tree)
    assert enterprise_ids_reached(db_session, p.id) == {t.E, t.EB}
    assert p.devices == 4 == p.open_rows and p.channel_id == t.A
    rows = rows_of(db_session, p.id)
    assert {r.device_id for r in rows} == device_ids(db_session, t.E, t.EB)
    for row in rows:
        command = db_session.get(DeviceCommand, row.command_id)
        assert command.device_id == row.device_id and command.kind == "download"
        assert command.status == CommandStatus.queued
        arguments = json.loads(command.arguments)
        assert arguments["file_type"] == "3 Vendor Configuration File"
        assert "url" not in arguments  # the ACS points the device at its own file
        assert db_session.get(Device, row.device_id).has_work
    untouched = device_ids(db_session, t.ER, t.R, t.SE)
    assert not db_session.execute(select(DeviceCommand).where(
        DeviceCommand.device_id.in_(untouched))).first()


def test_frozen_enterprises_and_everything_below_a_frozen_channel_never_receive(db_session,
                                                                               fresh_tree):
    t = fresh_tree
    template = add_template(db_session, "A", "x.a = 1\n", channel_id=t.A)
    db_session.get(Enterprise, t.EB).status = Status.frozen
    db_session.commit()
    assert enterprise_ids_reached(db_session, push(db_session, template).id) == {t.E}
    db_session.get(Channel, t.C).status = Status.frozen
    db_session.commit()
    assert enterprise_ids_reached(db_session, push(db_session, template).id) == set()
    to_e = add_template(db_session, "E", "x.a = 1\n", enterprise_id=t.E)
    with pytest.raises(ConfigError):
        push(db_session, to_e)
    db_session.rollback()
    frozen_a = add_template(db_session, "C", "x.a = 1\n", channel_id=t.C)
    with pytest.raises(ConfigError):
        push(db_session, frozen_a)
    db_session.rollback()


@pytest.mark.parametrize("target", ["ER", "R"])
def test_an_enterprise_push_to_an_unauthorized_or_rps_enterprise_is_refused(db_session,
                                                                          mtree, target):
    t = mtree
    template = add_template(db_session, target, "x.a = 1\n", enterprise_id=getattr(t, target))
    before = db_session.execute(select(ConfigPush.id)).scalars().all()
    with pytest.raises(ConfigError):
        push(db_session, template)
    db_session.rollback()
    assert db_session.execute(select(ConfigPush.id)).scalars().all() == before
    assert not db_session.execute(select(DeviceCommand).where(DeviceCommand.device_id.in_(
        device_ids(db_session, getattr(t, target))))).first()


def test_a_newer_push_supersedes_the_older_row_and_its_queued_command(db_session, mtree):
    t = mtree
    first = push(db_session, add_template(db_session, "E1", "x.a = 1\n", enterprise_id=t.E))
    second = push(db_session, add_template(db_session, "A", "x.b = 1\n", channel_id=t.A))
    db_session.refresh(first)
    assert first.superseded == 2 and first.open_rows == 0
    for row in rows_of(db_session, first.id):
        assert row.status == RowStatus.superseded
        command = db_session.get(DeviceCommand, row.command_id)
        assert command.status == CommandStatus.failed
        assert command.fault_string == outcomes.SUPERSEDED_TEXT
    assert second.open_rows == 4
    assert {r.status for r in rows_of(db_session, second.id)} == {RowStatus.pending}


def test_a_big_push_leaves_supersession_to_the_sweep(db_session, mtree, monkeypatch):
    t = mtree
    first = push(db_session, add_template(db_session, "E1", "x.a = 1\n", enterprise_id=t.E))
    monkeypatch.setattr(pushes, "SUPERSEDE_INLINE_MAX", 1)  # two devices make a "big" push
    second = push(db_session, add_template(db_session, "E2", "x.b = 1\n", enterprise_id=t.E))
    db_session.refresh(first)
    assert second.supersede_pending and first.open_rows == 2
    outcomes.sweep_pushes(db_session, 7)
    db_session.refresh(first)
    db_session.refresh(second)
    assert not second.supersede_pending
    assert (first.superseded, first.open_rows, second.open_rows) == (2, 0, 2)
    assert {db_session.get(DeviceCommand, r.command_id).status
            for r in rows_of(db_session, first.id)} == {CommandStatus.failed}


def test_outcomes_follow_the_commands_and_retry_pushes_the_failed_again(db_session,
                                                                        mtree):
    t = mtree
    p = push(db_session, add_template(db_session, "A", "x.a = 1\n", channel_id=t.A))
    rows = rows_of(db_session, p.id)
    ok, bad, never = (db_session.get(DeviceCommand, r.command_id) for r in rows[:3])
    commands.finish(ok, CommandStatus.done)
    commands.finish(bad, CommandStatus.failed, fault_code=9010, fault_string="Download failure")
    commands.finish(never, CommandStatus.failed,
                    fault_string=commands.TIMED_OUT[CommandStatus.queued])
    db_session.commit()
    assert outcomes.sync_push(db_session, p.id) == 3
    db_session.commit()
    db_session.refresh(p)
    statuses = [(r.status, r.fault_code, r.fault_string) for r in rows_of(db_session, p.id)]
    assert statuses[:3] == [(RowStatus.success, None, None),
                            (RowStatus.failed, 9010, "Download failure"),
                            (RowStatus.expired, None,
                             commands.TIMED_OUT[CommandStatus.queued])]
    assert (p.devices, p.succeeded, p.failed, p.expired, p.open_rows) == (4, 1, 1, 1, 1)

    again = pushes.retry_failed(db_session, p, by="tester")
    db_session.commit()
    assert again.retry_of == p.id and again.devices == 1
    assert [r.device_id for r in rows_of(db_session, again.id)] == [rows[1].device_id]


def test_rows_still_pending_expire_after_the_setting(db_session, mtree):
    t = mtree
    p = push(db_session, add_template(db_session, "E", "x.a = 1\n", enterprise_id=t.E))
    outcomes.sweep_pushes(db_session, 7, now=utcnow() + datetime.timedelta(days=6))
    db_session.refresh(p)
    assert p.open_rows == 2
    outcomes.sweep_pushes(db_session, 7, now=utcnow() + datetime.timedelta(days=8))
    db_session.refresh(p)
    assert (p.open_rows, p.expired) == (0, 2)
    for row in rows_of(db_session, p.id):
        assert row.status == RowStatus.expired
        assert db_session.get(DeviceCommand, row.command_id).status == CommandStatus.failed


def _schedule(session, template, minutes=5):
    p = pushes.schedule(template, utcnow() + datetime.timedelta(minutes=minutes), "UTC",
                        by="tester")
    session.add(p)
    session.commit()
    return p


def test_a_timer_task_runs_once_even_with_two_schedulers(app, db_session, mtree):
    t = mtree
    p = _schedule(db_session, add_template(db_session, "E", "x.a = 1\n", enterprise_id=t.E))
    assert pushes.run_due_pushes(db_session) == []  # not yet
    later = utcnow() + datetime.timedelta(minutes=6)
    results, barrier = [], threading.Barrier(2)

    def scheduler():
        with app.app_context():
            barrier.wait()
            results.append(pushes.run_due_pushes(db.session, now=later))
            db.session.remove()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results, key=len) == [[], [p.id]]
    assert pushes.run_due_pushes(db_session, now=later) == []  # a rerun does nothing
    db_session.commit()
    db_session.refresh(p)
    assert p.status == PushStatus.pushed and p.devices == 2 == len(rows_of(db_session, p.id))


def test_a_cancelled_timer_task_never_runs(db_session, mtree):
    t = mtree
    p = _schedule(db_session, add_template(db_session, "E", "x.a = 1\n", enterprise_id=t.E))
    pushes.cancel(db_session, p)
    db_session.commit()
    assert pushes.run_due_pushes(db_session, now=utcnow() + datetime.timedelta(hours=1)) == []
    db_session.refresh(p)
    assert p.status == PushStatus.cancelled and rows_of(db_session, p.id) == []
    with pytest.raises(ConfigError):
        pushes.cancel(db_session, p)


def test_a_timer_task_whose_target_stopped_authorizing_is_refused_when_due(db_session,
                                                                          fresh_tree):
    t = fresh_tree
    p = _schedule(db_session, add_template(db_session, "E", "x.a = 1\n", enterprise_id=t.E))
    from app.models import Authorization

    db_session.get(Enterprise, t.E).authorization = Authorization.rejected
    db_session.commit()
    assert pushes.run_due_pushes(db_session, now=utcnow() + datetime.timedelta(hours=1)) == []
    db_session.refresh(p)
    assert p.status == PushStatus.refused and p.note and rows_of(db_session, p.id) == []
