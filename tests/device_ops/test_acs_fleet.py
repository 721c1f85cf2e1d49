"""The ACS with the fleet simulator: simulated phones speak CWMP over real HTTP to the portal
served on 127.0.0.1, and the portal reaches them with real connection requests."""

import json
import os

import pytest
import requests
from sqlalchemy import select

from app.device_ops import commands, connreq, inventory
from app.extensions import db
from app.models import CommandStatus, DeviceCommand, DeviceSample

from ..helpers import PATIENCE
from .conftest import command, device_of, run


def test_phones_bootstrap_bind_and_get_set_up(db_session, ent, fleet):
    f = fleet(2, namespace="urn:dslforum-org:cwmp-1-0")
    for phone in f.phones:
        device = device_of(db_session, phone.mac)
        assert device.enterprise_id == ent.E and device.online
        assert device.cr_url == phone.value("Device.ManagementServer.ConnectionRequestURL")
        # the set-up command gave the phone our connection-request credentials and interval
        assert phone.value("Device.ManagementServer.ConnectionRequestUsername") == \
            device.cr_username
        assert phone.value("Device.ManagementServer.ConnectionRequestPassword") == \
            device.cr_password
        setup = db_session.execute(select(DeviceCommand).where(
            DeviceCommand.device_id == device.id)).scalars().all()
        assert [(c.kind, c.status) for c in setup] == [("setup", CommandStatus.done)]
        assert device.memory_total  # read in the first session


def test_periodic_informs_carry_cpu_and_memory_into_samples(db_session, fleet):
    phone = fleet(1).phones[0]
    device = device_of(db_session, phone.mac)
    before = db_session.execute(select(DeviceSample).where(
        DeviceSample.device_id == device.id)).scalars().all()
    for _ in range(3):
        log = phone.run_session(["2 PERIODIC"])
        assert log.error is None and log.ended_with == 204
        # passive notification: the values ride in the Inform, no extra RPC in the session
        assert log.rpcs == []
    db_session.commit()
    samples = db_session.execute(select(DeviceSample).where(
        DeviceSample.device_id == device.id)).scalars().all()
    assert len(samples) >= len(before) + 3
    assert all(0 <= s.cpu_usage <= 100 and s.memory_free < s.memory_total for s in samples)


def test_read_and_set_parameters_through_a_connection_request(db_session, fleet):
    phone = fleet(1).phones[0]
    done = run(db_session, phone, "set_parameters",
               {"values": "Device.X_YEALINK_Syslog.Level = 6 : xsd:unsignedInt"})
    assert done.status == CommandStatus.done, done.fault_string
    assert phone.value("Device.X_YEALINK_Syslog.Level") == "6"
    done = run(db_session, phone, "get_parameters", {"names": "Device.DeviceInfo."})
    values = json.loads(done.result)["values"]
    assert values["Device.DeviceInfo.SerialNumber"] == phone.value(
        "Device.DeviceInfo.SerialNumber")
    assert "Device.DeviceInfo.ModelName" in json.loads(device_of(db_session,
                                                                  phone.mac).parameters)


def test_a_bad_parameter_fails_with_the_devices_fault_and_can_be_retried(db_session, fleet):
    phone = fleet(1).phones[0]
    failed = run(db_session, phone, "get_parameters", {"names": "Device.NoSuchThing."})
    assert failed.status == CommandStatus.failed and failed.fault_code == 9005
    again = commands.retry_command(db_session, failed, by="tester")
    db_session.commit()
    assert again.status == CommandStatus.queued


@pytest.mark.parametrize("data_model", ["Device", "InternetGatewayDevice"])
def test_ping_and_traceroute_diagnostics(db_session, fleet, data_model):
    phone = fleet(1, data_model=data_model).phones[0]
    ping = run(db_session, phone, "ping", {"host": "127.0.0.1", "count": 3})
    result = json.loads(ping.result)
    assert ping.status == CommandStatus.done
    assert result["state"] == "Complete" and result["success"] == 3
    assert result["min_ms"] <= result["avg_ms"] <= result["max_ms"]
    trace = run(db_session, phone, "traceroute", {"host": "198.51.100.10", "max_hops": 30})
    result = json.loads(trace.result)
    assert trace.status == CommandStatus.done and result["state"] == "Complete"
    assert result["hops"] and result["hops"][-1]["address"] == "198.51.100.10"
    bad = run(db_session, phone, "ping", {"host": "no-such-host.invalid"})
    assert json.loads(bad.result)["state"] == "Error_CannotResolveHostName"


def test_reboot_finishes_when_the_phone_is_back(db_session, fleet):
    phone = fleet(1).phones[0]
    done = run(db_session, phone, "reboot")
    assert done.status == CommandStatus.done
    events = [code for log in phone.sessions for code in log.events]
    assert "M Reboot" in events


def test_upload_lands_in_the_file_store_once(app, db_session, fleet):
    phone = fleet(1).phones[0]
    done = run(db_session, phone, "upload", {"file_type": "2 Vendor Log File"})
    assert done.status == CommandStatus.done, done.fault_string
    url, status, size = phone.uploads[-1]
    assert status == 204 and size == done.file_size > 0
    store = app.config.get("FILE_STORE_DIR") or os.path.join(app.instance_path, "files")
    assert os.path.getsize(os.path.join(store, done.file_name)) == size
    import requests

    assert requests.put(url, data=b"replay", timeout=5).status_code == 404


def test_download_of_the_phones_own_provisioning_file(db_session, fleet):
    phone = fleet(1).phones[0]
    done = run(db_session, phone, "download", {"file_type": "3 Vendor Configuration File"})
    assert done.status == CommandStatus.done, done.fault_string
    url, status, size = phone.downloads[-1]
    # from a one-time URL: fetched once, then gone
    assert "/acs/file/" in url and status == 200 and size > 0
    assert requests.get(url, timeout=PATIENCE).status_code == 404


def test_connection_request_with_wrong_credentials_is_refused(db_session, fleet):
    phone = fleet(1).phones[0]
    device = device_of(db_session, phone.mac)
    device.cr_password = "not-the-password"
    sessions = len(phone.sessions)
    woke = connreq.wake_device(device, timeout=5, allow_loopback=True)
    assert not woke.ok and woke.params == {"status": 401}
    # the phone answered 401 before doing anything: it has nothing to do, opened nothing
    assert phone.wait_idle(PATIENCE) and len(phone.sessions) == sessions
    db_session.rollback()


def test_silent_devices_go_offline_and_stuck_commands_time_out(app, db_session, fleet):
    phone = fleet(1).phones[0]
    device = device_of(db_session, phone.mac)
    stuck = commands.queue_command(db_session, device, "reboot", by="tester")
    db_session.commit()
    later = device.offline_after + __import__("datetime").timedelta(seconds=1)
    assert inventory.mark_silent_devices_offline(db.session, now=later) >= 1
    assert not device_of(db_session, phone.mac).online
    assert commands.expire_commands(db.session, 60, now=later + __import__(
        "datetime").timedelta(hours=1)) >= 1
    timed_out = command(db_session, stuck.id)
    assert timed_out.status == CommandStatus.failed and "did not connect" in \
        timed_out.fault_string
    phone.run_session(["2 PERIODIC"])  # heard again: online
    assert device_of(db_session, phone.mac).online
