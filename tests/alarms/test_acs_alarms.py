"""Alarms over real HTTP: a simulated phone reports TR-181 fault events to the ACS served on
127.0.0.1; the ACS reads them in the same session, dedups them, fetches the log of a crash,
and raises what it sees itself (a failed configuration push, a silent device)."""

import datetime
import secrets

from sqlalchemy import select

from app.alarms import rules
from app.device_ops import commands, inventory
from app.device_ops.simulator import alarms as sim_alarms
from app.models import Alarm, AlarmStatus, CommandStatus, Device, DeviceCommand, utcnow

from ..acs_support import credentials, give_quota
from ..helpers import PATIENCE


def alarms_of(session, mac):
    session.commit()  # a fresh snapshot (MariaDB repeats reads inside a transaction)
    device = session.execute(select(Device).where(Device.mac == mac)).scalar_one()
    rows = session.execute(select(Alarm).where(Alarm.device_id == device.id)
                           .order_by(Alarm.id)).scalars().all()
    types = {t.id: code for code, t in rules.alarm_types(session).items()}
    return device, {types[a.type_id]: a for a in rows}


def test_phone_raises_critical_and_minor_read_in_the_same_session(db_session, phone):
    log = sim_alarms.raise_now(phone, "kernel_panic", "panic in sched")
    assert log.ok and "GetParameterValues" in log.rpcs and "Upload" in log.rpcs
    assert phone.wait_idle(PATIENCE)  # the log upload and its TransferComplete
    assert sim_alarms.raise_now(phone, "call_failed", "486 Busy").ok
    device, found = alarms_of(db_session, phone.mac)
    panic, call = found["kernel_panic"], found["call_failed"]
    assert panic.severity.value == "critical" and call.severity.value == "minor"
    assert "panic in sched" in panic.description and panic.count == 1
    upload = db_session.get(DeviceCommand, panic.log_command_id)
    assert upload.status == CommandStatus.done and upload.file_name
    # The same event again counts on the open alarm.
    assert sim_alarms.raise_now(phone, "kernel_panic", "again").ok
    assert phone.wait_idle(PATIENCE)
    _device, found = alarms_of(db_session, phone.mac)
    assert found["kernel_panic"].id == panic.id and found["kernel_panic"].count == 2
    # The device clears it.
    assert sim_alarms.raise_now(phone, "kernel_panic", cleared=True).ok
    _device, found = alarms_of(db_session, phone.mac)
    assert found["kernel_panic"].status == AlarmStatus.cleared


def test_every_device_type_can_be_raised_by_the_simulator(db_session, phone):
    codes = [c for c in sim_alarms.SEVERITY if c not in sim_alarms.ASKS_ACS]
    for code in codes:
        assert sim_alarms.raise_now(phone, code).ok, code
    assert phone.wait_idle(PATIENCE)
    _device, found = alarms_of(db_session, phone.mac)
    assert set(codes) <= set(found)


def test_registration_failure_raises_and_recovery_clears(db_session, phone):
    assert sim_alarms.fail_registration(phone).ok
    _device, found = alarms_of(db_session, phone.mac)
    assert found["register_failure"].status == AlarmStatus.open
    assert sim_alarms.fail_registration(phone, "Registered").ok
    _device, found = alarms_of(db_session, phone.mac)
    assert found["register_failure"].status == AlarmStatus.cleared


def test_unknown_event_types_and_other_devices_named_store_nothing_elsewhere(
        db_session, phone, tree):
    # An unknown EventType with a known ProbableCause is mapped by the cause.
    assert sim_alarms.raise_now(phone, "call_failed", event_type="Flux capacitor").ok
    assert sim_alarms.raise_now(phone, "hold_failure", event_type="Warp core breach",
                                cause="<b>warp</b>" * 100).ok
    device, found = alarms_of(db_session, phone.mac)
    assert "call_failed" in found and "hold_failure" not in found
    # An event naming another enterprise's device is booked on the reporting device only.
    db_session.commit()
    other = db_session.execute(select(Device).where(Device.enterprise_id == tree.SE)).scalar()
    before = db_session.execute(select(Alarm.id).where(Alarm.device_id == other.id)).all()
    assert sim_alarms.raise_now(phone, "rtp_dead", f"device {other.mac} is dead").ok
    device, found = alarms_of(db_session, phone.mac)
    assert "rtp_dead" in found and found["rtp_dead"].enterprise_id == device.enterprise_id
    assert db_session.execute(select(Alarm.id).where(Alarm.device_id == other.id)).all() == (
        before)


