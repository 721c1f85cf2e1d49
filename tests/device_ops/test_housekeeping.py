"""What the device issue left open (issue 13, points 9-11): no answer or command for devices
that may not be managed, finished commands pruned, the parameter cache bounded."""

import datetime
import json

from sqlalchemy import select

from app.device_ops import commands, rpc
from app.extensions import db
from app.models import (
    CommandStatus,
    Device,
    DeviceCommand,
    Enterprise,
    RpsDevice,
    Status,
    utcnow,
)
from app.tenancy import rps

from ..tree import PASSWORD


def _device_of(session, enterprise_id):
    return session.execute(select(Device).where(Device.enterprise_id == enterprise_id)
                           .order_by(Device.id)).scalars().first()


def test_a_frozen_rps_enterprise_gets_no_lookup_answer(app, db_session, fresh_tree):
    t = fresh_tree
    mac = "0b" + "1234567890"
    db_session.add(RpsDevice(mac=mac, server_url="https://dm.example.com/", enterprise_id=t.R))
    db_session.commit()
    client = app.test_client()
    assert client.get(f"/rps/lookup?mac={mac}").status_code == 200
    db_session.get(Enterprise, t.R).status = Status.frozen
    db_session.commit()
    r = client.get(f"/rps/lookup?mac={mac}")
    assert r.status_code == 404 and r.get_json() == {"error": "Unknown MAC address."}
    assert rps.server_url_for(db_session, mac) is None


def test_commands_go_only_to_managed_devices(app, login, fresh_tree):
    """(No db_session: on MariaDB a test's open transaction would hold the sign-in up.)"""
    t = fresh_tree
    c = login(t.c_email, PASSWORD)
    with app.app_context():
        rps_device = _device_of(db.session, t.R)  # a Device row of an RPS enterprise C sees
        other = _device_of(db.session, t.SE)
    r = c.post(f"/devicemodelview/command/{rps_device.id}", data={"kind": "reboot"})
    assert r.status_code == 400
    assert "Commands go only to devices of active device-management enterprises" in \
        r.get_data(as_text=True)
    with app.app_context():
        db.session.get(Enterprise, t.E).status = Status.frozen
        db.session.commit()
        frozen = _device_of(db.session, t.E)
        try:
            commands.queue_command(db.session, db.session.get(Device, frozen.id), "reboot")
        except commands.CommandError as error:
            assert error.template == commands.NOT_MANAGED
        else:
            raise AssertionError("a frozen enterprise's device took a command")
        db.session.rollback()
        assert db.session.execute(select(DeviceCommand).where(DeviceCommand.device_id.in_(
            [rps_device.id, frozen.id]))).first() is None
    # another tree's device: 404 as before
    assert c.post(f"/devicemodelview/command/{other.id}", data={"kind": "reboot"}
                  ).status_code == 404


def test_finished_commands_are_pruned_after_the_retention(app, db_session, fresh_tree):
    device = _device_of(db_session, fresh_tree.E)
    now = utcnow()
    old = DeviceCommand(device_id=device.id, kind="reboot", status=CommandStatus.done,
                        updated_on=now - datetime.timedelta(days=91), file_name="uploads/x.log")
    recent = DeviceCommand(device_id=device.id, kind="reboot", status=CommandStatus.failed,
                           updated_on=now - datetime.timedelta(days=89))
    waiting = DeviceCommand(device_id=device.id, kind="ping", status=CommandStatus.waiting,
                            updated_on=now - datetime.timedelta(days=200))
    db_session.add_all([old, recent, waiting])
    db_session.commit()
    ids = (old.id, recent.id, waiting.id)
    with app.app_context():
        assert commands.prune_commands(db.session, 90) == ["uploads/x.log"]
    db_session.commit()
    left = db_session.execute(select(DeviceCommand.id).where(DeviceCommand.id.in_(ids))
                              ).scalars().all()
    assert sorted(left) == sorted(ids[1:])


def test_the_parameter_cache_keeps_the_latest_names_only(app, db_session, fresh_tree):
    device = _device_of(db_session, fresh_tree.E)
    with app.app_context():
        for chunk in range(6):
            rpc._remember_parameters(db.session, device.id, {
                f"Device.X.{chunk}.{i}": str(i) for i in range(100)}, utcnow())
        rpc._remember_parameters(db.session, device.id, {"Device.X.0.0": "again"}, utcnow())
        db.session.commit()
    db_session.commit()
    known = json.loads(db_session.get(Device, device.id).parameters)
    assert len(known) == rpc.MAX_PARAMETERS
    assert "Device.X.5.99" in known and known["Device.X.0.0"] == "again"
    assert "Device.X.0.1" not in known  # the oldest went first


def test_a_queued_configuration_push_outlives_the_command_timeout(app, db_session, fresh_tree):
    """An offline device gets its pushed configuration at its next session within the push's
    own expiry (days), not the one-hour command timeout; other queued commands still fail."""
    device = _device_of(db_session, fresh_tree.E)
    old = utcnow() - datetime.timedelta(hours=2)
    push = DeviceCommand(device_id=device.id, kind="download", status=CommandStatus.queued,
                         updated_on=old, arguments=json.dumps(
                             {"file_type": "3 Vendor Configuration File", "push": 7}))
    reboot = DeviceCommand(device_id=device.id, kind="reboot", status=CommandStatus.queued,
                           updated_on=old)
    db_session.add_all([push, reboot])
    db_session.commit()
    with app.app_context():
        commands.expire_commands(db.session, 3600)
    db_session.commit()
    assert db_session.get(DeviceCommand, push.id).status == CommandStatus.queued
    assert db_session.get(DeviceCommand, reboot.id).status == CommandStatus.failed
