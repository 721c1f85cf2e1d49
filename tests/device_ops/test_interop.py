"""Devices nobody here wrote (issue 13): the fleet simulator behaves like other CPEs
(simulator/quirks.py) and the ACS copes, over real HTTP."""

import datetime
import json

import pytest
import requests
from sqlalchemy import select

from app.device_ops import capabilities, commands, connreq, identity
from app.device_ops.simulator.quirks import Quirks, from_names
from app.extensions import db
from app.models import CommandStatus, Device, DeviceCommand, utcnow

from ..acs_support import inform
from ..helpers import PATIENCE, wait_until
from ..tree import PASSWORD
from .conftest import command, device_of, run


def device_by_key(session, phone):
    session.commit()
    key = "-".join(p for p in (phone.value("DeviceInfo.ManufacturerOUI"),
                               phone.value("DeviceInfo.ProductClass"),
                               phone.value("DeviceInfo.SerialNumber")) if p)
    return session.execute(select(Device).where(Device.cpe_key == key)).scalar_one()


def setup_of(session, device):
    session.commit()
    return session.execute(select(DeviceCommand).where(
        DeviceCommand.device_id == device.id, DeviceCommand.kind == "setup")).scalar_one()


def gpv_names(log):
    return [r for r in log.rpcs if r == "GetParameterValues"]


# --- 1, 2: identity without a MAC; credentials first ------------------------------------------

def test_a_device_without_mac_in_its_inform_enrols_by_device_id_and_its_mac_is_read(
        db_session, ent, fleet):
    phone = fleet(1, quirks=Quirks(no_mac_in_inform=True)).phones[0]
    assert all(not n.endswith("MACAddress") for n, _t, _v in phone.model.inform_params(True)[0])
    device = device_by_key(db_session, phone)
    assert device.enterprise_id == ent.E and device.serial.startswith("CP")
    # read in the same session from the one MAC parameter that counts
    assert device.mac == phone.mac
    assert setup_of(db_session, device).status == CommandStatus.done


@pytest.mark.parametrize("data_model", ["Device", "InternetGatewayDevice"])
def test_a_device_without_any_mac_stays_known_by_device_id_and_is_not_asked_again(
        db_session, ent, fleet, data_model):
    phone = fleet(1, quirks=Quirks(no_mac_parameter=True), data_model=data_model).phones[0]
    device = device_by_key(db_session, phone)
    assert device.mac is None and device.online
    missing = capabilities.missing_of(device.missing_parameters)
    assert identity.MAC_PARAMETERS[data_model] in missing
    seen = device.last_seen
    log = phone.run_session(["2 PERIODIC"])
    assert log.ok and gpv_names(log) == []  # neither the MAC nor metrics it sent in the Inform
    assert device_by_key(db_session, phone).last_seen >= seen  # the same row, seen again


def test_an_inform_without_mac_and_without_credentials_gets_the_challenge(app, db_session):
    client = app.test_client()
    before = db_session.query(Device).count()
    r = client.post("/acs", data=inform("", serial="CPX1", mac_param=False))
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Digest ")
    assert "cwmp_session" not in r.headers.get("Set-Cookie", "")
    assert db_session.query(Device).count() == before


def test_a_mac_read_later_is_never_taken_from_another_device(db_session, ent, fleet):
    """The MAC read later belongs to another enterprise's device: this one stays without it;
    a pre-registration of its own enterprise that never connected gives way."""
    phone = fleet(1, quirks=Quirks(no_mac_in_inform=True)).phones[0]
    device = device_by_key(db_session, phone)
    device.mac = None
    elsewhere, own = "0a" + phone.mac[2:], "0e" + phone.mac[2:]
    db_session.add(Device(mac=elsewhere, enterprise_id=ent.SE))
    db_session.add(Device(mac=own, enterprise_id=ent.E))
    db_session.commit()
    assert identity.learn_mac(db.session, device.id, elsewhere) is None
    assert device_by_key(db_session, phone).mac is None
    assert identity.learn_mac(db.session, device.id, own) == own
    assert device_by_key(db_session, phone).mac == own
    assert db_session.query(Device).filter_by(mac=elsewhere).one().enterprise_id == ent.SE


