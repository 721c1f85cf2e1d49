"""TR-181 fault events through the ACS with hand-written envelopes (what the simulator would
never send): the mapping table, events carried in the Inform itself, malformed values, an
oversized log, and events naming other devices."""

import secrets

import pytest
from sqlalchemy import select

from app.alarms import rules
from app.device_ops import commands, fault_events
from app.models import Alarm, CommandStatus, Device, DeviceCommand

from ..acs_support import basic, credentials, give_quota, gpv_response, inform, response

EE = "Device.FaultMgmt.ExpeditedEvent"


@pytest.fixture
def ent(db_session, fresh_tree):
    give_quota(db_session, fresh_tree.E, 10)
    fresh_tree.headers = basic(*credentials(db_session, fresh_tree.E))
    return fresh_tree


@pytest.fixture
def client(app):
    return app.test_client()


def bound(client, db_session, ent):
    mac = "02" + secrets.token_hex(5)
    client.post("/acs", data=inform(mac, ["0 BOOTSTRAP", "1 BOOT"]), headers=ent.headers)
    db_session.commit()
    device = db_session.execute(select(Device).where(Device.mac == mac)).scalar_one()
    for command in db_session.execute(select(DeviceCommand).where(
            DeviceCommand.device_id == device.id)).scalars():
        commands.finish(command, CommandStatus.done)
    device.has_work = False
    db_session.commit()
    client.delete_cookie("cwmp_session", path="/acs")
    return device


def alarms_of(db_session, device_id):
    db_session.commit()
    types = {t.id: code for code, t in rules.alarm_types(db_session).items()}
    return {types[a.type_id]: a for a in db_session.execute(
        select(Alarm).where(Alarm.device_id == device_id)).scalars()}


@pytest.mark.parametrize("fields, code", [
    ({"EventType": "Kernel panic"}, "kernel_panic"),
    ({"EventType": "KERNEL_PANIC"}, "kernel_panic"),
    ({"EventType": "Processing error alarm", "ProbableCause": "Application crash"},
     "application_crash"),
    ({"EventType": "Communications alarm", "SpecificProblem": "SIP registration failed"},
     "register_failure"),
    ({"EventType": "Call failed"}, "call_failed"),
    ({"EventType": "Flux capacitor"}, None),
    ({"EventType": ""}, None),
    ({}, None),
])
def test_mapping_table(fields, code):
    assert fault_events.map_event(fields) == code


def test_every_type_a_device_reports_is_in_the_mapping():
    for code, en, *_ in fault_events.TYPES:
        assert fault_events.map_event({"EventType": en}) == code


def event(i, event_type, text="", severity="Critical", table="ExpeditedEvent"):
    p = f"Device.FaultMgmt.{table}.{i}."
    return {p + "EventType": event_type, p + "PerceivedSeverity": severity,
            p + "AdditionalText": text, p + "ProbableCause": ""}


def test_events_carried_in_the_inform_are_raised_at_once(client, db_session, ent):
    d = bound(client, db_session, ent)
    params = {**event(1, "Exit program", "pid 42"), **event(2, "Warp core breach"),
              **event(3, "RTP dead", "&lt;script&gt;", "Minor", "QueuedEvent")}
    r = client.post("/acs", data=inform(d.mac, ["4 VALUE CHANGE"], params=params),
                    headers=ent.headers)
    assert r.status_code == 200
    found = alarms_of(db_session, d.id)
    assert set(found) == {"exit_program", "rtp_dead"}  # the unknown one is skipped
    assert found["rtp_dead"].description == "<script>"


