"""A configuration push that fails or times out raises "Update configuration failure", once
per failed command: the device's own fault (over real HTTP with a simulated phone), a
Download taken but never reported, a push the device never came for."""

import datetime

from sqlalchemy import select, update

from app.alarms import rules
from app.configs import outcomes, pushes
from app.configs.tables import ConfigPushDevice
from app.device_ops import commands
from app.device_ops.simulator import transfers
from app.models import (
    Alarm,
    AlarmSetting,
    AlarmStatus,
    CommandStatus,
    Device,
    DeviceCommand,
    utcnow,
)

from ..configs.support import add_template
from ..helpers import PATIENCE

CONFIG = "update_configuration_failure"


def counts(session, device_ids, code=CONFIG):
    """{device id: count of its open alarm of ``code``} (absent: none open)."""
    session.commit()  # a fresh snapshot (MariaDB)
    type_id = rules.alarm_types(session)[code].id
    return dict(session.execute(select(Alarm.device_id, Alarm.count).where(
        Alarm.device_id.in_(device_ids), Alarm.type_id == type_id,
        Alarm.status == AlarmStatus.open)).all())


def push_to(session, enterprise_id, name="Push"):
    template = add_template(session, name, "account.1.label = x\n", enterprise_id=enterprise_id)
    push = pushes.new_push(template, by="tester")
    pushes.push_now(session, push)
    session.commit()
    rows = session.execute(select(ConfigPushDevice).where(
        ConfigPushDevice.push_id == push.id)).scalars().all()
    return push, {r.device_id: r.command_id for r in rows}


def test_a_push_the_phone_fails_and_one_never_fetched_raise_once(db_session, fresh_tree, phone,
                                                                  monkeypatch):
    db_session.commit()  # a fresh snapshot: the phone bound its device meanwhile (MariaDB)
    device = db_session.execute(select(Device).where(Device.mac == phone.mac)).scalar_one()
    # the phone's file server answers 404: it reports the Download failed (9010)
    monkeypatch.setattr(transfers, "_http_transfer", lambda *_a, **_k: (404, 0))
    push, targets = push_to(db_session, fresh_tree.E)
    others = [d for d in targets if d != device.id]  # the tree's devices that never connect
    assert device.id in targets and others
    assert phone.run_session([("6 CONNECTION REQUEST", "")]).ok
    assert phone.wait_idle(PATIENCE)
    phone.run_session([])  # a TransferComplete still waiting goes now
    db_session.commit()  # a fresh snapshot (MariaDB)
    assert db_session.get(DeviceCommand, targets[device.id]).status == CommandStatus.failed
    assert counts(db_session, targets) == {device.id: 1}
    # The sweep carries the outcome into the task: no second alarm. Past the push's expiry,
    # the devices that never came for it get theirs, once, however often the sweep runs.
    outcomes.sweep_pushes(db_session, 7)
    later = utcnow() + datetime.timedelta(days=8)
    outcomes.sweep_pushes(db_session, 7, now=later)
    outcomes.sweep_pushes(db_session, 7, now=later + datetime.timedelta(minutes=1))
    assert counts(db_session, targets) == {d: 1 for d in targets}
    alarm = db_session.execute(select(Alarm).where(
        Alarm.device_id == others[0], Alarm.status == AlarmStatus.open)).scalar_one()
    assert alarm.severity.value == "critical" and "did not fetch" in alarm.description


def _taken(session, command_id, status, hours=2):
    """The device took the Download (sent, or accepted and transferring) that long ago."""
    session.execute(update(DeviceCommand).where(DeviceCommand.id == command_id).values(
        status=status, updated_on=utcnow() - datetime.timedelta(hours=hours)))
    session.commit()


def test_a_download_taken_but_never_reported_raises_once_when_it_times_out(db_session,
                                                                            fresh_tree):
    push, targets = push_to(db_session, fresh_tree.E, "Timeout")
    first, second = list(targets)[:2]
    _taken(db_session, targets[first], CommandStatus.waiting)
    _taken(db_session, targets[second], CommandStatus.sent)
    assert commands.expire_commands(db_session, 3600) >= 2
    commands.expire_commands(db_session, 3600)  # again: those are failed already
    assert counts(db_session, [first, second]) == {first: 1, second: 1}
    waited = db_session.execute(select(Alarm).where(
        Alarm.device_id == first, Alarm.status == AlarmStatus.open)).scalar_one()
    assert waited.description == commands.TIMED_OUT[CommandStatus.waiting]
    # A firmware Download that times out is "Upgrade firmware failure"; other commands none.
    device = db_session.get(Device, first)
    firmware = commands.queue_command(db_session, device, "download", {
        "file_type": "1 Firmware Upgrade Image", "url": "http://127.0.0.1:9/fw.rom"}, by="t")
    reboot = commands.queue_command(db_session, device, "reboot", by="t")
    db_session.commit()
    _taken(db_session, firmware.id, CommandStatus.sent)
    _taken(db_session, reboot.id, CommandStatus.sent)
    commands.expire_commands(db_session, 3600)
    assert counts(db_session, [first], "upgrade_firmware_failure") == {first: 1}
    assert counts(db_session, [first]) == {first: 1}


def test_a_superseded_push_or_a_strategy_without_the_type_raises_nothing(db_session,
                                                                         fresh_tree):
    old, targets = push_to(db_session, fresh_tree.E, "Old")
    push_to(db_session, fresh_tree.E, "New")  # supersedes the old one's queued commands
    assert db_session.get(DeviceCommand, next(iter(targets.values()))).status == (
        CommandStatus.failed)
    assert counts(db_session, targets) == {}
    db_session.add(AlarmSetting(enterprise_id=fresh_tree.E, type_codes="call_failed"))
    db_session.commit()
    rules.forget_strategy(db_session, fresh_tree.E)
    outcomes.sweep_pushes(db_session, 7, now=utcnow() + datetime.timedelta(days=8))
    assert counts(db_session, targets) == {}