def test_the_device_page_says_what_a_model_does_not_report(app, login, fresh_tree):
    """What the fleet tests above leave in the database, as the enterprise's admin sees it.
    (No db_session here: on MariaDB a test's open transaction would hold the sign-in up.)"""
    t = fresh_tree
    with app.app_context():
        device = Device(mac=None, cpe_key="00D0FF-GW-CPX1", serial="CPX1", data_model="Device",
                        enterprise_id=t.E, missing_parameters=json.dumps(sorted(
                            ["Device.Ethernet.Interface.1.MACAddress",
                             "Device.DeviceInfo.ProcessStatus.CPUUsage",
                             "Device.DeviceInfo.MemoryStatus.Total",
                             "Device.DeviceInfo.MemoryStatus.Free"])))
        db.session.add(device)
        db.session.flush()
        db.session.add(DeviceCommand(device_id=device.id, kind="setup", status=CommandStatus.done,
                                     result=json.dumps({"steps": [
                                         {"step": "values", "status": "done"},
                                         {"step": "notify", "status": "unsupported",
                                          "note": "Not supported by this device (fault 9000)"}]})))
        db.session.commit()
        device_id = device.id
    client = login(t.ent_email, PASSWORD)
    page = client.get(f"/devicemodelview/show/{device_id}").get_data(as_text=True)
    assert "not reported by this device" in page and "00D0FF-GW-CPX1" in page
    assert "CPU and memory: not reported by this model." in page
    assert "Not supported" in page and "CPU/memory change notification" in page
    assert "— (CPX1)" in client.get("/devicemodelview/list/").get_data(as_text=True)


# --- 3: ask only for what a device has ---------------------------------------------------------

def test_a_device_without_cpu_and_memory_is_asked_once_then_never(db_session, ent, fleet):
    phone = fleet(1, quirks=Quirks(no_metrics=True)).phones[0]
    device = device_of(db_session, phone.mac)
    first = phone.sessions[0]
    # one read of all three faulted 9005: each asked alone, each missing
    assert len(gpv_names(first)) == 4
    missing = capabilities.missing_of(device.missing_parameters)
    assert {"Device.DeviceInfo.ProcessStatus.CPUUsage", "Device.DeviceInfo.MemoryStatus.Free",
            "Device.DeviceInfo.MemoryStatus.Total"} <= missing
    for _ in range(2):
        log = phone.run_session(["2 PERIODIC"])
        assert log.ok and gpv_names(log) == []


def test_a_device_that_breaks_off_on_the_read_is_given_up_after_three_sessions(
        db_session, ent, fleet, acs_url):
    # without passive notification, so that every periodic session reads CPU/memory
    phone = fleet(1, quirks=Quirks(no_attributes=True)).phones[0]
    phone.quirks = Quirks(no_attributes=True, silent_on_metrics=True)  # after an update, say
    for _ in range(capabilities.GIVE_UP):
        phone.run_session(["2 PERIODIC"])
    assert capabilities.metrics_given_up(device_of(db_session, phone.mac).metrics_unanswered)
    log = phone.run_session(["2 PERIODIC"])
    assert log.ok and gpv_names(log) == []  # not asked any more
    log = phone.run_session(["1 BOOT"])  # new firmware may have them: asked again
    assert gpv_names(log) == ["GetParameterValues"] and not log.ok


# --- 4, 5: set-up step by step, the interval remembered ----------------------------------------

def test_a_device_without_attributes_finishes_its_set_up_with_the_step_recorded(
        db_session, ent, fleet):
    phone = fleet(1, quirks=Quirks(no_attributes=True)).phones[0]
    device = device_of(db_session, phone.mac)
    setup = setup_of(db_session, device)
    assert setup.status == CommandStatus.done, setup.fault_string
    steps = json.loads(setup.result)["steps"]
    assert [(s["step"], s["status"]) for s in steps] == [("values", "done"),
                                                        ("notify", "unsupported")]
    assert "9000" in steps[1]["note"]
    assert phone.value("ManagementServer.ConnectionRequestUsername") == device.cr_username