def test_announced_entries_are_read_in_the_same_session(client, db_session, ent):
    d = bound(client, db_session, ent)
    client.post("/acs", data=inform(d.mac, ["4 VALUE CHANGE"], params={
        f"{EE}NumberOfEntries": "2"}), headers=ent.headers)
    r = client.post("/acs", data=b"")
    assert b"GetParameterValues" in r.data and f"{EE}.1.".encode() in r.data
    assert f"{EE}.2.".encode() in r.data
    answer = {**event(1, "Application no response", "UI frozen"), **event(2, "SRTP failure")}
    r = client.post("/acs", data=gpv_response(answer))
    found = alarms_of(db_session, d.id)
    assert {"application_no_response", "srtp_failure"} <= set(found)
    assert b"<cwmp:Upload>" in r.data and b"2 Vendor Log File" in r.data  # the log, now
    # The next announcement reads only the new entry.
    client.delete_cookie("cwmp_session", path="/acs")
    client.post("/acs", data=inform(d.mac, ["4 VALUE CHANGE"], params={
        f"{EE}NumberOfEntries": "3"}), headers=ent.headers)
    r = client.post("/acs", data=b"")
    assert f"{EE}.3.".encode() in r.data and f"{EE}.1.".encode() not in r.data


@pytest.mark.parametrize("value", ["abc", "-5", "99999999999", "", "1e3", "\u0661"])
def test_malformed_counts_announce_nothing(client, db_session, ent, value):
    d = bound(client, db_session, ent)
    r = client.post("/acs", data=inform(d.mac, ["4 VALUE CHANGE"], params={
        f"{EE}NumberOfEntries": value, f"{EE}.9999999.EventType": "Kernel panic",
        f"{EE}.1.Bogus": "x"}), headers=ent.headers)
    assert r.status_code == 200
    db_session.commit()
    assert db_session.execute(select(DeviceCommand).where(
        DeviceCommand.device_id == d.id, DeviceCommand.status == CommandStatus.queued)).first() \
        is None
    assert alarms_of(db_session, d.id) == {}


def test_an_answer_nobody_asked_for_raises_nothing(client, db_session, ent):
    """Only the ACS's own read of fault entries is ingested: a user's read of the same tree
    (or an unsolicited answer) is not."""
    d = bound(client, db_session, ent)
    commands.queue_command(db_session, d, "get_parameters", {"names": f"{EE}."}, by="tester")
    db_session.commit()
    client.post("/acs", data=inform(d.mac), headers=ent.headers)
    r = client.post("/acs", data=b"")
    assert b"GetParameterValues" in r.data
    client.post("/acs", data=gpv_response(event(1, "Kernel panic")))
    assert alarms_of(db_session, d.id) == {}


def test_an_event_about_another_device_is_booked_on_the_sender(client, db_session, ent, tree):
    d = bound(client, db_session, ent)
    other = db_session.execute(select(Device).where(Device.enterprise_id == tree.SE)).scalar()
    params = {**event(1, "Device reboot", f"MAC {other.mac}", "Major"),
              f"{EE}.1.ManagedObjectInstance": f"Device.X.{other.mac}"}
    client.post("/acs", data=inform(d.mac, ["4 VALUE CHANGE"], params=params),
                headers=ent.headers)
    assert set(alarms_of(db_session, d.id)) == {"device_reboot"}
    assert alarms_of(db_session, other.id).get("device_reboot") is None


def test_a_100_mb_log_is_refused_and_the_alarm_keeps_no_file(client, db_session, ent):
    d = bound(client, db_session, ent)
    client.post("/acs", data=inform(d.mac, ["4 VALUE CHANGE"], params=event(1, "Kernel panic")),
                headers=ent.headers)
    r = client.post("/acs", data=b"")
    assert b"<cwmp:Upload>" in r.data
    url = r.data.decode().split("<URL>")[1].split("</URL>")[0]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    client.post("/acs", data=response("UploadResponse", "<Status>1</Status>"))
    r = client.put(path, data=b"x" * 1024,
                   environ_overrides={"CONTENT_LENGTH": str(100 * 1024 * 1024)})
    assert r.status_code == 413
    alarm = alarms_of(db_session, d.id)["kernel_panic"]
    # No file: the alarm offers no download (tests/alarms/test_views.py: the log URL is 404).
    assert db_session.get(DeviceCommand, alarm.log_command_id).file_name is None