def test_failed_configuration_push_and_silence_are_alarms(db_session, phone):
    db_session.commit()
    device = db_session.execute(select(Device).where(Device.mac == phone.mac)).scalar_one()
    commands.queue_command(db_session, device, "download",
                           {"file_type": "3 Vendor Configuration File",
                            "url": "http://127.0.0.1:9/nothing.cfg"}, by="tester")
    db_session.commit()
    assert phone.run_session([("6 CONNECTION REQUEST", "")]).ok
    assert phone.wait_idle(PATIENCE)
    phone.run_session([])  # a transfer complete still waiting goes now
    _device, found = alarms_of(db_session, phone.mac)
    assert found["update_configuration_failure"].severity.value == "critical"
    later = utcnow() + datetime.timedelta(days=2)
    inventory.mark_silent_devices_offline(db_session, now=later)
    _device, found = alarms_of(db_session, phone.mac)
    assert found["device_offline"].count == 1


def test_simulator_cli_raises_an_alarm(db_session, fresh_tree, acs_url):
    import subprocess
    import sys

    give_quota(db_session, fresh_tree.E, 5)
    user, password = credentials(db_session, fresh_tree.E)
    prefix = "02" + secrets.token_hex(3)
    done = subprocess.run(
        [sys.executable, "-m", "app.device_ops.simulator", "--acs-url", acs_url,
         f"--username={user}", f"--password={password}", "--mac-prefix", prefix,
         "--raise-alarm", "exit_program", "--raise-alarm", "srtp_failure"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    _device, found = alarms_of(db_session, f"{prefix}0001")
    assert {"exit_program", "srtp_failure"} <= set(found)


def test_device_offline_clears_when_the_device_informs_again(db_session, phone):
    later = utcnow() + datetime.timedelta(days=2)
    assert inventory.mark_silent_devices_offline(db_session, now=later) >= 1
    device, found = alarms_of(db_session, phone.mac)
    offline = found["device_offline"]
    assert not device.online and offline.status == AlarmStatus.open
    assert phone.run_session().ok  # its periodic Inform, over HTTP
    device, found = alarms_of(db_session, phone.mac)
    db_session.refresh(offline)
    assert device.online and offline.status == AlarmStatus.cleared
    assert offline.cleared_by == rules.SYSTEM and offline.open_key is None
    # Online again, its next Informs clear nothing more; offline again, a new alarm opens.
    assert phone.run_session().ok
    inventory.mark_silent_devices_offline(db_session, now=utcnow() + datetime.timedelta(days=4))
    _device, found = alarms_of(db_session, phone.mac)
    assert found["device_offline"].id != offline.id
    assert found["device_offline"].status == AlarmStatus.open


def test_an_inform_meeting_the_sweep_clears_the_alarm_the_sweep_committed(db_session, phone):
    # The Inform read its row while the device was still online, just past its deadline; the
    # sweep marked it offline before the Inform's own UPDATE: the alarm is cleared anyway.
    from app.device_ops import fault_events, identity

    db_session.commit()
    device = db_session.execute(select(Device).where(Device.mac == phone.mac)).scalar_one()
    later = utcnow() + datetime.timedelta(days=2)
    with db_session.get_bind().connect() as conn:
        stale = conn.execute(identity.BY_ID, {"did": device.id}).first()
    assert stale.online
    inventory.mark_silent_devices_offline(db_session, now=later)
    _device, found = alarms_of(db_session, phone.mac)
    assert found["device_offline"].status == AlarmStatus.open
    with db_session.get_bind().connect() as conn:
        assert fault_events.device_back_online(conn, stale, device.id, now=later)
        conn.commit()
    _device, found = alarms_of(db_session, phone.mac)
    assert found["device_offline"].status == AlarmStatus.cleared