def test_the_interval_the_device_accepted_is_the_one_the_offline_rule_uses(
        db_session, ent, fleet):
    phone = fleet(1).phones[0]
    done = run(db_session, phone, "set_parameters", {"values": [
        ["Device.ManagementServer.PeriodicInformInterval", "60", "xsd:unsignedInt"]]})
    assert done.status == CommandStatus.done
    device = device_of(db_session, phone.mac)
    assert device.periodic_interval == 60
    assert device.offline_after <= utcnow() + datetime.timedelta(seconds=121)


# --- 6: downloads from a one-time URL ------------------------------------------------------------

def test_a_device_ignoring_download_credentials_still_gets_its_file_once(db_session, fleet):
    phone = fleet(1, quirks=Quirks(ignore_download_credentials=True)).phones[0]
    done = run(db_session, phone, "download", {"file_type": "3 Vendor Configuration File"})
    assert done.status == CommandStatus.done, done.fault_string
    url, status, size = phone.downloads[-1]
    assert status == 200 and size > 0 and "/acs/file/" in url
    assert requests.get(url, timeout=PATIENCE).status_code == 404  # spent
    assert requests.get(url.rsplit("/", 1)[0] + "/forged", timeout=PATIENCE).status_code == 404


# --- 7: diagnostics that never report back --------------------------------------------------------

def test_a_diagnostic_never_completed_is_polled_then_given_up_with_the_reason(
        app, db_session, fleet):
    phone = fleet(1, quirks=Quirks(never_complete_diagnostics=True)).phones[0]
    device = device_of(db_session, phone.mac)
    queued = commands.queue_command(db_session, device, "ping", {"host": "192.0.2.1"}, by="t")
    db_session.commit()
    assert connreq.wake_device(device, timeout=5, allow_loopback=True).ok
    assert phone.wait_idle(PATIENCE)
    c = command(db_session, queued.id)
    assert c.status == CommandStatus.waiting, (c.fault_code, c.fault_string, c.result)
    # its next session reads DiagnosticsState: still Requested, so it waits again
    log = phone.run_session(["2 PERIODIC"])
    assert log.ok and "GetParameterValues" in log.rpcs
    c = command(db_session, queued.id)
    assert c.status == CommandStatus.waiting, (c.fault_string, c.result)
    timeout = app.config["DIAGNOSTICS_TIMEOUT_SECONDS"]
    # (the sweep covers every device: diagnostics other tests left waiting may expire too)
    commands.expire_diagnostics(db.session, timeout)
    assert command(db_session, queued.id).status == CommandStatus.waiting  # not yet
    later = utcnow() + datetime.timedelta(seconds=timeout + 1)
    assert commands.expire_diagnostics(db.session, timeout, now=later) >= 1
    failed = command(db_session, queued.id)
    assert failed.status == CommandStatus.failed
    assert "did not complete the diagnostic within 5 minutes" in failed.fault_string


# --- 8: connection requests that need Digest, or Basic ------------------------------------------

@pytest.mark.parametrize("quirks", [Quirks(), Quirks(cr_basic=True)], ids=["digest", "basic"])
def test_connection_requests_answer_the_challenge_the_device_sets(db_session, fleet, quirks):
    phone = fleet(1, quirks=quirks).phones[0]
    device = device_of(db_session, phone.mac)
    sessions = len(phone.sessions)
    assert connreq.wake_device(device, timeout=5, allow_loopback=True).ok
    wait_until(lambda: len(phone.sessions) == sessions + 1)  # the session it asked for
    device.cr_password = "wrong"
    woke = connreq.wake_device(device, timeout=5, allow_loopback=True)
    assert not woke.ok and woke.params == {"status": 401}
    db_session.rollback()


def test_quirks_by_name_for_the_command_line():
    assert from_names(["no-mac-parameter"]) == Quirks(no_mac_parameter=True,
                                                      no_mac_in_inform=True)
    with pytest.raises(ValueError):
        from_names(["no-such-thing"])
